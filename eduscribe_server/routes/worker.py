"""``/api/worker``: the live workers (any key) and their controls (admin): pause / resume
fetching per tier queue or for all, drain, restart. The controls are the SDK's
(``client.pause()``...), which reach workers anywhere through Redis."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from eduscribe_sdk import Client, WorkerInfo

from ..deps import Admin, Caller, ServerClient
from ..errors import ApiError
from ..models import ErrorResponse, WorkerActionRequest, WorkerActionResponse, WorkerOut, WorkersResponse
from .jobs import api_fields

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 422, 429, 503)
}

router = APIRouter(prefix="/api/worker", tags=["workers"], responses=_ERRORS)


def _worker(info: WorkerInfo) -> WorkerOut:
    return WorkerOut(
        id=info.id,
        host=info.host,
        pid=info.pid,
        slots=info.slots,
        startedAt=info.started_at,
        lastHeartbeat=info.last_heartbeat,
        jobsInFlight=len(info.jobs_in_flight),
        state=info.state,
    )


def _paused(client: Client) -> list[str]:
    return sorted(p.value for p in client.paused_tiers())


@router.get("", summary="Live workers")
def get_workers(principal: Caller, client: ServerClient) -> WorkersResponse:
    """Every registered worker with its last heartbeat, job slots and jobs in flight, and the
    paused tier queues."""
    return WorkersResponse(workers=[_worker(w) for w in client.worker_info()], paused=_paused(client))


@router.post("", summary="Pause, resume, drain or restart workers (admin)")
def control_workers(
    body: WorkerActionRequest, principal: Admin, client: ServerClient
) -> WorkerActionResponse:
    """``pause`` / ``resume`` stop and restart fetching (one tier queue with ``queue``, else
    all); ``drain`` lets running jobs finish and stops fetching; ``restart`` asks workers to
    finish their jobs and exit for their supervisor to start them again (one worker with
    ``workerId``, else all)."""
    if body.action in ("pause", "resume") and body.workerId is not None:
        raise ApiError(422, "invalid_input", f"workerId: {body.action} applies to queues", field="workerId")
    if body.action in ("drain", "restart") and body.queue is not None:
        raise ApiError(422, "invalid_input", f"queue: {body.action} applies to workers", field="queue")
    asked: int | None = None
    with api_fields({"tier": "queue", "worker_id": "workerId"}):
        if body.action == "pause":
            client.pause(body.queue)
        elif body.action == "resume":
            client.resume(body.queue)
        elif body.action == "drain":
            asked = client.drain(body.workerId)
        else:
            asked = client.restart_workers(body.workerId)
    return WorkerActionResponse(
        action=body.action,
        queue=body.queue,
        workerId=body.workerId,
        workersAsked=asked,
        paused=_paused(client),
    )
