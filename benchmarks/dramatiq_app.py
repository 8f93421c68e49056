"""Raw Dramatiq baseline: stock ``RedisBroker``, default middleware, no-op actors.

``dramatiq benchmarks.dramatiq_app --processes N --threads 8`` with ``BENCH_REDIS_URL`` set.
"""

from __future__ import annotations

import os
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from benchmarks.noop import hold

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
LATENCY_KEY = "bench:latency"
#: Set by the benchmark to release every sleeper at once.
STOP_KEY = "bench:stop"

broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
_results = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name="bench", max_retries=0)
def noop() -> None:
    pass


@dramatiq.actor(queue_name="bench", max_retries=0)
def probe(sent: float) -> None:
    # Measured first thing in the actor: the time the message waited to start.
    waited = time.time() - sent
    _results.rpush(LATENCY_KEY, f"{waited:.6f}")


@dramatiq.actor(queue_name="bench", max_retries=0, time_limit=3_600_000)
def sleeper(seconds: float) -> None:
    hold(seconds, stop=lambda: _results.exists(STOP_KEY))
