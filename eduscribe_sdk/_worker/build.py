"""Putting one worker process together: its runtime, its middleware stack, broker and actors."""

from __future__ import annotations

from dramatiq.middleware import Middleware, ShutdownNotifications

from .._config import Settings
from .._store import Store
from .actors import declare_actors
from .broker import PriorityBroker
from .heartbeat import WorkerHeartbeat
from .isolation import ChildProcesses
from .lifecycle import JobLifecycle
from .runtime import WorkerRuntime

__all__ = ["build_broker", "middleware_stack"]


def middleware_stack(runtime: WorkerRuntime) -> list[Middleware]:
    """The broker's whole middleware stack, in order.

    Order matters: dramatiq runs "after" hooks in reverse, so the lifecycle settles a job only
    after ShutdownNotifications stopped watching the thread; an asynchronous exception can
    then never land inside the settling Redis call. Time limits are not dramatiq's TimeLimit
    (an exception injected into the thread, which a blocking call never sees): the thread
    that waits for the processor's child process kills it at the limit (isolation.py).
    """
    return [
        JobLifecycle(runtime),
        WorkerHeartbeat(runtime),
        ChildProcesses(runtime.children, runtime.settings.worker_threads),
        ShutdownNotifications(notify_shutdown=True),
    ]


def build_broker(store: Store | None, settings: Settings) -> PriorityBroker:
    """A broker for one worker process, its actors declared on it."""
    runtime = WorkerRuntime(store, settings)
    broker = PriorityBroker(runtime, middleware=middleware_stack(runtime))
    declare_actors(broker)
    return broker
