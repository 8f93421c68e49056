"""The actors: one per job type on the logical queue ``eduscribe``, all with the same body."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Shutdown

from .._models import JobType
from .._processors import get_processor, is_isolated
from ..errors import EduscribeError
from .broker import PriorityBroker
from .isolation import ChildPool
from .message import LOGICAL_QUEUE
from .run import JobRun

__all__ = ["declare_actors", "run_job"]


def run_job(run: JobRun, children: ChildPool | None = None) -> None:
    """Every actor's body: the job type's processor on the claimed input.

    With ``children`` (always, in a worker) the processor runs in one of the worker's child
    processes, which can be killed on cancel, at the time limit or at shutdown; without, or
    for a plugged-in processor marked ``isolated = False``, in this thread.
    """
    # Handed back on the run, not returned: dramatiq logs a warning for every non-None
    # return value unless its Results middleware is installed; the lifecycle stores results.
    overrides = run.settings.processor_overrides
    if children is not None and is_isolated(run.started.job_type, overrides):
        run.output = children.run(run)
        return
    processor = get_processor(run.started.job_type, overrides)
    run.output = processor(run.started.input_data, run)


def declare_actors(broker: PriorityBroker) -> dict[JobType, dramatiq.Actor[Any, Any]]:
    """One actor per job type, bound to ``broker`` (not to dramatiq's global broker)."""
    children = broker.runtime.children

    def run_isolated(run: JobRun) -> None:
        run_job(run, children)

    actors: dict[JobType, dramatiq.Actor[Any, Any]] = {}
    for job_type in JobType:
        declare = dramatiq.actor(
            actor_name=job_type.value,
            queue_name=LOGICAL_QUEUE,
            broker=broker,
            notify_shutdown=True,
            # Expected outcomes: the lifecycle middleware records them on the job.
            throws=(EduscribeError, Shutdown),
        )
        actors[job_type] = declare(run_isolated)
    return actors
