"""Users and API keys: tiers and keys are an admin's (a user key gets 403 ``forbidden``);
``GET /api/me`` tells any key who it is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ..deps import Admin, Caller, ServerClient
from ..errors import ApiError
from ..models import (
    ApiKeyOut,
    CreateKeyRequest,
    CreateKeyResponse,
    ErrorResponse,
    KeyListResponse,
    KeyRevokedResponse,
    MeResponse,
    TierRequest,
    UsersResponse,
    UserTier,
    UserTierResponse,
)
from .jobs import api_fields

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 422, 429, 503)
}

router = APIRouter(prefix="/api", tags=["users and keys"], responses=_ERRORS)

UserId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/me", summary="Who this key is")
def me(principal: Caller, client: ServerClient) -> MeResponse:
    return MeResponse(
        userId=principal.user_id,
        tier=client.user_tier(principal.user_id),
        admin=principal.admin,
        keyId=principal.key_id,
    )


@router.put("/users/{user_id}/tier", summary="Set a user's tier (admin)")
def set_tier(user_id: UserId, body: TierRequest, principal: Admin, client: ServerClient) -> UserTierResponse:
    """The tier fixes the highest priority the user's jobs may have; it applies to new jobs."""
    with api_fields():
        client.set_user_tier(user_id, body.tier)
    return UserTierResponse(userId=user_id, tier=client.user_tier(user_id))


@router.get("/users", summary="Users with a tier (admin)")
def list_users(principal: Admin, client: ServerClient) -> UsersResponse:
    tiers = client.user_tiers()
    return UsersResponse(users=[UserTier(userId=u, tier=t) for u, t in sorted(tiers.items())])


@router.post("/keys", status_code=201, summary="Create an API key (admin)")
def create_key(body: CreateKeyRequest, principal: Admin, client: ServerClient) -> CreateKeyResponse:
    """The key is in this response only: it is stored hashed."""
    with api_fields({"user_id": "userId"}):
        key, info = client.api_keys.create(body.userId, admin=body.admin, name=body.name)
    return CreateKeyResponse(key=key, apiKey=ApiKeyOut.of(info))


@router.get("/keys", summary="List API keys (admin)")
def list_keys(principal: Admin, client: ServerClient, user: str | None = None) -> KeyListResponse:
    """Ids, owners and names, never the keys themselves."""
    with api_fields({"user_id": "user"}):
        keys = client.api_keys.list(user)
    return KeyListResponse(keys=[ApiKeyOut.of(k) for k in keys])


@router.delete("/keys/{key_id}", summary="Revoke an API key (admin)")
def revoke_key(
    key_id: Annotated[str, Path(min_length=1, max_length=200)], principal: Admin, client: ServerClient
) -> KeyRevokedResponse:
    """Takes effect on the key's next request."""
    with api_fields():
        revoked = client.api_keys.revoke(key_id)
    if not revoked:
        raise ApiError(404, "not_found", f"no API key with id {key_id!r}")
    return KeyRevokedResponse(keyId=key_id)
