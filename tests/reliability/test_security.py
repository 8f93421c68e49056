"""Secrets: a password-protected Redis works, and no secret leaks into text anyone can see.

"Anyone can see": str/repr of SDK objects, exception messages, job records, the pandas
views, log records (in-process and a worker process's log file).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from eduscribe_sdk import Client, JobStatus, Settings
from eduscribe_sdk._config import mask_url
from eduscribe_sdk.errors import EduscribeError, JobFailed, RedisUnavailableError
from tests.conftest import RedisServer, free_port
from tests.core.jobs import OVERRIDES, plan
from tests.reliability.conftest import WorkerProcess

PASSWORD = "Tr0ub4dor-and-3-horses"
API_KEY = "sk-test-DO-NOT-LEAK-0123456789abcdef"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("secured"), password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def secret_settings(fast_settings: Settings) -> Settings:
    # Scripted jobs, so the API key configured here is never used to call anyone.
    return replace(fast_settings, openai_api_key=API_KEY, processor_overrides=OVERRIDES)


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        rendered = str(text)
        assert PASSWORD not in rendered, f"Redis password leaked: {rendered[:300]}"
        assert API_KEY not in rendered, f"API key leaked: {rendered[:300]}"


def test_mask_url_hides_the_password_and_keeps_the_rest() -> None:
    assert mask_url(f"redis://:{PASSWORD}@db.internal:6380/2") == "redis://:***@db.internal:6380/2"
    assert mask_url(f"rediss://app:{PASSWORD}@db.internal/0") == "rediss://app:***@db.internal/0"
    assert mask_url("redis://db.internal:6379/0") == "redis://db.internal:6379/0"
    assert mask_url("unix:///run/redis.sock?db=1") == "unix:///run/redis.sock?db=1"


def test_settings_repr_never_shows_the_redis_url_or_the_api_key() -> None:
    settings = Settings.from_env(
        {"EDUSCRIBE_REDIS_URL": f"redis://:{PASSWORD}@db:6379/0", "OPENAI_API_KEY": API_KEY}
    )
    assert settings.redis_url and settings.openai_api_key == API_KEY
    assert_no_secret(repr(settings), str(settings))


def test_password_protected_redis_serves_the_client_and_a_worker_process(
    secured: RedisServer,
    secret_settings: Settings,
    spawn_worker: Callable[..., WorkerProcess],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secured_url = secured.url
    with Client(secured_url, user_id="tester", workers=1, settings=secret_settings) as client:
        client._store.redis.flushdb()
        worker = spawn_worker(url=secured_url, threads=1, name="secured")
        # Given: completed, failed and retried jobs on in-process and worker-process slots
        done = [client.create_job("text_notes", plan(sleep=0.2)) for _ in range(4)]
        failed = client.create_job("text_notes", plan(fail="permanent"))
        crashed = client.create_job("text_notes", plan(crash=True), max_retries=1)
        records = client.wait_all([j.id for j in [*done, failed, crashed]], timeout=60)
        assert [r.status for r in records] == [JobStatus.COMPLETED] * 4 + [JobStatus.FAILED] * 2
        assert any(worker.owns(r.worker_id) for r in records), "the worker process took jobs"
        with pytest.raises(JobFailed) as job_failed:
            client.wait(failed.id, timeout=5)

        # Then: no secret in anything a user, a notebook or a log shows
        assert_no_secret(
            repr(client),
            client.url,
            repr(client.settings),
            repr(client._store.settings),
            job_failed.value,
            *(repr(r) for r in records),
            *(r.to_dict() for r in records),
            client.jobs_frame().to_string(),
            client.jobs_frame(notes=True).to_string(),
            client.stats_frame().to_string(),
            client.workers().to_string(),
            client.stats().totals,
            client.stats().queue,
            caplog.text,
        )
        worker.stop()
        assert_no_secret(worker.log.read_text(errors="replace"))


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda s: s.url.replace(PASSWORD, "not-the-password"), "invalid username-password"),
        (lambda s: s.url.replace(f":{PASSWORD}@", ""), "authentication required"),
        (lambda s: f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0", "not reachable"),
    ],
    ids=["wrong-password", "no-password", "nothing-listening"],
)
def test_bad_credentials_or_address_give_a_clear_error_without_the_secret(
    secured: RedisServer,
    secret_settings: Settings,
    make_url: Callable[[RedisServer], str],
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(RedisUnavailableError) as caught:
        Client(make_url(secured), user_id="tester", workers=1, settings=secret_settings)
    assert time.monotonic() - started <= secret_settings.socket_timeout_s + 3
    message = str(caught.value)
    assert expected in message.lower(), message
    assert "127.0.0.1" in message
    assert_no_secret(message, repr(caught.value), caught.value.__cause__, caplog.text)


def test_rediss_url_asks_for_tls_and_fails_clearly_against_a_plain_server(
    secured: RedisServer, secret_settings: Settings
) -> None:
    # Offline there is no TLS server; what can be checked is that TLS is requested and
    # that talking TLS to a plain server ends in a clear error within the timeout.
    url = secured.url.replace("redis://", "rediss://")
    settings = replace(secret_settings, socket_timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(RedisUnavailableError) as caught:
        Client(url, user_id="tester", workers=0, settings=settings)
    assert time.monotonic() - started <= settings.socket_timeout_s + 3
    assert str(caught.value).startswith(f"Redis at rediss://127.0.0.1:{secured.port}/0 is not reachable")
    assert isinstance(caught.value, EduscribeError)
    assert_no_secret(caught.value, caught.value.__cause__)
