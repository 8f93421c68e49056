"""Dependencies: waiting, release, failure propagation, retry, cycles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eduscribe_sdk import Client, DependencyCycleError, JobSpec, JobStatus, JobType, Settings
from eduscribe_sdk._dag import topological_order
from tests.core.jobs import OVERRIDES, plan


@pytest.fixture
def scripted(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    with Client(redis_url, user_id="tester", workers=2, settings=settings) as c:
        yield c


def test_chain_runs_in_order(scripted: Client) -> None:
    a = scripted.create_job("text_notes", plan(sleep=0.2), title="a")
    b = scripted.create_job("text_notes", plan(), title="b", depends_on=[a.id])
    c = scripted.create_job("text_notes", plan(), title="c", depends_on=[b.id])
    assert (b.status, c.status) == (JobStatus.WAITING, JobStatus.WAITING)
    ra, rb, rc = scripted.wait_all([a.id, b.id, c.id], timeout=30)
    assert ra.completed_at and rb.started_at and rb.completed_at and rc.started_at
    assert ra.completed_at <= rb.started_at and rb.completed_at <= rc.started_at


def test_diamond_waits_for_both_parents(scripted: Client) -> None:
    top = scripted.create_job("text_notes", plan(), title="top")
    left = scripted.create_job("text_notes", plan(sleep=0.1), depends_on=[top.id])
    right = scripted.create_job("text_notes", plan(sleep=0.5), depends_on=[top.id])
    bottom = scripted.create_job("text_notes", plan(), depends_on=[left.id, right.id])
    records = scripted.wait_all([top.id, left.id, right.id, bottom.id], timeout=30)
    latest_parent = max(r.completed_at for r in records[1:3] if r.completed_at)
    assert records[3].started_at and records[3].started_at >= latest_parent
    assert records[3].output_data and records[3].output_data["dependencies"] == [left.id, right.id]


def test_failure_skips_descendants_and_retry_brings_them_back(scripted: Client, tmp_path: Path) -> None:
    counter = tmp_path / "n"
    # Given a job that fails once (permanently the first time), and two generations after it
    root = scripted.create_job("text_notes", {"content": json.dumps({"fail": "permanent"})}, title="root")
    child = scripted.create_job("text_notes", plan(), depends_on=[root.id])
    grandchild = scripted.create_job("text_notes", plan(), depends_on=[child.id])
    other = scripted.create_job("text_notes", plan(counter=str(counter)))
    records = scripted.wait_all([root.id, child.id, grandchild.id, other.id], timeout=30)
    assert [r.status for r in records] == [
        JobStatus.FAILED,
        JobStatus.SKIPPED,
        JobStatus.SKIPPED,
        JobStatus.COMPLETED,
    ]
    assert records[1].error_message == f"dependency {root.id} failed"
    # When the skipped grandchild is retried, its failed ancestor comes back with it
    # (the root still fails: its input is the problem) ...
    reset = scripted.retry(grandchild.id)
    assert set(reset) == {root.id, child.id, grandchild.id}
    records = scripted.wait_all([root.id, child.id, grandchild.id], timeout=30)
    assert [r.status for r in records] == [JobStatus.FAILED, JobStatus.SKIPPED, JobStatus.SKIPPED]


def test_retry_of_a_transiently_failed_root_completes_the_chain(scripted: Client, tmp_path: Path) -> None:
    counter = tmp_path / "n"
    root = scripted.create_job("text_notes", plan(counter=str(counter), transient_failures=1), max_retries=0)
    child = scripted.create_job("text_notes", plan(), depends_on=[root.id])
    assert [r.status for r in scripted.wait_all([root.id, child.id], timeout=30)] == [
        JobStatus.FAILED,
        JobStatus.SKIPPED,
    ]
    scripted.retry(root.id)
    records = scripted.wait_all([root.id, child.id], timeout=30)
    assert [r.status for r in records] == [JobStatus.COMPLETED, JobStatus.COMPLETED]
    assert records[0].retry_count == 0 and records[0].error_message is None


def test_cancel_cascades_to_waiting_dependents(bare_client: Client) -> None:
    a = bare_client.create_job("text_notes", {"content": "First lecture."})
    b = bare_client.create_job("text_notes", {"content": "Second."}, depends_on=[a.id])
    c = bare_client.create_job("text_notes", {"content": "Third."}, depends_on=[b.id])
    assert bare_client.cancel(a.id) == 2
    assert [bare_client.get_job(j.id).status for j in (a, b, c)] == [
        JobStatus.CANCELLED,
        JobStatus.SKIPPED,
        JobStatus.SKIPPED,
    ]


def test_depending_on_a_failed_job_is_skipped_at_once(bare_client: Client) -> None:
    a = bare_client.create_job("text_notes", {"content": "First lecture."})
    bare_client.cancel(a.id)
    b = bare_client.create_job("text_notes", {"content": "Second."}, depends_on=[a.id])
    assert b.status is JobStatus.SKIPPED
    assert b.record.error_message == f"dependency {a.id} was cancelled"


def spec(job_id: str, *deps: str) -> JobSpec:
    return JobSpec(
        job_type=JobType.TEXT_NOTES,
        input_data={"content": "x", "options": {}},
        user_id="u",
        id=job_id,
        depends_on=deps,
    )


def test_cycles_are_refused_with_the_cycle_named(bare_client: Client) -> None:
    with pytest.raises(DependencyCycleError) as info:
        bare_client.create_jobs([spec("a", "c"), spec("b", "a"), spec("c", "b"), spec("d")])
    assert set(info.value.cycle) == {"a", "b", "c"} and info.value.cycle[0] == info.value.cycle[-1]
    with pytest.raises(DependencyCycleError, match="self -> self"):
        bare_client.create_jobs([spec("self", "self")])
    assert bare_client._store.count() == 0


def test_bulk_create_orders_dependencies_first() -> None:
    order = topological_order({"summary": ["l1", "l2"], "l2": ["l1"], "l1": []})
    assert order == ["l1", "l2", "summary"]


def test_bulk_created_dag_runs(scripted: Client) -> None:
    import uuid

    ids = {name: str(uuid.uuid4()) for name in ("l1", "l2", "sum")}
    specs = [
        JobSpec(
            job_type=JobType.TEXT_NOTES,
            input_data=plan(),
            user_id="u",
            id=ids["sum"],
            depends_on=(ids["l1"], ids["l2"]),
            batch_id="b",
        ),
        JobSpec(
            job_type=JobType.TEXT_NOTES,
            input_data=plan(),
            user_id="u",
            id=ids["l2"],
            depends_on=(ids["l1"],),
            batch_id="b",
        ),
        JobSpec(job_type=JobType.TEXT_NOTES, input_data=plan(), user_id="u", id=ids["l1"], batch_id="b"),
    ]
    assert scripted.create_jobs(specs) == [ids["l1"], ids["l2"], ids["sum"]]
    records = scripted.wait_all(ids.values(), timeout=30)
    assert all(r.status is JobStatus.COMPLETED for r in records)
    assert scripted._store.count(batch_id="b") == 3
