"""``/api/worker``: the live workers for any key; pause / resume / drain / restart for admins
(through the SDK's controls)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.server.conftest import Api, assert_error


def test_workers_are_listed_for_any_key(api: Api) -> None:
    # Each test empties Redis: the session server's worker shows again at its next heartbeat.
    deadline = time.monotonic() + 15
    while True:
        response = api.http.get("/api/worker", headers=api.as_(api.alice))
        assert response.status_code == 200, response.text
        body = response.json()
        if any(w["slots"] for w in body["workers"]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert body["success"] is True and body["paused"] == []
    assert len(body["workers"]) == 1  # the session server's in-process job slots
    worker = body["workers"][0]
    assert set(worker) == {
        "id",
        "host",
        "pid",
        "slots",
        "startedAt",
        "lastHeartbeat",
        "jobsInFlight",
        "state",
    }
    assert worker["slots"] == 2 and worker["jobsInFlight"] == 0 and worker["state"] == "running"
    heartbeat = datetime.fromisoformat(worker["lastHeartbeat"].replace("Z", "+00:00"))
    assert (datetime.now(UTC) - heartbeat).total_seconds() < 30


def test_worker_actions_are_checked(idle: Api) -> None:
    admin = idle.as_(idle.admin)
    for body, field in [
        ({"action": "stop"}, "action"),
        ({}, "action"),
        ({"action": "pause", "workerId": "w1"}, "workerId"),
        ({"action": "drain", "queue": "free"}, "queue"),
        ({"action": "pause", "extra": 1}, "extra"),
    ]:
        assert_error(idle.http.post("/api/worker", json=body, headers=admin), 422, "invalid_input", field)
    assert_error(
        idle.http.post("/api/worker", json={"action": "pause"}, headers=idle.as_(idle.alice)),
        403,
        "forbidden",
    )


def test_pause_and_resume_a_tier(idle: Api) -> None:
    admin = idle.as_(idle.admin)
    paused = idle.http.post("/api/worker", json={"action": "pause", "queue": "free"}, headers=admin)
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] == ["low"]
    assert idle.http.get("/api/worker", headers=idle.as_(idle.alice)).json()["paused"] == ["low"]
    everything = idle.http.post("/api/worker", json={"action": "pause"}, headers=admin).json()["paused"]
    assert sorted(everything) == ["high", "low", "normal", "urgent"]
    resumed = idle.http.post("/api/worker", json={"action": "resume"}, headers=admin)
    assert resumed.json()["paused"] == []
    bad = idle.http.post("/api/worker", json={"action": "pause", "queue": "gold"}, headers=admin)
    assert_error(bad, 422, "invalid_input", "queue")


def test_drain_and_restart_ask_live_workers(idle: Api) -> None:
    admin = idle.as_(idle.admin)
    drained = idle.http.post("/api/worker", json={"action": "drain"}, headers=admin)
    assert drained.status_code == 200 and drained.json()["workersAsked"] == 0  # the idle server has none
    unknown = idle.http.post("/api/worker", json={"action": "restart", "workerId": "nobody:1"}, headers=admin)
    assert_error(unknown, 422, "invalid_input", "workerId")
