"""Latency: a job sent to a worker → the job starts; and DAG release.

Workers of all systems (one process, 8 job slots each) run side by side on the same
redis-server; probes go to each system in turn, one at a time, each after the previous one
finished.

* idle: before each round of probes the workers have had nothing to do for ``IDLE_S``
  (long enough for a polling consumer to back off to its longest sleep).
* busy: 7 of the 8 slots are held by long jobs (sleeping in 20 ms steps; EduScribe's also
  report progress), so the probe gets the last free slot of a worker that is running jobs;
  probes follow each other after ``PAUSE_S``.
* DAG release (EduScribe only): a parent and a child that depends on it are created
  together; from the parent's completion to the child's start.

EduScribe figures come from the job record (``created_at`` → ``started_at``,
``completed_at`` → ``started_at``), all stamped by the Redis server's clock. Dramatiq and
Celery have no job record: the probe carries ``time.time()`` taken just before sending and
the task measures the wait as its first statement (same machine, same clock).
"""

from __future__ import annotations

import random
import time
import uuid
from contextlib import ExitStack
from typing import Any, Protocol

import redis

from ._report import Row, percentile, ratio
from ._servers import RedisServer, WorkerProcesses, flush, python_tool, wait_until
from .bench_queue import DB, NOOP_PROCESSOR, THREADS

BUSY_SLOTS = THREADS - 1
PAUSE_S = 0.02
IDLE_S = 1.0
LATENCY_KEY = "bench:latency"
STOP_KEY = "bench:stop"


class Probed(Protocol):
    name: str

    def start(self, stack: ExitStack) -> None: ...
    def probe(self) -> float: ...
    def occupy(self, slots: int) -> None: ...
    def release(self) -> None: ...


class EduScribe:
    name = "eduscribe"

    def __init__(self, server: RedisServer) -> None:
        self.url = server.url(DB["eduscribe"])

    def start(self, stack: ExitStack) -> None:
        from eduscribe_sdk import Client, Settings

        flush(self.url)
        env = {
            "EDUSCRIBE_REDIS_URL": self.url,
            "WORKER_MAX_CONCURRENT_JOBS": str(THREADS),
            "EDUSCRIBE_PROCESSORS": NOOP_PROCESSOR,
        }
        command = [
            *python_tool("dramatiq"),
            "eduscribe_sdk.actors",
            "--processes",
            "1",
            "--threads",
            str(THREADS),
        ]
        self.client = stack.enter_context(Client(self.url, user_id="bench", workers=0, settings=Settings()))
        stack.enter_context(WorkerProcesses([command], env))
        wait_until(lambda: self.client._store.workers(), timeout=60, what="eduscribe worker", interval=0.05)
        self.probe()
        self.sleepers: list[str] = []

    def probe(self) -> float:
        record = self.client.wait(self.client.create_job("text_notes", {"content": "probe"}).id, timeout=30)
        assert record.started_at is not None
        return (record.started_at - record.created_at).total_seconds()

    def occupy(self, slots: int) -> None:
        from eduscribe_sdk._models import JobStatus

        self.sleepers = [
            self.client.create_job("text_notes", {"content": "sleep:600"}).id for _ in range(slots)
        ]
        wait_until(
            lambda: self.client._store.count(status=JobStatus.PROCESSING) >= slots,
            timeout=30,
            what="busy slots",
        )

    def release(self) -> None:
        for job_id in self.sleepers:
            self.client.cancel(job_id)

    def dag_release(self) -> float:
        tag = uuid.uuid4().hex[:10]
        parent = self.client.prepare_job("text_notes", {"content": "parent"}, id=f"{tag}-p")
        child = self.client.prepare_job(
            "text_notes", {"content": "child"}, id=f"{tag}-c", depends_on=[parent.id]
        )
        self.client.create_jobs([parent, child])
        done_parent, done_child = self.client.wait_all([parent.id, child.id], timeout=30)
        assert done_parent.completed_at is not None and done_child.started_at is not None
        return (done_child.started_at - done_parent.completed_at).total_seconds()


class _Baseline:
    """A worker whose probe task pushes its own wait to a Redis list."""

    name = ""
    url = ""

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def send(self, task: str, args: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def start(self, stack: ExitStack) -> None:
        flush(self.url)
        self.conn = redis.Redis.from_url(self.url)
        stack.callback(self.conn.close)
        workers = stack.enter_context(WorkerProcesses([self.command()], {"BENCH_REDIS_URL": self.url}))
        wait_until(
            lambda: workers.check_alive() or self.ready(),
            timeout=60,
            what=f"{self.name} worker",
            interval=0.05,
        )
        self.probe()

    def probe(self) -> float:
        before = self.conn.llen(LATENCY_KEY)
        self.send("probe", (time.time(),))
        wait_until(
            lambda: self.conn.llen(LATENCY_KEY) > before,
            timeout=30,
            what=f"{self.name} probe",
            interval=0.0005,
        )
        return float(self.conn.lindex(LATENCY_KEY, -1))

    def occupy(self, slots: int) -> None:
        self.conn.delete(STOP_KEY)
        for _ in range(slots):
            self.send("sleeper", (600.0,))
        # Nothing tells when a sleeper started; half a second is plenty on an idle worker.
        time.sleep(0.5)

    def release(self) -> None:
        self.conn.set(STOP_KEY, "1")


class RawDramatiq(_Baseline):
    name = "dramatiq"

    def __init__(self, server: RedisServer) -> None:
        from dramatiq.brokers.redis import RedisBroker

        self.url = server.url(DB["dramatiq"])
        self.broker = RedisBroker(url=self.url)

    def command(self) -> list[str]:
        return [
            *python_tool("dramatiq"), "benchmarks.dramatiq_app",
            "--processes", "1", "--threads", str(THREADS), "--queues", "bench",
        ]  # fmt: skip

    def ready(self) -> bool:
        return bool(self.conn.zcard("dramatiq:__heartbeats__") >= 1)

    def send(self, task: str, args: tuple[Any, ...]) -> None:
        from dramatiq.message import Message

        self.broker.enqueue(Message(queue_name="bench", actor_name=task, args=args, kwargs={}, options={}))

    def start(self, stack: ExitStack) -> None:
        stack.callback(self.broker.close)
        super().start(stack)


class Celery(_Baseline):
    name = "celery"

    def __init__(self, server: RedisServer) -> None:
        from celery import Celery as App

        self.url = server.url(DB["celery"])
        self.app = App("bench-producer", broker=self.url)
        self.app.conf.update(task_default_queue="bench", task_ignore_result=True)

    def command(self) -> list[str]:
        return [
            *python_tool("celery"), "-A", "benchmarks.celery_app", "worker",
            "--pool", "threads", "-c", str(THREADS), "-n", f"lat-{uuid.uuid4().hex[:6]}@%h",
            "-Q", "bench", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "WARNING",
        ]  # fmt: skip

    def ready(self) -> bool:
        return len(self.app.control.ping(timeout=0.5) or []) >= 1

    def send(self, task: str, args: tuple[Any, ...]) -> None:
        self.app.send_task(f"bench.{task}", args=args, queue="bench")

    def start(self, stack: ExitStack) -> None:
        stack.callback(self.app.close)
        super().start(stack)


def _summary(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "n": len(ms)}


def measure(
    server: RedisServer, *, idle_probes: int, busy_probes: int, baselines: tuple[str, ...]
) -> dict[str, dict[str, dict[str, float]]]:
    classes: dict[str, type[RawDramatiq] | type[Celery]] = {"dramatiq": RawDramatiq, "celery": Celery}
    ours = EduScribe(server)
    systems: list[Probed] = [ours, *(classes[name](server) for name in baselines)]
    samples: dict[str, dict[str, list[float]]] = {s.name: {"idle": [], "busy": []} for s in systems}
    with ExitStack() as stack:
        for system in systems:
            system.start(stack)
        rng = random.Random(7)
        for _ in range(idle_probes):
            # Shuffled so that no system always probes right after another one woke Redis up.
            order = rng.sample(systems, len(systems))
            time.sleep(IDLE_S)
            for system in order:
                samples[system.name]["idle"].append(system.probe())
        for system in systems:
            system.occupy(BUSY_SLOTS)
        for _ in range(busy_probes):
            for system in rng.sample(systems, len(systems)):
                time.sleep(PAUSE_S)
                samples[system.name]["busy"].append(system.probe())
        for system in systems:
            system.release()
        dag = []
        for _ in range(busy_probes):
            time.sleep(PAUSE_S)
            dag.append(ours.dag_release())
    measured = {name: {case: _summary(v) for case, v in cases.items()} for name, cases in samples.items()}
    measured["eduscribe"]["dag_release"] = _summary(dag)
    return measured


def run(
    server: RedisServer,
    *,
    idle_probes: int = 60,
    busy_probes: int = 200,
    baselines: tuple[str, ...] = ("dramatiq", "celery"),
) -> dict[str, Any]:
    measured = measure(server, idle_probes=idle_probes, busy_probes=busy_probes, baselines=baselines)
    ours = measured["eduscribe"]
    rows: list[Row] = []
    for case, target in (("idle", 20.0), ("busy", None)):
        for q in ("p50", "p95"):
            value = ours[case][f"{q}_ms"]
            goal = target if q == "p50" else None
            rows.append(
                Row(
                    "latency",
                    f"enqueue->start, {case} worker, {q}",
                    value,
                    "ms",
                    target=f"< {goal:g} ms" if goal else "",
                    met=(value < goal) if goal else None,
                )
            )
            for name in baselines:
                base = measured[name][case][f"{q}_ms"]
                rows.append(
                    Row(
                        "latency",
                        f"  vs {name}",
                        value,
                        "ms",
                        baseline=name,
                        baseline_value=base,
                        ratio=ratio(value, base, lower_is_better=True),
                    )
                )
    for q, target in (("p50", 50.0), ("p95", None)):
        value = ours["dag_release"][f"{q}_ms"]
        rows.append(
            Row(
                "latency",
                f"DAG release (parent done->child start), {q}",
                value,
                "ms",
                target=f"< {target:g} ms" if target else "",
                met=(value < target) if target else None,
            )
        )
    return {"rows": [row.to_dict() for row in rows], "measured": measured}
