"""The shipped example course, end to end on real workers (text, Markdown, PDF, audio, YouTube, summary)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

from .conftest import EXAMPLES, Invoke


def test_example_course_runs_end_to_end(cli: Invoke, redis_url: str, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    result = cli("run", EXAMPLES / "course.csv", "--redis", redis_url, "--workers", "2", "--out", out)
    with (out / "results.csv").open(newline="") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    # Offline the YouTube row fails (after its retries); online it may complete. Nothing depends on it.
    youtube = rows.pop("extra-talk")
    assert youtube["status"] in ("completed", "failed"), youtube
    assert result.exit_code == (0 if youtube["status"] == "completed" else 1), result.output
    assert {k: r["status"] for k, r in rows.items()} == dict.fromkeys(
        ["welcome", "arrays", "stacks-queues", "hash-tables", "search-trees", "summary"], "completed"
    )
    # The PDF's text layer and the synthesised audio both made it into the notes.
    assert "hash" in (out / "hash-tables.md").read_text().lower()
    trees = json.loads((out / "search-trees.json").read_text())
    transcript = " ".join(seg["text"] for seg in trees["output_data"]["transcript"]).lower()
    assert "tree" in transcript and "root" in transcript
    # The summary merged the five lectures it depends on.
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["output_data"]["sources"]) == 5
    assert (out / "summary.md").read_text().strip()


def test_example_course_is_valid(cli: Invoke, redis_url: str) -> None:
    result = cli("validate", EXAMPLES / "course.csv", "--redis", redis_url)
    assert result.exit_code == 0, result.output
    assert "7 rows, no problems" in result.output


def test_example_materials_are_small() -> None:
    audio = EXAMPLES / "materials" / "04-search-trees.mp3"
    assert audio.stat().st_size < 300_000
    assert (EXAMPLES / "materials" / "03-hash-tables.pdf").read_bytes().startswith(b"%PDF-")


def test_readme_first_command_prints_no_warning_in_a_fresh_home(tmp_path: Path) -> None:
    """The README's first command, as a new user runs it: embedded server, a new home.

    faster-whisper's progress bar took tqdm's lock, a multiprocessing semaphore, in the child
    process that runs the audio row; the child is killed at shutdown, and Python's resource
    tracker printed "leaked semaphore objects" on the user's terminal at every first run.
    """
    env = {**os.environ, "EDUSCRIBE_HOME": str(tmp_path / "home")}
    env.pop("EDUSCRIBE_REDIS_URL", None)
    done = subprocess.run(
        ["eduscribe-batch", "run", str(EXAMPLES / "course.csv"), "--out", str(tmp_path / "notes")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "finished in" in done.stdout, done.stdout[-3000:]
    assert "leaked" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
