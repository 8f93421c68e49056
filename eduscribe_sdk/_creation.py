"""Creating jobs in bulk: all or none, in short script calls, with Python and Redis overlapped.

:func:`create_jobs` turns :class:`JobSpec` objects into the JSON documents that
``lua/create.lua`` takes. A batch that needs more than one write call is checked first, in
full (ids not taken, dependencies outside the batch existing, priorities allowed), so that a
bad job still leaves nothing behind. The calls then run in order on one background thread
while this thread builds the next document: on a 2-core machine Redis writes one chunk
while Python prepares the next.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from threading import Event
from types import TracebackType
from typing import Any

import orjson
import redis

from ._library import refusal_error
from ._models import JobStatus, JobType, Priority
from ._validation import check_spec

__all__ = ["CHECK_CHUNK", "WRITE_CHUNK", "BatchMetadata", "CreateScript", "JobSpec", "create_jobs"]

#: Jobs written by one script call. Redis runs one script at a time, so each call stays short
#: (about 30 ms for 1,000 jobs) and workers' fetches and heartbeats get in between.
WRITE_CHUNK = 1000
#: Jobs validated by one "check" call before a batch written in several calls (the limit is
#: the size of one command, not time: a check does not touch the jobs' records).
CHECK_CHUNK = 100_000

#: Runs ``create.lua`` with (mode, document) and returns its reply; raises redis.ResponseError.
CreateScript = Callable[[str, str], str]
Chunk = Sequence[tuple[str, "JobSpec"]]
#: Batch metadata written with the jobs: {batch id: {field: value}}.
BatchMetadata = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job to create; ``input_data`` must already be validated."""

    job_type: JobType
    input_data: Mapping[str, Any]
    user_id: str
    id: str = ""
    priority: Priority | None = None
    max_retries: int = 3
    estimated_duration_seconds: float | None = None
    title: str | None = None
    batch_id: str | None = None
    depends_on: Sequence[str] = ()


def create_jobs(
    run: CreateScript, specs: Sequence[JobSpec], *, batches: BatchMetadata | None = None
) -> list[tuple[str, JobStatus, Priority]]:
    """Create jobs atomically (all or none). Dependencies on jobs in ``specs`` must come first.

    ``batches`` ({batch id: {field: value}}) is written by the call that writes the first
    jobs: with a batch small enough for one call (1,000 jobs), in the same atomic step as
    all of them; with a bigger one, a batch whose later calls were cut off (Redis went away)
    still has its metadata, so the batch runner finds the jobs that exist and resumes.
    Returns (id, status, priority) per job, in order; jobs without an id get a random one.
    """
    for spec in specs:
        check_spec(spec)
    prepared = [(spec.id or str(uuid.uuid4()), spec) for spec in specs]
    batches = batches or {}
    if not prepared and not batches:
        return []
    # Every input is serialised before any call: an input JSON cannot encode must fail the
    # batch before a job exists, not after the writer thread has sent the first chunks.
    inputs = [_dumps(spec.input_data) for _, spec in prepared]
    if len(prepared) <= WRITE_CHUNK:
        # One call checks and writes: the common case (one job) needs no thread.
        document = _write_document(prepared, inputs, batches)
        return _results(prepared, _call(run, "write", document, prepared, 0))
    replies: list[str] = []
    with _Pipeline(run) as pipeline:
        new = {job_id for job_id, _ in prepared}
        for start in range(0, len(prepared), CHECK_CHUNK):
            part = prepared[start : start + CHECK_CHUNK]
            pipeline.send("check", _check_document(part, new), part, start)
        for start in range(0, len(prepared), WRITE_CHUNK):
            chunk = prepared[start : start + WRITE_CHUNK]
            document = _write_document(chunk, inputs[start : start + WRITE_CHUNK], {} if start else batches)
            pipeline.send("write", document, chunk, start)
        replies = pipeline.replies()
    return _results(prepared, ",".join(replies))


def _check_document(part: Chunk, new: set[str]) -> str:
    # Only the dependencies outside the batch need to exist already: the rest are created here.
    outside = {d: None for _, spec in part for d in spec.depends_on if d not in new}
    requested = [
        [n, spec.user_id, spec.priority.value]
        for n, (_, spec) in enumerate(part, start=1)
        if spec.priority is not None
    ]
    return _dumps([[job_id for job_id, _ in part], list(outside), requested])


def _seconds_text(seconds: float | None) -> str:
    return "" if seconds is None else repr(float(seconds))


def _write_document(chunk: Chunk, inputs: Sequence[str], batches: BatchMetadata) -> str:
    jobs = [
        [
            job_id,
            spec.user_id,
            spec.job_type.value,
            spec.priority.value if spec.priority else "",
            input_json,
            # As text: Redis would format a number from the decoded JSON with printf.
            str(spec.max_retries),
            _seconds_text(spec.estimated_duration_seconds),
            spec.title or "",
            spec.batch_id or "",
            list(spec.depends_on),
            # The record's depends_on field, encoded here: Lua's pattern matching, to
            # tell which ids need escaping, cost more than encoding in Python.
            _dumps(list(spec.depends_on)),
            # The stored input the job holds (blobs.lua): cleanup keeps it while the job exists.
            _blob_of(spec),
        ]
        for (job_id, spec), input_json in zip(chunk, inputs, strict=True)
    ]
    return _dumps([jobs, {batch_id: dict(fields) for batch_id, fields in batches.items()}])


def _blob_of(spec: JobSpec) -> str:
    blob = spec.input_data.get("blob")
    return blob if isinstance(blob, str) else ""


def _results(prepared: Chunk, reply: str) -> list[tuple[str, JobStatus, Priority]]:
    parsed: dict[str, tuple[JobStatus, Priority]] = {}  # a batch has a handful of distinct items
    results = []
    items = reply.split(",") if reply else []  # no jobs: only batch metadata was written
    for (job_id, _), item in zip(prepared, items, strict=True):
        if item not in parsed:
            status, _, priority = item.partition(":")
            parsed[item] = (JobStatus(status), Priority(priority))
        results.append((job_id, *parsed[item]))
    return results


def _call(run: CreateScript, mode: str, document: str, chunk: Chunk, offset: int) -> str:
    try:
        return run(mode, document)
    except redis.ResponseError as exc:
        raise refusal_error(str(exc), first_job=offset + 1, jobs=len(chunk)) from None


class _Pipeline:
    """Script calls run in order on one thread while the caller builds the next one.

    The first failure stops the calls queued after it and is raised by :meth:`replies`.
    """

    def __init__(self, run: CreateScript) -> None:
        self._run = run
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eduscribe-create")
        self._futures: list[tuple[str, Future[str]]] = []
        self._failed = Event()

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self._failed.set()  # the caller gave up: nothing it queued may run any more
        self._executor.shutdown(wait=True)

    def send(self, mode: str, document: str, chunk: Chunk, offset: int) -> None:
        self._futures.append((mode, self._executor.submit(self._call, mode, document, chunk, offset)))

    def _call(self, mode: str, document: str, chunk: Chunk, offset: int) -> str:
        if self._failed.is_set():
            return ""
        try:
            return _call(self._run, mode, document, chunk, offset)
        except BaseException:
            self._failed.set()
            raise

    def replies(self) -> list[str]:
        """The write calls' replies, in order; raises the first failure."""
        return [reply for mode, future in self._futures if (reply := future.result()) and mode == "write"]


# orjson is ~5x faster than json for job inputs (a 10,000-row course serialises 10,000 of
# them before its first write). What it refuses (integers beyond 64 bits, non-str keys)
# json may still take; datetimes and dataclasses pass through so that json refuses them
# as before; only JSON types reach here after validation anyway.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"))
