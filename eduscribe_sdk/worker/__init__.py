"""The worker runtime: broker and consumer, middleware, settling, actors, in-process workers."""

from .actors import build_broker, declare_actors, run_job
from .broker import LOGICAL_QUEUE, PriorityBroker
from .consumer import PriorityConsumer
from .heartbeat import WorkerHeartbeat
from .inprocess import InProcessWorker
from .lifecycle import JobLifecycle, current_run
from .run import JobRun
from .settling import Settler

__all__ = [
    "LOGICAL_QUEUE",
    "InProcessWorker",
    "JobLifecycle",
    "JobRun",
    "PriorityBroker",
    "PriorityConsumer",
    "Settler",
    "WorkerHeartbeat",
    "build_broker",
    "current_run",
    "declare_actors",
    "run_job",
]
