"""Celery baseline: Redis broker, threads pool, no-op tasks, no result backend.

``celery -A benchmarks.celery_app worker --pool threads -c 8`` with ``BENCH_REDIS_URL`` set.
Late acknowledgement makes "the queue and the unacked set are empty" mean "every task ran",
which is how the benchmark sees completion without adding work to the task.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

from benchmarks.noop import hold

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
LATENCY_KEY = "bench:latency"
#: Set by the benchmark to release every sleeper at once.
STOP_KEY = "bench:stop"
QUEUE = "bench"

app = Celery("bench", broker=URL)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_acks_late=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_send_task_events=False,
)
_results = redis.Redis.from_url(URL)


@app.task(name="bench.noop")
def noop() -> None:
    pass


@app.task(name="bench.probe")
def probe(sent: float) -> None:
    waited = time.time() - sent
    _results.rpush(LATENCY_KEY, f"{waited:.6f}")


@app.task(name="bench.sleeper")
def sleeper(seconds: float) -> None:
    hold(seconds, stop=lambda: _results.exists(STOP_KEY))
