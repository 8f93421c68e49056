"""Admin endpoints: tiers and keys; an admin key sees and acts on every job."""

from __future__ import annotations

from tests.server.conftest import Api, assert_error


def test_tiers_are_set_and_listed(api: Api) -> None:
    admin = api.as_(api.admin)
    assert api.http.get("/api/users", headers=admin).json() == {"success": True, "users": []}
    for user, tier in (("alice", "enterprise"), ("bob", "basic")):
        response = api.http.put(f"/api/users/{user}/tier", json={"tier": tier}, headers=admin)
        assert response.status_code == 200 and response.json()["tier"] == tier
    users = api.http.get("/api/users", headers=admin).json()["users"]
    assert users == [{"userId": "alice", "tier": "enterprise"}, {"userId": "bob", "tier": "basic"}]
    assert api.http.get("/api/me", headers=api.as_(api.alice)).json()["tier"] == "enterprise"
    urgent = api.create(
        api.alice, {"jobType": "text_notes", "inputData": {"content": "x" * 50}, "priority": "urgent"}
    )
    assert urgent["success"]
    assert_error(
        api.http.put("/api/users/alice/tier", json={"tier": "gold"}, headers=admin),
        422,
        "invalid_input",
        "tier",
    )
    assert_error(api.http.put("/api/users/alice/tier", json={}, headers=admin), 422, "invalid_input", "tier")
    assert_error(
        api.http.put("/api/users/a%0Ab/tier", json={"tier": "free"}, headers=admin),
        422,
        "invalid_input",
        "user_id",
    )


def test_keys_are_created_once_listed_without_secrets_and_revoked(api: Api) -> None:
    admin = api.as_(api.admin)
    created = api.http.post("/api/keys", json={"userId": "carol", "name": "laptop"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["key"].startswith("esk_")
    assert (
        body["apiKey"]["userId"] == "carol"
        and body["apiKey"]["admin"] is False
        and body["apiKey"]["name"] == "laptop"
    )
    listed = api.http.get("/api/keys", headers=admin)
    assert body["key"] not in listed.text
    ids = {k["id"]: k for k in listed.json()["keys"]}
    assert body["apiKey"]["id"] in ids and len(ids) == 4  # alice, bob, ops, carol
    only_carol = api.http.get("/api/keys", params={"user": "carol"}, headers=admin).json()["keys"]
    assert [k["id"] for k in only_carol] == [body["apiKey"]["id"]]
    second_admin = api.http.post("/api/keys", json={"userId": "ops2", "admin": True}, headers=admin).json()
    assert api.http.get("/api/users", headers=api.as_(second_admin["key"])).status_code == 200
    assert api.http.delete(f"/api/keys/{body['apiKey']['id']}", headers=admin).status_code == 200
    assert_error(api.http.delete(f"/api/keys/{body['apiKey']['id']}", headers=admin), 404, "not_found")
    refusals: list[tuple[dict[str, object], str]] = [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": "x", "admin": "yes"}, "admin"),
        ({"userId": "bad\nid"}, "userId"),
        ({"userId": "x", "extra": 1}, "extra"),
    ]
    for bad, field in refusals:
        assert_error(api.http.post("/api/keys", json=bad, headers=admin), 422, "invalid_input", field)


def test_an_admin_sees_and_acts_on_every_job(idle: Api) -> None:
    job_id = idle.text_job(idle.alice)
    admin = idle.as_(idle.admin)
    assert idle.http.get(f"/api/jobs/{job_id}", headers=admin).json()["job"]["user_id"] == "alice"
    cancelled = idle.http.patch(f"/api/jobs/{job_id}", json={"action": "cancel"}, headers=admin)
    assert cancelled.json()["job"]["status"] == "cancelled"
    # An admin's own jobs are its own user's; it may depend on anyone's job.
    own = idle.create(idle.admin, {"jobType": "course_summary", "dependsOn": [job_id]})
    assert idle.http.get(f"/api/jobs/{own['jobId']}", headers=admin).json()["job"]["user_id"] == "ops"
    assert own["status"] == "skipped"
