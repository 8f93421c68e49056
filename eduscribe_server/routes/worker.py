"""``/api/worker``: the live workers (any key) and their controls (admin): pause / resume
fetching per tier queue or for all, drain, restart. The controls are the SDK's
(``client.pause()``...), which reach workers anywhere through Redis."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from eduscribe_sdk import Client

from ..deps import Admin, Caller, ServerClient
from ..errors import ApiError
from ..models import ErrorResponse, WorkerActionRequest, WorkerActionResponse, WorkerOut, WorkersResponse
from .jobs import api_fields

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 422, 429, 503)
}

#: The action of ``POST /api/worker`` -> the Client method that does it.
_CONTROLS = {"pause": "pause", "resume": "resume", "drain": "drain", "restart": "restart_workers"}

router = APIRouter(prefix="/api/worker", tags=["workers"], responses=_ERRORS)


def _first(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def _time(value: Any) -> datetime | None:
    # The pandas frame gives Timestamps (datetime subclasses); NaT is "unknown".
    if value is None or not isinstance(value, datetime) or value != value:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _worker(item: Any) -> WorkerOut:
    state = _first(item, "state") or "running"
    pid = _first(item, "pid")
    return WorkerOut(
        id=str(_first(item, "id", "worker_id")),
        host=_first(item, "host"),
        pid=int(pid) if pid is not None and pid == pid else None,
        slots=int(_first(item, "slots", "threads") or 0),
        startedAt=_time(_first(item, "started_at", "startedAt")),
        lastHeartbeat=_time(_first(item, "last_heartbeat", "last_seen")) or datetime.now(UTC),
        jobsInFlight=_count(_first(item, "jobs_in_flight")),
        state=str(getattr(state, "value", state)),
    )


def _count(value: Any) -> int:
    # The SDK's WorkerInfo holds the ids of the jobs in flight; the frame holds their number.
    if value is None:
        return 0
    return len(value) if isinstance(value, list | tuple | set | frozenset) else int(value)


def _workers(client: Client) -> list[WorkerOut]:
    info = getattr(client, "worker_info", None)
    if callable(info):
        return [_worker(w) for w in info()]
    # An SDK without worker_info: the live rows of the workers frame.
    frame = client.workers()
    return [_worker(row) for row in frame.to_dict("records") if row["alive"]]


def _paused(client: Client) -> list[str]:
    paused = getattr(client, "paused_tiers", None)
    return sorted(str(getattr(t, "value", t)) for t in paused()) if callable(paused) else []


@router.get("", summary="Live workers")
def get_workers(principal: Caller, client: ServerClient) -> WorkersResponse:
    """Every registered worker with its last heartbeat, job slots and jobs in flight, and the
    paused tier queues."""
    return WorkersResponse(workers=_workers(client), paused=_paused(client))


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
    control = getattr(client, _CONTROLS[body.action], None)
    if not callable(control):
        raise ApiError(501, "not_implemented", f"this SDK has no worker control {body.action!r}")
    asked: int | None = None
    with api_fields({"tier": "queue", "worker_id": "workerId"}):
        if body.action in ("pause", "resume"):
            control(tier=body.queue)
        else:
            asked = int(control(worker_id=body.workerId))
    return WorkerActionResponse(
        action=body.action,
        queue=body.queue,
        workerId=body.workerId,
        workersAsked=asked,
        paused=_paused(client),
    )
