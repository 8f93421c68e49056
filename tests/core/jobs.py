"""Controllable processors for worker tests, plugged in through ``processor_overrides``.

Each reads a small JSON instruction from a text job's ``content``, so a test states what
the job should do: sleep, fail permanently, fail transiently N times, or succeed. With
``markers`` (a folder), each run leaves ``run-<n>.started`` when it begins and ``run-<n>.ended``
(holding ``completed`` or the exception's name) when it ends, for tests to wait on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eduscribe_sdk._processors.base import JobContext
from eduscribe_sdk.errors import PermanentError, TransientError


def scripted(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    plan = json.loads(input_data["content"])
    if plan.get("markers"):  # a test waits on these files instead of sleeping
        return _marked(plan, input_data, ctx)
    counter = plan.get("counter")
    attempt = 1
    if counter:
        path = Path(counter)
        attempt = int(path.read_text() or "0") + 1 if path.exists() else 1
        path.write_text(str(attempt))
    steps = int(plan.get("steps", 1))
    sleep = float(plan.get("sleep", 0)) + (float(plan.get("first_sleep", 0)) if attempt == 1 else 0)
    for step in range(steps):
        time.sleep(sleep / steps)
        ctx.progress(100 * (step + 1) / steps)
    if plan.get("fail") == "permanent":
        raise PermanentError("this input can never work")
    if attempt <= int(plan.get("transient_failures", 0)):
        raise TransientError(f"flaky dependency (attempt {attempt})", retry_after=plan.get("retry_after"))
    if plan.get("crash"):
        raise RuntimeError("unexpected bug")
    return {
        "title": ctx.title,
        "summary": f"done by {ctx.job_id}",
        "attempt": attempt,
        "dependencies": [d.get("id") for d in ctx.dependencies],
        "dependency_summaries": [d.get("summary") for d in ctx.dependencies],
    }


OVERRIDES = {"text_notes": "tests.core.jobs:scripted"}


def plan(**instructions: Any) -> dict[str, Any]:
    """``input_data`` for a scripted text job."""
    return {"content": json.dumps(instructions)}


def _marked(plan: dict[str, Any], input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    folder = Path(plan.pop("markers"))
    folder.mkdir(parents=True, exist_ok=True)
    run = 1 + len(list(folder.glob("run-*.started")))
    (folder / f"run-{run}.started").write_text("")
    outcome = "completed"
    try:
        return scripted({**input_data, "content": json.dumps(plan)}, ctx)
    except BaseException as e:
        outcome = type(e).__name__
        raise
    finally:
        # Written whole, then renamed: a waiting test never reads a half-written file.
        (folder / f"run-{run}.ending").write_text(outcome)
        (folder / f"run-{run}.ending").replace(folder / f"run-{run}.ended")
