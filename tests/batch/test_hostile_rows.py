"""Hostile CSV rows: every problem is a message naming its line, never a hang or a traceback.

The CLI runs as a real subprocess with a timeout, so a row that would block it (a FIFO
opened for reading waits for a writer for ever) fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO

HEADER = "id,type,source,options\n"


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_", "OPENAI_"))}
    env |= {"PYTHONPATH": str(REPO), "EDUSCRIBE_HOME": str(cwd / "home")}
    return subprocess.run(
        [sys.executable, "-c", "from batch.cli import main; main()", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # the FIFO used to block here for ever
    )


def _refused(csv_path: Path, redis_url: str, expected: str, *extra: str) -> None:
    for command in ("validate", "run"):
        options = ["--workers", "0"] if command == "run" else []
        result = _cli(command, csv_path, "--redis", redis_url, *options, *extra, cwd=csv_path.parent)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert result.returncode == 2, output
        assert expected in output, output
        assert "Nothing was enqueued." in output, output


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_non_regular_source_is_a_row_problem_and_never_opened(
    write_csv: Callable[..., Path], redis_url: str, nothing_enqueued: Callable[[], None], kind: str
) -> None:
    path = write_csv(HEADER + "ok,text,hello,\nl1,file,lecture.pdf,\n")
    special = path.parent / "lecture.pdf"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.mkdir()
    _refused(path, redis_url, "line 3: source: ")
    _refused(path, redis_url, "not a regular file")
    nothing_enqueued()


def test_a_device_is_refused_too(
    write_csv: Callable[..., Path], redis_url: str, nothing_enqueued: Callable[[], None]
) -> None:
    # /dev/zero never ends: hashing it for the row's content hash would never return.
    path = write_csv(HEADER + "l1,file,/dev/zero,\n")
    _refused(path, redis_url, "line 2: source: ", "--allow-outside")
    nothing_enqueued()


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('l1,text,hello,"' + '{""a"":' * 100_000 + '"', "line 2: options: is 500,000 characters"),
        ('l1,text,hello,"' + '{""a"":' * 5_000 + '"', "line 2: options: is nested more than"),
        ('l1,text,hello,"' + "[" * 20_000 + "]" * 20_000 + '"', "line 2: options: is nested more than"),
        ('l1,text,hello,"' + '{""a"":' * 9 + "1" + "}" * 9 + '"', "line 2: options: is nested more than"),
        ("l1,file," + "a" * 5_000 + ",", "line 2: source: "),
        ("l1,file," + "/".join(["b" * 300] * 3) + ",", "line 2: source: "),
        ("l1,file,a\x01b.pdf,", "line 2: source: "),
    ],
    ids=[
        "huge-options",
        "deep-object",
        "deep-list",
        "nine-levels",
        "5000-char-path",
        "long-components",
        "control-char",
    ],
)
def test_hostile_cells_are_messages_with_their_line(
    write_csv: Callable[..., Path],
    redis_url: str,
    nothing_enqueued: Callable[[], None],
    row: str,
    expected: str,
) -> None:
    path = write_csv(HEADER + row + "\n")
    _refused(path, redis_url, expected)
    nothing_enqueued()
