"""Controllable processors for worker tests, plugged in through ``processor_overrides``.

Each reads a small JSON instruction from a text job's ``content``, so a test states what
the job should do: sleep, fail permanently, fail transiently N times, or succeed. With
``markers`` (a folder), each run leaves ``run-<n>.started`` (its pid and start time) when it
begins and ``run-<n>.ended`` (``completed`` or the exception's name, and the time) when it
ends, for tests to wait on.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
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
    if plan.get("pid_file"):  # which process runs the attempt, for tests that it really stopped
        Path(plan["pid_file"]).write_text(f"{os.getpid()}\n")
    lock = _exclusive(plan["lock"]) if plan.get("lock") else None
    if lock == -1:
        raise PermanentError("another attempt of this job is still running")
    if plan.get("die"):  # the process running the processor dies (a crash in C, the OOM killer)
        os.kill(os.getpid(), signal.SIGKILL)
    if plan.get("allocate_mb"):
        hog = bytearray(int(plan["allocate_mb"]) * 1024 * 1024)
        del hog
    # Blocks without reporting progress (a call into C that never returns, a hung socket).
    time.sleep(float(plan.get("block", 0)) + (float(plan.get("first_block", 0)) if attempt == 1 else 0))
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
    if lock is not None:
        os.close(lock)
    return {
        "title": ctx.title,
        "summary": f"done by {ctx.job_id}",
        "attempt": attempt,
        "dependencies": [d.get("id") for d in ctx.dependencies],
        "dependency_summaries": [d.get("summary") for d in ctx.dependencies],
    }


def _exclusive(path: str) -> int:
    """An exclusive lock on ``path`` until the returned descriptor is closed (or the process
    that holds it dies); -1 when another attempt holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return -1
    return fd


OVERRIDES = {"text_notes": "tests.core.jobs:scripted"}


def plan(**instructions: Any) -> dict[str, Any]:
    """``input_data`` for a scripted text job."""
    return {"content": json.dumps(instructions)}


def _marked(plan: dict[str, Any], input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    import os  # here, not at the top: other helpers of this module import it too

    folder = Path(plan.pop("markers"))
    folder.mkdir(parents=True, exist_ok=True)
    run = 1 + len(list(folder.glob("run-*.started")))
    _write(folder / f"run-{run}.started", f"{os.getpid()} {time.time()}")
    outcome = "completed"
    try:
        return scripted({**input_data, "content": json.dumps(plan)}, ctx)
    except BaseException as e:
        outcome = type(e).__name__
        raise
    finally:
        _write(folder / f"run-{run}.ended", f"{outcome} {time.time()}")


def _write(path: Path, text: str) -> None:
    # Written whole, then renamed: a waiting test never reads a half-written file.
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)
