"""The server starts, answers in the JSON error shape, and refuses requests without a key."""

from __future__ import annotations

from tests.server.conftest import Api


def test_openapi_and_auth_refusal(api: Api) -> None:
    assert api.http.get("/openapi.json").json()["info"]["title"] == "EduScribe"
    missing = api.http.get("/no/such/route")
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "error": {"code": "not_found", "message": "Not Found"}}
