"""Keys: none, wrong, revoked; user keys on admin endpoints; the rate limit; Redis down."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import RedisServer
from tests.server.conftest import Api, ServerProcess, assert_error

#: Every endpoint, with a body that would be valid for an admin.
ENDPOINTS: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/api/jobs", None),
    ("POST", "/api/jobs", {"jobType": "text_notes", "inputData": {"content": "x"}}),
    ("GET", "/api/jobs/stats", None),
    ("GET", "/api/jobs/abc", None),
    ("PATCH", "/api/jobs/abc", {"action": "cancel"}),
    ("POST", "/api/uploads", None),
    ("GET", "/api/worker", None),
    ("POST", "/api/worker", {"action": "pause"}),
    ("GET", "/api/me", None),
    ("PUT", "/api/users/alice/tier", {"tier": "premium"}),
    ("GET", "/api/users", None),
    ("POST", "/api/keys", {"userId": "carol"}),
    ("GET", "/api/keys", None),
    ("DELETE", "/api/keys/abc", None),
]
ADMIN_ONLY = {
    ("POST", "/api/worker"),
    ("PUT", "/api/users/alice/tier"),
    ("GET", "/api/users"),
    ("POST", "/api/keys"),
    ("GET", "/api/keys"),
    ("DELETE", "/api/keys/abc"),
}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxpY2U6cHc="},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Bearer esk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrong00"},
    ],
)
def test_every_endpoint_needs_a_valid_key(api: Api, headers: dict[str, str]) -> None:
    for method, path, body in ENDPOINTS:
        response = api.http.request(method, path, json=body, headers=headers)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.client.count_jobs() == 0


def test_user_keys_are_refused_on_admin_endpoints(api: Api) -> None:
    for method, path, body in ENDPOINTS:
        if (method, path) in ADMIN_ONLY:
            response = api.http.request(method, path, json=body, headers=api.as_(api.alice))
            assert_error(response, 403, "forbidden")
    assert api.client.user_tier("alice").value == "free"
    assert [k.user_id for k in api.client.api_keys.list()].count("carol") == 0


def test_me_tells_a_key_who_it_is(api: Api) -> None:
    me = api.http.get("/api/me", headers=api.as_(api.alice)).json()
    assert me["success"] is True and me["userId"] == "alice" and me["tier"] == "free" and me["admin"] is False
    assert api.http.get("/api/me", headers=api.as_(api.admin)).json()["admin"] is True


def test_a_revoked_key_stops_working(api: Api) -> None:
    created = api.http.post("/api/keys", json={"userId": "carol"}, headers=api.as_(api.admin)).json()
    carol = created["key"]
    assert api.http.get("/api/me", headers=api.as_(carol)).json()["userId"] == "carol"
    revoked = api.http.delete(f"/api/keys/{created['apiKey']['id']}", headers=api.as_(api.admin))
    assert revoked.json() == {"success": True, "keyId": created["apiKey"]["id"]}
    assert_error(api.http.get("/api/me", headers=api.as_(carol)), 401, "unauthenticated")


def test_the_rate_limit_answers_429_with_retry_after(api: Api, servers: Callable[..., ServerProcess]) -> None:
    limited = servers(
        api.redis_url, job_slots=0, env={"EDUSCRIBE_API_RATE_LIMIT": "1", "EDUSCRIBE_API_RATE_BURST": "2"}
    )
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        answers = [http.get("/api/me", headers=api.as_(api.alice)) for _ in range(3)]
        assert [a.status_code for a in answers[:2]] == [200, 200]
        assert_error(answers[2], 429, "rate_limited")
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 2
        # Per key: bob is not slowed down by alice.
        assert http.get("/api/me", headers=api.as_(api.bob)).status_code == 200
        time.sleep(float(answers[2].headers["Retry-After"]))
        assert http.get("/api/me", headers=api.as_(api.alice)).status_code == 200


def test_redis_down_is_503(tmp_path: Path, api: Api, servers: Callable[..., ServerProcess]) -> None:
    own = RedisServer(tmp_path / "redis").start()
    try:
        server = servers(own.url, job_slots=0)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert_error(http.get("/api/me", headers=api.as_(api.alice)), 401, "unauthenticated")
            own.stop()
            down = http.get("/api/jobs", headers=api.as_(api.alice))
            assert_error(down, 503, "unavailable")
            assert "Traceback" not in down.text
    finally:
        own.stop()
