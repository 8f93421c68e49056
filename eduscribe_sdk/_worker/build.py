"""Putting one worker process together: its runtime, its middleware stack, broker and actors."""

from __future__ import annotations

from dramatiq.middleware import Middleware, ShutdownNotifications, TimeLimit

from .._config import Settings
from .._store import Store
from .actors import declare_actors
from .broker import PriorityBroker
from .heartbeat import WorkerHeartbeat
from .lifecycle import JobLifecycle
from .runtime import WorkerRuntime

__all__ = ["build_broker", "middleware_stack"]


def middleware_stack(runtime: WorkerRuntime) -> list[Middleware]:
    """The broker's whole middleware stack, in order.

    Order matters: dramatiq runs "after" hooks in reverse, so the lifecycle settles a job only
    after TimeLimit and ShutdownNotifications stopped watching the thread; an asynchronous
    exception can then never land inside the settling Redis call. Its "before" hook runs
    first, so a claim is checked before TimeLimit starts counting.
    """
    return [
        JobLifecycle(runtime),
        WorkerHeartbeat(runtime),
        TimeLimit(),
        ShutdownNotifications(notify_shutdown=True),
    ]


def build_broker(store: Store | None, settings: Settings) -> PriorityBroker:
    """A broker for one worker process, its actors declared on it."""
    runtime = WorkerRuntime(store, settings)
    broker = PriorityBroker(runtime, middleware=middleware_stack(runtime))
    declare_actors(broker)
    return broker
