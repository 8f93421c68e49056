"""Job records on Redis: every state change is one call of the Lua library (``_library.py``).

The store knows nothing about dramatiq; the broker, the middleware and the client all go
through it. One round trip per transition; no operation scans all jobs.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple, TypeVar, cast

import redis

from ._config import Settings, mask_url
from ._connection import connect, describe, unavailable
from ._creation import BatchMetadata, JobSpec, create_jobs
from ._keys import DEFAULT_PREFIX, Keys
from ._library import call, library, refusal_error
from ._models import JobEvent, JobRecord, JobStatus, JobType, Priority, Tier
from ._records import Started, record_from_hash, started_from_reply, timestamp
from .errors import CorruptRecordError, InvalidInputError, JobNotFoundError, RedisUnavailableError

__all__ = [
    "Beat",
    "Settlement",
    "Started",
    "Store",
    "completion",
    "connect",
    "delayed_retry",
    "failure",
    "record_from_hash",
]

logger = logging.getLogger("eduscribe.store")

#: Duration and wait samples kept per group for quantiles (newest first).
SAMPLE_CAP = 1000


F = TypeVar("F", bound=Callable[..., Any])


def _unavailable(store: Store, exc: Exception) -> RedisUnavailableError:
    return RedisUnavailableError(f"Redis at {mask_url(store.url)} is not reachable: {exc}")


def _reaches_redis(method: F) -> F:
    """Turn connection failures into RedisUnavailableError (with the URL's password masked)."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except redis.RedisError as exc:
            # Down, loading, or a read-only replica after a failover: all mean "try later".
            if unavailable(exc):
                raise _unavailable(self, exc) from exc
            raise

    return cast(F, wrapper)


class Settlement(NamedTuple):
    """How one attempt ends, as settle.lua takes it: op, job id, attempt and three op values."""

    op: str
    job_id: str
    attempt: int
    a: str | int = ""
    b: str = ""
    c: str = ""


class Beat(NamedTuple):
    """A heartbeat's reply (worker.lua)."""

    #: Jobs Redis believed the worker held, which it does not, put back in line.
    requeued: int
    #: What operators ask of the worker: "", "drain" or "restart" (control.lua).
    asked: str
    #: How many jobs Redis says the worker holds (fetched and not acknowledged).
    holding: int


def completion(job_id: str, attempt: int, output: Mapping[str, Any]) -> Settlement:
    return Settlement("complete", job_id, attempt, json.dumps(output, default=str))


def failure(job_id: str, attempt: int, message: str, details: Mapping[str, Any]) -> Settlement:
    return Settlement("fail", job_id, attempt, message, json.dumps(details, default=str))


def delayed_retry(
    job_id: str, attempt: int, delay_ms: int, message: str, details: Mapping[str, Any]
) -> Settlement:
    return Settlement("retry", job_id, attempt, int(delay_ms), message, json.dumps(details, default=str))


def _tier(user_id: str, stored: str | None) -> Tier:
    """A stored tier; one damaged behind the SDK's back grants the least (free), logged."""
    try:
        return Tier(stored or Tier.FREE)
    except ValueError:
        logger.warning("user %r has an unknown stored tier %r; treated as free", user_id, stored)
        return Tier.FREE


def _pairs(flat: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class Store:
    """Typed access to the job store on one Redis database."""

    def __init__(
        self, client: redis.Redis, *, settings: Settings | None = None, prefix: str = DEFAULT_PREFIX
    ) -> None:
        # redis-py types every reply as a bytes/str union whatever decode_responses says;
        # the client is decode_responses=True (see connect), so replies are str here.
        self.redis: Any = client
        self.settings = settings or Settings()
        self.keys = Keys(prefix)
        self._library = library(events_maxlen=self.settings.event_stream_maxlen, sample_cap=SAMPLE_CAP)

    @cached_property
    def url(self) -> str:
        return describe(self.redis)

    @_reaches_redis
    def _call(self, name: str, args: Sequence[Any]) -> Any:
        return call(self.redis, self._library, name, self.keys.prefix, args)

    @_reaches_redis
    def ping(self) -> None:
        self.redis.ping()

    # --- users -------------------------------------------------------------------------
    @_reaches_redis
    def set_user_tier(self, user_id: str, tier: Tier | str) -> None:
        try:
            value = Tier(tier)
        except ValueError:
            names = ", ".join(t.value for t in Tier)
            raise InvalidInputError(f"unknown tier {tier!r} (one of {names})", field="tier") from None
        self.redis.hset(self.keys.tiers, user_id, value.value)

    @_reaches_redis
    def user_tier(self, user_id: str) -> Tier:
        return _tier(user_id, self.redis.hget(self.keys.tiers, user_id))

    @_reaches_redis
    def user_tiers(self) -> dict[str, Tier]:
        return {user: _tier(user, tier) for user, tier in self.redis.hgetall(self.keys.tiers).items()}

    # --- creation ----------------------------------------------------------------------
    def create_jobs(
        self, specs: Sequence[JobSpec], *, batches: BatchMetadata | None = None
    ) -> list[tuple[str, JobStatus, Priority]]:
        """Create jobs atomically (all or none), and write ``batches``' metadata with them;
        see :func:`eduscribe_sdk._creation.create_jobs`."""
        return create_jobs(self._run_create, specs, batches=batches)

    def _run_create(self, mode: str, document: str) -> str:
        return str(self._call("create", [mode, document]))

    # --- worker side -------------------------------------------------------------------
    def fetch(self, worker_id: str, limit: int) -> list[tuple[str, str, str, int]]:
        """Take up to ``limit`` queued jobs for a worker: (id, job_type, priority, enqueued_ms).

        They still have to be claimed with :meth:`start`; :meth:`fetch_and_claim` does both.
        """
        return [(row[0], row[1], row[2], int(float(row[3]))) for row in self._fetch(worker_id, limit, False)]

    def fetch_and_claim(self, worker_id: str, limit: int) -> list[Started]:
        """Take up to ``limit`` queued jobs, best priority first, and claim them at once."""
        claimed, corrupt = [], []
        for row in self._fetch(worker_id, limit, True):
            try:
                claimed.append(started_from_reply(row[0], row[4]))
            except CorruptRecordError as exc:
                corrupt.append(self._corrupt_failure(worker_id, row[4][1], exc))
        if corrupt:
            # Failed here, in the store, so that no caller can hold such a claim for ever:
            # the rest of the batch runs as if the damaged job had not been there.
            self.settle_many(worker_id, corrupt)
        return claimed

    @staticmethod
    def _corrupt_failure(worker_id: str, attempt: Any, exc: CorruptRecordError) -> Settlement:
        logger.warning("failing job %s: %s", exc.job_id, exc)
        details = {
            "type": type(exc).__name__,
            "field": exc.field,
            "message": str(exc),
            "worker_id": worker_id,
        }
        return failure(exc.job_id, int(attempt), str(exc), details)

    def _fetch(self, worker_id: str, limit: int, claim: bool) -> list[list[Any]]:
        s = self.settings
        return list(
            self._call(
                "fetch",
                [
                    worker_id,
                    limit,
                    s.aging_seconds * 1000,
                    int(s.heartbeat_timeout_s * 1000),
                    int(s.heartbeat_interval_s * 1000),
                    "1" if claim else "0",
                ],
            )
        )

    def start(self, job_id: str, worker_id: str) -> Started | None:
        """Claim a fetched job for running, or None when it must not run (see start.lua)."""
        reply = self._call("start", [job_id, worker_id, int(self.settings.heartbeat_timeout_s * 1000)])
        if reply[0] != "ok":
            return None
        try:
            return started_from_reply(job_id, reply)
        except CorruptRecordError as exc:
            self.settle(worker_id, self._corrupt_failure(worker_id, reply[1], exc))
            return None

    def report_progress(self, job_id: str, attempt: int, percent: int, worker_id: str = "") -> str:
        """'ok', 'cancelled' (stop now) or 'stale' (this attempt no longer owns the job; with
        ``worker_id``, also when another worker claimed an attempt of the same number)."""
        return str(self._call("progress", [job_id, attempt, max(0, min(100, percent)), worker_id]))

    def complete(self, job_id: str, worker_id: str, attempt: int, output: Mapping[str, Any]) -> bool:
        return self.settle(worker_id, completion(job_id, attempt, output))

    def fail(
        self, job_id: str, worker_id: str, attempt: int, message: str, details: Mapping[str, Any]
    ) -> bool:
        return self.settle(worker_id, failure(job_id, attempt, message, details))

    def retry_later(
        self,
        job_id: str,
        worker_id: str,
        attempt: int,
        delay_ms: int,
        message: str,
        details: Mapping[str, Any],
    ) -> bool:
        return self.settle(worker_id, delayed_retry(job_id, attempt, delay_ms, message, details))

    def requeue(self, job_id: str, worker_id: str, attempt: int) -> bool:
        return self.settle(worker_id, Settlement("requeue", job_id, attempt))

    def ack(self, job_id: str, worker_id: str) -> None:
        self.settle(worker_id, Settlement("ack", job_id, 0))

    def unfetch(self, job_id: str, worker_id: str) -> None:
        self.settle(worker_id, Settlement("unfetch", job_id, 0))

    def settle(self, worker_id: str, settlement: Settlement) -> bool:
        return self.settle_many(worker_id, [settlement])[0]

    def settle_many(self, worker_id: str, settlements: Sequence[Settlement]) -> list[bool]:
        """End several attempts of one worker in one call (see settle.lua); True where the
        attempt was still the job's current one."""
        args: list[Any] = [worker_id]
        for item in settlements:
            args += item
        return [verdict == "ok" for verdict in self._call("settle", args)]

    def heartbeat(
        self,
        worker_id: str,
        *,
        host: str,
        pid: int,
        threads: int,
        started_at: float,
        held: Sequence[str] | None = None,
        grace_s: float = 30.0,
    ) -> Beat:
        """Record a heartbeat. With ``held`` (the jobs the worker really holds), jobs Redis
        believes it holds but it does not, fetched over ``grace_s`` ago, go back in line;
        the reply says how many, and what operators ask of the worker."""
        args: list[Any] = ["beat", worker_id, host, pid, threads, f"{started_at:.6f}"]
        if held is None:
            args.append(10**15)  # a grace longer than any fetch is old: nothing is reconciled
        else:
            args += [int(grace_s * 1000), *held]
        requeued, asked, holding = self._call("worker", args)
        return Beat(int(requeued), str(asked), int(holding))

    def reconcile(
        self, worker_id: str, running: Sequence[tuple[str, int]], settled: Sequence[tuple[str, int]]
    ) -> list[str]:
        """After Redis lost its last writes: take back this worker's lost claims of the
        ``running`` (job, attempt) pairs; return the ``settled`` jobs whose outcome was lost
        (see reconcile.lua)."""
        args: list[Any] = [worker_id]
        for kind, pairs in (("run", running), ("done", settled)):
            for job_id, attempt in pairs:
                args += [kind, job_id, attempt]
        return [str(job_id) for job_id in self._call("reconcile", args)]

    @_reaches_redis
    def server_id(self) -> str:
        """The server's run id: it changes when Redis restarts or another server takes over."""
        return str(self.redis.info("server")["run_id"])

    def leave(self, worker_id: str) -> int:
        return int(self._call("worker", ["leave", worker_id]))

    # --- operator controls (control.lua; the client's side is _control.py) ---------------
    def control(self, op: str, *args: str | int) -> int:
        """``pause``/``resume`` priorities, or ``ask`` mode timeout_ms worker: how many asked."""
        return int(self._call("control", [op, *args]))

    @_reaches_redis
    def controls(self) -> dict[str, str]:
        """The control hash: "paused:<priority>" -> "1", "worker:<id>" -> "drain"/"restart"."""
        return dict(self.redis.hgetall(self.keys.control))

    # --- user actions ------------------------------------------------------------------
    def cancel(self, job_id: str) -> int:
        """Cancel a job; returns how many dependents were skipped with it."""
        try:
            return int(self._call("cancel", [job_id]))
        except redis.ResponseError as exc:
            raise refusal_error(str(exc)) from None

    def retry(self, job_id: str) -> list[str]:
        """Put a failed/cancelled/skipped job back in line; returns every job that was reset."""
        try:
            return list(self._call("retry", [job_id]))
        except redis.ResponseError as exc:
            raise refusal_error(str(exc)) from None

    # --- reads -------------------------------------------------------------------------
    def get_many(self, job_ids: Sequence[str], *, skip_corrupt: bool = False) -> list[JobRecord | None]:
        """Records in the order of ``job_ids``; None for a job that does not exist.

        A record that cannot be parsed raises :class:`CorruptRecordError`, or with
        ``skip_corrupt`` is logged as a warning and reported as None (listings, statistics).
        """
        if not job_ids:
            return []
        records: list[JobRecord | None] = []
        # Bounded chunks keep each script call short even for a 10,000-job batch.
        for start in range(0, len(job_ids), 500):
            chunk = job_ids[start : start + 500]
            flat = self._call("get", [self.settings.aging_seconds * 1000, *chunk])
            for i in range(0, len(flat), 2):
                data = _pairs(flat[i])
                records.append(self._record(chunk[i // 2], data, int(flat[i + 1]), skip_corrupt))
        return records

    @staticmethod
    def _record(job_id: str, data: dict[str, str], position: int, skip_corrupt: bool) -> JobRecord | None:
        if not data:
            return None
        try:
            return record_from_hash({**data, "id": data.get("id") or job_id}, position)
        except CorruptRecordError as exc:
            if not skip_corrupt:
                raise
            logger.warning("skipping job %s: %s", job_id, exc)
            return None

    def get(self, job_id: str) -> JobRecord:
        record = self.get_many([job_id])[0]
        if record is None:
            raise JobNotFoundError(job_id)
        return record

    @_reaches_redis
    def list_ids(
        self,
        *,
        status: JobStatus | str | None = None,
        user_id: str | None = None,
        batch_id: str | None = None,
        offset: int = 0,
        limit: int = 10,
        newest_first: bool = True,
    ) -> list[str]:
        """Job ids from one index, newest first; extra filters are applied by the caller."""
        if batch_id is not None:
            key = self.keys.index_batch(batch_id)
        elif user_id is not None:
            key = self.keys.index_user(user_id)
        elif status is not None:
            key = self.keys.index_status(JobStatus(status).value)
        else:
            key = self.keys.index_all
        stop = offset + limit - 1 if limit > 0 else -1
        if newest_first:
            return list(self.redis.zrevrange(key, offset, stop))
        return list(self.redis.zrange(key, offset, stop))

    @_reaches_redis
    def count(
        self,
        *,
        status: JobStatus | str | None = None,
        batch_id: str | None = None,
        user_id: str | None = None,
    ) -> int:
        keys = [self.keys.index_status(JobStatus(status).value)] if status else []
        if batch_id is not None:
            keys.append(self.keys.index_batch(batch_id))
        if user_id is not None:
            keys.append(self.keys.index_user(user_id))
        if len(keys) > 1:
            # Counted inside Redis: no id crosses the wire, whatever the sizes.
            return int(self.redis.execute_command("ZINTERCARD", len(keys), *keys))
        return int(self.redis.zcard(keys[0] if keys else self.keys.index_all))

    def stats_snapshot(self, *, recent: int = 10) -> dict[str, Any]:
        reply = self._call("stats", [int(self.settings.heartbeat_timeout_s * 1000), recent])
        return {
            "total": int(reply[0]),
            "statuses": {k: int(v) for k, v in _pairs(reply[1]).items()},
            "depths": {k: int(v) for k, v in _pairs(reply[2]).items()},
            "delayed": int(reply[3]),
            "sums": {k: float(v) for k, v in _pairs(reply[4]).items()},
            "counts": {k: int(v) for k, v in _pairs(reply[5]).items()},
            "workers": {k: int(v) for k, v in _pairs(reply[6]).items()},
            "recent": list(reply[7]),
            "now_ms": int(reply[8]),
        }

    @_reaches_redis
    def samples(self, kind: str) -> dict[str, list[float]]:
        """The most recent duration or wait samples (up to SAMPLE_CAP) per "priority|job_type" group."""
        groups = [f"{p.value}|{t.value}" for p in Priority for t in JobType]
        pipe = self.redis.pipeline(transaction=False)
        for group in groups:
            # The scripts trim a list only once it is a tenth over the cap (see sample()).
            pipe.lrange(self.keys.samples(f"{kind}:{group}"), 0, SAMPLE_CAP - 1)
        return {
            group: [float(v) for v in values]
            for group, values in zip(groups, pipe.execute(), strict=True)
            if values
        }

    @_reaches_redis
    def workers(self) -> list[dict[str, Any]]:
        entries = self.redis.zrange(self.keys.workers, 0, -1, withscores=True)
        pipe = self.redis.pipeline(transaction=False)
        for worker_id, _ in entries:
            pipe.hgetall(self.keys.worker(worker_id))
            pipe.zrange(self.keys.inflight(worker_id), 0, -1)
        replies = pipe.execute()
        rows = []
        for i, (worker_id, score) in enumerate(entries):
            info, in_flight = replies[2 * i], replies[2 * i + 1]
            rows.append(
                {
                    "id": worker_id,
                    "host": info.get("host"),
                    "pid": int(info["pid"]) if info.get("pid") else None,
                    "threads": int(info.get("threads") or 0),
                    "started_at": timestamp(info.get("started_at")),
                    "last_seen": datetime.fromtimestamp(score / 1000, tz=UTC),
                    "jobs_in_flight": len(in_flight),
                    "job_ids": tuple(in_flight),
                }
            )
        return rows

    def cleanup(self, cutoff: datetime, *, chunk: int = 1000) -> int:
        removed = 0
        while True:
            done, examined = self._call("cleanup", [f"{cutoff.timestamp():.6f}", chunk])
            removed += int(done)
            if int(examined) < chunk or int(done) == 0:
                return removed

    # --- events ------------------------------------------------------------------------
    @_reaches_redis
    def last_event_id(self) -> str:
        entries = self.redis.xrevrange(self.keys.events, count=1)
        return str(entries[0][0]) if entries else "0-0"

    @_reaches_redis
    def read_events(self, after: str, *, block_ms: int | None = None, count: int = 500) -> list[JobEvent]:
        reply = self.redis.xread({self.keys.events: after}, count=count, block=block_ms)
        events = []
        for _, entries in reply or ():
            for event_id, fields in entries:
                status = fields.get("status")
                progress = fields.get("progress")
                events.append(
                    JobEvent(
                        id=event_id,
                        job_id=fields["job"],
                        kind=fields["kind"],
                        status=JobStatus(status) if status else None,
                        progress=int(progress) if progress else None,
                        at=datetime.fromtimestamp(float(fields["at"]), tz=UTC),
                        data={"batch_id": fields["batch"]} if fields.get("batch") else {},
                    )
                )
        return events

    def iter_events(self, after: str = "$", *, block_ms: int = 1000) -> Iterator[JobEvent]:
        """Events forever (the caller stops iterating); resumable from any event id."""
        cursor = self.last_event_id() if after == "$" else after
        while True:
            for event in self.read_events(cursor, block_ms=block_ms):
                cursor = event.id
                yield event

    # --- stored inputs -----------------------------------------------------------------
    def blobs(self, op: str, *args: Any) -> Any:
        """One operation of ``lua/blobs.lua`` (leases, uploads, cleanup marks); see there."""
        try:
            return self._call("blobs", [op, *args])
        except redis.ResponseError as exc:
            raise refusal_error(str(exc)) from None

    @_reaches_redis
    def blob_candidates(self) -> list[str]:
        """Blobs that cleanup should look at (their last user went, or a lease was taken)."""
        return list(self.redis.zrange(self.keys.blobs, 0, -1))

    @_reaches_redis
    def upload(self, upload_id: str) -> dict[str, str]:
        return dict(self.redis.hgetall(self.keys.upload(upload_id)))

    # --- batches -----------------------------------------------------------------------
    @_reaches_redis
    def batch_meta(self, batch_id: str) -> dict[str, str]:
        return dict(self.redis.hgetall(self.keys.batch(batch_id)))

    @_reaches_redis
    def api_key_call(self, args: Sequence[str]) -> Any:
        try:
            return self._call("apikey", args)
        except redis.ResponseError as exc:
            raise refusal_error(str(exc)) from None

    @_reaches_redis
    def batch_ids(self) -> list[str]:
        return list(self.redis.zrevrange(self.keys.batches, 0, -1))

    @_reaches_redis
    def all_keys(self) -> list[str]:
        return list(self.redis.scan_iter(match=self.keys.pattern, count=1000))
