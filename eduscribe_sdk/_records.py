"""Stored job hashes and claim replies parsed into typed records, strictly.

The SDK validates every field before it writes a job (``_validation.py``), but a record can
still be damaged behind its back: an operator's ``HSET``, a bug in another version. Parsing
never lets that escape as a ``ValueError`` from deep inside a listing or a worker's consumer:
every failure becomes a :class:`CorruptRecordError` naming the job and the field, so readers
can skip the one record (``Store.get_many(..., skip_corrupt=True)``) and workers can fail the
one job, and everything else carries on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ._models import JobRecord, JobStatus, JobType, Priority
from .errors import CorruptRecordError

__all__ = ["Started", "record_from_hash", "started_from_reply", "timestamp"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Started:
    """What a worker needs to run a job it just claimed."""

    id: str
    attempt: int
    job_type: JobType
    input_data: dict[str, Any]
    title: str | None
    dependencies: list[dict[str, Any]]
    retry_count: int = 0
    max_retries: int = 0


def timestamp(value: str | None) -> datetime | None:
    """Seconds since the epoch as stored (text) -> an aware UTC datetime; '' or None -> None."""
    if not value:
        return None
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"not a finite time: {value!r}")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _float(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _count(value: str | None) -> int:
    """A non-negative whole number as stored; int() also accepts '1_000' and ' 3', which
    create never writes, so the text must be plain digits."""
    text = value or "0"
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not a whole number: {value!r}")
    return int(text)


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None


def _object(value: str | None) -> dict[str, Any] | None:
    loaded = _json(value)
    if loaded is not None and not isinstance(loaded, dict):
        raise ValueError(f"not a JSON object: {type(loaded).__name__}")
    return loaded


def _input(value: str | None) -> dict[str, Any]:
    return _object(value) or {}


def _ids(value: str | None) -> tuple[str, ...]:
    loaded = _json(value) or []
    if not isinstance(loaded, list) or not all(isinstance(d, str) for d in loaded):
        raise ValueError("not a JSON list of job ids")
    return tuple(loaded)


def _redact(input_data: dict[str, Any]) -> dict[str, Any]:
    """Records are for people and DataFrames: a document password never shows up in one.

    Workers read the real input through start.lua, not through records.
    """
    options = input_data.get("options")
    if isinstance(options, dict) and options.get("password"):
        return {**input_data, "options": {**options, "password": "***"}}
    return input_data


class _Fields:
    """Parses one record field at a time; the first failure names the job and the field."""

    def __init__(self, job_id: str, data: Mapping[str, Any]) -> None:
        self.job_id = job_id
        self.data = data

    def get(self, name: str, parse: Callable[[Any], T]) -> T:
        return self.parse(name, self.data.get(name), parse)

    def parse(self, name: str, value: Any, parse: Callable[[Any], T]) -> T:
        try:
            return parse(value)
        # RecursionError: json.loads of a deeply nested document.
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            raise CorruptRecordError(self.job_id, name, f"{type(exc).__name__}: {exc}") from None


def _required(value: str | None) -> str:
    if not value:
        raise ValueError("missing")
    return value


def record_from_hash(data: Mapping[str, str], position: int | None = None) -> JobRecord:
    """A job hash (HGETALL) as a :class:`JobRecord`; raises :class:`CorruptRecordError`."""
    f = _Fields(str(data.get("id") or "?"), data)
    created = f.get("created_at", lambda v: timestamp(_required(v)))
    assert created is not None
    return JobRecord(
        id=f.get("id", _required),
        user_id=f.get("user_id", _required),
        job_type=f.get("job_type", JobType),
        status=f.get("status", JobStatus),
        priority=f.get("priority", Priority),
        input_data=_redact(f.get("input", _input)),
        output_data=f.get("output", _object),
        progress=f.get("progress", _count),
        error_message=data.get("error_message") or None,
        error_details=f.get("error_details", _object),
        retry_count=f.get("retry_count", _count),
        max_retries=f.get("max_retries", _count),
        created_at=created,
        started_at=f.get("started_at", timestamp),
        completed_at=f.get("completed_at", timestamp),
        updated_at=f.get("updated_at", timestamp) or created,
        worker_id=data.get("worker_id") or None,
        estimated_duration_seconds=f.get("estimated_duration", _float),
        actual_duration_seconds=f.get("actual_duration", _float),
        queue_position=position if position is not None and position >= 0 else None,
        depends_on=f.get("depends_on", _ids),
        batch_id=data.get("batch_id") or None,
        title=data.get("title") or None,
    )


def started_from_reply(job_id: str, reply: Sequence[Any]) -> Started:
    """A claim reply (claim() in lua/common.lua) as a :class:`Started`; raises
    :class:`CorruptRecordError` when the claimed job's record is damaged."""
    f = _Fields(job_id, {})
    dependencies = []
    for i in range(8, len(reply), 3):
        output = f.parse("output of a dependency", reply[i + 1], _object) or {}
        title = output.get("title") or reply[i + 2] or None
        dependencies.append({**output, "id": reply[i], "title": title})
    input_data = f.parse("input", reply[3], _object)
    if input_data is None:
        raise CorruptRecordError(job_id, "input", "missing")
    f.parse("depends_on", reply[5], _ids)
    return Started(
        id=job_id,
        attempt=f.parse("attempt", reply[1], int),
        job_type=f.parse("job_type", reply[2], JobType),
        input_data=input_data,
        title=reply[4] or None,
        dependencies=dependencies,
        retry_count=f.parse("retry_count", reply[6], _count),
        max_retries=f.parse("max_retries", reply[7], _count),
    )
