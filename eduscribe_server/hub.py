"""One event hub per server process: one thread tails the Redis event stream and fans each
event out to the asyncio subscribers (SSE streams, WebSockets) whose filter it matches.

Threads and queues
    The tail thread reads the stream through the SDK (``client.events`` for what is already
    there, ``client.watch`` to block for the next event), resolves each new job's owner with
    one batched ``client.get_jobs`` per read (an LRU cache keeps job -> owner), and hands the
    batch to the event loop with ``loop.call_soon_threadsafe``. On the loop, each matching
    subscriber's :class:`Mailbox` (a bounded deque) takes the event. A subscriber that falls
    ``capacity`` events behind loses its backlog and gets one ``reset`` in its place: memory
    per subscriber is bounded, and the client is told to refetch instead of silently missing
    events. Redis sees one connection's worth of reads per process, whatever the number of
    open streams.

Position changes
    A second small loop (a task on the event loop, its Redis reads in a worker thread) looks
    once a second at the queued jobs some user subscriber is interested in, reads their queue
    positions in one batch and emits a ``position`` event for each that changed. These events
    are computed, not read from the stream: they carry no stream id and a resumed stream does
    not replay them (the next tick sends the current position again).

Metrics
    The tail thread also reports every ``started``/``completed``/``failed`` event to an
    :class:`Observer` (``metrics.py``), with the job record read in the same batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from eduscribe_sdk import Client, EduscribeError, JobEvent, JobRecord, JobStatus

__all__ = ["Hub", "LiveEvent", "Mailbox", "Observer", "event_key", "matches"]

logger = logging.getLogger("eduscribe.server.hub")

#: Event kinds whose job record the metrics need (duration, wait, error type).
_RECORD_KINDS = frozenset({"started", "completed", "failed"})


def event_key(event_id: str) -> tuple[int, int]:
    """A stream id ("<ms>-<seq>") as a tuple that sorts as Redis orders the stream."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """What a subscriber receives. ``id`` is the stream id (None for computed events:
    ``position`` and ``reset``); ``owner`` is the job's user (None when the job is gone)."""

    id: str | None
    kind: str
    job_id: str | None
    owner: str | None
    data: dict[str, Any]
    #: ``data`` as JSON, encoded once for every stream that sends it.
    text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", json.dumps(self.data))

    @classmethod
    def of(cls, event: JobEvent, owner: str | None) -> LiveEvent:
        data: dict[str, Any] = {
            "jobId": event.job_id,
            "kind": event.kind,
            "status": event.status.value if event.status else None,
            "progress": event.progress,
            "at": event.at.isoformat(),
        }
        if event.data.get("batch_id"):
            data["batchId"] = event.data["batch_id"]
        return cls(event.id, event.kind, event.job_id, owner, data)

    @classmethod
    def reset(cls, reason: str, last_id: str | None) -> LiveEvent:
        message = {
            "behind": "this subscriber fell behind and events were dropped: refetch the jobs",
            "expired": "the requested event id is older than the retained stream: refetch the jobs",
            "reconnected": "the server lost the event stream for a while: refetch the jobs",
        }[reason]
        return cls(last_id, "reset", None, None, {"kind": "reset", "reason": reason, "message": message})


class Mailbox:
    """A bounded queue of one subscriber's events, filled from the event loop only.

    When it is full, the backlog is dropped and replaced by one ``reset`` event whose id is
    that of the newest dropped event (so a client resuming from it continues after the gap).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self.closed = False
        self.resets = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: LiveEvent) -> None:
        if self.closed:
            return
        if len(self._items) >= self.capacity:
            self._items.clear()
            self._items.append(LiveEvent.reset("behind", event.id))
            self.resets += 1
        else:
            self._items.append(event)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def get(self) -> LiveEvent | None:
        """The next event; None once closed (the hub stopped)."""
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


@dataclass(eq=False)
class Subscription:
    """One open stream: whose events it gets (``user``: None for an admin's "everything";
    ``jobs``: only these) and where they go."""

    user: str | None
    jobs: set[str] | None
    mailbox: Mailbox
    positions: dict[str, int | None] = field(default_factory=dict)

    def wants(self, job_id: str | None, owner: str | None) -> bool:
        return matches(self.user, self.jobs, job_id, owner)


def matches(user: str | None, jobs: set[str] | None, job_id: str | None, owner: str | None) -> bool:
    """Whether a subscriber of ``user``'s events (None: admin, all) limited to ``jobs``
    (None: no limit) may and wants to see an event of ``job_id`` owned by ``owner``."""
    if user is not None and owner != user:
        return False
    return jobs is None or job_id in jobs


class Observer(Protocol):
    def observe(self, event: JobEvent, record: JobRecord | None) -> None: ...


class Hub:
    """See the module docstring. Start with :meth:`start` from the event loop."""

    def __init__(
        self,
        client: Client,
        *,
        capacity: int = 1000,
        cache_size: int = 50_000,
        position_interval: float = 1.0,
        position_cap: int = 1000,
        observer: Observer | None = None,
    ) -> None:
        self.client = client
        self.capacity = capacity
        self.position_interval = position_interval
        self.position_cap = position_cap
        self.observer = observer
        self._cache_size = cache_size
        self._owners: OrderedDict[str, str | None] = OrderedDict()
        self._owners_lock = threading.Lock()
        self._subs: set[Subscription] = set()
        #: The same subscriptions by user (None: admins'), so that an event is only offered to
        #: the streams that may see it: a backlog of other users' events costs nothing per
        #: open stream.
        self._by_user: dict[str | None, set[Subscription]] = {}
        #: Queued jobs seen in the stream (job -> owner), for position events; bounded.
        self._queued: OrderedDict[str, str | None] = OrderedDict()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._position_task: asyncio.Task[None] | None = None
        #: The newest stream id dispatched to the loop (read by tests and /metrics).
        self.position = "0-0"

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            self.position = await asyncio.to_thread(self.client.last_event_id)
        except EduscribeError as exc:  # Redis down: serve anyway, the tail thread retries
            logger.warning("event hub: cannot read the event stream yet (%s)", exc)
            self.position = ""
        self._thread = threading.Thread(target=self._tail, name="eduscribe-hub", daemon=True)
        self._thread.start()
        self._position_task = asyncio.create_task(self._positions())

    async def stop(self) -> None:
        self._stop.set()
        if self._position_task is not None:
            self._position_task.cancel()
        for sub in list(self._subs):
            sub.mailbox.close()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    # --- subscribers (event loop only) ---------------------------------------------------
    def subscribe(
        self, user: str | None, jobs: Iterable[str] | None = None, *, capacity: int | None = None
    ) -> Subscription:
        """Events of ``user``'s jobs (None: every job) limited to ``jobs`` (None: no limit),
        into a mailbox of ``capacity`` events (default: the hub's)."""
        mailbox = Mailbox(capacity or self.capacity)
        sub = Subscription(user, set(jobs) if jobs is not None else None, mailbox)
        self._subs.add(sub)
        self._by_user.setdefault(user, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        same_user = self._by_user.get(sub.user)
        if same_user is not None:
            same_user.discard(sub)
            if not same_user:
                del self._by_user[sub.user]
        sub.mailbox.close()

    def _dispatch(self, events: Sequence[LiveEvent]) -> None:
        admins = self._by_user.get(None, set())
        for event in events:
            owners = self._by_user.get(event.owner, set()) if event.owner is not None else set()
            for sub in (*owners, *admins):
                if sub.wants(event.job_id, event.owner):
                    sub.mailbox.put(event)
            if event.id is not None:
                self.position = event.id

    def _advance(self, event_id: str) -> None:
        self.position = event_id

    def _broadcast_reset(self, last_id: str) -> None:
        reset = LiveEvent.reset("reconnected", last_id)
        for sub in self._subs:
            sub.mailbox.put(reset)

    # --- owners ---------------------------------------------------------------------------
    def owners(self, job_ids: Iterable[str]) -> dict[str, str | None]:
        """job -> user id (None: no such job), from the cache or one batched read. Blocks:
        call from a thread."""
        return self._resolve(list(dict.fromkeys(job_ids)), set())[0]

    def _resolve(
        self, job_ids: list[str], need_record: set[str]
    ) -> tuple[dict[str, str | None], dict[str, JobRecord | None]]:
        owners: dict[str, str | None] = {}
        with self._owners_lock:
            for job_id in job_ids:
                if job_id in self._owners and job_id not in need_record:
                    owners[job_id] = self._owners[job_id]
                    self._owners.move_to_end(job_id)
        missing = [j for j in job_ids if j not in owners]
        records: dict[str, JobRecord | None] = {}
        if missing:
            records = dict(zip(missing, self.client.get_jobs(missing), strict=True))
            with self._owners_lock:
                for job_id, record in records.items():
                    owners[job_id] = record.user_id if record else None
                    if record is not None:  # a job created later with this id is not expected
                        self._owners[job_id] = record.user_id
                        self._owners.move_to_end(job_id)
                while len(self._owners) > self._cache_size:
                    self._owners.popitem(last=False)
        return owners, records

    # --- the tail thread ------------------------------------------------------------------
    def _tail(self) -> None:
        cursor = self.position
        broken = False
        while not self._stop.is_set():
            try:
                if not cursor:  # from "now" once Redis answers: old events are not news
                    cursor = self.client.last_event_id()
                batch = self._next_batch(cursor)
                if broken:
                    broken = False
                    self._call(self._broadcast_reset, cursor)
                if batch:
                    self._handle(batch)
                    cursor = batch[-1].id
            except EduscribeError as exc:
                if not broken:
                    logger.warning("event hub: reading the event stream failed (%s); retrying", exc)
                broken = True
                self._stop.wait(1.0)
            except Exception:
                logger.exception("event hub: unexpected error; retrying")
                self._stop.wait(1.0)

    def _next_batch(self, cursor: str) -> list[JobEvent]:
        batch = self.client.events(cursor, limit=500)
        if batch:
            return batch
        # Nothing waiting: block (up to about a second, to notice stop()) for the next one,
        # then take whatever else arrived with it.
        first = next(iter(self.client.watch(since=cursor, timeout=0.5)), None)
        if first is None:
            return []
        return [first, *self.client.events(first.id, limit=499)]

    def _handle(self, batch: list[JobEvent]) -> None:
        need = {e.job_id for e in batch if e.kind in _RECORD_KINDS} if self.observer else set()
        # Subscribers are what owners and dispatching are for: with none open (the usual
        # state of a busy API process), a batch costs no read but the metrics'. A subscriber
        # opening meanwhile asked for events from its opening on, and this batch was read
        # before it (a resuming one replays the batch from the stream: see live.py).
        if self._subs:
            owners, records = self._resolve(list(dict.fromkeys(e.job_id for e in batch)), need)
            self._call(self._dispatch, [LiveEvent.of(e, owners.get(e.job_id)) for e in batch])
        else:
            owners, records = self._resolve(sorted(need), need)
            self._call(self._advance, batch[-1].id)
        self._track_queued(batch, owners)
        if self.observer is not None:
            for event in batch:
                if event.kind in _RECORD_KINDS:
                    self.observer.observe(event, records.get(event.job_id))

    def _track_queued(self, batch: list[JobEvent], owners: dict[str, str | None]) -> None:
        with self._owners_lock:
            for event in batch:
                if event.status is JobStatus.QUEUED:
                    self._queued[event.job_id] = owners.get(event.job_id)
                    self._queued.move_to_end(event.job_id)
                elif event.status is not None:
                    self._queued.pop(event.job_id, None)
            while len(self._queued) > 10 * self.position_cap:
                self._queued.popitem(last=False)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(fn, *args)

    # --- position events --------------------------------------------------------------------
    async def _positions(self) -> None:
        while True:
            await asyncio.sleep(self.position_interval)
            try:
                await self._position_tick()
            except EduscribeError as exc:
                logger.warning("event hub: reading queue positions failed: %s", exc)
            except Exception:
                logger.exception("event hub: position update failed")

    def _position_candidates(self) -> dict[str, str | None]:
        """Queued jobs a user subscriber (or any ``?job=`` subscriber) wants: admins' "all
        events" streams get no position events, which would be one per queued job per tick."""
        wanted: dict[str, str | None] = {}
        with self._owners_lock:
            queued = dict(self._queued)
        users = {sub.user for sub in self._subs if sub.user is not None and sub.jobs is None}
        for job_id, owner in queued.items():
            if owner in users:
                wanted[job_id] = owner
        for sub in self._subs:
            for job_id in sub.jobs or ():
                if job_id in queued:
                    wanted[job_id] = queued[job_id]
        return dict(list(wanted.items())[: self.position_cap])

    def _learn_queued_owners(self) -> None:
        """Owners of queued jobs seen while no stream was open (not looked up then)."""
        with self._owners_lock:
            unknown = [job_id for job_id, owner in self._queued.items() if owner is None]
        if not unknown:
            return
        owners = self.owners(unknown[: 5 * self.position_cap])
        with self._owners_lock:
            for job_id, owner in owners.items():
                if job_id in self._queued and owner is not None:
                    self._queued[job_id] = owner

    async def _position_tick(self) -> None:
        if not self._subs:
            return
        if any(sub.user is not None for sub in self._subs):
            await asyncio.to_thread(self._learn_queued_owners)
        candidates = self._position_candidates()
        if not candidates:
            return
        ids = list(candidates)
        records = await asyncio.to_thread(self.client.get_jobs, ids)
        now = datetime.now(UTC).isoformat()
        for sub in self._subs:  # forget jobs no longer queued: bounded per stream
            for gone in [j for j in sub.positions if j not in candidates]:
                del sub.positions[gone]
        for job_id, record in zip(ids, records, strict=True):
            if record is None or record.status is not JobStatus.QUEUED:
                continue
            event = LiveEvent(
                None,
                "position",
                job_id,
                record.user_id,
                {"jobId": job_id, "kind": "position", "status": "queued",
                 "queuePosition": record.queue_position, "at": now},
            )  # fmt: skip
            for sub in self._subs:
                if sub.wants(job_id, record.user_id) and sub.positions.get(job_id) != record.queue_position:
                    sub.positions[job_id] = record.queue_position
                    sub.mailbox.put(event)
