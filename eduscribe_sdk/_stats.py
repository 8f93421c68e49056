"""Queue statistics and job histories as pandas objects (the only module importing pandas)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ._models import JobRecord, JobStatus, JobType, Priority
from ._store import Store
from .errors import InvalidInputError

__all__ = ["QueueStats", "jobs_frame", "queue_stats", "stats_frame", "workers_frame"]

_STATUSES = [s.value for s in JobStatus]
_PRIORITY_DTYPE = pd.CategoricalDtype([p.value for p in Priority], ordered=True)
_STATUS_DTYPE = pd.CategoricalDtype(_STATUSES)
_TYPE_DTYPE = pd.CategoricalDtype([t.value for t in JobType])
#: Assumed duration of a job type never seen finishing, for wait estimates.
DEFAULT_DURATION_S = 30.0


@dataclass(frozen=True)
class QueueStats:
    """``totals`` and ``queue`` carry the seed's field names; ``frame`` is one row per tier."""

    totals: dict[str, Any]
    queue: dict[str, Any]
    frame: pd.DataFrame = field(repr=False)
    workers: int = 0
    slots: int = 0


def _mean(sums: Mapping[str, float], kind: str, groups: Sequence[str]) -> float | None:
    total = sum(sums.get(f"{kind}_sum|{g}", 0.0) for g in groups)
    n = sum(sums.get(f"{kind}_n|{g}", 0.0) for g in groups)
    return total / n if n else None


def _all_groups() -> list[str]:
    return [f"{p.value}|{t.value}" for p in Priority for t in JobType]


def estimated_wait_seconds(snapshot: Mapping[str, Any], jobs_ahead: int) -> float:
    """Jobs ahead x the mean duration of the queued mix, spread over the live job slots."""
    sums, counts = snapshot["sums"], snapshot["counts"]
    queued_by_type = {
        t.value: sum(counts.get(f"{p.value}|{t.value}|queued", 0) for p in Priority) for t in JobType
    }
    weight = sum(queued_by_type.values())
    overall = _mean(sums, "duration", _all_groups()) or DEFAULT_DURATION_S
    if weight:
        mix = (
            sum(
                n * (_mean(sums, "duration", [f"{p.value}|{t}" for p in Priority]) or overall)
                for t, n in queued_by_type.items()
            )
            / weight
        )
    else:
        mix = overall
    slots = max(1, sum(snapshot["workers"].values()))
    return float(jobs_ahead * mix / slots)


def check_frequency(freq: object, *, field: str = "freq") -> None:
    """Raise :class:`InvalidInputError` unless ``freq`` is a pandas offset such as ``"10s"``."""
    if isinstance(freq, str | timedelta | pd.offsets.BaseOffset):
        try:
            pd.tseries.frequencies.to_offset(freq)
            return
        except ValueError:
            pass
    raise InvalidInputError(f"not a pandas offset such as '10s', '1min' or '1h': {freq!r}", field=field)


def queue_stats(store: Store) -> QueueStats:
    snap = store.stats_snapshot()
    statuses = snap["statuses"]
    queued = statuses.get("queued", 0)
    avg = _mean(snap["sums"], "duration", _all_groups())
    totals = {
        "total_jobs": snap["total"],
        "queued_jobs": queued,
        "processing_jobs": statuses.get("processing", 0),
        "completed_jobs": statuses.get("completed", 0),
        "failed_jobs": statuses.get("failed", 0),
        "avg_duration_seconds": round(avg, 3) if avg is not None else None,
        **{f"{s}_jobs": statuses.get(s, 0) for s in ("waiting", "retrying", "cancelled", "skipped")},
    }
    recent = [r for r in store.get_many(snap["recent"], skip_corrupt=True) if r is not None]
    queue = {
        "queuedCount": queued,
        "processingCount": statuses.get("processing", 0),
        "estimatedWaitTimeSeconds": round(estimated_wait_seconds(snap, queued), 1),
        "recentJobs": [
            {
                "id": r.id,
                "title": r.title,
                "job_type": r.job_type.value,
                "status": r.status.value,
                "priority": r.priority.value,
                "progress": r.progress,
                "created_at": r.created_at,
            }
            for r in recent
        ],
    }
    rows = []
    for priority in Priority:
        per_status = {
            s: sum(snap["counts"].get(f"{priority.value}|{t.value}|{s}", 0) for t in JobType)
            for s in _STATUSES
        }
        rows.append(
            {
                "priority": priority.value,
                "queue": priority.queue_name,
                "depth": snap["depths"].get(priority.value, 0),
                **per_status,
            }
        )
    frame = pd.DataFrame(rows).astype({"priority": _PRIORITY_DTYPE}).set_index("priority")
    return QueueStats(totals, queue, frame, workers=len(snap["workers"]), slots=sum(snap["workers"].values()))


def stats_frame(store: Store, *, by: Sequence[str] = ("priority", "job_type")) -> pd.DataFrame:
    """Counts per status, error rate, and duration/wait mean, p50, p95 per group."""
    by = [by] if isinstance(by, str) else list(by)
    unknown = set(by) - {"priority", "job_type"}
    if unknown or not by:
        raise InvalidInputError(f"must name 'priority' and/or 'job_type', got {by!r}", field="by")
    snap = store.stats_snapshot(recent=0)
    durations, waits = store.samples("duration"), store.samples("wait")
    groups: dict[tuple[str, ...], list[str]] = {}
    for p in Priority:
        for t in JobType:
            key = tuple(p.value if b == "priority" else t.value for b in by)
            groups.setdefault(key, []).append(f"{p.value}|{t.value}")
    rows = []
    for key, members in groups.items():
        counts = {s: sum(snap["counts"].get(f"{m}|{s}", 0) for m in members) for s in _STATUSES}
        total = sum(counts.values())
        failed_ever = sum(snap["sums"].get(f"failed_n|{m}", 0) for m in members)
        done = sum(snap["sums"].get(f"duration_n|{m}", 0) for m in members)
        d = np.array([v for m in members for v in durations.get(m, [])])
        w = np.array([v for m in members for v in waits.get(m, [])])
        if not total and not d.size and not w.size:
            continue
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "total": total,
                **counts,
                "error_rate": failed_ever / (failed_ever + done) if failed_ever + done else np.nan,
                "duration_mean_s": _mean(snap["sums"], "duration", members),
                "duration_p50_s": float(np.percentile(d, 50)) if d.size else np.nan,
                "duration_p95_s": float(np.percentile(d, 95)) if d.size else np.nan,
                "wait_mean_s": _mean(snap["sums"], "wait", members),
                "wait_p50_s": float(np.percentile(w, 50)) if w.size else np.nan,
                "wait_p95_s": float(np.percentile(w, 95)) if w.size else np.nan,
            }
        )
    columns = [
        *by,
        "total",
        *_STATUSES,
        "error_rate",
        "duration_mean_s",
        "duration_p50_s",
        "duration_p95_s",
        "wait_mean_s",
        "wait_p50_s",
        "wait_p95_s",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if "priority" in by:
        frame["priority"] = frame["priority"].astype(_PRIORITY_DTYPE)
    if "job_type" in by:
        frame["job_type"] = frame["job_type"].astype(_TYPE_DTYPE)
    float_cols = [c for c in columns if c.endswith("_s") or c == "error_rate"]
    frame[float_cols] = frame[float_cols].astype("float64")
    return frame.sort_values(by).reset_index(drop=True)


_JOB_COLUMNS = [
    "id",
    "title",
    "job_type",
    "status",
    "priority",
    "progress",
    "queue_position",
    "user_id",
    "batch_id",
    "created_at",
    "started_at",
    "completed_at",
    "updated_at",
    "wait_s",
    "duration_s",
    "estimated_duration_s",
    "retry_count",
    "max_retries",
    "worker_id",
    "error_message",
    "depends_on",
]


def _seconds(a: datetime | None, b: datetime | None) -> float:
    return (b - a).total_seconds() if a and b else np.nan


def jobs_frame(records: Sequence[JobRecord], *, notes: bool = False) -> pd.DataFrame:
    """One row per job with typed columns; ``notes=True`` adds summary and markdown."""
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "id": r.id,
            "title": r.title,
            "job_type": r.job_type.value,
            "status": r.status.value,
            "priority": r.priority.value,
            "progress": r.progress,
            "queue_position": r.queue_position,
            "user_id": r.user_id,
            "batch_id": r.batch_id,
            "created_at": r.created_at,
            "started_at": r.started_at,
            "completed_at": r.completed_at,
            "updated_at": r.updated_at,
            "wait_s": _seconds(r.created_at, r.started_at),
            "duration_s": r.actual_duration_seconds,
            "estimated_duration_s": r.estimated_duration_seconds,
            "retry_count": r.retry_count,
            "max_retries": r.max_retries,
            "worker_id": r.worker_id,
            "error_message": r.error_message,
            "depends_on": ",".join(r.depends_on),
        }
        if notes:
            out = r.output_data or {}
            row["summary"] = out.get("summary")
            row["language"] = out.get("language")
            row["word_count"] = out.get("word_count")
            row["markdown"] = out.get("markdown")
        rows.append(row)
    columns = _JOB_COLUMNS + (["summary", "language", "word_count", "markdown"] if notes else [])
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("created_at", "started_at", "completed_at", "updated_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame = frame.astype(
        {
            "job_type": _TYPE_DTYPE,
            "status": _STATUS_DTYPE,
            "priority": _PRIORITY_DTYPE,
            "progress": "int64",
            "queue_position": "Int64",
            "retry_count": "int64",
            "max_retries": "int64",
            "wait_s": "float64",
            "duration_s": "float64",
            "estimated_duration_s": "float64",
        }
    )
    if notes:
        frame["word_count"] = frame["word_count"].astype("Int64")
    return frame


def workers_frame(rows: Sequence[Mapping[str, Any]], *, heartbeat_timeout_s: float) -> pd.DataFrame:
    columns = ["id", "host", "pid", "threads", "started_at", "last_seen", "jobs_in_flight", "alive"]
    now = datetime.now(UTC)
    data = [{**row, "alive": (now - row["last_seen"]).total_seconds() <= heartbeat_timeout_s} for row in rows]
    frame = pd.DataFrame(data, columns=columns)
    for col in ("started_at", "last_seen"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame.astype({"pid": "Int64", "threads": "int64", "jobs_in_flight": "int64", "alive": "bool"})
