"""The CLI on a real Redis with real in-process workers: run, resume, fresh, status, cancel, retry, users."""

from __future__ import annotations

import _thread
import csv
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batch import runner
from batch.display import PlainDisplay
from eduscribe_sdk import Client
from eduscribe_sdk._models import JobRecord, JobStatus, JobType, Priority

from .conftest import Invoke

INTRO = (
    "A stack is a last in, first out collection: push adds on top and pop removes the top. "
    "A queue is first in, first out: enqueue adds at the back and dequeue removes at the front. "
    "Both operations take constant time."
)
HASHING = (
    "A hash table maps keys to values. A hash function picks a bucket for every key. "
    "Collisions are handled by chaining or open addressing. "
    "When the load factor grows the table is resized."
)
COURSE = f"""id,type,title,source,depends_on,quiz
intro,text,Stacks and queues,"{INTRO}",,false
hashing,text,Hash tables,"{HASHING}",intro,true
wrap,summary,Course summary,,intro;hashing,false
"""


@pytest.fixture
def course(write_csv: Callable[..., Path]) -> Path:
    return write_csv(COURSE)


@pytest.fixture
def client(redis_url: str) -> Iterator[Client]:
    """An observer: no workers of its own."""
    with Client(redis_url, user_id="observer", workers=0) as c:
        yield c


def _records(client: Client, csv_path: Path) -> dict[str, JobRecord]:
    info = runner.load_batch(client, str(csv_path))
    return {
        row.row_id: record
        for row, record in zip(info.rows, client.get_jobs(info.job_ids), strict=True)
        if record is not None
    }


def test_run_writes_notes_results_and_summary(
    cli: Invoke, course: Path, redis_url: str, client: Client, tmp_path: Path
) -> None:
    result = cli("run", course, "--redis", redis_url, "--workers", "2", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "new 3, done already 0" in result.output
    assert "completed 3" in result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "hashing.json", "hashing.md", "intro.json", "intro.md", "results.csv", "wrap.json", "wrap.md",
    ]  # fmt: skip
    with (out / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "type", "status", "priority", "seconds", "error", "output"]
    assert [(r["id"], r["type"], r["status"], r["output"]) for r in rows] == [
        ("intro", "text", "completed", "intro.md"),
        ("hashing", "text", "completed", "hashing.md"),
        ("wrap", "summary", "completed", "wrap.md"),
    ]
    document = json.loads((out / "wrap.json").read_text())
    assert document["row"] == "wrap" and document["status"] == "completed"
    # The summary merged its dependencies' notes; the dependent saw its dependency finish first.
    records = _records(client, course)
    assert {s["title"] for s in records["wrap"].output_data["sources"]} == {
        "Stacks and queues",
        "Hash tables",
    }
    assert records["hashing"].started_at >= records["intro"].completed_at
    assert records["hashing"].depends_on == (records["intro"].id,)
    # The batch's jobs are tagged with the batch id.
    info = runner.load_batch(client, str(course))
    assert client._store.count(batch_id=info.batch_id) == 3
    assert {r.id for r in client.list_jobs(batch_id=info.batch_id)} == set(info.job_ids)


def test_default_out_dir_is_csv_stem_notes(cli: Invoke, course: Path, redis_url: str, tmp_path: Path) -> None:
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "course-notes" / "intro.md").is_file()


def test_rerun_resumes_and_redoes_nothing(cli: Invoke, course: Path, redis_url: str, client: Client) -> None:
    assert cli("run", course, "--redis", redis_url, "--workers", "2").exit_code == 0
    first = _records(client, course)
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "new 0, done already 3, retried 0" in result.output
    again = _records(client, course)
    assert {k: (r.id, r.completed_at) for k, r in again.items()} == {
        k: (r.id, r.completed_at) for k, r in first.items()
    }


def test_changed_row_and_its_dependents_get_new_jobs(
    cli: Invoke, course: Path, redis_url: str, client: Client
) -> None:
    assert cli("run", course, "--redis", redis_url, "--workers", "2").exit_code == 0
    first = _records(client, course)
    course.write_text(COURSE.replace("Collisions are handled", "Collisions are resolved"))
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "new 2, done already 1" in result.output
    again = _records(client, course)
    assert again["intro"].id == first["intro"].id
    assert again["hashing"].id != first["hashing"].id and again["wrap"].id != first["wrap"].id


def test_no_wait_prints_the_batch_id_and_a_rerun_waits(
    cli: Invoke, course: Path, redis_url: str, client: Client
) -> None:
    result = cli("run", course, "--redis", redis_url, "--no-wait")
    assert result.exit_code == 0, result.output
    batch_id = result.output.strip().splitlines()[-1]
    assert batch_id == runner.batch_id_for(course)
    status = cli("status", batch_id, "--redis", redis_url)
    assert "0/3 finished" in status.output
    assert {r.status for r in _records(client, course).values()} <= {JobStatus.QUEUED, JobStatus.WAITING}
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    # The run's own workers start with its client, so a row may finish before it is counted.
    counts = re.search(r"new (\d+), done already (\d+), retried (\d+), in progress (\d+)", result.output)
    assert counts is not None, result.output
    new, done, retried, in_progress = map(int, counts.groups())
    assert (new, retried, done + in_progress) == (0, 0, 3)


def test_ctrl_c_exits_130_and_the_batch_resumes(
    cli: Invoke, course: Path, redis_url: str, client: Client
) -> None:
    # Given a run that waits for workers that never come, interrupted after a moment
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        result = cli("run", course, "--redis", redis_url, "--workers", "0")
    finally:
        timer.cancel()
    # Then it stops cleanly with 130 and leaves the jobs in Redis
    assert result.exit_code == 130, result.output
    assert "run `eduscribe-batch run" in result.output
    before = {k: r.id for k, r in _records(client, course).items()}
    assert len(before) == 3
    # And running again finishes the same jobs
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert {k: r.id for k, r in _records(client, course).items()} == before


def test_fresh_starts_a_new_batch(cli: Invoke, course: Path, redis_url: str, client: Client) -> None:
    assert cli("run", course, "--redis", redis_url, "--workers", "2").exit_code == 0
    first = runner.load_batch(client, str(course))
    result = cli("run", course, "--redis", redis_url, "--workers", "2", "--fresh")
    assert result.exit_code == 0, result.output
    assert "new 3, done already 0" in result.output
    second = runner.load_batch(client, str(course))
    assert second.batch_id != first.batch_id
    assert set(second.job_ids).isdisjoint(first.job_ids)
    # The old batch is still there, by id.
    assert cli("status", first.batch_id, "--redis", redis_url).exit_code == 0
    # A plain re-run resumes the fresh batch.
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert "done already 3" in result.output
    assert runner.load_batch(client, str(course)).batch_id == second.batch_id


def test_cancel_status_and_retry_by_csv_and_by_batch_id(
    cli: Invoke, course: Path, redis_url: str, client: Client
) -> None:
    batch_id = cli("run", course, "--redis", redis_url, "--no-wait").output.strip().splitlines()[-1]
    result = cli("cancel", course, "--redis", redis_url, "--row", "intro")
    assert result.exit_code == 0, result.output
    assert "3 row(s): intro, hashing, wrap" in result.output  # its dependents were skipped
    statuses = {k: r.status for k, r in _records(client, course).items()}
    assert statuses == {"intro": JobStatus.CANCELLED, "hashing": JobStatus.SKIPPED, "wrap": JobStatus.SKIPPED}
    status = cli("status", course, "--redis", redis_url)
    assert status.exit_code == 0
    assert "cancelled" in status.output and "skipped" in status.output
    result = cli("retry", batch_id, "--redis", redis_url)
    assert result.exit_code == 0, result.output
    assert "re-queued 3 row(s)" in result.output
    assert cli("cancel", batch_id, "--redis", redis_url).output.startswith("cancelled 3 row(s)")
    # A re-run retries cancelled and skipped rows.
    result = cli("run", course, "--redis", redis_url, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "retried 3" in result.output
    assert cli("cancel", course, "--redis", redis_url).output.startswith("cancelled 0 row(s)")
    assert cli("retry", course, "--redis", redis_url, "--row", "nope").exit_code == 2


def test_unknown_batch_is_exit_2(cli: Invoke, redis_url: str, tmp_path: Path) -> None:
    for command in ("status", "cancel", "retry"):
        result = cli(command, "no-such-batch", "--redis", redis_url)
        assert result.exit_code == 2
        assert "no batch found for 'no-such-batch'" in result.output
    assert cli("status", tmp_path / "never-run.csv", "--redis", redis_url).exit_code == 2


def test_failed_row_skips_dependents_exit_1_and_rerun_retries(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str, client: Client, tmp_path: Path
) -> None:
    path = write_csv(
        "id,type,source,depends_on\n"
        "talk,video,not-audio.mp3,\n"
        "notes,text,Notes that build on the talk about linked lists and arrays.,talk\n"
        "solo,text,An independent lecture on binary heaps and priority queues.,\n"
    )
    (path.parent / "not-audio.mp3").write_text("this is not an audio file at all\n" * 20)
    result = cli("run", path, "--redis", redis_url, "--workers", "2", "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "talk: failed" in result.output and "notes: skipped" in result.output
    with (tmp_path / "out" / "results.csv").open(newline="") as handle:
        statuses = {r["id"]: (r["status"], r["output"], bool(r["error"])) for r in csv.DictReader(handle)}
    assert statuses == {
        "talk": ("failed", "", True),
        "notes": ("skipped", "", True),
        "solo": ("completed", "solo.md", False),
    }
    result = cli("run", path, "--redis", redis_url, "--workers", "2", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "done already 1, retried 2" in result.output


def test_dry_run_shows_the_plan_and_enqueues_nothing(
    cli: Invoke, course: Path, redis_url: str, nothing_enqueued: Callable[[], None]
) -> None:
    result = cli("run", course, "--redis", redis_url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: 3 rows are valid" in result.output
    assert "wrap" in result.output and "intro;hashing" in result.output
    nothing_enqueued()
    assert cli("run", course, "--redis", redis_url, "--workers", "2").exit_code == 0
    result = cli("run", course, "--redis", redis_url, "--dry-run")
    assert result.output.count("reuse (completed)") == 3


def test_live_progress_view(cli: Invoke, course: Path, redis_url: str) -> None:
    result = cli("run", course, "--redis", redis_url, "--workers", "2", "--progress")
    assert result.exit_code == 0, result.output
    assert "3/3" in result.output


def test_plain_progress_lines() -> None:
    class Stream:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

        def flush(self) -> None:
            pass

    stream = Stream()
    display = PlainDisplay(["a", "b"], stream, interval_s=0)  # type: ignore[arg-type]
    display.update([_record("a", JobStatus.PROCESSING, 40), _record("b", JobStatus.WAITING)])
    display.update([_record("a", JobStatus.COMPLETED), _record("b", JobStatus.FAILED)])
    display.close()
    assert stream.text.splitlines() == [
        "[0/2] waiting 1, processing 1 | running: a 40%",
        "[2/2] completed 1, failed 1",
    ]


def _record(job_id: str, status: JobStatus, progress: int = 0, error: str | None = None) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(
        id=job_id, user_id="u", job_type=JobType.TEXT_NOTES, status=status, priority=Priority.LOW,
        input_data={}, output_data=None, progress=progress, error_message=error, error_details=None,
        retry_count=0, max_retries=3, created_at=now, started_at=None, completed_at=None, updated_at=now,
        worker_id=None, estimated_duration_seconds=None, actual_duration_seconds=None, queue_position=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("plain", "plain"),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_cell(cell: str | None, safe: str) -> None:
    assert runner.safe_cell(cell) == safe


def test_results_csv_neutralises_formulas(tmp_path: Path) -> None:
    rows = [runner.BatchRow("evil", "job-1", JobType.TEXT_NOTES, 2, "h")]
    record = _record("job-1", JobStatus.FAILED, error='=HYPERLINK("http://x","click")')
    runner.write_outputs(tmp_path, rows, [record])
    with (tmp_path / "results.csv").open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["error"] == '\'=HYPERLINK("http://x","click")'


def test_users_set_tier_and_list(cli: Invoke, redis_url: str) -> None:
    assert "no users with a tier" in cli("users", "list", "--redis", redis_url).output
    result = cli("users", "set-tier", "alice", "Premium", "--redis", redis_url)
    assert result.exit_code == 0, result.output
    assert "alice: premium (priority up to high)" in result.output
    cli("users", "set-tier", "bob", "enterprise", "--redis", redis_url)
    lines = cli("users", "list", "--redis", redis_url).output.splitlines()
    assert lines[0].split() == ["user", "tier", "priority"]
    assert [line.split() for line in lines[1:]] == [
        ["alice", "premium", "high"],
        ["bob", "enterprise", "urgent"],
    ]
    assert cli("users", "set-tier", "carol", "platinum", "--redis", redis_url).exit_code == 2


def test_redis_url_from_the_environment(
    cli: Invoke, course: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUSCRIBE_REDIS_URL", redis_url)
    result = cli("run", course, "--no-wait")
    assert result.exit_code == 0, result.output
    assert "0/3 finished" in cli("status", course, "--redis", redis_url).output


def test_unreachable_redis_is_a_clear_error(cli: Invoke, course: Path) -> None:
    result = cli("validate", course, "--redis", "redis://127.0.0.1:1/0")
    assert result.exit_code == 1
    assert "not reachable" in result.output


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["status"], ["cancel"], ["retry"], ["users"]])
def test_help_has_an_example(cli: Invoke, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output


def test_embedded_mode(cli: Invoke, course: Path, tmp_path: Path) -> None:
    # No --redis and no EDUSCRIBE_REDIS_URL: the runner starts the embedded Redis in EDUSCRIBE_HOME.
    result = cli("run", course, "--workers", "2")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "course-notes" / "wrap.md").is_file()
    assert (tmp_path / "home").is_dir()
    status = cli("status", course)
    assert status.exit_code == 0, status.output
    assert "3/3 finished, 3 completed" in status.output
