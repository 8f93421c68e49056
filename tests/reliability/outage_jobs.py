"""A processor that records each run it starts, for the outage and failover tests.

A run appends ``<job id>\n`` to the file named in its input (one ``write`` on a file opened
for appending, so lines from many processes never mix): the lines per job id are how many
times the job really ran, whatever Redis remembers after a restart or a failover.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eduscribe_sdk._processors.base import JobContext

PROCESSORS = "text_notes=tests.reliability.outage_jobs:logged"


def logged(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    plan = json.loads(input_data["content"])
    fd = os.open(plan["runs"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{ctx.job_id}\n".encode())
    finally:
        os.close(fd)
    steps = int(plan.get("steps", 1))
    for step in range(steps):
        time.sleep(float(plan.get("sleep", 0)) / steps)
        ctx.progress(100 * (step + 1) / steps)
    return {"summary": f"done by {ctx.job_id}"}


def logged_plan(runs: Path, *, sleep: float, steps: int) -> dict[str, Any]:
    return {"content": json.dumps({"runs": str(runs), "sleep": sleep, "steps": steps})}


def runs_per_job(runs: Path) -> Counter[str]:
    return Counter(runs.read_text().split()) if runs.exists() else Counter()
