"""The actors: one per job type on the logical queue ``eduscribe``, all with the same body.

The body takes the claimed job from the lifecycle middleware, calls the job type's processor
and hands the output back; recording it is the middleware's business.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Shutdown, TimeLimitExceeded

from ..config import Settings
from ..errors import EduscribeError
from ..models import JobType
from ..processors import get_processor
from ..store import Store
from .broker import LOGICAL_QUEUE, PriorityBroker
from .lifecycle import current_run

__all__ = ["build_broker", "declare_actors", "run_job"]


def run_job(job_id: str) -> None:
    run = current_run()
    if run.job_id != job_id:  # pragma: no cover - the middleware guarantees this
        raise RuntimeError(f"message for {job_id} carries the claim of {run.job_id}")
    processor = get_processor(run.started.job_type, run.settings.processor_overrides)
    # Handed to the lifecycle middleware on the run, not returned: dramatiq warns about
    # return values unless a result backend is configured, and we store results ourselves.
    run.output = processor(run.started.input_data, run)


def declare_actors(broker: PriorityBroker) -> dict[JobType, dramatiq.Actor[Any, Any]]:
    """One actor per job type, bound to ``broker`` (not to dramatiq's global broker)."""
    actors: dict[JobType, dramatiq.Actor[Any, Any]] = {}
    for job_type in JobType:
        declare = dramatiq.actor(
            actor_name=job_type.value,
            queue_name=LOGICAL_QUEUE,
            broker=broker,
            time_limit=broker.settings.time_limit_ms(job_type.value),
            notify_shutdown=True,
            # Expected outcomes: the lifecycle middleware records them on the job.
            throws=(EduscribeError, Shutdown, TimeLimitExceeded),
        )
        actors[job_type] = declare(run_job)
    return actors


def build_broker(store: Store | None, settings: Settings) -> PriorityBroker:
    broker = PriorityBroker(store, settings=settings)
    declare_actors(broker)
    return broker
