"""Every figure of ``stats()`` and ``stats_frame()`` against a queue whose history is known.

Twelve jobs over the four tiers end in every status a job can be in: completed (one of them
after a retry), failed, cancelled, skipped (its dependency failed), retrying, processing,
queued and waiting. The worker's side is played through the store (claims and settlements,
as a worker's fetch and settle calls make them), so each job's outcome is chosen by the test.
The expected figures are computed from the job records and the event stream, not from the
counters and samples the statistics read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from statistics import mean

import numpy as np
import pytest

from eduscribe_sdk import Client, JobRecord, JobStatus
from eduscribe_sdk._store import Store, completion, delayed_retry, failure
from tests.core.jobs import plan

WORKER = "stats-worker"
PRIORITIES = ("urgent", "high", "normal", "low")


def claim(store: Store, expected: list[str]) -> dict[str, int]:
    """Claim the queue's next jobs as a worker would; they must be ``expected``."""
    started = store.fetch_and_claim(WORKER, len(expected))
    assert sorted(s.id for s in started) == sorted(expected)
    return {s.id: s.attempt for s in started}


@pytest.fixture
def history(bare_client: Client) -> dict[str, JobRecord]:
    """The twelve jobs, settled; returns their records by id."""
    c, store = bare_client, bare_client._store
    c.set_user_tier("tester", "enterprise")

    def create(job_id: str, priority: str, *, depends_on: tuple[str, ...] = ()) -> str:
        spec = c.prepare_job("text_notes", plan(), id=job_id, priority=priority, depends_on=depends_on)
        (created,) = c.create_jobs([spec])
        return created

    # urgent: two completed, one failed for good
    for job_id in ("u-done-1", "u-done-2", "u-failed"):
        create(job_id, "urgent")
    a = claim(store, ["u-done-1", "u-done-2", "u-failed"])
    store.settle_many(
        WORKER,
        [
            completion("u-done-1", a["u-done-1"], {"summary": "1"}),
            completion("u-done-2", a["u-done-2"], {"summary": "2"}),
            failure("u-failed", a["u-failed"], "bad input", {"type": "PermanentError"}),
        ],
    )
    # high: one retrying (due in a minute), one still processing, one cancelled while queued
    create("h-retrying", "high")
    create("h-running", "high")
    a = claim(store, ["h-retrying", "h-running"])
    store.settle_many(WORKER, [delayed_retry("h-retrying", a["h-retrying"], 60_000, "flaky", {})])
    create("h-cancelled", "high")
    c.cancel("h-cancelled")
    # low: one failed, its dependent skipped; one completed on its second attempt
    create("l-failed", "low")
    create("l-skipped", "low", depends_on=("l-failed",))
    create("l-retried", "low")
    a = claim(store, ["l-failed", "l-retried"])
    store.settle_many(
        WORKER,
        [
            failure("l-failed", a["l-failed"], "bad input", {"type": "PermanentError"}),
            delayed_retry("l-retried", a["l-retried"], 0, "flaky", {}),
        ],
    )
    a = claim(store, ["l-retried"])  # due at once: the fetch puts it back in line and claims it
    assert a["l-retried"] == 2
    store.settle_many(WORKER, [completion("l-retried", 2, {"summary": "3"})])
    # normal: one completed, one queued, one waiting for the queued one
    create("n-done", "normal")
    a = claim(store, ["n-done"])
    store.settle_many(WORKER, [completion("n-done", a["n-done"], {"summary": "4"})])
    create("n-queued", "normal")
    create("n-waiting", "normal", depends_on=("n-queued",))

    records = {r.id: r for r in store.get_many(store.list_ids(limit=100)) if r}
    assert len(records) == 12
    return records


def by_status(records: dict[str, JobRecord]) -> dict[str, list[JobRecord]]:
    out: dict[str, list[JobRecord]] = defaultdict(list)
    for r in records.values():
        out[r.status.value].append(r)
    return out


def durations(records: list[JobRecord]) -> list[float]:
    """The duration of each completed attempt (only completions are timed)."""
    return [r.actual_duration_seconds for r in records if r.status is JobStatus.COMPLETED]  # type: ignore[misc]


def waits_by_priority(store: Store, records: dict[str, JobRecord]) -> dict[str, list[float]]:
    """From the event stream: each start's wait since the job last went in line."""
    entered: dict[str, datetime] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    for event in store.read_events("0-0", count=10_000):
        if event.kind in ("created", "queued", "released", "requeued"):
            entered[event.job_id] = event.at
        elif event.kind == "started":
            priority = records[event.job_id].priority.value
            waits[priority].append((event.at - entered[event.job_id]).total_seconds())
    return waits


def test_stats_totals_and_tiers_count_every_job_once_in_its_status(
    bare_client: Client, history: dict[str, JobRecord]
) -> None:
    statuses = by_status(history)
    stats = bare_client.stats()
    expected_counts = {"queued": 1, "processing": 1, "completed": 4, "failed": 2}
    expected_counts |= {"waiting": 1, "retrying": 1, "cancelled": 1, "skipped": 1}
    assert {s: len(statuses[s]) for s in expected_counts} == expected_counts  # the history is as meant
    done = durations(statuses["completed"])
    assert stats.totals == {
        "total_jobs": 12,
        **{f"{s}_jobs": n for s, n in expected_counts.items()},
        "avg_duration_seconds": round(mean(done), 3),
    }
    assert stats.queue["queuedCount"] == 1 and stats.queue["processingCount"] == 1
    # One queued job, one slot, the mean duration of text jobs
    assert stats.queue["estimatedWaitTimeSeconds"] == round(mean(done), 1)
    recent = sorted(history.values(), key=lambda r: r.created_at, reverse=True)[:10]
    assert [j["id"] for j in stats.queue["recentJobs"]] == [r.id for r in recent]
    assert [j["status"] for j in stats.queue["recentJobs"]] == [r.status.value for r in recent]
    # The hand-played worker's fetches were its heartbeats (one slot; gone after 3 s)
    assert stats.slots == stats.workers <= 1

    frame = stats.frame
    assert list(frame.index.astype(str)) == list(PRIORITIES)
    assert frame["depth"].to_dict() == {"urgent": 0, "high": 0, "normal": 1, "low": 0}
    for priority in PRIORITIES:
        row = frame.loc[priority]
        for status in expected_counts:
            want = sum(1 for r in statuses[status] if r.priority.value == priority)
            assert row[status] == want, (priority, status)
    assert frame.loc["urgent", "completed"] == 2 and frame.loc["urgent", "failed"] == 1
    assert frame.loc["low", "failed"] == 1 and frame.loc["low", "skipped"] == 1


def test_stats_frame_counts_error_rates_durations_and_waits(
    bare_client: Client, history: dict[str, JobRecord]
) -> None:
    store = bare_client._store
    waits = waits_by_priority(store, history)
    # the starts: three urgent, two high, two low plus the retry, one normal
    assert {p: len(w) for p, w in waits.items()} == {"urgent": 3, "high": 2, "low": 3, "normal": 1}
    frame = bare_client.stats_frame(by="priority").set_index("priority")
    assert list(frame.index.astype(str)) == list(PRIORITIES)
    # Of the jobs that ended: failed / (failed + completed); high has neither yet
    expected_error_rate = {"urgent": 1 / 3, "high": math.nan, "normal": 0.0, "low": 1 / 2}
    for priority in PRIORITIES:
        row = frame.loc[priority]
        mine = [r for r in history.values() if r.priority.value == priority]
        assert row["total"] == len(mine)
        for status in JobStatus:
            assert row[status.value] == sum(1 for r in mine if r.status is status), (priority, status)
        assert row["error_rate"] == pytest.approx(expected_error_rate[priority], nan_ok=True)
        done = durations(mine)
        if done:
            assert row["duration_mean_s"] == pytest.approx(mean(done), abs=1e-6)
            assert row["duration_p50_s"] == pytest.approx(float(np.percentile(done, 50)), abs=1e-6)
            assert row["duration_p95_s"] == pytest.approx(float(np.percentile(done, 95)), abs=1e-6)
        else:
            assert math.isnan(row["duration_mean_s"]) and math.isnan(row["duration_p50_s"])
        # The events' times and the queue's enqueue time differ by the microsecond steps
        # that keep jobs created by one call in order
        w = waits[priority]
        assert row["wait_mean_s"] == pytest.approx(mean(w), abs=1e-3)
        assert row["wait_p50_s"] == pytest.approx(float(np.percentile(w, 50)), abs=1e-3)
        assert row["wait_p95_s"] == pytest.approx(float(np.percentile(w, 95)), abs=1e-3)

    # By job type (all text here) and by both, the same jobs in one group
    (text,) = bare_client.stats_frame(by="job_type").itertuples(index=False)
    assert text.job_type == "text_notes" and text.total == 12
    assert (text.completed, text.failed, text.cancelled, text.skipped) == (4, 2, 1, 1)
    assert (text.retrying, text.processing, text.queued, text.waiting) == (1, 1, 1, 1)
    assert text.error_rate == pytest.approx(2 / 6)
    assert text.duration_mean_s == pytest.approx(mean(durations(list(history.values()))), abs=1e-6)
    both = bare_client.stats_frame()
    assert list(both["priority"].astype(str)) == list(PRIORITIES)
    assert set(both["job_type"].astype(str)) == {"text_notes"}
    assert both["total"].tolist() == frame["total"].tolist()
    assert both["error_rate"].tolist() == pytest.approx(frame["error_rate"].tolist(), nan_ok=True)
