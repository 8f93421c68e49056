"""Live updates: ``GET /api/events`` (Server-Sent Events) and the WebSocket ``/api/ws``.

Both read from the process's one :class:`~eduscribe_server.hub.Hub` and give the same
events. Resuming (``Last-Event-ID``, ``?since=``, or ``since`` in the WebSocket's first
message) follows :func:`_stream`:

1. subscribe to the hub first, so every event the hub dispatches from now on is queued;
2. replay the stream after the given id page by page (``client.events``) until a page
   comes back short: that read saw the stream's end at that moment, ``C``;
3. then deliver the queued live events, skipping any whose id is ``<= C``.

Every event after ``C`` was added after step 1, so the hub dispatches it to the queue (the
hub dispatches in stream order on the event loop, and had dispatched nothing newer than the
stream's end at step 1): nothing is lost, and the id comparison drops what both paths saw.
An id older than the oldest retained event (the stream is capped) gets a ``reset`` event:
the client should refetch its jobs (``GET /api/jobs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse, ServerSentEvent

from eduscribe_sdk import (
    AuthenticationError,
    Client,
    EduscribeError,
    InvalidInputError,
    JobNotFoundError,
    PermissionDeniedError,
    RateLimitExceeded,
)

from .deps import Principal, authenticate
from .hub import Hub, LiveEvent, Subscription, event_key

__all__ = ["PING_SECONDS", "router", "start", "stop"]

logger = logging.getLogger("eduscribe.server.live")

router = APIRouter(tags=["events"])

#: SSE comment lines this often keep proxies from closing an idle stream.
PING_SECONDS = 15
#: A page of the replay; a short page means the replay reached the stream's end.
REPLAY_PAGE = 500
#: Jobs one stream may name (``?job=`` / ``subscribe``).
MAX_JOBS = 1000
#: Seconds a WebSocket may take to send its token when not given in the URL.
WS_AUTH_SECONDS = 10.0

_EVENT_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer esk_...`")


async def start(app: FastAPI) -> None:
    """Start the event hub when the application starts (its metrics observer included)."""
    from .metrics import install

    client: Client = app.state.client
    hub = Hub(client, observer=install(app))
    await hub.start()
    app.state.hub = hub


async def stop(app: FastAPI) -> None:
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is not None:
        await hub.stop()


def _check_since(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not _EVENT_ID.fullmatch(value):
        raise InvalidInputError(f"must be an event id like '1733580000000-0', got {value!r}", field=field)
    return value


def _job_ids(values: list[str]) -> list[str] | None:
    """``?job=a&job=b`` and ``?job=a,b`` alike; None when no job is named."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if len(ids) > MAX_JOBS:
        raise InvalidInputError(f"at most {MAX_JOBS} jobs per stream", field="job")
    return list(dict.fromkeys(ids)) or None


async def _check_jobs(hub: Hub, principal: Principal, job_ids: list[str] | None) -> None:
    """Raise JobNotFoundError for a job the caller may not see (another user's job is "not
    found", exactly as a job that does not exist)."""
    if not job_ids:
        return
    try:
        owners = await anyio.to_thread.run_sync(hub.owners, job_ids)
    except InvalidInputError as exc:  # named as this API names it
        raise InvalidInputError(str(exc).replace("job_ids", "job"), field="job") from None
    for job_id in job_ids:
        owner = owners.get(job_id)
        if owner is None or not (principal.admin or owner == principal.user_id):
            raise JobNotFoundError(job_id)


def _subscribe(hub: Hub, principal: Principal, job_ids: list[str] | None) -> Subscription:
    return hub.subscribe(None if principal.admin else principal.user_id, job_ids)


async def _replay(hub: Hub, sub: Subscription, since: str) -> AsyncIterator[LiveEvent | str]:
    """Matching stream events after ``since``; yields the last id read (``C`` above) last."""
    client = hub.client
    if since != "0-0":
        oldest = await anyio.to_thread.run_sync(functools.partial(client.events, "0-0", limit=1))
        if oldest and event_key(since) < event_key(oldest[0].id):
            yield LiveEvent.reset("expired", hub.position)
            return
    cursor = since
    while True:
        page = await anyio.to_thread.run_sync(functools.partial(client.events, cursor, limit=REPLAY_PAGE))
        if page:
            owners = await anyio.to_thread.run_sync(hub.owners, [e.job_id for e in page])
            for event in page:
                owner = owners.get(event.job_id)
                if sub.wants(event.job_id, owner):
                    yield LiveEvent.of(event, owner)
            cursor = page[-1].id
        if len(page) < REPLAY_PAGE:
            yield cursor
            return


async def _stream(hub: Hub, sub: Subscription, since: str | None) -> AsyncGenerator[LiveEvent, None]:
    """Replay after ``since`` (if given), then live events without gap or duplicate."""
    seen: tuple[int, int] | None = None
    try:
        if since is not None:
            async for item in _replay(hub, sub, since):
                if isinstance(item, str):
                    seen = event_key(item)
                else:
                    yield item
        while True:
            event = await sub.mailbox.get()
            if event is None:
                return
            if seen is not None and event.kind != "reset" and event.id is not None:
                if event_key(event.id) <= seen:
                    continue
                seen = None  # ids only grow from here: no more comparisons needed
            yield event
    finally:
        hub.unsubscribe(sub)


def _hub(app: Any) -> Hub:
    hub: Hub = app.state.hub
    return hub


# --- Server-Sent Events ---------------------------------------------------------------------
@router.get(
    "/api/events",
    summary="Live job events (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream"}},
)
async def events(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    job: Annotated[list[str], Query(description="Only these jobs (repeat, or a comma list)")] = [],  # noqa: B006
    since: Annotated[str | None, Query(description="Resume after this event id (as Last-Event-ID)")] = None,
    token: Annotated[str | None, Query(description="The API key, for EventSource (no headers)")] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> EventSourceResponse:
    """The caller's jobs' events (an admin's: every job's), or only ``?job=`` ones.

    ``event:`` is the kind (``created``, ``started``, ``progress``, ``completed``, ...,
    ``position``, ``reset``), ``id:`` the stream id to resume from, ``data:`` JSON
    ``{jobId, kind, status, progress, at, queuePosition?, batchId?}``."""
    hub = _hub(request.app)
    key = credentials.credentials if credentials else token
    principal = await anyio.to_thread.run_sync(authenticate, hub.client, key)
    resume = _check_since(last_event_id, "Last-Event-ID") or _check_since(since, "since")
    job_ids = _job_ids(job)
    await _check_jobs(hub, principal, job_ids)
    sub = _subscribe(hub, principal, job_ids)

    async def content() -> AsyncIterator[ServerSentEvent]:
        async for event in _stream(hub, sub, resume):
            yield ServerSentEvent(event.text, event=event.kind, id=event.id)

    return EventSourceResponse(
        content(), ping=PING_SECONDS, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


# --- WebSocket ------------------------------------------------------------------------------
_CLOSE_CODES: dict[type[EduscribeError], int] = {
    AuthenticationError: 4401,
    PermissionDeniedError: 4403,
    JobNotFoundError: 4404,
    RateLimitExceeded: 4429,
    InvalidInputError: 4422,
}


def _close_code(exc: EduscribeError) -> int:
    for cls, code in _CLOSE_CODES.items():
        if isinstance(exc, cls):
            return code
    return 4500


async def _first_message(ws: WebSocket) -> dict[str, Any]:
    with anyio.fail_after(WS_AUTH_SECONDS):
        message = await ws.receive_json()
    if not isinstance(message, dict):
        raise InvalidInputError("the first message must be a JSON object with a token", field="token")
    return message


@router.websocket("/api/ws")
async def websocket(
    ws: WebSocket,
    token: str | None = None,
    job: Annotated[list[str] | None, Query()] = None,
    since: str | None = None,
) -> None:
    """The same events as ``/api/events``, as JSON messages ``{id, event, data}``.

    The key comes as ``?token=`` or in a first message ``{"token": ..., "since"?: ...,
    "jobs"?: [...]}``; ``{"subscribe": [ids]}`` narrows the stream to those jobs (and adds
    to them on later messages). Once subscribed, the server sends ``{"id": null, "event":
    "subscribed", "data": {"jobs": [...] | null}}``. Errors close the socket: 4401 bad key, 4403 forbidden,
    4404 a job the caller may not see, 4422 a bad message, 4429 rate limited."""
    hub = _hub(ws.app)
    await ws.accept()
    try:
        job_ids = _job_ids(job or [])
        if token is None:
            first = await _first_message(ws)
            token = first.get("token") if isinstance(first.get("token"), str) else None
            since = first.get("since") if isinstance(first.get("since"), str) else since
            if isinstance(first.get("jobs"), list):
                job_ids = _job_ids([str(j) for j in first["jobs"]])
        principal = await anyio.to_thread.run_sync(authenticate, hub.client, token)
        resume = _check_since(since, "since")
        await _check_jobs(hub, principal, job_ids)
    except EduscribeError as exc:
        await ws.close(_close_code(exc), str(exc)[:120])
        return
    except (TimeoutError, ValueError):
        await ws.close(4401, "no token")
        return
    except WebSocketDisconnect:
        return
    sub = _subscribe(hub, principal, job_ids)
    try:  # the client knows from here on that its key was accepted and nothing is missed
        await ws.send_json({"id": None, "event": "subscribed", "data": {"jobs": job_ids}})
    except (WebSocketDisconnect, RuntimeError):
        hub.unsubscribe(sub)
        return
    await _serve_socket(ws, hub, principal, sub, resume)


async def _serve_socket(
    ws: WebSocket, hub: Hub, principal: Principal, sub: Subscription, since: str | None
) -> None:
    async def send() -> None:
        async for event in _stream(hub, sub, since):
            # The event's JSON is encoded once for all streams; only the envelope is added.
            event_id = json.dumps(event.id)
            await ws.send_text(f'{{"id": {event_id}, "event": "{event.kind}", "data": {event.text}}}')

    async def receive() -> None:
        while True:
            message = await ws.receive_json()
            wanted = message.get("subscribe") if isinstance(message, dict) else None
            if not isinstance(wanted, list):
                raise InvalidInputError('expected {"subscribe": [job ids]}', field="subscribe")
            ids = _job_ids([str(j) for j in wanted]) or []
            await _check_jobs(hub, principal, ids)
            sub.jobs = (sub.jobs or set()) | set(ids)
            await ws.send_json({"id": None, "event": "subscribed", "data": {"jobs": sorted(sub.jobs)}})

    sender = asyncio.create_task(send())
    receiver = asyncio.create_task(receive())
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if isinstance(exc, EduscribeError):
                await ws.close(_close_code(exc), str(exc)[:120])
            elif isinstance(exc, ValueError):  # not JSON
                await ws.close(4422, "messages must be JSON")
            elif task is sender and exc is None:
                await ws.close(1001, "server stopping")
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in (sender, receiver):
            task.cancel()
        for task in (sender, receiver):
            with contextlib.suppress(BaseException):
                await task
        hub.unsubscribe(sub)
