"""Queue overhead: no-op jobs per second through EduScribe, raw Dramatiq, Celery and RQ.

Every system runs on the same redis-server (one database each, emptied first), with its
workers as subprocesses started the way an operator would start them, 8 threads per
process. Timing runs from the first enqueue to the moment the benchmark sees the last job
finished, after a warm-up batch proved every worker process ready. The producer enqueues
with each system's own fast path (EduScribe ``create_jobs``, RQ ``enqueue_many``; Dramatiq
and Celery have no bulk send, so one message at a time).

How completion is seen, without adding work to the jobs:
EduScribe ``ZCARD`` of the completed index; Dramatiq ``HLEN`` of the queue's message hash
(a message leaves it when acknowledged after running); Celery ``LLEN`` of the queue plus
``HLEN`` of kombu's unacked hash, with late acks; RQ the finished-job registry.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from ._report import Row, ratio
from ._servers import REPO, RedisServer, WorkerProcesses, flush, python_tool, wait_until

THREADS = 8
NOOP_PROCESSOR = "text_notes=benchmarks.noop:noop"
#: ``BENCH_QUEUE_JOB=text``: EduScribe's workers run the real text_notes processor (offline
#: notes of a short paragraph) instead of the no-op, so the per-job cost of a real processor
#: (for instance its child process) shows; the other systems still run their no-ops.
TEXT_JOB = os.environ.get("BENCH_QUEUE_JOB", "noop") == "text"
TEXT_CONTENT = (
    "Photosynthesis converts light energy into chemical energy. Chlorophyll absorbs light in the "
    "chloroplasts. The Calvin cycle fixes carbon dioxide into sugars, and oxygen is released."
)
DB = {"eduscribe": 0, "dramatiq": 1, "celery": 2, "rq": 3}


@dataclass(frozen=True)
class Throughput:
    system: str
    processes: int
    threads: int
    jobs: int
    seconds: float
    #: CPU the Redis server used during the timed run (systems run one at a time).
    redis_cpu_s: float = 0.0

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.seconds

    @property
    def redis_us_per_job(self) -> float:
        return self.redis_cpu_s / self.jobs * 1e6


def _measure(
    server: RedisServer,
    system: str,
    processes: int,
    threads: int,
    jobs: int,
    workers: WorkerProcesses,
    ready: Callable[[], bool],
    enqueue: Callable[[int], None],
    done: Callable[[], bool],
    timeout: float,
) -> Throughput:
    with workers:
        wait_until(
            lambda: workers.check_alive() or ready(), timeout=60, what=f"{system} workers", interval=0.05
        )
        # Warm-up: imports, connections and first-call costs stay out of the timed run.
        enqueue(4 * THREADS * processes)
        wait_until(done, timeout=60, what=f"{system} warm-up")
        cpu = server.cpu_seconds()
        began = time.perf_counter()
        enqueue(jobs)
        finished = wait_until(lambda: workers.check_alive() or done(), timeout=timeout, what=f"{system} jobs")
        cpu = server.cpu_seconds() - cpu
    return Throughput(system, processes, threads, jobs, finished - began, cpu)


def eduscribe(
    server: RedisServer,
    processes: int,
    jobs: int,
    timeout: float,
    *,
    tree: Path | None = None,
    system: str = "eduscribe",
) -> Throughput:
    """EduScribe's workers from this checkout, or from the source tree ``tree`` (another
    version, to compare two versions side by side: same server, same producer)."""
    from eduscribe_sdk import Client, Settings

    url = server.url(DB["eduscribe"])
    flush(url)
    env = {
        "EDUSCRIBE_REDIS_URL": url,
        "WORKER_MAX_CONCURRENT_JOBS": str(THREADS),
        **({} if TEXT_JOB else {"EDUSCRIBE_PROCESSORS": NOOP_PROCESSOR}),
    }
    # Workers start in the tree whose code they run: dramatiq puts its folder first on sys.path.
    tree = tree or REPO
    command = [
        *python_tool("dramatiq"), "eduscribe_sdk.actors",
        "--processes", str(processes), "--threads", str(THREADS),
    ]  # fmt: skip
    with Client(url, user_id="bench", workers=0, settings=Settings()) as client:
        store = client._store
        expected = 0

        def enqueue(n: int) -> None:
            nonlocal expected
            tag = uuid.uuid4().hex[:8]
            content = TEXT_CONTENT if TEXT_JOB else "noop"
            job = {"content": content}
            specs = [client.prepare_job("text_notes", job, id=f"{tag}-{i}") for i in range(n)]
            client.create_jobs(specs)
            expected += n

        return _measure(
            server,
            system,
            processes,
            THREADS,
            jobs,
            WorkerProcesses([command], env, cwd=tree),
            ready=lambda: len(store.workers()) >= processes,
            enqueue=enqueue,
            done=lambda: store.count(status="completed") >= expected,
            timeout=timeout,
        )


def raw_dramatiq(server: RedisServer, processes: int, jobs: int, timeout: float) -> Throughput:
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.message import Message

    url = server.url(DB["dramatiq"])
    flush(url)
    broker = RedisBroker(url=url)
    conn = redis.Redis.from_url(url)
    command = [
        *python_tool("dramatiq"), "benchmarks.dramatiq_app",
        "--processes", str(processes), "--threads", str(THREADS), "--queues", "bench",
    ]  # fmt: skip

    def enqueue(n: int) -> None:
        for _ in range(n):
            broker.enqueue(Message(queue_name="bench", actor_name="noop", args=(), kwargs={}, options={}))

    try:
        return _measure(
            server,
            "dramatiq",
            processes,
            THREADS,
            jobs,
            WorkerProcesses([command], {"BENCH_REDIS_URL": url}),
            # Each worker process writes one heartbeat entry once its consumers fetch.
            ready=lambda: conn.zcard("dramatiq:__heartbeats__") >= processes,
            enqueue=enqueue,
            done=lambda: conn.hlen("dramatiq:bench.msgs") == 0,
            timeout=timeout,
        )
    finally:
        broker.close()
        conn.close()


def celery(server: RedisServer, processes: int, jobs: int, timeout: float) -> Throughput:
    from celery import Celery

    url = server.url(DB["celery"])
    flush(url)
    app = Celery("bench-producer", broker=url)
    app.conf.update(task_default_queue="bench", task_ignore_result=True)
    conn = redis.Redis.from_url(url)
    commands = [
        [
            *python_tool("celery"),
            "-A",
            "benchmarks.celery_app",
            "worker",
            "--pool",
            "threads",
            "-c",
            str(THREADS),
            "-n",
            f"w{i}-{uuid.uuid4().hex[:6]}@%h",
            "-Q",
            "bench",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ]
        for i in range(processes)
    ]
    empty_since: list[float] = []

    def done() -> bool:
        # A message popped from the list is added to the unacked hash a moment later: the
        # state "both empty" must last a little while to mean "all ran".
        if conn.llen("bench") or conn.hlen("unacked"):
            empty_since.clear()
            return False
        if not empty_since:
            empty_since.append(time.perf_counter())
        return time.perf_counter() - empty_since[0] > 0.02

    def enqueue(n: int) -> None:
        empty_since.clear()
        with app.producer_or_acquire() as producer:
            for _ in range(n):
                app.send_task("bench.noop", queue="bench", producer=producer)

    def ready() -> bool:
        return len(app.control.ping(timeout=0.5) or []) >= processes

    try:
        result = _measure(
            server,
            "celery",
            processes,
            THREADS,
            jobs,
            WorkerProcesses(commands, {"BENCH_REDIS_URL": url}),
            ready=ready,
            enqueue=enqueue,
            done=done,
            timeout=timeout,
        )
        # The last check waited 20 ms on purpose; that wait is not Celery's.
        return Throughput(result.system, processes, THREADS, jobs, result.seconds - 0.02, result.redis_cpu_s)
    finally:
        conn.close()
        app.close()


def rq(server: RedisServer, processes: int, jobs: int, timeout: float) -> Throughput:
    from rq import Queue, Worker

    from .noop import rq_noop

    url = server.url(DB["rq"])
    flush(url)
    conn = redis.Redis.from_url(url)
    queue = Queue("bench", connection=conn)
    commands = [
        [
            *python_tool("rq"),
            "worker",
            "-w",
            "rq.worker.SimpleWorker",
            "-u",
            url,
            "-q",
            "--disable-job-desc-logging",
            "-n",
            f"w{i}-{uuid.uuid4().hex[:6]}",
            "bench",
        ]
        for i in range(processes)
    ]
    expected = 0

    def enqueue(n: int) -> None:
        nonlocal expected
        queue.enqueue_many([Queue.prepare_data(rq_noop) for _ in range(n)])
        expected += n

    try:
        return _measure(
            server,
            "rq",
            processes,
            1,
            jobs,
            WorkerProcesses(commands, {}),
            ready=lambda: Worker.count(connection=conn) >= processes,
            enqueue=enqueue,
            done=lambda: queue.finished_job_registry.count >= expected,
            timeout=timeout,
        )
    finally:
        conn.close()


SYSTEMS: dict[str, Callable[[RedisServer, int, int, float], Throughput]] = {
    "eduscribe": eduscribe,
    "dramatiq": raw_dramatiq,
    "celery": celery,
    "rq": rq,
}


def run(
    server: RedisServer,
    *,
    jobs: int = 5000,
    rq_jobs: int | None = None,
    process_counts: tuple[int, ...] = (1, 2),
    systems: tuple[str, ...] = tuple(SYSTEMS),
    rounds: int = 1,
    timeout: float = 300,
    trees: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """Jobs/s per system and process count; rows compare EduScribe with each baseline.

    With ``rounds`` > 1 the systems take turns, round after round, so that all of them see
    the same moments of a shared machine, and each one's best run counts (``timeit``'s rule:
    slower runs measure the machine, not the code). Every run is kept in ``runs``.
    ``trees`` ({label: source tree}) adds EduScribe's workers from other versions of the code
    as systems ``eduscribe@<label>``, taking turns with the others.
    """
    runners = dict(SYSTEMS)
    for label, tree in (trees or {}).items():
        runners[f"eduscribe@{label}"] = functools.partial(eduscribe, tree=tree, system=f"eduscribe@{label}")
    order = [*systems, *(f"eduscribe@{label}" for label in trees or {})]
    results: list[Throughput] = []
    for processes in process_counts:
        for _ in range(max(1, rounds)):
            for system in order:
                # RQ runs one job at a time per process: fewer jobs keep its run short.
                n = rq_jobs if system == "rq" and rq_jobs else jobs
                results.append(runners[system](server, processes, n, timeout))
    rows: list[Row] = []
    targets = {"dramatiq": 0.7, "celery": 2.0}
    for processes in process_counts:
        by: dict[str, Throughput] = {}
        for r in results:
            if r.processes == processes and (r.system not in by or r.jobs_per_s > by[r.system].jobs_per_s):
                by[r.system] = r
        ours = by.get("eduscribe")
        shape = f"{processes} proc x {THREADS} thr"
        if ours is None:
            continue
        rows.append(Row("queue", f"eduscribe no-op jobs/s, {shape}", ours.jobs_per_s, "jobs/s"))
        for name, other in by.items():
            if name == "eduscribe":
                continue
            r = ratio(ours.jobs_per_s, other.jobs_per_s)
            # Another version of EduScribe: this one must be no slower.
            goal = 1.0 if name.startswith("eduscribe@") else targets.get(name)
            other_shape = f"{processes} proc x 1 (SimpleWorker)" if name == "rq" else shape
            rows.append(
                Row(
                    "queue",
                    f"  vs {name} ({other_shape})",
                    ours.jobs_per_s,
                    "jobs/s",
                    baseline=name,
                    baseline_value=other.jobs_per_s,
                    ratio=r,
                    target=f">= {goal}x" if goal else "",
                    met=(r >= goal) if goal and r is not None else None,
                )
            )
    rows += _redis_cpu_rows(results, process_counts)
    return {
        "rows": [row.to_dict() for row in rows],
        "runs": [
            {**r.__dict__, "jobs_per_s": r.jobs_per_s, "redis_us_per_job": r.redis_us_per_job}
            for r in results
        ],
    }


def _redis_cpu_rows(results: list[Throughput], process_counts: tuple[int, ...]) -> list[Row]:
    """Redis CPU per job (the ceiling of a deployment with many workers), median of the
    rounds: EduScribe against the other versions measured and raw Dramatiq."""
    rows: list[Row] = []
    for processes in process_counts:
        per_system: dict[str, list[float]] = {}
        for r in results:
            if r.processes == processes:
                per_system.setdefault(r.system, []).append(r.redis_us_per_job)
        medians = {name: statistics.median(values) for name, values in per_system.items()}
        ours = medians.get("eduscribe")
        if ours is None:
            continue
        shape = f"{processes} proc x {THREADS} thr"
        rows.append(Row("queue", f"eduscribe Redis CPU per job, {shape}", ours, "us"))
        for name, value in medians.items():
            if name == "dramatiq" or name.startswith("eduscribe@"):
                rows.append(
                    Row(
                        "queue",
                        f"  vs {name}",
                        ours,
                        "us",
                        baseline=name,
                        baseline_value=value,
                        ratio=ratio(ours, value, lower_is_better=True),
                    )
                )
    return rows
