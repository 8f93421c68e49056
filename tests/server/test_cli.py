"""``eduscribe-server`` as a command: keys made and revoked from the terminal, the embedded
mode as a whole working system, and the unauthenticated mode only on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.server.conftest import ServerProcess


def _cli(*args: str, home: Path, redis_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_"))}
    env.update({"EDUSCRIBE_HOME": str(home), "PYTHONPATH": str(REPO)})
    command = [sys.executable, "-m", "eduscribe_server"]
    if redis_url:
        command += ["--redis", redis_url]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_keys_from_the_terminal(
    redis_url: str, tmp_path: Path, servers: Callable[..., ServerProcess]
) -> None:
    server = servers(redis_url, job_slots=0)
    made = _cli("keys", "create", "carol", "--name", "laptop", home=tmp_path, redis_url=redis_url)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("esk_") and "\n" not in key and key not in made.stderr  # printed once
    me = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert me.status_code == 200 and me.json()["userId"] == "carol"

    listed = _cli("keys", "list", home=tmp_path, redis_url=redis_url)
    key_id = key.split("_")[1]
    assert f"{key_id}  carol  user" in listed.stdout and key not in listed.stdout
    assert _cli("keys", "revoke", key_id, home=tmp_path, redis_url=redis_url).returncode == 0
    again = _cli("keys", "revoke", key_id, home=tmp_path, redis_url=redis_url)
    assert again.returncode == 1 and "no API key" in again.stderr and "Traceback" not in again.stderr
    gone = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert gone.status_code == 401


def test_embedded_server_runs_jobs_on_its_own(tmp_path: Path) -> None:
    # No Redis URL: the command starts the embedded server and job slots, like Client().
    made = _cli("keys", "create", "dana", home=tmp_path)
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
    server = ServerProcess("", tmp_path, job_slots=1)
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            text = "Photosynthesis converts light energy into chemical energy in plants."
            created = http.post("/api/jobs", json={"jobType": "text_notes", "inputData": {"content": text}})
            assert created.status_code == 201, created.text
            job_id = created.json()["jobId"]
            for _ in range(300):
                job = http.get(f"/api/jobs/{job_id}").json()["job"]
                if job["status"] == "completed":
                    break
                assert job["status"] in ("queued", "processing"), job
                time.sleep(0.1)
            assert job["status"] == "completed" and job["output_data"]["markdown"]
    finally:
        server.stop()


def test_no_auth_is_for_loopback_only(
    redis_url: str, tmp_path: Path, servers: Callable[..., ServerProcess]
) -> None:
    refused = _cli("--no-auth", "--host", "0.0.0.0", home=tmp_path, redis_url=redis_url)
    assert refused.returncode == 2 and "127.0.0.1 only" in refused.stderr
    server = servers(redis_url, job_slots=0, args=("--no-auth",))
    me = httpx.get(f"{server.url}/api/me", timeout=10)
    assert me.status_code == 200 and me.json()["admin"] is True
