"""``dramatiq eduscribe_sdk.actors`` as a real subprocess, for the core and reliability tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


class WorkerProcess:
    """``dramatiq eduscribe_sdk.actors`` in its own process group, with the scripted processor."""

    def __init__(
        self,
        redis_url: str,
        home: Path,
        *,
        threads: int = 1,
        name: str = "worker",
        env: dict[str, str] | None = None,
    ) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.name = name
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_", "OPENAI_"))},
            # No URL: the worker must find the embedded server through EDUSCRIBE_HOME/redis.url.
            **({"EDUSCRIBE_REDIS_URL": redis_url} if redis_url else {}),
            "EDUSCRIBE_HOME": str(home),
            "EDUSCRIBE_PROCESSORS": "text_notes=tests.core.jobs:scripted",
            "WORKER_MAX_CONCURRENT_JOBS": str(threads),
            "WORKER_RETRY_DELAY": "50",
            # The broker appends a per-start suffix, so ids of this process start with "<name>/".
            "WORKER_ID": name,
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        self.log = home / f"{name}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "eduscribe_sdk.actors",
                "--processes",
                "1",
                "--threads",
                str(threads),
            ],
            cwd=REPO,
            env=full_env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def owns(self, worker_id: str | None) -> bool:
        return bool(worker_id) and str(worker_id).startswith(f"{self.name}/")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (dramatiq's parent and its worker child): no goodbye to Redis."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
