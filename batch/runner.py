"""The batch runner, click-free: plan a CSV, enqueue it, resume it, wait for it, write its notes.

A batch is one CSV. Its id is derived from the CSV's absolute path, so ``status course.csv``
finds it and re-running the CSV resumes it; ``--fresh`` starts a new batch for the same CSV
(the path's batch records the newest one under ``latest``). Each row's job id is derived
from the batch id, the row id and the row's content hash (its fields, its source file's
bytes and its dependencies' hashes): an unchanged row maps to the job that already ran,
a changed row (or a row whose dependency changed) to a new job.

Per-batch metadata is saved with the batch's jobs, in the same step
(``Client.create_jobs(..., batch_metadata=...)``, read back with ``Client.batch_metadata``):
``csv``, ``user``, ``created_at``, ``updated_at``, ``rows`` (JSON: ``[row id, job id, type,
line, hash]`` in CSV order) and, on the path's batch, ``latest``.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from eduscribe_sdk import (
    Client,
    EduscribeError,
    InvalidInputError,
    InvalidTransitionError,
    JobRecord,
    JobSpec,
    JobStatus,
    JobType,
)

from .rows import BatchInvalidError, Problem, content_hashes, read_course, type_alias

__all__ = [
    "RESULT_COLUMNS",
    "BatchInfo",
    "BatchNotFoundError",
    "BatchRow",
    "EnqueueResult",
    "Outcome",
    "Plan",
    "batch_id_for",
    "cancel_batch",
    "enqueue",
    "load_batch",
    "plan_batch",
    "preview",
    "retry_batch",
    "safe_cell",
    "wait_for",
    "write_outputs",
]

# Fixed forever: batch and job ids are derived from it, so changing it would orphan every batch.
NAMESPACE = uuid.UUID("5b0f3c2e-8f7a-4d0e-9c59-2d6c1e0b7a41")
RESULT_COLUMNS = ("id", "type", "status", "priority", "seconds", "error", "output")
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED})
# SDK field names -> the CSV column a user should fix.
_FIELD_TO_COLUMN = {
    "path": "source",
    "content": "source",
    "youtubeUrl": "source",
    "videoId": "source",
    "options.language": "language",
    "options.generateQuiz": "quiz",
    "options.prompt": "prompt",
    "input_data": "options",
}


P = ParamSpec("P")
T = TypeVar("T")


def _without_gc(function: Callable[P, T]) -> Callable[P, T]:
    """Run with the cyclic GC paused: a 10,000-row plan makes ~100,000 small acyclic objects,
    and the collections they would trigger cost about as much as the work itself."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


class BatchNotFoundError(EduscribeError, LookupError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no batch found for {ref!r} (run the CSV first, or pass a batch id)")


@dataclass(frozen=True, slots=True)
class BatchRow:
    """A CSV row and the job that carries it."""

    row_id: str
    job_id: str
    job_type: JobType
    line: int
    content_hash: str

    def to_list(self) -> list[Any]:
        return [self.row_id, self.job_id, self.job_type.value, self.line, self.content_hash]

    @classmethod
    def from_list(cls, item: Sequence[Any]) -> BatchRow:
        return cls(str(item[0]), str(item[1]), JobType(item[2]), int(item[3]), str(item[4]))


@dataclass
class Plan:
    """A validated CSV mapped to jobs; nothing is enqueued yet."""

    csv: Path
    batch_id: str
    base_id: str
    user_id: str
    rows: list[BatchRow]
    specs: dict[str, JobSpec]
    replaces: str | None = None

    @property
    def job_ids(self) -> list[str]:
        return [row.job_id for row in self.rows]


@dataclass
class BatchInfo:
    batch_id: str
    csv: str
    user_id: str
    rows: list[BatchRow]

    @property
    def job_ids(self) -> list[str]:
        return [row.job_id for row in self.rows]


@dataclass
class EnqueueResult:
    """Row ids by what ``enqueue`` did with them."""

    created: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    counts: Counter[str]
    unfinished: list[tuple[str, str, str]]
    out_dir: Path

    @property
    def exit_code(self) -> int:
        total = sum(self.counts.values())
        return 0 if self.counts.get(JobStatus.COMPLETED.value, 0) == total else 1


def batch_id_for(csv_path: Path | str) -> str:
    """The batch id of a CSV file: stable for its absolute path."""
    return str(uuid.uuid5(NAMESPACE, "csv:" + str(Path(csv_path).expanduser().absolute())))


def _column(exc: InvalidInputError) -> tuple[str | None, str]:
    text = str(exc)
    if exc.field and text.startswith(f"{exc.field}: "):
        text = text[len(exc.field) + 2 :]
    return _FIELD_TO_COLUMN.get(exc.field or "", exc.field), text


@_without_gc
def plan_batch(
    client: Client,
    csv_path: Path | str,
    *,
    user_id: str | None = None,
    allow_outside: bool = False,
    fresh: bool = False,
    max_retries: int | None = None,
) -> Plan:
    """Read and check every row; raises :class:`BatchInvalidError` listing all problems."""
    course = read_course(csv_path, allow_outside=allow_outside)
    problems = list(course.problems)
    user = user_id or client.user_id
    tier = client.user_tier(user) if any(r.priority for r in course.rows) else None
    batch_id, replaces, base_id = "", None, batch_id_for(course.path)
    job_ids: dict[str, str] = {}
    hashes: dict[str, str] = {}
    if not problems:
        # Ids first, so that each job is specified once, final (no copy per row): a row's
        # id needs its content hash, which needs every row it depends on to be valid.
        base_meta = client.batch_metadata(base_id)
        batch_id = base_meta.get("latest") or base_id
        if fresh and base_meta:
            batch_id, replaces = str(uuid.uuid4()), batch_id
        hashes = content_hashes(course.rows)
        job_ids = {row_id: _job_id(batch_id, row_id, row_hash) for row_id, row_hash in hashes.items()}
    rows: list[BatchRow] = []
    specs: dict[str, JobSpec] = {}
    for row in course.rows:  # CSV order, for people; create_jobs orders by dependencies itself
        if row.priority and tier is not None and row.priority.rank < tier.priority.rank:
            problems.append(
                Problem(
                    row.line,
                    "priority",
                    f"user {user!r} has the {tier.value} tier, which allows priority "
                    f"{tier.priority.value} or lower; {row.priority.value} was requested",
                )
            )
            continue
        job_id = job_ids.get(row.id, "")
        try:
            spec = client.prepare_job(
                row.job_type,
                row.input_data,
                id=job_id,
                priority=row.priority,
                depends_on=[job_ids.get(d, d) for d in row.depends_on],
                title=row.title,
                user_id=user,
                max_retries=max_retries,
                batch_id=batch_id,
            )
        except InvalidInputError as exc:
            column, message = _column(exc)
            problems.append(Problem(row.line, column, message))
            continue
        if not problems:
            rows.append(BatchRow(row.id, job_id, row.job_type, row.line, hashes[row.id]))
            specs[job_id] = spec
    if problems:
        raise BatchInvalidError(course.path, problems)
    return Plan(course.path, batch_id, base_id, user, rows, specs, replaces)


def _job_id(batch_id: str, row_id: str, row_hash: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, ...))`` without building a UUID object (3x faster)."""
    name = f"{batch_id}\n{row_id}\n{row_hash}".encode()
    digest = bytearray(hashlib.sha1(NAMESPACE.bytes + name, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _cancel_quietly(client: Client, job_ids: Iterable[str]) -> list[str]:
    cancelled = []
    for job_id in job_ids:
        try:
            client.cancel(job_id)
            cancelled.append(job_id)
        except InvalidTransitionError:
            pass  # finished meanwhile, or skipped by an earlier cancel in this loop
    return cancelled


@_without_gc
def enqueue(client: Client, plan: Plan) -> EnqueueResult:
    """Create what is missing (one atomic bulk call), retry what failed, reuse what completed."""
    result = EnqueueResult()
    meta = client.batch_metadata(plan.batch_id)
    existing: dict[str, JobRecord] = {}
    wanted = set(plan.job_ids)
    if meta.get("rows"):
        # A brand-new batch skips this look-up, which keeps a 10,000-row import one round trip.
        old_ids = [BatchRow.from_list(item).job_id for item in json.loads(meta["rows"])]
        lookup = list(dict.fromkeys([*plan.job_ids, *old_ids]))
        existing = {r.id: r for r in client.get_jobs(lookup) if r is not None}
    if plan.replaces:
        _cancel_quietly(client, _unfinished(client, plan.replaces))
    reset: set[str] = set()
    to_create: list[JobSpec] = []
    for row in plan.rows:
        record = existing.get(row.job_id)
        if record is None:
            to_create.append(plan.specs[row.job_id])
        elif record.status is JobStatus.COMPLETED:
            result.reused.append(row.row_id)
        elif record.status in RETRYABLE:
            if row.job_id not in reset:
                try:
                    reset.update(client.retry(row.job_id))
                except InvalidTransitionError:
                    result.pending.append(row.row_id)
                    continue
            result.retried.append(row.row_id)
        else:
            result.pending.append(row.row_id)
    # Jobs of rows that changed since the last run; a retry above may also have woken the
    # skipped dependents of an old version of a row.
    stale = {job_id for job_id, r in existing.items() if job_id not in wanted and not r.finished}
    _cancel_quietly(client, sorted(stale | (reset - wanted)))

    now = datetime.now(UTC).isoformat()
    batches = {
        plan.batch_id: {
            "csv": str(plan.csv),
            "user": plan.user_id,
            "created_at": meta.get("created_at", now),
            "updated_at": now,
            "rows": json.dumps([row.to_list() for row in plan.rows], separators=(",", ":")),
        }
    }
    if plan.batch_id != plan.base_id:
        batches[plan.base_id] = {"latest": plan.batch_id}
    # The metadata and the new jobs in one step: a batch is never listed without its jobs.
    client.create_jobs(to_create, batch_metadata=batches)
    created = {spec.id for spec in to_create}
    result.created = [row.row_id for row in plan.rows if row.job_id in created]
    return result


def preview(client: Client, plan: Plan) -> list[JobRecord | None]:
    """The existing job of each planned row (None: it would be created)."""
    if not client.batch_metadata(plan.batch_id).get("rows"):
        return [None] * len(plan.rows)
    return client.get_jobs(plan.job_ids)


def _unfinished(client: Client, batch_id: str) -> list[str]:
    meta = client.batch_metadata(batch_id)
    if not meta.get("rows"):
        return []
    ids = [BatchRow.from_list(item).job_id for item in json.loads(meta["rows"])]
    return [r.id for r in client.get_jobs(ids) if r is not None and not r.finished]


def load_batch(client: Client, ref: str) -> BatchInfo:
    """A batch by id, or the current batch of a CSV path."""
    path = Path(ref).expanduser()
    batch_id = ref
    if path.suffix.lower() == ".csv" or path.is_file():
        base = batch_id_for(path)
        base_meta = client.batch_metadata(base)
        if not base_meta:
            raise BatchNotFoundError(ref)
        batch_id = base_meta.get("latest") or base
    meta = client.batch_metadata(batch_id)
    if not meta.get("rows"):
        raise BatchNotFoundError(ref)
    rows = [BatchRow.from_list(item) for item in json.loads(meta["rows"])]
    return BatchInfo(batch_id, meta.get("csv", ""), meta.get("user", ""), rows)


def wait_for(
    client: Client,
    job_ids: Sequence[str],
    *,
    on_update: Callable[[Sequence[JobRecord | None]], None] | None = None,
    refresh_s: float = 1.0,
) -> list[JobRecord | None]:
    """Block until every job finished, calling ``on_update`` with fresh records as they change.

    Woken by the event stream; re-reads every record at least every ``refresh_s`` seconds, so
    a missed event only delays an update. A KeyboardInterrupt propagates: nothing is undone.
    """
    while True:
        began = time.monotonic()
        records = client.get_jobs(job_ids)
        fetch_s = time.monotonic() - began
        if on_update is not None:
            on_update(records)
        unfinished = {r.id for r in records if r is not None and not r.finished}
        if not unfinished:
            return records
        # No job ids to watch(): it would re-read all of them first; filter the stream here.
        # Other jobs' events keep watch() from timing out on a busy deployment, hence the deadline.
        deadline = time.monotonic() + refresh_s
        for event in client.watch(None, timeout=refresh_s):
            if event.job_id in unfinished or time.monotonic() > deadline:
                break
        # Big batches: keep the re-reads a small share of the time.
        time.sleep(max(0.0, min(2.0, 3 * fetch_s) - (time.monotonic() - began)))


def safe_cell(value: object) -> str:
    """A spreadsheet-safe cell: text a spreadsheet would run as a formula gets a leading quote."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def write_outputs(out_dir: Path, rows: Sequence[BatchRow], records: Sequence[JobRecord | None]) -> Outcome:
    """``<id>.md`` (completed rows), ``<id>.json`` (every row) and ``results.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    unfinished: list[tuple[str, str, str]] = []
    lines: list[list[str]] = []
    for row, record in zip(rows, records, strict=True):
        status = record.status.value if record else "missing"
        counts[status] += 1
        output_name = ""
        if record is not None:
            document: dict[str, Any] = {"row": row.row_id, "line": row.line, **record.to_dict()}
            (out_dir / f"{row.row_id}.json").write_text(
                json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
            )
            markdown = (record.output_data or {}).get("markdown")
            if record.status is JobStatus.COMPLETED and isinstance(markdown, str):
                output_name = f"{row.row_id}.md"
                (out_dir / output_name).write_text(markdown, encoding="utf-8")
        error = (record.error_message or "") if record else "the job no longer exists"
        if status != JobStatus.COMPLETED.value:
            unfinished.append((row.row_id, status, error))
        seconds = record.actual_duration_seconds if record else None
        lines.append(
            [
                row.row_id,
                type_alias(row.job_type),
                status,
                record.priority.value if record else "",
                "" if seconds is None else f"{seconds:.1f}",
                error,
                output_name,
            ]
        )
    with (out_dir / "results.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        writer.writerows([[safe_cell(cell) for cell in line] for line in lines])
    return Outcome(counts, unfinished, out_dir)


def _select(info: BatchInfo, row_ids: Sequence[str]) -> list[BatchRow]:
    if not row_ids:
        return info.rows
    by_id = {row.row_id: row for row in info.rows}
    unknown = [r for r in row_ids if r not in by_id]
    if unknown:
        raise InvalidInputError(f"not in batch {info.batch_id}: {', '.join(unknown)}", field="row")
    return [by_id[r] for r in row_ids]


def cancel_batch(client: Client, info: BatchInfo, row_ids: Sequence[str] = ()) -> list[str]:
    """Cancel the unfinished jobs of the batch (or of the given rows).

    Returns every row that stopped: the cancelled ones and their dependents, now skipped.
    """
    rows = _select(info, row_ids)
    before = {r.id for r in client.get_jobs(info.job_ids) if r is not None and not r.finished}
    _cancel_quietly(client, [row.job_id for row in rows if row.job_id in before])
    after = {r.id for r in client.get_jobs(info.job_ids) if r is not None and r.finished}
    return [row.row_id for row in info.rows if row.job_id in before & after]


def retry_batch(client: Client, info: BatchInfo, row_ids: Sequence[str] = ()) -> list[str]:
    """Put failed, cancelled and skipped rows back in line; returns every row id reset."""
    rows = _select(info, row_ids)
    records = {r.id: r for r in client.get_jobs([row.job_id for row in rows]) if r is not None}
    reset: set[str] = set()
    for row in rows:
        record = records.get(row.job_id)
        if record is None or record.status not in RETRYABLE or row.job_id in reset:
            continue
        with contextlib.suppress(InvalidTransitionError):
            reset.update(client.retry(row.job_id))
    return [row.row_id for row in info.rows if row.job_id in reset]
