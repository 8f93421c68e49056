"""Notebook widgets at 1,000 jobs (moved here from the unit tests, which check behaviour only).

* the progress model: a burst of three events per job (two progress reports, the completion)
  applied, then the table drawn as HTML and as text: seconds, target < 0.5 s;
* a live progress table (``progress_table(..., widget=True)``) over 1,000 queued jobs built,
  first draw included: seconds, target < 5 s.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ._report import Row
from ._servers import RedisServer, flush


def _model_burst(jobs: int) -> float:
    from eduscribe_sdk import JobStatus, JobType
    from eduscribe_sdk._models import JobEvent, JobRecord, Priority
    from eduscribe_sdk._progress import ProgressModel
    from eduscribe_sdk._render import progress_table_html, progress_table_text

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    records = [
        JobRecord(
            id=f"j{i}",
            user_id="u",
            job_type=JobType.TEXT_NOTES,
            status=JobStatus.QUEUED,
            priority=Priority.NORMAL,
            progress=0,
            input_data={},
            output_data=None,
            error_message=None,
            error_details=None,
            retry_count=0,
            max_retries=3,
            created_at=t0,
            started_at=None,
            completed_at=None,
            updated_at=t0,
            worker_id=None,
            estimated_duration_seconds=None,
            actual_duration_seconds=None,
            queue_position=i,
        )
        for i in range(jobs)
    ]

    def event(i: int, status: JobStatus, progress: int, at: float) -> JobEvent:
        # As the store's event stream has them: one per change, the status as its kind.
        when = t0 + timedelta(seconds=at)
        return JobEvent(f"{int(at * 1000)}-{i}", f"j{i}", status.value, status, progress, when)

    burst = [event(i, JobStatus.PROCESSING, p, 1 + p / 100) for p in (0, 50) for i in range(jobs)]
    burst += [event(i, JobStatus.COMPLETED, 100, 3) for i in range(jobs)]
    model = ProgressModel(records)
    began = time.perf_counter()
    model.apply_events(burst)
    progress_table_html(model)
    progress_table_text(model)
    seconds = time.perf_counter() - began
    assert model.finished
    return seconds


def _table_build(url: str, jobs: int) -> float:
    from eduscribe_sdk import Client, JobType
    from eduscribe_sdk.notebook import progress_table

    flush(url)
    with Client(url, user_id="bench", workers=0) as client:
        specs = [
            client.prepare_job(JobType.TEXT_NOTES, {"content": "Cells divide."}, id=f"nb-{i:05d}")
            for i in range(jobs)
        ]
        ids = client.create_jobs(specs)
        began = time.perf_counter()
        table = progress_table(client, ids, widget=True)
        seconds = time.perf_counter() - began
        table.stop()
    flush(url)
    return seconds


def run(server: RedisServer, *, jobs: int = 1000) -> dict[str, Any]:
    burst = _model_burst(jobs)
    build = _table_build(server.url(0), jobs)
    rows = [
        Row(
            "notebook",
            f"progress model: {3 * jobs:,} events for {jobs:,} jobs applied and drawn",
            burst,
            "s",
            target="< 0.5 s",
            met=burst < 0.5,
        ),
        Row(
            "notebook",
            f"live progress table over {jobs:,} queued jobs built",
            build,
            "s",
            target="< 5 s",
            met=build < 5.0,
        ),
    ]
    return {"rows": [row.to_dict() for row in rows], "measured": {"burst_s": burst, "build_s": build}}
