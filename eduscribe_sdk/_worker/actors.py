"""The actors: one per job type on the logical queue ``eduscribe``, all with the same body."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from .._models import JobType
from .._processors import get_processor
from ..errors import EduscribeError
from .broker import PriorityBroker
from .message import LOGICAL_QUEUE
from .run import JobRun

__all__ = ["declare_actors", "run_job"]


def run_job(run: JobRun) -> None:
    """Every actor's body: the job type's processor on the claimed input."""
    processor = get_processor(run.started.job_type, run.settings.processor_overrides)
    # Handed back on the run, not returned: dramatiq logs a warning for every non-None
    # return value unless its Results middleware is installed; the lifecycle stores results.
    run.output = processor(run.started.input_data, run)


def declare_actors(broker: PriorityBroker) -> dict[JobType, dramatiq.Actor[Any, Any]]:
    """One actor per job type, bound to ``broker`` (not to dramatiq's global broker)."""
    settings = broker.runtime.settings
    actors: dict[JobType, dramatiq.Actor[Any, Any]] = {}
    for job_type in JobType:
        declare = dramatiq.actor(
            actor_name=job_type.value,
            queue_name=LOGICAL_QUEUE,
            broker=broker,
            time_limit=settings.time_limit_ms(job_type.value),
            notify_shutdown=True,
            # Expected outcomes: the lifecycle middleware records them on the job.
            throws=(EduscribeError, Shutdown, TimeLimitExceeded),
        )
        actors[job_type] = declare(run_job)
    return actors
