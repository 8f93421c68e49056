"""``/metrics``, ``/healthz`` and ``/readyz`` of the real server subprocess."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from eduscribe_sdk import Client, JobEvent, JobRecord, JobStatus, JobType, Priority, Settings
from eduscribe_server.metrics import JobMetrics
from tests.server.conftest import Api, ServerProcess
from tests.server.test_events import TEXT

WAIT = 30.0


def scrape(api: Api) -> dict[str, list[Sample]]:
    response = api.http.get("/metrics")  # no key: scrapers need none
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(found)


def test_metrics_gauges_and_a_duration_histogram(api: Api) -> None:
    before = scrape(api)
    durations = before.get("eduscribe_job_duration_seconds", [])
    done_before = value(durations, "eduscribe_job_duration_seconds_count", job_type="text_notes")
    job = api.client.create_job("text_notes", {"content": TEXT}, user_id="alice")
    queued = [api.client.create_job("text_notes", {"content": TEXT}, user_id="bob", priority="low")]
    api.client.wait(job.id, timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while True:
        families = scrape(api)
        durations = families["eduscribe_job_duration_seconds"]
        count = value(durations, "eduscribe_job_duration_seconds_count", job_type="text_notes")
        if count >= done_before + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert count >= done_before + 1, "the hub did not observe the completed job"
    buckets = [s for s in families["eduscribe_job_duration_seconds"] if s.name.endswith("_bucket")]
    assert {s.labels["le"] for s in buckets} >= {"1.0", "+Inf"}
    assert (
        value(
            families["eduscribe_job_wait_seconds"], "eduscribe_job_wait_seconds_count", job_type="text_notes"
        )
        >= 1
    )
    depth = families["eduscribe_queue_depth"]
    assert {s.labels["tier"] for s in depth} == {p.value for p in Priority}
    jobs = families["eduscribe_jobs"]
    assert value(jobs, "eduscribe_jobs", status="completed") >= 1
    assert {s.labels["status"] for s in jobs} == {s.value for s in JobStatus}
    assert value(families["eduscribe_redis_up"], "eduscribe_redis_up") == 1
    assert value(families["eduscribe_workers_live"], "eduscribe_workers_live") >= 1
    assert value(families["eduscribe_job_slots"], "eduscribe_job_slots") >= 1
    assert "eduscribe_job_slots_busy" in families
    assert queued


def test_failures_by_error_type_counted_from_events() -> None:
    registry = CollectorRegistry()
    metrics = JobMetrics(registry)
    now = datetime.now(UTC)
    record = JobRecord(
        id="j1",
        user_id="u",
        job_type=JobType.FILE_NOTES,
        status=JobStatus.FAILED,
        priority=Priority.NORMAL,
        input_data={},
        output_data=None,
        progress=10,
        error_message="no text",
        error_details={"type": "ExtractionError"},
        retry_count=0,
        max_retries=0,
        created_at=now - timedelta(seconds=3),
        started_at=now - timedelta(seconds=1),
        completed_at=now,
        updated_at=now,
        worker_id=None,
        estimated_duration_seconds=None,
        actual_duration_seconds=None,
        queue_position=None,
    )
    metrics.observe(JobEvent("1-0", "j1", "started", JobStatus.PROCESSING, 0, now), record)
    metrics.observe(JobEvent("2-0", "j1", "failed", JobStatus.FAILED, None, now), record)
    metrics.observe(JobEvent("3-0", "gone", "failed", JobStatus.FAILED, None, now), None)
    get = registry.get_sample_value
    assert (
        get("eduscribe_job_failures_total", {"job_type": "file_notes", "error_type": "ExtractionError"}) == 1
    )
    assert get("eduscribe_job_failures_total", {"job_type": "unknown", "error_type": "unknown"}) == 1
    assert get("eduscribe_jobs_finished_total", {"job_type": "file_notes", "status": "failed"}) == 1
    assert get("eduscribe_job_wait_seconds_sum", {"job_type": "file_notes"}) == 2.0


def test_healthz_and_readyz_without_then_with_a_worker(
    redis_url: str, fast_settings: Settings, tmp_path: Path
) -> None:
    # Its own database: the session's server has job slots heartbeating in the default one.
    url = redis_url.rsplit("/", 1)[0] + "/9"
    redis.Redis.from_url(url).flushdb()
    server = ServerProcess(url, tmp_path / "server", job_slots=0)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            not_ready = http.get("/readyz")
            assert not_ready.status_code == 503
            assert not_ready.json()["success"] is False
            assert not_ready.json()["error"]["code"] == "not_ready"
            assert "worker" in not_ready.json()["error"]["message"]
            with Client(url, workers=1, settings=fast_settings):
                deadline = time.monotonic() + WAIT
                while (ready := http.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert ready.status_code == 200 and ready.json()["status"] == "ready"
                assert ready.json()["workers"] == 1
    finally:
        server.stop()
