"""Fixtures for the blob store tests: a real S3-compatible server (moto) on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eduscribe_sdk.testing import free_port
from tests.conftest import REPO

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server in this process, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_url(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh bucket on the moto server, as an EDUSCRIBE_BLOB_URL."""
    import boto3

    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    bucket = "eduscribe-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/inputs?endpoint_url={moto_endpoint}&region=us-east-1"


def s3_keys(url: str) -> list[str]:
    from urllib.parse import parse_qs, urlsplit

    import boto3

    parts = urlsplit(url)
    endpoint = parse_qs(parts.query)["endpoint_url"][0]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    reply = client.list_objects_v2(Bucket=parts.hostname)
    return [item["Key"] for item in reply.get("Contents", [])]


@pytest.fixture
def elsewhere_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """``dramatiq eduscribe_sdk.actors`` as "another machine": its own HOME, EDUSCRIBE_HOME and
    working directory, sharing only Redis and the blob store with the client."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(redis_url: str, blob_url: str, **extra: str) -> subprocess.Popen[bytes]:
        home = tmp_path / "other-machine"
        (home / "cwd").mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_", "AWS_"))},
            "HOME": str(home),
            "EDUSCRIBE_HOME": str(home / ".eduscribe"),
            "EDUSCRIBE_REDIS_URL": redis_url,
            "EDUSCRIBE_BLOB_URL": blob_url,
            "WORKER_MAX_CONCURRENT_JOBS": "1",
            "WORKER_ID": "elsewhere",
            "PYTHONPATH": str(REPO),
            **extra,
        }
        log = (home / "worker.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "eduscribe_sdk.actors", "--processes", "1", "--threads", "1"],
            cwd=home / "cwd",
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
