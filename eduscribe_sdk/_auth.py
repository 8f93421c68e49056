"""API keys for the web service: created, listed, revoked and checked through Redis.

A key is ``esk_<id>_<secret>``. Only the SHA-256 of the whole text is stored (``apikey.lua``),
so a copy of the database gives nobody a usable key; the ``id`` part is public and names the
key in listings and revocations. Each key belongs to one user, whose tier stays server-side,
or is an admin key. Checking a key and counting it against its rate limit are one call.

Anyone who can reach Redis can do everything (write records, set tiers, mint keys): direct
SDK access is for trusted operators. Users who must not raise their own tier or see others'
jobs reach EduScribe through ``eduscribe-server``, which checks their key on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._validation import check_flag, check_id, check_string
from .errors import AuthenticationError, RateLimitExceeded

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["ApiKey", "ApiKeys"]

_PREFIX = "esk_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What a key grants, never the key itself: shown in listings, returned by checks."""

    id: str
    user_id: str
    admin: bool
    created_at: datetime
    name: str | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _from_fields(fields: list[Any]) -> ApiKey:
    key_id, user_id, admin, created_at, name = fields[:5]
    return ApiKey(
        id=str(key_id),
        user_id=str(user_id),
        admin=admin == "1",
        created_at=datetime.fromtimestamp(float(created_at), tz=UTC),
        name=name or None,
    )


class ApiKeys:
    """``client.api_keys``: the web service's keys (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, user_id: str, *, admin: bool = False, name: str | None = None) -> tuple[str, ApiKey]:
        """A new key for ``user_id``; returns ``(key, info)``. The key is shown only now."""
        check_id(user_id, "user_id")
        check_flag(admin, "admin")
        if name is not None:
            check_string(name, "name", limit=200, allow_empty=True)
        key_id = secrets.token_hex(6)
        key = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        self._store.api_key_call(["create", _digest(key), key_id, user_id, "1" if admin else "0", name or ""])
        return key, ApiKey(key_id, user_id, admin, datetime.now(UTC), name or None)

    def revoke(self, key_id: str) -> bool:
        """Remove a key by its id; False if there was none. Takes effect on the next request."""
        return bool(self._store.api_key_call(["revoke", check_id(key_id, "key_id")]))

    def list(self, user_id: str | None = None) -> list[ApiKey]:
        """Every key (or ``user_id``'s), oldest first."""
        flat = self._store.api_key_call(["list", "" if user_id is None else check_id(user_id, "user_id")])
        keys = [_from_fields(flat[i : i + 5]) for i in range(0, len(flat), 5)]
        return sorted(keys, key=lambda k: (k.created_at, k.id))

    def authenticate(self, key: str | None, *, per_second: float = 0, burst: int = 1) -> ApiKey:
        """The key's grant, counting this use against its rate limit (``per_second`` requests a
        second on average, ``burst`` at once; 0 turns it off).

        Raises :class:`AuthenticationError` for a missing, malformed, unknown or revoked key,
        :class:`RateLimitExceeded` (with ``retry_after_s``) when the key is over its limit.
        """
        if not isinstance(key, str) or not key.startswith(_PREFIX) or len(key) > 200:
            raise AuthenticationError("missing or malformed API key (expected 'Bearer esk_...')")
        reply = self._store.api_key_call(["auth", _digest(key), f"{per_second:.6f}", str(max(1, burst))])
        if reply is None:
            raise AuthenticationError("unknown or revoked API key")
        wait_ms = int(reply[5])
        if wait_ms > 0:
            raise RateLimitExceeded(wait_ms / 1000)
        return _from_fields(reply)
