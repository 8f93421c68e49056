"""``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``. None of them takes an API key.

Two kinds of figures, on one registry per application:

* **Gauges read from Redis at scrape time** (:class:`QueueCollector`, through the SDK's
  ``client.stats()`` and ``client.workers()``): queue depth per tier, jobs by status and
  tier, live workers, job slots and busy slots. They are the deployment's, so any server
  process answering a scrape gives the same values.
* **Histograms and counters observed by this process's event hub** (:class:`JobMetrics`)
  from the events it reads: job duration and wait per job type, finished jobs, failures by
  error type. As is the Prometheus convention for counters, they count what this process saw
  since it started (several server processes each count every event: aggregate with ``max``
  rather than ``sum`` across processes of one deployment, or scrape one of them).

``/metrics`` is open like the probes: it holds counts only (no job, user or key ids) and a
scraper rarely carries a bearer token; keep it inside the deployment's network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from eduscribe_sdk import Client, EduscribeError, JobEvent, JobRecord, JobStatus

from .errors import ApiError

__all__ = ["JobMetrics", "QueueCollector", "install", "router"]

logger = logging.getLogger("eduscribe.server.metrics")

router = APIRouter(tags=["operations"])

#: Seconds; jobs range from a second (short text) to an hour (a long video).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
_STATUSES = [s.value for s in JobStatus]


class QueueCollector(Collector):
    """Gauges from Redis, read when Prometheus scrapes (never cached: one scrape, one read)."""

    def __init__(self, client: Client, hub_subscribers: Callable[[], int] | None = None) -> None:
        self.client = client
        self.hub_subscribers = hub_subscribers

    def describe(self) -> list[Metric]:
        return []  # registering must not read Redis; names are checked at scrape time

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("eduscribe_redis_up", "1 when this scrape could read Redis")
        try:
            stats = self.client.stats()
            workers = self.client.workers()
        except EduscribeError as exc:
            logger.warning("metrics: reading Redis failed: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("eduscribe_queue_depth", "Jobs waiting in a tier's queue", labels=["tier"])
        jobs = GaugeMetricFamily(
            "eduscribe_jobs", "Stored jobs by status and tier", labels=["status", "tier"]
        )
        for tier, row in stats.frame.iterrows():
            depth.add_metric([str(tier)], float(row["depth"]))
            for status in _STATUSES:
                jobs.add_metric([status, str(tier)], float(row[status]))
        yield depth
        yield jobs
        alive = workers[workers["alive"]] if len(workers) else workers
        yield GaugeMetricFamily(
            "eduscribe_workers_live", "Workers with a recent heartbeat", value=stats.workers
        )
        yield GaugeMetricFamily("eduscribe_job_slots", "Job slots of the live workers", value=stats.slots)
        busy = float(alive["jobs_in_flight"].sum()) if len(alive) else 0.0
        yield GaugeMetricFamily("eduscribe_job_slots_busy", "Jobs running on the live workers", value=busy)
        if self.hub_subscribers is not None:
            yield GaugeMetricFamily(
                "eduscribe_event_subscribers",
                "Open event streams (SSE and WebSocket) on this server process",
                value=float(self.hub_subscribers()),
            )


class JobMetrics:
    """Histograms and counters the event hub feeds (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            "eduscribe_job_duration_seconds",
            "Run time of completed jobs (start to completion), seen by this server process",
            ["job_type"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.wait = Histogram(
            "eduscribe_job_wait_seconds",
            "Creation to (latest) start of jobs, seen by this server process",
            ["job_type"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.finished = Counter(
            "eduscribe_jobs_finished",
            "Jobs that completed or failed, seen by this server process",
            ["job_type", "status"],
            registry=registry,
        )
        self.failures = Counter(
            "eduscribe_job_failures",
            "Jobs that failed for good, by error type, seen by this server process",
            ["job_type", "error_type"],
            registry=registry,
        )

    def observe(self, event: JobEvent, record: JobRecord | None) -> None:
        job_type = record.job_type.value if record else "unknown"
        if event.kind == "started" and record and record.started_at:
            self.wait.labels(job_type).observe(
                max(0.0, (record.started_at - record.created_at).total_seconds())
            )
        elif event.kind == "completed":
            self.finished.labels(job_type, "completed").inc()
            seconds = record.actual_duration_seconds if record else None
            if seconds is None and record and record.started_at and record.completed_at:
                seconds = (record.completed_at - record.started_at).total_seconds()
            if seconds is not None:
                self.duration.labels(job_type).observe(max(0.0, seconds))
        elif event.kind == "failed":
            self.finished.labels(job_type, "failed").inc()
            details = (record.error_details if record else None) or {}
            error_type = details.get("type") if isinstance(details.get("type"), str) else "unknown"
            self.failures.labels(job_type, error_type).inc()


def install(app: FastAPI) -> JobMetrics:
    """The application's registry (gauges from Redis, the hub's observations); returns what
    the hub reports to."""
    registry = CollectorRegistry(auto_describe=False)

    def subscribers() -> int:
        hub = getattr(app.state, "hub", None)
        return hub.subscribers if hub is not None else 0

    registry.register(QueueCollector(app.state.client, subscribers))
    app.state.metrics_registry = registry
    observer = JobMetrics(registry)
    app.state.job_metrics = observer
    return observer


@router.get("/metrics", summary="Prometheus metrics (no API key)", response_class=Response)
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="The process is up (no API key)")
async def healthz() -> dict[str, str]:
    # async: it reads nothing, so it answers on the event loop without a thread-pool hop.
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Redis reachable and at least one live worker (no API key)",
    responses={503: {"description": "Not ready; the error says what is missing"}},
)
def readyz(request: Request) -> dict[str, Any]:
    client: Client = request.app.state.client
    try:
        stats = client.stats()
    except EduscribeError as exc:
        raise ApiError(503, "not_ready", f"Redis is not reachable: {exc}") from None
    if stats.workers == 0:
        raise ApiError(503, "not_ready", "no live worker: jobs would wait until one starts")
    return {"status": "ready", "workers": stats.workers, "slots": stats.slots}
