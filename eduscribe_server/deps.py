"""What a request handler may ask FastAPI for: the client, and who is calling.

``Principal`` is the caller as the API key says (``auth.py`` of the SDK checks the key and
its rate limit in one Redis call); handlers never see the key itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from eduscribe_sdk import Client, JobNotFoundError, JobRecord, PermissionDeniedError

__all__ = [
    "Admin",
    "Caller",
    "Principal",
    "ServerClient",
    "authenticate",
    "client_of",
    "own_job",
]

#: The user every request acts as when the server runs without keys (``--no-auth``).
LOCAL_USER = "local"

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer esk_...`")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (their own jobs only) or an admin (everything)."""

    user_id: str
    admin: bool
    key_id: str | None = None

    def may_see(self, record: JobRecord) -> bool:
        return self.admin or record.user_id == self.user_id


async def _client_dependency(request: Request) -> Client:
    # async: FastAPI runs a plain function dependency in the thread pool, a hop per request
    # for an attribute read.
    return client_of(request)


def client_of(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


def authenticate(client: Client, key: str | None) -> Principal:
    """The caller of ``key`` (raises AuthenticationError / RateLimitExceeded); also used by
    the WebSocket route, whose browsers cannot send an Authorization header."""
    settings = client.settings
    if not settings.api_auth:
        return Principal(LOCAL_USER, admin=True)
    granted = client.api_keys.authenticate(
        key, per_second=settings.api_rate_limit_per_s, burst=settings.api_rate_burst
    )
    return Principal(granted.user_id, admin=granted.admin, key_id=granted.id)


def _caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    return authenticate(client_of(request), credentials.credentials if credentials else None)


def _admin(principal: Annotated[Principal, Depends(_caller)]) -> Principal:
    if not principal.admin:
        raise PermissionDeniedError("this needs an admin key")
    return principal


ServerClient = Annotated[Client, Depends(_client_dependency)]
Caller = Annotated[Principal, Depends(_caller)]
Admin = Annotated[Principal, Depends(_admin)]


def own_job(client: Client, principal: Principal, job_id: str) -> JobRecord:
    """The job, if the caller may see it. Another user's job is "not found", exactly as a
    job that does not exist: a user learns nothing about others' ids."""
    record = client.get_job(job_id)
    if not principal.may_see(record):
        raise JobNotFoundError(job_id)
    return record
