"""The progress table's state without a widget library or a renderer: rows, events, capping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from eduscribe_sdk._models import JobEvent, JobRecord, JobStatus, JobType, Priority
from eduscribe_sdk._progress import ProgressModel
from eduscribe_sdk.errors import InvalidInputError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record(job_id: str, status: JobStatus = JobStatus.QUEUED, **fields: object) -> JobRecord:
    base = JobRecord(
        id=job_id,
        user_id="ana",
        job_type=JobType.TEXT_NOTES,
        status=status,
        priority=Priority.NORMAL,
        input_data={"content": "x"},
        output_data=None,
        progress=0,
        error_message=None,
        error_details=None,
        retry_count=0,
        max_retries=3,
        created_at=T0,
        started_at=None,
        completed_at=None,
        updated_at=T0,
        worker_id=None,
        estimated_duration_seconds=None,
        actual_duration_seconds=None,
        queue_position=None,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def event(job_id: str, status: JobStatus, progress: int | None = None, at: float = 1.0) -> JobEvent:
    return JobEvent(
        id=f"{int(at * 1000)}-0",
        job_id=job_id,
        kind=status.value,
        status=status,
        progress=progress,
        at=T0 + timedelta(seconds=at),
    )


def test_events_update_status_progress_and_counts_without_reading_records() -> None:
    # Given two queued jobs
    model = ProgressModel([record("a", queue_position=0), record("b", queue_position=1)])
    before = model.version
    # When events say one started and progressed, one of another table's jobs finished
    touched = model.apply_events(
        [
            event("a", JobStatus.PROCESSING, 0, at=1),
            event("a", JobStatus.PROCESSING, 40, at=2),
            event("zz", JobStatus.COMPLETED, 100),
        ]
    )
    # Then only our job is touched, its row moved on, and the header counts follow
    assert touched == {"a"}
    row = model.rows["a"]
    assert (row.status, row.progress, row.position) == (JobStatus.PROCESSING, 40, None)
    assert row.started_at == T0 + timedelta(seconds=1)
    assert model.version > before
    assert model.counts() == {JobStatus.PROCESSING: 1, JobStatus.QUEUED: 1}
    assert not model.finished


def test_an_event_older_than_the_record_is_ignored() -> None:
    model = ProgressModel(
        [record("a", JobStatus.COMPLETED, progress=100, updated_at=T0 + timedelta(seconds=5))]
    )
    model.apply_events([event("a", JobStatus.PROCESSING, 10, at=2)])
    assert model.rows["a"].status is JobStatus.COMPLETED
    assert model.finished


def test_records_are_authoritative_and_report_whether_anything_changed() -> None:
    model = ProgressModel([record("a")])
    failed = record("a", JobStatus.FAILED, error_message="boom", updated_at=T0 + timedelta(seconds=3))
    assert model.update_records([failed, None, record("unknown")]) is True
    assert model.rows["a"].error == "boom"
    assert model.update_records([failed]) is False
    assert model.finished


def test_wait_estimates_only_for_queued_rows_and_dropped_once_started() -> None:
    model = ProgressModel([record("a", queue_position=3), record("b", JobStatus.PROCESSING)])
    model.set_wait_estimates(lambda position: position * 10.0)
    assert model.rows["a"].estimated_wait_s == 30.0
    assert model.rows["b"].estimated_wait_s is None
    model.apply_events([event("a", JobStatus.PROCESSING, 0)])
    assert model.rows["a"].estimated_wait_s is None


def test_small_tables_keep_submission_order() -> None:
    records = [record("a", JobStatus.COMPLETED), record("b", JobStatus.PROCESSING), record("c")]
    model = ProgressModel(records)
    assert [r.id for r in model.visible()] == ["a", "b", "c"]
    assert not model.hidden_counts()


def capped_model() -> ProgressModel:
    """1,000 jobs: 800 completed, 3 processing, 1 failed, the rest queued in line; 50 rows."""
    records = [record(f"j{i:04d}", JobStatus.COMPLETED, progress=100) for i in range(800)]
    records += [record(f"p{i}", JobStatus.PROCESSING) for i in range(3)]
    records += [record("f0", JobStatus.FAILED, error_message="bad pdf")]
    records += [record(f"q{i:03d}", queue_position=i) for i in range(196)]
    return ProgressModel(records, max_rows=50)


def test_a_thousand_jobs_are_capped_to_the_interesting_rows() -> None:
    # Given 1,000 jobs, at most 50 rows
    model = capped_model()
    # When the table is drawn
    shown = model.visible()
    # Then running and failed jobs are on screen, then the head of the line
    ids = {r.id for r in shown}
    assert len(shown) == 50
    assert {"p0", "p1", "p2", "f0", "q000", "q045"} <= ids
    assert "q046" not in ids and "j0000" not in ids
    # and the rest is counted per status for the summary line
    assert model.hidden_counts() == {JobStatus.QUEUED: 150, JobStatus.COMPLETED: 800}


@pytest.mark.parametrize("max_rows", [0, -1, True, 2.5, "10"])
def test_max_rows_must_be_a_positive_whole_number(max_rows: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        ProgressModel([], max_rows=max_rows)  # type: ignore[arg-type]
    assert info.value.field == "max_rows"
    assert ProgressModel([], max_rows=1).finished
