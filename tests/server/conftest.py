"""The service under test: ``eduscribe-server`` as a real subprocess (uvicorn on a free
loopback port) over the suite's Redis, called with a real HTTP client (httpx)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from eduscribe_sdk import Client, Settings
from eduscribe_sdk.testing import free_port
from tests.conftest import REPO, RedisServer


class ServerProcess:
    """``python -m eduscribe_server --redis URL --port P`` in its own process group."""

    def __init__(self, redis_url: str, home: Path, *, job_slots: int = 2, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        home.mkdir(parents=True, exist_ok=True)
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
def api_server(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server for the session; each test gets an emptied Redis (``api`` below)."""
    server = ServerProcess(redis_server.url, tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@dataclass
class Api:
    """A test's view of the service: an HTTP client and keys for two users and an admin."""

    url: str
    client: Client
    alice: str
    bob: str
    admin: str
    http: httpx.Client

    def as_(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}


@pytest.fixture
def api(api_server: ServerProcess, redis_url: str, fast_settings: Settings) -> Iterator[Api]:
    with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client:
        alice, _ = client.api_keys.create("alice")
        bob, _ = client.api_keys.create("bob")
        admin, _ = client.api_keys.create("ops", admin=True)
        with httpx.Client(base_url=api_server.url, timeout=30) as http:
            yield Api(api_server.url, client, alice, bob, admin, http)
