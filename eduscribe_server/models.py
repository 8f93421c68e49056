"""The request and response bodies of the REST API, as pydantic models the handlers use, so
``/openapi.json`` documents exactly what the server reads and writes.

Field names follow the seed: camelCase for the envelope (``jobId``, ``queuePosition``...), the
job record's own fields in snake_case (``job_type``, ``created_at``...). Times are ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from eduscribe_sdk import ApiKey, JobRecord, JobStatus, JobType, Priority, Tier

__all__ = [
    "ApiKeyOut",
    "CreateJobRequest",
    "CreateJobResponse",
    "CreateKeyRequest",
    "CreateKeyResponse",
    "ErrorDetail",
    "ErrorResponse",
    "InputData",
    "JobActionRequest",
    "JobListResponse",
    "JobOut",
    "JobResponse",
    "JobSummary",
    "KeyListResponse",
    "KeyRevokedResponse",
    "MeResponse",
    "QueueOut",
    "RecentJob",
    "StatsOut",
    "StatsResponse",
    "TierRequest",
    "UploadResponse",
    "UserTier",
    "UserTierResponse",
    "UsersResponse",
    "WorkerActionRequest",
    "WorkerActionResponse",
    "WorkerOut",
    "WorkersResponse",
]

_ID = Field(min_length=1, max_length=200)


class _Request(BaseModel):
    # Unknown fields are refused; booleans and numbers are strict (below): "true" is no flag.
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: not_found, invalid_input, forbidden...")
    message: str
    field: str | None = Field(None, description="The request field at fault, when there is one.")


class ErrorResponse(BaseModel):
    """Every refusal, whatever its status."""

    success: Literal[False] = False
    error: ErrorDetail


# --- jobs ---------------------------------------------------------------------------------
class JobOptions(BaseModel):
    """Processing options; which ones a job type takes is checked by the SDK (the error
    names the option)."""

    model_config = ConfigDict(extra="allow")

    language: str | None = Field(None, description="'en', 'de', ... or 'auto'", examples=["en"])
    generateQuiz: StrictBool | None = None
    prompt: str | None = Field(None, description="Extra instructions for the notes.")
    password: str | None = Field(None, description="file_notes: the PDF's password.")
    subtitles: str | StrictBool | None = Field(None, description="video/youtube: 'srt', 'vtt' or true.")
    preferredLanguages: list[str] | None = Field(None, description="youtube_notes: transcript languages.")


class InputData(BaseModel):
    """One of: ``content`` (text_notes), ``uploadId`` (file_notes, video_notes: from
    ``POST /api/uploads``), ``url`` / ``youtubeUrl`` / ``videoId`` (youtube_notes); nothing
    for course_summary (it summarises its ``dependsOn``). A server never reads a path: a
    ``path`` or ``filePath`` is refused."""

    # Unknown fields reach the handler, which refuses paths by name, and then the SDK's
    # validation, which names any other unknown field.
    model_config = ConfigDict(extra="allow")

    content: str | None = Field(None, description="text_notes: the text (up to 2,000,000 characters).")
    uploadId: str | None = Field(None, description="file_notes / video_notes: an id from POST /api/uploads.")
    url: str | None = Field(None, description="youtube_notes: the video's URL (same as youtubeUrl).")
    youtubeUrl: str | None = None
    videoId: str | None = None
    options: JobOptions | None = None


class CreateJobRequest(_Request):
    jobType: JobType
    inputData: InputData = Field(default_factory=lambda: InputData.model_validate({}))
    estimatedDurationSeconds: StrictFloat | None = Field(None, ge=0, allow_inf_nan=False)
    dependsOn: list[str] = Field(
        default_factory=list,
        max_length=10_000,
        description="Ids of the caller's own jobs that must complete first.",
    )
    title: str | None = Field(None, max_length=300)
    priority: Priority | None = Field(
        None, description="At most the caller's tier allows (403 priority_not_allowed above it)."
    )


class CreateJobResponse(BaseModel):
    success: Literal[True] = True
    jobId: str
    status: JobStatus
    position: int | None = Field(description="Jobs ahead of it in the queue (0: next); null unless queued.")
    message: str


class JobSummary(BaseModel):
    """A job as listed: everything but its output (fetch the job for that)."""

    id: str
    user_id: str
    job_type: JobType
    status: JobStatus
    priority: Priority
    input_data: dict[str, Any]
    progress: int
    error_message: str | None
    error_details: dict[str, Any] | None
    retry_count: int
    max_retries: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    estimated_duration_seconds: float | None
    actual_duration_seconds: float | None
    depends_on: list[str]
    title: str | None
    batch_id: str | None
    queuePosition: int | None = Field(
        description="Jobs ahead of it in the queue (0: next); null unless queued."
    )

    @classmethod
    def of(cls, record: JobRecord) -> JobSummary:
        return cls.model_validate(_record_fields(record))


class JobOut(JobSummary):
    output_data: dict[str, Any] | None = Field(description="The notes, once the job completed.")
    estimatedWaitSeconds: float | None = Field(description="Until a queued job starts (an estimate).")

    @classmethod
    def with_wait(cls, record: JobRecord, wait: float | None) -> JobOut:
        return cls.model_validate(
            {**_record_fields(record), "output_data": record.output_data, "estimatedWaitSeconds": wait}
        )


def _record_fields(record: JobRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "job_type": record.job_type,
        "status": record.status,
        "priority": record.priority,
        "input_data": record.input_data,
        "progress": record.progress,
        "error_message": record.error_message,
        "error_details": record.error_details,
        "retry_count": record.retry_count,
        "max_retries": record.max_retries,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "completed_at": record.completed_at,
        "updated_at": record.updated_at,
        "estimated_duration_seconds": record.estimated_duration_seconds,
        "actual_duration_seconds": record.actual_duration_seconds,
        "depends_on": list(record.depends_on),
        "title": record.title,
        "batch_id": record.batch_id,
        "queuePosition": record.queue_position,
    }


class JobResponse(BaseModel):
    success: Literal[True] = True
    job: JobOut


class JobListResponse(BaseModel):
    success: Literal[True] = True
    jobs: list[JobSummary]
    total: int
    page: int
    pages: int


class JobActionRequest(_Request):
    action: Literal["cancel", "retry"]


class StatsOut(BaseModel):
    """Queue-wide counts (every user's jobs): no job of another user is named."""

    total_jobs: int
    queued_jobs: int
    processing_jobs: int
    completed_jobs: int
    failed_jobs: int
    avg_duration_seconds: float | None
    waiting_jobs: int = 0
    retrying_jobs: int = 0
    cancelled_jobs: int = 0
    skipped_jobs: int = 0


class RecentJob(BaseModel):
    id: str
    title: str | None
    job_type: JobType
    status: JobStatus
    priority: Priority
    progress: int
    created_at: datetime


class QueueOut(BaseModel):
    queuedCount: int
    processingCount: int
    estimatedWaitTimeSeconds: float
    recentJobs: list[RecentJob] = Field(description="Newest first; a user key sees only its own jobs.")


class StatsResponse(BaseModel):
    success: Literal[True] = True
    stats: StatsOut
    queue: QueueOut


# --- uploads ------------------------------------------------------------------------------
class UploadResponse(BaseModel):
    success: Literal[True] = True
    uploadId: str = Field(description="Use as inputData.uploadId of a file_notes or video_notes job.")
    filename: str
    size: int
    contentType: str = Field(description="Sniffed from the content, not taken from the client.")


# --- users and keys -----------------------------------------------------------------------
class TierRequest(_Request):
    tier: Tier


class UserTier(BaseModel):
    userId: str
    tier: Tier


class UserTierResponse(UserTier):
    success: Literal[True] = True


class UsersResponse(BaseModel):
    success: Literal[True] = True
    users: list[UserTier] = Field(description="Users with a stored tier; every other user is 'free'.")


class MeResponse(BaseModel):
    success: Literal[True] = True
    userId: str
    tier: Tier
    admin: bool
    keyId: str | None


class CreateKeyRequest(_Request):
    userId: str = _ID
    admin: StrictBool = False
    name: str | None = Field(None, max_length=200)


class ApiKeyOut(BaseModel):
    id: str
    userId: str
    admin: bool
    createdAt: datetime
    name: str | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(id=key.id, userId=key.user_id, admin=key.admin, createdAt=key.created_at, name=key.name)


class CreateKeyResponse(BaseModel):
    success: Literal[True] = True
    key: str = Field(description="The key itself: shown only in this response (stored hashed).")
    apiKey: ApiKeyOut


class KeyListResponse(BaseModel):
    success: Literal[True] = True
    keys: list[ApiKeyOut]


class KeyRevokedResponse(BaseModel):
    success: Literal[True] = True
    keyId: str


# --- workers ------------------------------------------------------------------------------
class WorkerOut(BaseModel):
    id: str
    host: str | None
    pid: int | None
    slots: int
    startedAt: datetime | None
    lastHeartbeat: datetime
    jobsInFlight: int
    state: str = Field(description="running, draining, drained (takes nothing until resumed), restarting.")


class WorkersResponse(BaseModel):
    success: Literal[True] = True
    workers: list[WorkerOut] = Field(description="Live workers (a heartbeat within the timeout).")
    paused: list[str] = Field(description="Paused queues, by priority name (the free tier's is 'low').")


class WorkerActionRequest(_Request):
    action: Literal["pause", "resume", "drain", "restart"]
    queue: str | None = Field(
        None, description="pause/resume: one queue, a tier or priority name ('free' = 'low'); default all."
    )
    workerId: str | None = Field(None, description="drain/restart: one worker (default: all).")


class WorkerActionResponse(BaseModel):
    success: Literal[True] = True
    action: str
    queue: str | None
    workerId: str | None
    workersAsked: int | None = Field(description="drain/restart: how many live workers were asked.")
    paused: list[str]
