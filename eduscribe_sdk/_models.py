"""Statuses, job types, tiers and the immutable records the SDK hands out."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "FINISHED_STATUSES",
    "INITIAL_STATUSES",
    "QUEUE_PREFIX",
    "TRANSITIONS",
    "JobEvent",
    "JobRecord",
    "JobStatus",
    "JobType",
    "Priority",
    "Tier",
]


class JobStatus(StrEnum):
    WAITING = "waiting"
    QUEUED = "queued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED})

_S = JobStatus
#: The statuses a job is created in: waiting on dependencies, queued, or skipped at once
#: (a dependency already failed or was cancelled).
INITIAL_STATUSES = frozenset({_S.WAITING, _S.QUEUED, _S.SKIPPED})
#: Every legal change of status, and the only ones: the Lua library gets this table
#: (generated, see _library.py) and refuses any other move; docs/architecture.md draws it.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.WAITING: frozenset({_S.QUEUED, _S.SKIPPED, _S.CANCELLED}),  # released, dependency broke
    _S.QUEUED: frozenset({_S.PROCESSING, _S.CANCELLED}),  # claimed by a worker
    # completed, failed, retried later, handed back (shutdown, dead worker), cancelled
    _S.PROCESSING: frozenset({_S.COMPLETED, _S.FAILED, _S.RETRYING, _S.QUEUED, _S.CANCELLED}),
    _S.RETRYING: frozenset({_S.QUEUED, _S.CANCELLED}),  # back in line when due
    _S.COMPLETED: frozenset(),
    # Client.retry: back to waiting, then queued once what it needs has completed
    _S.FAILED: frozenset({_S.WAITING}),
    _S.CANCELLED: frozenset({_S.WAITING}),
    _S.SKIPPED: frozenset({_S.WAITING}),
}


class Priority(StrEnum):
    """Scheduling priority; ``rank`` 0 is served first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _PRIORITY_ORDER.index(self)

    @property
    def queue_name(self) -> str:
        return f"{QUEUE_PREFIX}{self.value}"

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        return _PRIORITY_ORDER[max(0, min(rank, len(_PRIORITY_ORDER) - 1))]


#: Tier queues are named ``eduscribe.<priority>`` (the SPEC's Redis queue names).
QUEUE_PREFIX = "eduscribe."
_PRIORITY_ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)


class Tier(StrEnum):
    """A user's subscription tier; it fixes the highest priority their jobs may have."""

    ENTERPRISE = "enterprise"
    PREMIUM = "premium"
    BASIC = "basic"
    FREE = "free"

    @property
    def priority(self) -> Priority:
        return _TIER_PRIORITY[self]


_TIER_PRIORITY = {
    Tier.ENTERPRISE: Priority.URGENT,
    Tier.PREMIUM: Priority.HIGH,
    Tier.BASIC: Priority.NORMAL,
    Tier.FREE: Priority.LOW,
}


class JobType(StrEnum):
    TEXT_NOTES = "text_notes"
    FILE_NOTES = "file_notes"
    VIDEO_NOTES = "video_notes"
    YOUTUBE_NOTES = "youtube_notes"
    COURSE_SUMMARY = "course_summary"


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as stored; times are timezone-aware UTC."""

    id: str
    user_id: str
    job_type: JobType
    status: JobStatus
    priority: Priority
    input_data: dict[str, Any]
    output_data: dict[str, Any] | None
    progress: int
    error_message: str | None
    error_details: dict[str, Any] | None
    retry_count: int
    max_retries: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    worker_id: str | None
    estimated_duration_seconds: float | None
    actual_duration_seconds: float | None
    queue_position: int | None
    depends_on: tuple[str, ...] = ()
    batch_id: str | None = None
    title: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["job_type"] = self.job_type.value
        data["status"] = self.status.value
        data["priority"] = self.priority.value
        data["depends_on"] = list(self.depends_on)
        return data


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One change of one job, read from the event stream. ``id`` resumes a watch."""

    id: str
    job_id: str
    kind: str
    status: JobStatus | None
    progress: int | None
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
