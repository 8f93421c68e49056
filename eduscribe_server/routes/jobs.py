"""``/api/jobs``: create, read, list, cancel and retry jobs, and the queue's statistics.

Every job acts as the key's user, never as a user named in the body; a user sees and acts on
their own jobs only (another user's job is "not found", as one that does not exist).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query

from eduscribe_sdk import (
    Client,
    InvalidInputError,
    JobRecord,
    JobStatus,
    JobType,
    PermissionDeniedError,
    UnknownDependencyError,
)

from ..deps import Caller, Principal, ServerClient, own_job
from ..errors import ApiError, status_of
from ..models import (
    CreateJobRequest,
    CreateJobResponse,
    ErrorResponse,
    JobActionRequest,
    JobListResponse,
    JobOut,
    JobResponse,
    JobSummary,
    QueueOut,
    RecentJob,
    StatsOut,
    StatsResponse,
)

__all__ = ["api_fields", "router"]

#: Every refusal is documented with the one error shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 422, 429, 503)
}

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=ERRORS)

#: SDK argument names -> the request's field names, for errors.
_FIELDS = {
    "job_type": "jobType",
    "input_data": "inputData",
    "depends_on": "dependsOn",
    "job_ids": "dependsOn",
    "estimated_duration_seconds": "estimatedDurationSeconds",
    "priority": "priority",
    "title": "title",
}
_INPUT_FIELDS = {"content", "uploadId", "youtubeUrl", "videoId", "options"}
#: What a server must never open on a user's behalf: its own files.
_PATH_FIELDS = ("path", "filePath", "file_path", "filepath")
#: How old the queue's figures behind a wait estimate may be: a second-old estimate is as good
#: as a fresh one, and reading them cost more than the job itself on every GET.
WAIT_FIGURES_MAX_AGE_S = 1.0
#: Recent jobs a user key sees in the statistics (its own, newest first).
RECENT = 10


@contextmanager
def api_fields(renames: Mapping[str, str] | None = None) -> Iterator[None]:
    """Re-raise the SDK's bad-input errors with the request's field names (``content`` ->
    ``inputData.content``), keeping their status and code."""
    try:
        yield
    except InvalidInputError as exc:
        field = exc.field or ""
        head = field.partition(".")[0]
        mapped = (renames or {}).get(field) or _FIELDS.get(field)
        if mapped is None and head in _INPUT_FIELDS:
            mapped = f"inputData.{field}"
        mapped = mapped or field or None
        message = str(exc)
        if field and message.startswith(f"{field}: "):
            message = message[len(field) + 2 :]
        status, code = status_of(exc)
        raise ApiError(status, code, f"{mapped}: {message}" if mapped else message, field=mapped) from None


def _input_data(body: CreateJobRequest) -> tuple[dict[str, Any], dict[str, str]]:
    """The SDK's input from the request's, and how to name its fields in errors."""
    data = body.inputData.model_dump(exclude_unset=True)
    for name in _PATH_FIELDS:
        if name in data:
            raise ApiError(
                422,
                "invalid_input",
                f"inputData.{name}: the server reads no paths; upload the file (POST /api/uploads) "
                "and pass its inputData.uploadId",
                field=f"inputData.{name}",
            )
    if body.jobType in (JobType.FILE_NOTES, JobType.VIDEO_NOTES) and "uploadId" not in data:
        raise ApiError(
            422,
            "invalid_input",
            f"inputData.uploadId: a {body.jobType.value} job needs an uploadId from POST /api/uploads",
            field="inputData.uploadId",
        )
    renames: dict[str, str] = {}
    if "url" in data and body.jobType is JobType.YOUTUBE_NOTES:
        if "youtubeUrl" in data:
            raise ApiError(422, "invalid_input", "inputData.url: give url or youtubeUrl, not both",
                           field="inputData.url")  # fmt: skip
        data["youtubeUrl"] = data.pop("url")
        renames["youtubeUrl"] = "inputData.url"
    return data, renames


def _check_dependencies(client: Client, principal: Principal, ids: list[str]) -> None:
    """Another user's job is refused exactly as an unknown id: its existence stays secret."""
    if not ids:
        return
    with api_fields():
        found = client.get_jobs(ids)
    unknown = [i for i, r in zip(ids, found, strict=True) if r is None or not principal.may_see(r)]
    if unknown:
        with api_fields():
            raise UnknownDependencyError(unknown)


def _created_message(record: JobRecord) -> str:
    if record.status is JobStatus.QUEUED:
        return f"Job queued; {record.queue_position} job(s) ahead of it"
    if record.status is JobStatus.WAITING:
        n = len(record.depends_on)
        return f"Job waiting for {n} dependenc{'y' if n == 1 else 'ies'}"
    return f"Job {record.status.value}: a dependency did not complete"


@router.post("", status_code=201, summary="Create a job")
def create_job(body: CreateJobRequest, principal: Caller, client: ServerClient) -> CreateJobResponse:
    """Queue one job for the key's user; ``priority`` may only lower the user's tier priority."""
    data, renames = _input_data(body)
    _check_dependencies(client, principal, body.dependsOn)
    with api_fields(renames):
        job = client.create_job(
            body.jobType,
            data,
            priority=body.priority,
            estimated_duration_seconds=body.estimatedDurationSeconds,
            depends_on=body.dependsOn,
            title=body.title,
            user_id=principal.user_id,
        )
    record = job.record
    position, message = record.queue_position, _created_message(record)
    return CreateJobResponse(jobId=record.id, status=record.status, position=position, message=message)


@router.get("/stats", summary="Queue statistics")
def job_stats(principal: Caller, client: ServerClient) -> StatsResponse:
    """Queue-wide counts; ``recentJobs`` lists only the caller's jobs unless it is an admin."""
    stats = client.stats()
    queue = dict(stats.queue)
    if principal.admin:
        recent = [RecentJob.model_validate(item) for item in queue["recentJobs"]]
    else:
        recent = [
            RecentJob.model_validate({name: getattr(r, name) for name in RecentJob.model_fields})
            for r in client.list_jobs(page=1, limit=RECENT, user_id=principal.user_id)
        ]
    return StatsResponse(
        stats=StatsOut.model_validate(stats.totals),
        queue=QueueOut(
            queuedCount=queue["queuedCount"],
            processingCount=queue["processingCount"],
            estimatedWaitTimeSeconds=queue["estimatedWaitTimeSeconds"],
            recentJobs=recent,
        ),
    )


@router.get("", summary="List jobs")
def list_jobs(
    principal: Caller,
    client: ServerClient,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    status: JobStatus | None = None,
    user: Annotated[str | None, Query(min_length=1, max_length=200, description="Admin only.")] = None,
) -> JobListResponse:
    """Newest first, without ``output_data`` (fetch a job for its notes). A user key lists its
    own jobs; an admin key lists everyone's, or one user's with ``?user=``."""
    if principal.admin:
        owner = user
    elif user is not None and user != principal.user_id:
        raise PermissionDeniedError("only an admin key may list another user's jobs")
    else:
        owner = principal.user_id
    with api_fields({"user_id": "user"}):
        total = client.count_jobs(status, user_id=owner)
        records = client.list_jobs(status, page, limit, user_id=owner) if (page - 1) * limit < total else []
    return JobListResponse(
        jobs=[JobSummary.of(r) for r in records], total=total, page=page, pages=math.ceil(total / limit)
    )


def _job_out(client: Client, record: JobRecord) -> JobOut:
    return JobOut.with_wait(record, client.estimated_wait_seconds(record, max_age=WAIT_FIGURES_MAX_AGE_S))


@router.get("/{job_id}", summary="Get a job")
def get_job(job_id: str, principal: Caller, client: ServerClient) -> JobResponse:
    """One job with its queue position, wait estimate and, once finished, its output."""
    with api_fields({"job_id": "job_id"}):
        record = own_job(client, principal, job_id)
    return JobResponse(job=_job_out(client, record))


@router.patch("/{job_id}", summary="Cancel or retry a job")
def act_on_job(job_id: str, body: JobActionRequest, principal: Caller, client: ServerClient) -> JobResponse:
    """``cancel`` a job that has not finished, or ``retry`` a failed, cancelled or skipped
    one; any other move is 409 ``invalid_transition``."""
    with api_fields({"job_id": "job_id"}):
        own_job(client, principal, job_id)
        if body.action == "cancel":
            client.cancel(job_id)
        else:
            client.retry(job_id)
        record = client.get_job(job_id)
    return JobResponse(job=_job_out(client, record))
