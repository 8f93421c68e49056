"""Job cards, the progress table and the dashboard as HTML and text; user content is escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eduscribe_sdk._models import JobStatus
from eduscribe_sdk._progress import ProgressModel
from eduscribe_sdk._render import (
    STATUS_STYLES,
    DashboardData,
    dashboard_html,
    dashboard_text,
    format_duration,
    job_card_html,
    job_card_text,
    markdown_html,
    progress_header_html,
    progress_header_text,
    progress_hidden_text,
    progress_table_html,
    progress_table_text,
)

from .test_progress_model import T0, capped_model, event, record


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


def test_a_capped_table_folds_the_rest_into_a_summary_line() -> None:
    model = capped_model()
    assert progress_hidden_text(model) == "… and 950 more (150 queued, 800 completed)"
    html = progress_table_html(model)
    assert html.count('class="eduscribe-row"') == 50
    assert "950 more" in html
    text = progress_table_text(model)
    assert len(text.splitlines()) == 1 + 1 + 50 + 1
    assert "1000 jobs, 801/1000 finished" in text


def test_a_table_that_fits_has_no_summary_line() -> None:
    model = ProgressModel([record("a"), record("b", JobStatus.COMPLETED)])
    assert progress_hidden_text(model) is None
    assert "more (" not in progress_table_text(model)
    assert progress_header_text(ProgressModel([])) == "no jobs"


def test_a_burst_of_events_for_a_thousand_jobs_finishes_the_model() -> None:
    model = ProgressModel([record(f"j{i}", queue_position=i) for i in range(1000)])
    burst = [event(f"j{i}", JobStatus.PROCESSING, p, at=1 + p / 100) for p in (0, 50) for i in range(1000)]
    burst += [event(f"j{i}", JobStatus.COMPLETED, 100, at=3) for i in range(1000)]
    model.apply_events(burst)  # its time: benchmarks/bench_notebook.py
    progress_table_html(model)
    progress_table_text(model)
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
    text = progress_table_text(model, now=T0 + timedelta(seconds=10))
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
    html = progress_table_html(model) + progress_header_html(model)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=y&gt;" in html
    assert 'data-job-id="&lt;x&gt;"' in html


def test_completed_card_shows_timings_and_notes_as_markdown() -> None:
    done = record(
        "job-1",
        JobStatus.COMPLETED,
        title="Cell biology",
        progress=100,
        started_at=T0 + timedelta(seconds=2),
        completed_at=T0 + timedelta(seconds=7),
        actual_duration_seconds=5.0,
        worker_id="host:1/ab",
        output_data={"markdown": "# Cells\n\n- **membrane** keeps the inside in\n"},
    )
    html = job_card_html(done)
    assert 'data-status="completed"' in html
    assert "Cell biology" in html and "✔ completed" in html
    assert "<h1>Cells</h1>" in html and "<strong>membrane</strong>" in html
    assert "2.0s" in html and "5.0s" in html  # waited, took
    text = job_card_text(done)
    assert text.splitlines()[0] == "✔ Cell biology  [completed 100%]"
    assert "took" in text


def test_queued_card_shows_position_and_no_notes() -> None:
    html = job_card_html(record("job-2", queue_position=4))
    assert "4 job(s) ahead" in html
    assert "Notes" not in html


def test_card_escapes_title_error_and_raw_html_in_notes() -> None:
    bad = record(
        "job-3",
        JobStatus.COMPLETED,
        title='<b onmouseover="x">t</b>',
        error_message="<script>steal()</script>",
        output_data={"markdown": "hi <script>alert(1)</script> [x](javascript:alert(1))"},
    )
    html = job_card_html(bad)
    assert "<script>" not in html and "<b onmouseover" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_tables_render() -> None:
    assert "<table>" in markdown_html("| a | b |\n|---|---|\n| 1 | 2 |\n")


def test_dashboard_html_and_text() -> None:
    data = DashboardData(
        totals={"completed_jobs": 7, "failed_jobs": 1, "avg_duration_seconds": 2.5},
        queue={
            "queuedCount": 3,
            "processingCount": 2,
            "estimatedWaitTimeSeconds": 75.0,
            "recentJobs": [
                {
                    "id": "r1",
                    "title": "<i>Lecture</i>",
                    "job_type": "video_notes",
                    "status": "processing",
                    "priority": "high",
                    "progress": 40,
                    "created_at": T0,
                },
            ],
        },
        tiers=[{"priority": "high", "queue": "eduscribe.high", "depth": 3, "queued": 3, "processing": 2}],
        workers=[
            {
                "id": "host:9/aa",
                "threads": 2,
                "jobs_in_flight": 2,
                "alive": True,
                "last_seen": T0 + timedelta(seconds=9),
            }
        ],
        at=T0 + timedelta(seconds=10),
    )
    html = dashboard_html(data)
    assert "eduscribe.high" in html and "host:9/aa" in html and "1.0s ago" in html
    assert "1m 15s" in html
    assert "&lt;i&gt;Lecture&lt;/i&gt;" in html and "<i>" not in html
    text = dashboard_text(data)
    assert text.startswith("EduScribe queue at 09:00:10 UTC: 3 queued, 2 processing, estimated wait 1m 15s")
    assert "host:9/aa (alive, 2 in flight, last heartbeat 1.0s ago)" in text


def test_empty_dashboard() -> None:
    data = DashboardData(totals={}, queue={}, tiers=[], workers=[], at=T0)
    assert "no workers connected" in dashboard_html(data)
    assert "no jobs yet" in dashboard_html(data)
    assert "workers: none connected" in dashboard_text(data)
