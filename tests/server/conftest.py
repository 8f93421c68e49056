"""The service under test: ``eduscribe-server`` as a real subprocess (uvicorn on a free
loopback port) over the suite's Redis, called with a real HTTP client (httpx)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from eduscribe_sdk import Client, Settings
from eduscribe_sdk.testing import free_port
from tests.conftest import REPO, RedisServer

LECTURE = (
    "Photosynthesis converts light energy into chemical energy. Chlorophyll in the chloroplasts "
    "absorbs light, and the plant uses it to turn water and carbon dioxide into glucose and oxygen. "
    "The light-dependent reactions happen in the thylakoid membranes; the Calvin cycle fixes carbon "
    "in the stroma."
)


class ServerProcess:
    """``python -m eduscribe_server --redis URL --port P`` in its own process group."""

    def __init__(self, redis_url: str, home: Path, *, job_slots: int = 2, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        home.mkdir(parents=True, exist_ok=True)
        self.redis_url = redis_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "server.log"
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_", "OPENAI_"))},
            "EDUSCRIBE_HOME": str(home),
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        command = [sys.executable, "-m", "eduscribe_server", "--port", str(self.port)]
        if redis_url:
            command += ["--redis", redis_url]
        command += ["--job-slots", str(job_slots), *args]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"eduscribe-server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"eduscribe-server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session, on a Redis of its own: its job slots live until the session
    ends and must not take the jobs of tests that run after these. Each test gets that Redis
    emptied (``api`` below)."""
    redis_server = RedisServer(tmp_path_factory.mktemp("api-redis")).start()
    server = ServerProcess(redis_server.url, tmp_path_factory.mktemp("server"))
    yield server
    server.stop()
    redis_server.stop()


@dataclass
class Api:
    """A test's view of the service: an HTTP client and keys for two users and an admin."""

    url: str
    #: The Redis the server uses (extra servers for the same keys go on it too).
    redis_url: str
    client: Client
    alice: str
    bob: str
    admin: str
    http: httpx.Client

    def as_(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def create(self, key: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        """POST /api/jobs as ``key``, checking the status; the response body."""
        response = self.http.post("/api/jobs", json=body, headers=self.as_(key))
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def text_job(self, key: str, content: str = LECTURE, **extra: Any) -> str:
        return str(
            self.create(key, {"jobType": "text_notes", "inputData": {"content": content}, **extra})["jobId"]
        )

    def wait(self, key: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
        """The job once it finished (polls GET /api/jobs/{id})."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/api/jobs/{job_id}", headers=self.as_(key))
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()["job"]
            if job["status"] in ("completed", "failed", "cancelled", "skipped"):
                return job
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.1)


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is the one JSON error shape, with this status and code (and field)."""
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["success"] is False and set(body) == {"success", "error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert set(body["error"]) <= {"code", "message", "field"}, body
    if field is not None:
        assert body["error"].get("field") == field, body
    return body


@contextmanager
def _api_on(server: ServerProcess, settings: Settings) -> Iterator[Api]:
    """``server``'s Redis emptied, then keys for alice, bob and an admin, and an HTTP client."""
    flush = redis.Redis.from_url(server.redis_url)
    flush.flushall()
    flush.close()
    with Client(server.redis_url, user_id="tester", workers=0, settings=settings) as client:
        alice, _ = client.api_keys.create("alice")
        bob, _ = client.api_keys.create("bob")
        admin, _ = client.api_keys.create("ops", admin=True)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield Api(server.url, server.redis_url, client, alice, bob, admin, http)


@pytest.fixture
def api(api_server: ServerProcess, fast_settings: Settings) -> Iterator[Api]:
    with _api_on(api_server, fast_settings) as view:
        yield view


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers (own settings, own Redis...) that stop when the test ends."""
    started: list[ServerProcess] = []

    def start(redis_url: str, **kwargs: Any) -> ServerProcess:
        server = ServerProcess(redis_url, tmp_path / f"server{len(started)}", **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, ServerProcess]]:
    """A server with no job slots on a Redis of its own: jobs created there stay queued (no
    YouTube job reaches the network, a fuzzer's jobs never run)."""
    redis_server = RedisServer(tmp_path_factory.mktemp("idle-redis")).start()
    server = ServerProcess(redis_server.url, tmp_path_factory.mktemp("idle-server"), job_slots=0)
    yield redis_server, server
    server.stop()
    redis_server.stop()


@pytest.fixture
def idle(idle_server: tuple[RedisServer, ServerProcess], fast_settings: Settings) -> Iterator[Api]:
    with _api_on(idle_server[1], fast_settings) as view:
        yield view
