"""Jobs through real in-process dramatiq workers on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eduscribe_sdk import Client, InvalidInputError, JobFailed, JobStatus, JobTimeout, Settings
from tests.core.jobs import OVERRIDES, plan


@pytest.fixture
def scripted(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    with Client(redis_url, user_id="tester", workers=2, settings=settings) as c:
        yield c


def test_text_notes_end_to_end_with_the_offline_generator(client: Client) -> None:
    text = (
        "Photosynthesis is the process by which plants convert light energy into chemical energy. "
        "Chlorophyll is the green pigment that absorbs light in the chloroplasts. "
        "The Calvin cycle fixes carbon dioxide into sugars. Oxygen is released as a by-product."
    )
    job = client.submit_text(text, title="Photosynthesis", generate_quiz=True)
    record = job.wait(timeout=60)
    notes = record.output_data
    assert record.status is JobStatus.COMPLETED and notes is not None
    assert notes["generator"] == "offline" and notes["language"] == "en"
    assert notes["summary"] and notes["key_points"] and "quiz" in notes
    assert "Photosynthesis" in notes["markdown"]
    assert record.worker_id == client.worker_id and record.progress == 100


def test_progress_is_reported(scripted: Client) -> None:
    job = scripted.create_job("text_notes", plan(sleep=0.4, steps=4))
    events = list(scripted.watch([job.id], timeout=20))
    seen = [e.progress for e in events if e.kind == "progress"]
    assert seen == [25, 50, 75]  # 100 comes with the completion itself
    assert events[-1].kind == "completed" and events[-1].progress == 100


def test_transient_errors_are_retried_with_backoff(scripted: Client, tmp_path: Path) -> None:
    job = scripted.create_job(
        "text_notes", plan(counter=str(tmp_path / "n"), transient_failures=2), max_retries=3
    )
    record = job.wait(timeout=30)
    assert record.retry_count == 2 and record.output_data["attempt"] == 3  # type: ignore[index]
    kinds = [e.kind for e in scripted.watch([job.id], since="0-0", timeout=1)]
    assert kinds.count("retrying") == 2


def test_retries_are_bounded_by_max_retries(scripted: Client, tmp_path: Path) -> None:
    job = scripted.create_job(
        "text_notes", plan(counter=str(tmp_path / "n"), transient_failures=10), max_retries=1
    )
    with pytest.raises(JobFailed, match="gave up after 1 retries") as info:
        job.wait(timeout=30)
    details = info.value.record.error_details
    assert details and details["type"] == "TransientError" and details["attempt"] == 2


def test_permanent_errors_fail_at_once_with_details(scripted: Client) -> None:
    job = scripted.create_job("text_notes", plan(fail="permanent"), max_retries=5)
    with pytest.raises(JobFailed, match="can never work"):
        job.wait(timeout=30)
    record = job.refresh().record
    assert record.retry_count == 0 and record.status is JobStatus.FAILED
    assert record.error_details and "Traceback" in record.error_details["traceback"]


def test_unexpected_exceptions_are_retried_then_fail(scripted: Client) -> None:
    job = scripted.create_job("text_notes", plan(crash=True), max_retries=1)
    with pytest.raises(JobFailed, match="RuntimeError: unexpected bug"):
        job.wait(timeout=30)
    assert job.refresh().record.retry_count == 1


def test_cancel_a_running_job_stops_it_at_its_next_progress_report(scripted: Client) -> None:
    job = scripted.create_job("text_notes", plan(sleep=20, steps=200))
    deadline = time.monotonic() + 10
    while job.refresh().status is not JobStatus.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    began = time.monotonic()
    # The slot frees up quickly: a second job gets through long before the first would end.
    follow = scripted.create_job("text_notes", plan())
    follow.wait(timeout=10)
    assert time.monotonic() - began < 5
    record = job.refresh().record
    assert record.status is JobStatus.CANCELLED and record.output_data is None


def test_cancelled_queued_job_never_runs(
    bare_client: Client, redis_url: str, fast_settings: Settings
) -> None:
    job = bare_client.create_job("text_notes", {"content": "Never run me."})
    job.cancel()
    with Client(redis_url, workers=1, settings=fast_settings) as worker:
        worker.create_job("text_notes", {"content": "A sentence to summarise."}).wait(timeout=30)
    record = job.refresh().record
    assert record.status is JobStatus.CANCELLED and record.started_at is None


def test_wait_raises_timeout_for_a_job_that_cannot_start(bare_client: Client) -> None:
    job = bare_client.create_job("text_notes", {"content": "Waiting for a worker."})
    with pytest.raises(JobTimeout):
        job.wait(timeout=0.5)


def test_dependencies_outputs_are_handed_to_the_job(scripted: Client) -> None:
    first = scripted.create_job("text_notes", plan(), title="Lecture 1")
    second = scripted.create_job("text_notes", plan(), title="Lecture 2", depends_on=[first.id])
    out = second.wait(timeout=30).output_data
    assert out is not None
    assert out["dependencies"] == [first.id]
    assert out["dependency_summaries"] == [f"done by {first.id}"]


def test_workers_register_and_heartbeat(client: Client) -> None:
    frame = client.workers()
    assert list(frame["id"]) == [client.worker_id]
    assert frame.loc[0, "threads"] == 2 and bool(frame.loc[0, "alive"])
    assert str(frame["last_seen"].dtype.tz) == "UTC"


def test_bad_input_is_refused_before_anything_is_stored(client: Client) -> None:
    for job_type, data, field in [
        ("text_notes", {"content": ""}, "content"),
        ("text_notes", {"content": 3}, "content"),
        ("text_notes", {"content": "x", "extra": 1}, "input_data"),
        ("text_notes", {"content": "x", "options": {"generateQuiz": "yes"}}, "options.generateQuiz"),
        ("file_notes", {"path": "/does/not/exist.pdf"}, "path"),
        ("youtube_notes", {"youtubeUrl": "https://vimeo.com/123"}, "youtubeUrl"),
        ("pdf_notes", {}, "job_type"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            client.create_job(job_type, data)
        assert info.value.field == field
    with pytest.raises(InvalidInputError, match="depends_on"):
        client.create_job("course_summary", {})
    assert client._store.count() == 0
