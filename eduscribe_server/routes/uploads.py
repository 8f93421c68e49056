"""``POST /api/uploads``: a file for a ``file_notes`` or ``video_notes`` job (a server never
reads a client's path). Multipart, one part named ``file``.

The body is read as it arrives and counted: past ``EDUSCRIBE_MAX_FILE_MB`` (plus room for
the multipart framing) reading stops with 413, so a huge upload costs neither memory nor
disk. The file part spools to a temporary file (memory up to 1 MB), its type is sniffed from
its content, and the SDK stores it in the blob store as the caller's upload.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from eduscribe_sdk import InvalidInputError, sniff_content_type

from ..deps import Caller, ServerClient
from ..errors import ApiError
from ..models import ErrorResponse, UploadResponse

__all__ = ["router"]

#: Multipart framing around the file (boundaries, part headers) that a full-size file may use.
FRAMING_BYTES = 64 * 1024

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 413, 415, 422, 429, 503)
}

router = APIRouter(tags=["uploads"], responses=_ERRORS)


def _too_large(limit: int) -> ApiError:
    # "Connection: close": the server closes the connection after answering instead of
    # reading (and dropping) the rest of the body, so the client stops sending it.
    message = f"the file is over the limit of {limit / 1048576:.0f} MB"
    return ApiError(413, "too_large", message, field="file", headers={"Connection": "close"})


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit - FRAMING_BYTES)
        yield chunk


async def _file_part(request: Request, max_file_bytes: int) -> UploadFile:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "send the file as multipart/form-data, in a part named 'file'"
        )
    limit = max_file_bytes + FRAMING_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(max_file_bytes)  # refused before reading a byte of it
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiError(400, "bad_request", f"malformed multipart body: {exc.message}") from None
    except ClientDisconnect:
        # Nobody is left to answer; this only keeps a routine event out of the error log.
        raise ApiError(400, "bad_request", "the client went away during the upload") from None
    part = form.get("file")
    if not isinstance(part, UploadFile):
        for other in form.values():
            if isinstance(other, UploadFile):
                await other.close()
        raise ApiError(422, "invalid_input", "file: a multipart part named 'file' is required", field="file")
    return part


@router.post("/api/uploads", status_code=201, summary="Upload a file", openapi_extra=_BODY)
async def create_upload(request: Request, principal: Caller, client: ServerClient) -> UploadResponse:
    """Store a document (PDF, DOCX, PPTX, HTML, TXT, MD) or an audio/video file for the key's
    user; use its ``uploadId`` as ``inputData.uploadId``. Too big: 413 ``too_large``; a type
    EduScribe cannot read: 415 ``unsupported_type``; empty: 422."""
    max_file_bytes = client.settings.max_file_bytes
    part = await _file_part(request, max_file_bytes)
    try:
        if part.size is not None and part.size > max_file_bytes:
            raise _too_large(max_file_bytes)
        if not part.size:
            raise ApiError(422, "invalid_input", "file: the file is empty", field="file")
        filename = (part.filename or "").strip() or "upload"
        try:
            content_type = await run_in_threadpool(sniff_content_type, part.file, filename)
        except InvalidInputError as exc:
            raise ApiError(415, "unsupported_type", str(exc), field="file") from None
        try:
            upload_id = await run_in_threadpool(
                client.upload, part.file, filename=filename, content_type=content_type,
                user_id=principal.user_id,
            )  # fmt: skip
        except InvalidInputError as exc:
            field = "file" if exc.field in ("source", "filename", "content_type") else exc.field
            message = str(exc).partition(": ")[2] if exc.field else str(exc)
            raise ApiError(422, "invalid_input", f"{field}: {message}", field=field) from None
        return UploadResponse(
            uploadId=upload_id,
            # As the SDK stores it: the last component of what the client called it.
            filename=os.path.basename(filename.replace("\\", "/")).strip() or "upload",
            size=part.size,
            contentType=content_type,
        )
    finally:
        await part.close()
