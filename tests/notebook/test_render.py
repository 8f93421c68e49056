"""Job cards and the dashboard as HTML and text; user content is always escaped."""

from __future__ import annotations

from datetime import timedelta

from eduscribe_sdk.models import JobStatus
from eduscribe_sdk.notebook_render import (
    DashboardData,
    dashboard_html,
    dashboard_text,
    job_card_html,
    job_card_text,
    markdown_html,
)

from .test_progress_model import T0, record


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
