"""Operator controls over every worker, on any machine, through Redis (``lua/control.lua``).

* **pause / resume a tier**: workers stop (start again) taking that tier's jobs; they stay
  queued in their place, running jobs go on. Kept in Redis, so workers started later obey.
* **drain** a worker (or all): it takes nothing new, finishes what it runs, then idles,
  registered and beating, as "drained" until :func:`resume` with no tier.
* **restart** a worker (or all): a drain, then once it holds no job the worker stops so
  that it starts again fresh: a ``dramatiq eduscribe_sdk.actors`` process stops gracefully
  and exits (its supervisor starts it again); an in-process worker starts again itself.

The fetch (``lua/fetch.lua``) reads every control that concerns it in one ``HMGET`` of the
control hash, so a control applies to the very next fetch of every worker. A restart is
noticed by the worker's heartbeat thread (``_worker/heartbeat.py``), from the beat's reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._models import Priority, Tier
from ._store import Store
from ._validation import check_id
from .errors import InvalidInputError

__all__ = [
    "WORKER_STATES",
    "WorkerInfo",
    "ask_workers",
    "parse_queue",
    "pause",
    "paused",
    "resume",
    "worker_info",
]

#: What a live worker is doing, as :attr:`WorkerInfo.state` says.
WORKER_STATES = ("running", "draining", "drained", "restarting")


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One live worker (its heartbeat is within ``heartbeat_timeout_s``); times are UTC.

    ``state``: "running"; "draining" (asked to drain, still holds jobs); "drained" (asked,
    holds none, takes nothing new until ``resume()``); "restarting" (asked to restart: it
    exits, or starts again, once it holds no job).
    """

    id: str
    host: str | None
    pid: int | None
    #: Job slots (threads that run jobs).
    slots: int
    started_at: datetime | None
    last_heartbeat: datetime
    #: The ids of the jobs it holds: fetched and not yet acknowledged (running or settling).
    jobs_in_flight: tuple[str, ...]
    state: str


def parse_queue(value: object) -> Priority:
    """The queue of a tier: a :class:`Tier` or :class:`Priority`, or the name of either
    (``"free"`` and ``"low"`` are the same queue)."""
    if isinstance(value, Priority):
        return value
    if isinstance(value, Tier):
        return value.priority
    if isinstance(value, str):
        if value in Priority._value2member_map_:
            return Priority(value)
        if value in Tier._value2member_map_:
            return Tier(value).priority
    tiers, priorities = ", ".join(Tier), ", ".join(Priority)
    raise InvalidInputError(
        f"unknown tier {value!r} (a tier: {tiers}; or a priority: {priorities})", field="tier"
    )


def _queues(tier: object) -> list[str]:
    return [p.value for p in Priority] if tier is None else [parse_queue(tier).value]


def pause(store: Store, tier: object) -> None:
    store.control("pause", *_queues(tier))


def resume(store: Store, tier: object) -> None:
    # No priority at all means "everything": every tier, and every drain ends (control.lua).
    store.control("resume", *([] if tier is None else _queues(tier)))


def paused(store: Store) -> frozenset[Priority]:
    controls = store.controls()
    return frozenset(p for p in Priority if controls.get(f"paused:{p.value}"))


def ask_workers(store: Store, mode: str, worker_id: object) -> int:
    """Ask one live worker (or, with None, every live one) to drain or restart; how many.
    Live: its heartbeat is within the store's ``heartbeat_timeout_s``."""
    target = "" if worker_id is None else check_id(worker_id, "worker_id")
    asked = store.control("ask", mode, int(store.settings.heartbeat_timeout_s * 1000), target)
    if worker_id is not None and asked == 0:
        raise InvalidInputError(
            f"no live worker {target!r} (see Client.worker_info() for the live ones)", field="worker_id"
        )
    return asked


def worker_info(store: Store) -> list[WorkerInfo]:
    controls = store.controls()
    alive_since = datetime.now(UTC) - timedelta(seconds=store.settings.heartbeat_timeout_s)
    return [
        _info(row, controls.get(f"worker:{row['id']}", ""))
        for row in store.workers()
        if row["last_seen"] >= alive_since
    ]


def _info(row: dict[str, Any], asked: str) -> WorkerInfo:
    jobs: tuple[str, ...] = row["job_ids"]
    if asked == "restart":
        state = "restarting"
    elif asked == "drain":
        state = "draining" if jobs else "drained"
    else:
        state = "running"
    return WorkerInfo(
        id=row["id"],
        host=row["host"],
        pid=row["pid"],
        slots=row["threads"],
        started_at=row["started_at"],
        last_heartbeat=row["last_seen"],
        jobs_in_flight=jobs,
        state=state,
    )
