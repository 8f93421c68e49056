"""``/api/jobs`` over HTTP against the real server: the seed's shapes, ownership, validation,
priority limits, cancel / retry, statistics."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.server.conftest import LECTURE, Api, assert_error

JOB_FIELDS = {
    "id", "user_id", "job_type", "status", "priority", "input_data", "output_data", "progress",
    "error_message", "error_details", "retry_count", "max_retries", "created_at", "started_at",
    "completed_at", "updated_at", "estimated_duration_seconds", "actual_duration_seconds",
    "depends_on", "title", "batch_id", "queuePosition", "estimatedWaitSeconds",
}  # fmt: skip


def utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, text  # type: ignore[union-attr]
    return parsed


def test_a_text_job_is_created_read_and_completes(api: Api) -> None:
    created = api.create(
        api.alice,
        {
            "jobType": "text_notes",
            "inputData": {"content": LECTURE},
            "estimatedDurationSeconds": 5,
            "title": "Bio",
        },
    )
    assert set(created) == {"success", "jobId", "status", "position", "message"}
    assert created["success"] is True and created["status"] in ("queued", "processing")
    response = api.http.get(f"/api/jobs/{created['jobId']}", headers=api.as_(api.alice))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and set(body["job"]) == JOB_FIELDS
    job = body["job"]
    assert job["user_id"] == "alice" and job["job_type"] == "text_notes" and job["title"] == "Bio"
    assert job["estimated_duration_seconds"] == 5 and job["priority"] == "low"  # alice is free
    utc(job["created_at"])
    done = api.wait(api.alice, created["jobId"])
    assert done["status"] == "completed", done
    assert "markdown" in done["output_data"] and done["progress"] == 100
    assert utc(done["completed_at"]) >= utc(done["started_at"]) >= utc(done["created_at"])
    assert done["queuePosition"] is None and done["estimatedWaitSeconds"] is None


def test_the_user_is_the_keys_never_the_bodys(api: Api) -> None:
    assert_error(
        api.http.post(
            "/api/jobs",
            json={"jobType": "text_notes", "inputData": {"content": "x"}, "userId": "bob"},
            headers=api.as_(api.alice),
        ),
        422,
        "invalid_input",
        "userId",
    )


def test_lists_page_and_show_only_the_callers_jobs(api: Api) -> None:
    mine = [api.text_job(api.alice, f"{LECTURE} ({i})") for i in range(3)]
    theirs = api.text_job(api.bob)
    page1 = api.http.get("/api/jobs", params={"limit": 2}, headers=api.as_(api.alice)).json()
    assert page1["success"] is True and page1["total"] == 3 and page1["pages"] == 2 and page1["page"] == 1
    page2 = api.http.get("/api/jobs", params={"limit": 2, "page": 2}, headers=api.as_(api.alice)).json()
    listed = [j["id"] for j in page1["jobs"] + page2["jobs"]]
    assert sorted(listed) == sorted(mine) and listed == mine[::-1]  # newest first
    assert all("output_data" not in j and j["user_id"] == "alice" for j in page1["jobs"])
    beyond = api.http.get("/api/jobs", params={"page": 9}, headers=api.as_(api.alice)).json()
    assert beyond["jobs"] == [] and beyond["total"] == 3
    everyone = api.http.get("/api/jobs", params={"limit": 100}, headers=api.as_(api.admin)).json()
    assert {j["id"] for j in everyone["jobs"]} == {*mine, theirs} and everyone["total"] == 4
    bobs = api.http.get("/api/jobs", params={"user": "bob"}, headers=api.as_(api.admin)).json()
    assert [j["id"] for j in bobs["jobs"]] == [theirs]
    assert_error(
        api.http.get("/api/jobs", params={"user": "bob"}, headers=api.as_(api.alice)), 403, "forbidden"
    )
    for job_id in mine:
        api.wait(api.alice, job_id)
    done = api.http.get("/api/jobs", params={"status": "completed"}, headers=api.as_(api.alice)).json()
    assert done["total"] == 3 and {j["status"] for j in done["jobs"]} == {"completed"}


def test_list_parameters_are_checked(api: Api) -> None:
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"status": "done"}, "status"),
    ]:
        assert_error(
            api.http.get("/api/jobs", params=params, headers=api.as_(api.alice)), 422, "invalid_input", field
        )


def test_another_users_job_is_not_found_anywhere(api: Api) -> None:
    secret = api.text_job(api.alice, title="alice's secret")
    bob = api.as_(api.bob)
    unknown = "0" * 16
    for job_id in (secret, unknown):
        assert_error(api.http.get(f"/api/jobs/{job_id}", headers=bob), 404, "not_found")
        assert_error(
            api.http.patch(f"/api/jobs/{job_id}", json={"action": "cancel"}, headers=bob), 404, "not_found"
        )
    other = api.http.get(f"/api/jobs/{secret}", headers=bob).json()["error"]["message"]
    missing = api.http.get(f"/api/jobs/{unknown}", headers=bob).json()["error"]["message"]
    assert other.replace(secret, "ID") == missing.replace(unknown, "ID")  # nothing tells them apart
    assert api.http.get("/api/jobs", headers=bob).json()["total"] == 0
    before = api.client.count_jobs()
    for job_id in (secret, unknown):
        body = {"jobType": "course_summary", "dependsOn": [job_id]}
        refused = assert_error(
            api.http.post("/api/jobs", json=body, headers=bob), 422, "unknown_dependency", "dependsOn"
        )
        assert refused["error"]["message"] == f"dependsOn: unknown job id(s): {job_id}"
    assert api.client.count_jobs() == before
    assert api.http.get(f"/api/jobs/{secret}", headers=api.as_(api.admin)).status_code == 200
    assert api.wait(api.alice, secret)["status"] == "completed"  # bob's PATCH did not cancel it


def test_cancel_retry_and_illegal_moves(idle: Api) -> None:
    alice = idle.as_(idle.alice)
    job_id = idle.text_job(idle.alice)

    def act(action: str) -> httpx.Response:
        return idle.http.patch(f"/api/jobs/{job_id}", json={"action": action}, headers=alice)

    cancelled = act("cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["success"] is True and cancelled.json()["job"]["status"] == "cancelled"
    assert_error(act("cancel"), 409, "invalid_transition")
    retried = act("retry")
    assert retried.status_code == 200 and retried.json()["job"]["status"] == "queued"
    assert retried.json()["job"]["queuePosition"] == 0
    assert_error(act("retry"), 409, "invalid_transition")
    assert_error(act("delete"), 422, "invalid_input", "action")
    assert_error(
        idle.http.patch(f"/api/jobs/{job_id}", json={}, headers=alice), 422, "invalid_input", "action"
    )


def test_a_completed_job_cannot_be_cancelled_or_retried(api: Api) -> None:
    job_id = api.text_job(api.alice)
    api.wait(api.alice, job_id)
    for action in ("cancel", "retry"):
        response = api.http.patch(f"/api/jobs/{job_id}", json={"action": action}, headers=api.as_(api.alice))
        assert_error(response, 409, "invalid_transition")


def test_a_priority_above_the_tier_is_refused_and_nothing_is_created(api: Api) -> None:
    body = {"jobType": "text_notes", "inputData": {"content": LECTURE}}
    before = api.client.count_jobs()
    refused = api.http.post("/api/jobs", json={**body, "priority": "urgent"}, headers=api.as_(api.alice))
    assert_error(refused, 403, "priority_not_allowed", "priority")
    assert api.client.count_jobs() == before
    assert api.create(api.alice, {**body, "priority": "low"})["success"]
    tier = api.http.put("/api/users/alice/tier", json={"tier": "premium"}, headers=api.as_(api.admin))
    assert tier.status_code == 200 and tier.json() == {"success": True, "userId": "alice", "tier": "premium"}
    high = api.create(api.alice, {**body, "priority": "high"})
    assert (
        api.http.get(f"/api/jobs/{high['jobId']}", headers=api.as_(api.alice)).json()["job"]["priority"]
        == "high"
    )
    assert_error(
        api.http.post("/api/jobs", json={**body, "priority": "urgent"}, headers=api.as_(api.alice)),
        403,
        "priority_not_allowed",
    )
    assert_error(
        api.http.post("/api/jobs", json={**body, "priority": "asap"}, headers=api.as_(api.alice)),
        422,
        "invalid_input",
        "priority",
    )
    assert api.client.count_jobs() == before + 2


def test_bad_job_requests_name_the_field_and_create_nothing(api: Api) -> None:
    alice = api.as_(api.alice)
    cases = [
        ({"inputData": {"content": "x"}}, "jobType"),
        ({"jobType": "poem", "inputData": {"content": "x"}}, "jobType"),
        ({"jobType": "text_notes", "inputData": {}}, "inputData.content"),
        ({"jobType": "text_notes", "inputData": {"content": ""}}, "inputData.content"),
        ({"jobType": "text_notes", "inputData": {"content": 5}}, "inputData.content"),
        ({"jobType": "text_notes", "inputData": {"content": "x", "colour": "red"}}, "inputData"),
        ({"jobType": "text_notes", "inputData": {"content": "x", "options": {"language": "english!"}}},
         "inputData.options.language"),
        ({"jobType": "text_notes", "inputData": {"content": "x", "options": {"generateQuiz": "yes"}}},
         "inputData.options.generateQuiz"),
        ({"jobType": "file_notes", "inputData": {"path": "/etc/passwd"}}, "inputData.path"),
        ({"jobType": "file_notes", "inputData": {"filePath": "/etc/passwd"}}, "inputData.filePath"),
        ({"jobType": "video_notes", "inputData": {"path": "/nonexistent.mp4"}}, "inputData.path"),
        ({"jobType": "file_notes", "inputData": {}}, "inputData.uploadId"),
        ({"jobType": "file_notes", "inputData": {"uploadId": "../../etc"}}, "inputData.uploadId"),
        ({"jobType": "file_notes", "inputData": {"uploadId": "a" * 32}}, "inputData.uploadId"),
        ({"jobType": "youtube_notes", "inputData": {"url": "https://example.com/x"}}, "inputData.url"),
        ({"jobType": "youtube_notes", "inputData": {}}, "inputData.youtubeUrl"),
        ({"jobType": "course_summary"}, "dependsOn"),
        ({"jobType": "text_notes", "inputData": {"content": "x"}, "title": "t" * 301}, "title"),
        ({"jobType": "text_notes", "inputData": {"content": "x"}, "estimatedDurationSeconds": -1},
         "estimatedDurationSeconds"),
        ({"jobType": "text_notes", "inputData": {"content": "x"}, "estimatedDurationSeconds": "5"},
         "estimatedDurationSeconds"),
        ({"jobType": "text_notes", "inputData": {"content": "x"}, "dependsOn": "abc"}, "dependsOn"),
        ({"jobType": "text_notes", "inputData": {"content": "x"}, "dependsOn": ["bad id\n"]}, "dependsOn"),
    ]  # fmt: skip
    before = api.client.count_jobs()
    for body, field in cases:
        response = api.http.post("/api/jobs", json=body, headers=alice)
        error = assert_error(response, 422, response.json()["error"]["code"], field)["error"]
        assert error["code"] in ("invalid_input", "unknown_dependency"), (body, error)
        assert error["message"].startswith(f"{field}"), (body, error)
        assert "Traceback" not in response.text
    assert api.client.count_jobs() == before


def test_malformed_bodies_are_400_or_422(api: Api) -> None:
    headers = {**api.as_(api.alice), "Content-Type": "application/json"}
    assert_error(api.http.post("/api/jobs", content=b'{"jobType": ', headers=headers), 400, "bad_request")
    assert_error(api.http.post("/api/jobs", content=b"[1, 2]", headers=headers), 422, "invalid_input")
    assert_error(api.http.post("/api/jobs", content=b"\xff\xfe", headers=headers), 400, "bad_request")
    assert_error(api.http.post("/api/jobs", headers=api.as_(api.alice)), 422, "invalid_input")


def test_youtube_and_course_summary_jobs_are_accepted(idle: Api) -> None:
    # On the server without job slots: the YouTube job never runs, so never reaches the network.
    video = idle.create(
        idle.alice, {"jobType": "youtube_notes", "inputData": {"url": "https://youtu.be/dQw4w9WgXcQ"}}
    )
    job = idle.http.get(f"/api/jobs/{video['jobId']}", headers=idle.as_(idle.alice)).json()["job"]
    assert job["status"] == "queued" and job["input_data"]["videoId"] == "dQw4w9WgXcQ"
    by_id = idle.create(idle.alice, {"jobType": "youtube_notes", "inputData": {"videoId": "dQw4w9WgXcQ"}})
    summary = idle.create(
        idle.alice,
        {"jobType": "course_summary", "dependsOn": [video["jobId"], by_id["jobId"]], "title": "Week 1"},
    )
    assert summary["status"] == "waiting" and summary["position"] is None
    assert summary["message"] == "Job waiting for 2 dependencies"


def test_a_course_summary_runs_after_its_dependencies(api: Api) -> None:
    first = api.text_job(api.alice)
    summary = api.create(api.alice, {"jobType": "course_summary", "dependsOn": [first], "title": "Week 1"})
    done = api.wait(api.alice, summary["jobId"])
    assert done["status"] == "completed" and done["depends_on"] == [first]


def test_queued_jobs_show_their_position_and_wait(idle: Api) -> None:
    jobs = [idle.text_job(idle.alice, f"{LECTURE} {i}") for i in range(3)]
    positions = []
    for job_id in jobs:
        job = idle.http.get(f"/api/jobs/{job_id}", headers=idle.as_(idle.alice)).json()["job"]
        assert job["status"] == "queued" and job["estimatedWaitSeconds"] is not None
        positions.append(job["queuePosition"])
    assert positions == [0, 1, 2]
    waits = [
        idle.http.get(f"/api/jobs/{j}", headers=idle.as_(idle.alice)).json()["job"]["estimatedWaitSeconds"]
        for j in jobs
    ]
    assert waits == sorted(waits) and waits[2] > 0
    listed = idle.http.get("/api/jobs", headers=idle.as_(idle.alice)).json()["jobs"]
    assert [j["queuePosition"] for j in listed] == [2, 1, 0]


def test_stats_count_the_queue_and_name_only_the_callers_jobs(api: Api) -> None:
    mine = api.text_job(api.alice, title="alice's notes")
    theirs = api.text_job(api.bob, title="bob's private title")
    for key, job_id in ((api.alice, mine), (api.bob, theirs)):
        api.wait(key, job_id)
    response = api.http.get("/api/jobs/stats", headers=api.as_(api.alice))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"success", "stats", "queue"}
    assert {
        "total_jobs",
        "queued_jobs",
        "processing_jobs",
        "completed_jobs",
        "failed_jobs",
        "avg_duration_seconds",
    } <= set(body["stats"])
    assert body["stats"]["total_jobs"] == 2 and body["stats"]["completed_jobs"] == 2
    assert body["stats"]["avg_duration_seconds"] > 0
    assert set(body["queue"]) == {"queuedCount", "processingCount", "estimatedWaitTimeSeconds", "recentJobs"}
    assert [j["id"] for j in body["queue"]["recentJobs"]] == [mine]
    assert "bob's private title" not in response.text
    admin = api.http.get("/api/jobs/stats", headers=api.as_(api.admin)).json()
    assert {j["id"] for j in admin["queue"]["recentJobs"]} == {mine, theirs}


def test_timestamps_are_utc(api: Api) -> None:
    job_id = api.text_job(api.alice)
    job = api.wait(api.alice, job_id)
    for name in ("created_at", "started_at", "completed_at", "updated_at"):
        utc(job[name])


def test_unknown_routes_and_methods_use_the_error_shape(api: Api) -> None:
    assert_error(api.http.delete("/api/jobs", headers=api.as_(api.alice)), 405, "method_not_allowed")
    assert_error(api.http.get("/api/nothing", headers=api.as_(api.alice)), 404, "not_found")
