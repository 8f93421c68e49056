"""A worker process that exits without its orderly shutdown does not wait for busy children."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

_SCRIPT = """
import sys, time
from pathlib import Path
from eduscribe_sdk import Settings
from eduscribe_sdk._worker.isolation import ChildProcess
from tests.core.jobs import OVERRIDES, plan

pid_file = Path(sys.argv[1])
child = ChildProcess()
child.conn.send(("settings", Settings(processor_overrides=OVERRIDES)))
child.conn.send(("job", "text_notes", plan(block=60, pid_file=str(pid_file)), "job-1", None, []))
while not pid_file.exists() or not pid_file.read_text().strip():
    time.sleep(0.05)
sys.exit(3)  # like dramatiq's "exit now": no pool.close(), a job still running
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}


def test_exit_kills_a_busy_child_instead_of_waiting_for_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(pid_file)], cwd=REPO, timeout=45, capture_output=True, check=False
    )
    assert done.returncode == 3, done.stderr.decode(errors="replace")[-2000:]
    assert time.monotonic() - began < 30  # the job would block for 60 s
    assert not _running(int(pid_file.read_text()))
