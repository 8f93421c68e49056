"""Jobs that do (almost) nothing, so a benchmark measures the queue and not the work.

``noop`` is plugged into EduScribe with ``EDUSCRIBE_PROCESSORS=text_notes=benchmarks.noop:noop``.
A ``content`` of ``"sleep:<seconds>"`` holds a job slot that long (the "busy worker" latency
case), reporting progress every 20 ms as a real processor would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from eduscribe_sdk._processors.base import JobContext

SLEEP_PREFIX = "sleep:"
STEP_S = 0.02


def noop(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    content = input_data.get("content")
    if isinstance(content, str) and content.startswith(SLEEP_PREFIX):
        hold(float(content[len(SLEEP_PREFIX) :]), ctx.progress)
    ctx.progress(100)
    return {"summary": ""}


# Queue overhead is what the no-op measures: it runs in the worker's thread, as raw Dramatiq's
# does; BENCH_QUEUE_JOB=text measures a real (isolated) processor, child process included.
noop.isolated = False  # type: ignore[attr-defined]


def hold(seconds: float, report: Any = None, stop: Callable[[], object] | None = None) -> None:
    """Occupy the calling thread (not the CPU) for ``seconds``, or until ``stop()`` is true."""
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        if report is not None:
            report(min(99, int(100 * elapsed / seconds)))
        if stop is not None and stop():
            return
        time.sleep(STEP_S)


def rq_noop() -> None:
    """RQ's job: a module-level function the worker imports by name."""
