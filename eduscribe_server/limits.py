"""A ceiling on request bodies, so no request makes the server buffer unbounded JSON.

Uploads stream to a temporary file under their own limit (``routes/uploads.py``); every other
body is JSON, which FastAPI reads whole before validating it. The largest legitimate one is a
text job at the SDK's ``MAX_TEXT_CHARS`` (2 million characters, up to 8 bytes each once
JSON-escaped): :data:`MAX_JSON_BYTES` leaves room for that and refuses the rest with 413.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eduscribe_sdk import MAX_TEXT_CHARS

from .errors import ApiError, error_body

__all__ = ["MAX_JSON_BYTES", "BodyLimit"]

MAX_JSON_BYTES = 8 * MAX_TEXT_CHARS + 1024 * 1024


def _too_large(limit: int) -> ApiError:
    # Connection: close, so that the client stops sending what nobody will read.
    message = f"the request body is over {limit // (1024 * 1024)} MB"
    return ApiError(413, "too_large", message, headers={"Connection": "close"})


class BodyLimit:
    """Refuses a body over ``limit`` bytes: at once by its Content-Length, else while it is read."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_JSON_BYTES, exempt: tuple[str, ...] = ()) -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                refused = True
                raise _too_large(self.limit)
            return message

        async def answered(message: Message) -> None:
            # FastAPI turns any failure while it reads a body into its own 400: once the body
            # went over the limit, that answer is replaced by the 413 (and the rest dropped).
            if not refused:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(scope, receive, send)

        await self.app(scope, counted, answered)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = _too_large(self.limit)
        body = error_body(refusal.code, refusal.message)
        await JSONResponse(body, status_code=413, headers=refusal.headers)(scope, receive, send)
