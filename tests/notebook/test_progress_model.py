"""Widget state without a widget library: rows, events, capping, text and HTML."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from eduscribe_sdk.models import JobEvent, JobRecord, JobStatus, JobType, Priority
from eduscribe_sdk.progress_model import STATUS_STYLES, ProgressModel, format_duration

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


def test_every_status_has_a_distinct_icon_and_colour() -> None:
    assert set(STATUS_STYLES) == set(JobStatus)
    assert len({s.icon for s in STATUS_STYLES.values()}) == len(JobStatus)
    assert len({s.colour for s in STATUS_STYLES.values()}) == len(JobStatus)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (float("nan"), ""),
        (-1, ""),
        (0, "0.0s"),
        (4.24, "4.2s"),
        (185, "3m 05s"),
        (7620, "2h 07m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


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
    assert model.hidden_summary() is None


def test_a_thousand_jobs_are_capped_to_the_interesting_rows_with_a_summary() -> None:
    # Given 1,000 jobs: 800 completed, 3 processing, 1 failed, the rest queued in line
    records = [record(f"j{i:04d}", JobStatus.COMPLETED, progress=100) for i in range(800)]
    records += [record(f"p{i}", JobStatus.PROCESSING) for i in range(3)]
    records += [record("f0", JobStatus.FAILED, error_message="bad pdf")]
    records += [record(f"q{i:03d}", queue_position=i) for i in range(196)]
    model = ProgressModel(records, max_rows=50)
    # When the table is drawn
    shown = model.visible()
    # Then running and failed jobs are on screen, then the head of the line
    ids = {r.id for r in shown}
    assert len(shown) == 50
    assert {"p0", "p1", "p2", "f0", "q000", "q045"} <= ids
    assert "q046" not in ids and "j0000" not in ids
    assert model.hidden_summary() == "… and 950 more (150 queued, 800 completed)"
    html = model.render_html()
    assert html.count('class="eduscribe-row"') == 50
    assert "950 more" in html
    text = model.render_text()
    assert len(text.splitlines()) == 1 + 1 + 50 + 1
    assert "1000 jobs, 801/1000 finished" in text


def test_a_burst_of_events_for_a_thousand_jobs_is_cheap() -> None:
    model = ProgressModel([record(f"j{i}", queue_position=i) for i in range(1000)])
    burst = [event(f"j{i}", JobStatus.PROCESSING, p, at=1 + p / 100) for p in (0, 50) for i in range(1000)]
    burst += [event(f"j{i}", JobStatus.COMPLETED, 100, at=3) for i in range(1000)]
    started = time.perf_counter()
    model.apply_events(burst)
    model.render_html()
    model.render_text()
    assert time.perf_counter() - started < 0.5
    assert model.finished


def test_text_table_has_a_header_with_totals_and_one_line_per_job() -> None:
    model = ProgressModel(
        [
            record(
                "a", JobStatus.COMPLETED, progress=100, title="Cells", completed_at=T0 + timedelta(seconds=4)
            ),
            record("b", JobStatus.FAILED, title="Video", error_message="no audio stream"),
            record("c", queue_position=0),
        ]
    )
    text = model.render_text(now=T0 + timedelta(seconds=10))
    lines = text.splitlines()
    assert lines[0] == "3 jobs, 2/3 finished — ○ 1 queued · ✔ 1 completed · ✖ 1 failed"
    assert "[##########] 100%" in lines[2] and "4.0s" in lines[2]
    assert "no audio stream" in lines[3]
    assert lines[4].split()[0] == "○"


def test_html_escapes_titles_ids_and_errors() -> None:
    model = ProgressModel(
        [
            record(
                "<x>",
                JobStatus.FAILED,
                title="<script>alert(1)</script>",
                error_message="<img src=x onerror=y>",
            )
        ]
    )
    html = model.render_html() + model.render_header_html()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=y&gt;" in html
    assert 'data-job-id="&lt;x&gt;"' in html


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        ProgressModel([], max_rows=0)
    assert ProgressModel([]).header_text() == "no jobs"
