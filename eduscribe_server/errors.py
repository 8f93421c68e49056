"""Every error leaves as ``{"success": false, "error": {"code", "message", "field"?}}``.

One :class:`~eduscribe_sdk.EduscribeError` class maps to one status and code (the nearest
class in :data:`ERROR_STATUS` up its MRO); FastAPI's own validation errors become 422 with
the first offending field; anything else is a 500 with no detail (logged with its trace).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from eduscribe_sdk import errors

__all__ = ["ERROR_STATUS", "ApiError", "error_body", "install_error_handlers", "status_of"]

logger = logging.getLogger("eduscribe.server")

#: EduScribe error -> (HTTP status, error code). Subclasses not listed take their parent's.
ERROR_STATUS: dict[type[errors.EduscribeError], tuple[int, str]] = {
    errors.EduscribeError: (500, "internal_error"),
    errors.InvalidInputError: (422, "invalid_input"),
    errors.PriorityNotAllowedError: (403, "priority_not_allowed"),
    errors.UnknownDependencyError: (422, "unknown_dependency"),
    errors.DependencyCycleError: (422, "dependency_cycle"),
    errors.ConfigError: (503, "misconfigured"),
    errors.JobNotFoundError: (404, "not_found"),
    errors.CorruptRecordError: (500, "corrupt_record"),
    errors.InvalidTransitionError: (409, "invalid_transition"),
    errors.JobFailed: (409, "job_failed"),
    errors.JobTimeout: (504, "timeout"),
    errors.RedisUnavailableError: (503, "unavailable"),
    errors.StorageError: (503, "storage_unavailable"),
    errors.AuthenticationError: (401, "unauthenticated"),
    errors.PermissionDeniedError: (403, "forbidden"),
    errors.RateLimitExceeded: (429, "rate_limited"),
    errors.UnsupportedOperationError: (400, "unsupported"),
    errors.ProcessingError: (500, "processing_error"),
}


class ApiError(Exception):
    """An HTTP-only refusal with no SDK counterpart (a body too large, a bad upload)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"success": False, "error": error}


def status_of(exc: errors.EduscribeError) -> tuple[int, str]:
    """The HTTP status and error code ``exc`` leaves as."""
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return ERROR_STATUS[errors.EduscribeError]


def _respond(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _eduscribe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.EduscribeError)
    status, code = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimitExceeded):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s + 0.499)))
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    field = getattr(exc, "field", None)
    return _respond(status, error_body(code, str(exc), field if isinstance(field, str) else None), headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _respond(exc.status, error_body(exc.code, exc.message, exc.field), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {}
    # ("body", "inputData", "content") -> "inputData.content"; the location kind is dropped.
    location = [str(part) for part in first.get("loc", ())[1:]]
    field = ".".join(location) or None
    if first.get("type") == "json_invalid":
        return _respond(400, error_body("bad_request", "the request body is not valid JSON"))
    message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg", "invalid request"))
    return _respond(422, error_body("invalid_input", message, field))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {401: "unauthenticated", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    code = codes.get(exc.status_code, "error")
    return _respond(exc.status_code, error_body(code, str(exc.detail)), dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _respond(500, error_body("internal_error", "the server failed; the error is in its log"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.EduscribeError, _eduscribe_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
