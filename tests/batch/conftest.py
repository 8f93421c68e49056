"""Fixtures for the batch runner tests: a CliRunner, CSV writers, and a store inspector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner, Result

from batch.cli import main
from eduscribe_sdk._keys import Keys

EXAMPLES = Path(__file__).resolve().parents[2] / "batch" / "examples"


@pytest.fixture(autouse=True)
def batch_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ambient deployment, LLM or home directory; short retry back-off."""
    for name in ("EDUSCRIBE_REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDUSCRIBE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKER_RETRY_DELAY", "50")
    monkeypatch.chdir(tmp_path)


Invoke = Callable[..., Result]


@pytest.fixture
def cli() -> Invoke:
    """``cli("run", "course.csv", ...)``: the command's result, exceptions kept for the assert."""

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a CSV (text, or raw bytes) into ``tmp_path/course`` and return its path."""

    def write(content: str | bytes, name: str = "course.csv") -> Path:
        folder = tmp_path / "course"
        folder.mkdir(exist_ok=True)
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def nothing_enqueued(raw_redis: redis.Redis) -> Callable[[], None]:
    """Asserts that no job and no batch exists in the test Redis."""
    keys = Keys()

    def check() -> None:
        assert raw_redis.zcard(keys.index_all) == 0
        assert raw_redis.zcard(keys.batches) == 0
        assert list(raw_redis.scan_iter(match=keys.job("*"))) == []

    return check
