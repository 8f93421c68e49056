"""A plain script (no ``if __name__ == "__main__":``) can run in-process workers.

multiprocessing re-runs the parent's main script in each child it starts, unless told not to;
the README's tour is such a script, and every job's processor runs in a child process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
from eduscribe_sdk import Client
from eduscribe_sdk._config import Settings

with Client({url!r}, user_id="script", workers=1, settings=Settings()) as client:
    job = client.submit_text("A short paragraph about the printing press and movable type.")
    record = job.wait(timeout=120)
    print("STATUS", record.status.value)
"""


def test_a_script_without_a_main_guard_runs_jobs_in_process(redis_url: str, tmp_path: Path) -> None:
    script = tmp_path / "lecture_notes.py"
    script.write_text(SCRIPT.format(url=redis_url))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert "STATUS completed" in done.stdout, done.stderr[-3000:]
    assert "bootstrapping phase" not in done.stderr
    # and the same as a module (python -m): the child must not import it either
    module = subprocess.run(
        [sys.executable, "-m", "lecture_notes"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "STATUS completed" in module.stdout, module.stderr[-3000:]
