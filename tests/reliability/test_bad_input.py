"""Bad input corpus: every bad input yields a clear error, no worker dies, nothing is half-created.

Three layers: inputs refused when a job is created (hypothesis-generated and hand-picked
edge cases), real broken files that only a worker can recognise (``../shared/data``), and
course CSVs refused by ``eduscribe-batch`` before anything is enqueued.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.cli import main as batch_main
from eduscribe_sdk import Client, JobStatus
from eduscribe_sdk._models import JobType
from eduscribe_sdk._validation import MAX_PROMPT_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from eduscribe_sdk.errors import InvalidInputError
from tests.core.jobs import plan
from tests.reliability.conftest import WorkerProcess

_LANGUAGE = re.compile(r"^(auto|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$")


def keys(client: Client) -> set[str]:
    return set(client._store.all_keys())


def assert_refused(client: Client, job_type: str, input_data: object, field: str, **kwargs: Any) -> None:
    """Creation raises InvalidInputError naming ``field`` and writes nothing."""
    before_keys, before_count = keys(client), client._store.count()
    with pytest.raises(InvalidInputError) as caught:
        client.create_job(job_type, input_data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field, caught.value
    assert str(caught.value).startswith(f"{field}: ")
    assert client._store.count() == before_count
    assert keys(client) == before_keys


# --- refused at creation: generated ---------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
not_a_string = st.none() | st.booleans() | st.integers() | st.floats() | st.lists(json_values, max_size=3)
bad_language = st.text(max_size=12).filter(lambda s: not _LANGUAGE.match(s.strip()))
url_like = st.builds(
    "{}://{}/{}".format,
    st.sampled_from(["http", "https", "ftp", "javascript", "file", ""]),
    st.sampled_from(["youtube.com", "www.youtube.com", "youtu.be", "youtube.com.evil.test", "evil.test", ""]),
    st.text(alphabet="abcdefghijkXYZ0189_-/?=&v.", max_size=30),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    job_type=st.sampled_from([t.value for t in JobType]) | st.text(max_size=15),
    input_data=st.one_of(
        not_a_string,
        st.dictionaries(st.text(max_size=12), json_values, max_size=4),
        st.fixed_dictionaries({"content": not_a_string | st.text(max_size=200)}),
        st.fixed_dictionaries(
            {
                "content": st.text(min_size=1),
                "options": st.fixed_dictionaries({"language": bad_language | not_a_string}),
            }
        ),
        st.fixed_dictionaries({"youtubeUrl": url_like | st.text(max_size=40) | not_a_string}),
        st.fixed_dictionaries({"videoId": st.text(max_size=15) | not_a_string}),
        st.fixed_dictionaries({"path": not_a_string | st.text(max_size=40)}),
    ),
)
def test_generated_inputs_are_created_or_refused_with_the_field_named(
    bare_client: Client, job_type: str, input_data: object
) -> None:
    before = keys(bare_client)
    try:
        handle = bare_client.create_job(job_type, input_data)  # type: ignore[arg-type]
    except InvalidInputError as exc:
        assert exc.field, f"no field named: {exc}"
        assert keys(bare_client) == before, "a refused job left keys behind"
    else:
        # Accepted means it really is valid: the SDK normalised it into a runnable job.
        assert handle.status is JobStatus.QUEUED
        if handle.record.job_type is JobType.YOUTUBE_NOTES:
            assert re.fullmatch(r"[A-Za-z0-9_-]{11}", handle.record.input_data["videoId"])


# --- refused at creation: hand-picked edge cases ----------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "input_data", "field", "kwargs"),
    [
        ("text_notes", {"content": "x" * (MAX_TEXT_CHARS + 1)}, "content", {}),
        (
            "text_notes",
            {"content": "x", "options": {"prompt": "p" * (MAX_PROMPT_CHARS + 1)}},
            "options.prompt",
            {},
        ),
        ("text_notes", {"content": "x"}, "title", {"title": "t" * (MAX_TITLE_CHARS + 1)}),
        ("text_notes", {"content": "x", "giant": "g" * MAX_TEXT_CHARS}, "input_data", {}),
        ("text_notes", {"content": " \n\t "}, "content", {}),
        ("text_notes", {"content": b"bytes"}, "content", {}),
        ("text_notes", {"content": "x", "options": {"language": "english"}}, "options.language", {}),
        ("text_notes", {"content": "x", "options": {"generateQuiz": "yes"}}, "options.generateQuiz", {}),
        ("text_notes", ["content", "x"], "input_data", {}),
        ("nonsense", {"content": "x"}, "job_type", {}),
        ("text_notes", {"content": "x"}, "priority", {"priority": "urgent"}),
        ("text_notes", {"content": "x"}, "depends_on", {"depends_on": ["no-such-job"]}),
        ("text_notes", {"content": "x"}, "depends_on", {"depends_on": "not-a-list"}),
        ("text_notes", {"content": "x"}, "max_retries", {"max_retries": -1}),
        ("youtube_notes", {"youtubeUrl": "https://evil.test/watch?v=dQw4w9WgXcQ"}, "youtubeUrl", {}),
        (
            "youtube_notes",
            {"youtubeUrl": "javascript://www.youtube.com/watch?v=dQw4w9WgXcQ"},
            "youtubeUrl",
            {},
        ),
        ("youtube_notes", {"youtubeUrl": "https://www.youtube.com/watch?v=short"}, "youtubeUrl", {}),
        ("youtube_notes", {}, "youtubeUrl", {}),
        ("youtube_notes", {"videoId": 12345678901}, "videoId", {}),
        (
            "youtube_notes",
            {"videoId": "dQw4w9WgXcQ", "options": {"preferredLanguages": ["en", 3]}},
            "options.preferredLanguages",
            {},
        ),
        ("course_summary", {}, "depends_on", {}),
        ("file_notes", {"path": ""}, "path", {}),
        ("file_notes", {"path": 42}, "path", {}),
        ("video_notes", {"path": "/no/such/lecture.mp4"}, "path", {}),
        ("video_notes", {"path": "/no/such/lecture.mp4", "options": {"subtitles": "ass"}}, "path", {}),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_bad_inputs_are_refused_with_the_field_named_and_nothing_written(
    bare_client: Client, job_type: str, input_data: object, field: str, kwargs: dict[str, Any]
) -> None:
    assert_refused(bare_client, job_type, input_data, field, **kwargs)


def test_text_at_the_size_limit_is_accepted(bare_client: Client) -> None:
    handle = bare_client.create_job("text_notes", {"content": "x" * MAX_TEXT_CHARS})
    assert handle.status is JobStatus.QUEUED


def test_paths_that_are_not_files_are_refused(bare_client: Client, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    for job_type in ("file_notes", "video_notes"):
        assert_refused(bare_client, job_type, {"path": str(tmp_path)}, "path")  # a directory
        assert_refused(bare_client, job_type, {"path": str(empty)}, "path")
        assert_refused(bare_client, job_type, {"path": str(tmp_path / "missing.pdf")}, "path")


def test_a_refused_job_in_a_bulk_create_leaves_nothing_behind(bare_client: Client) -> None:
    good = [bare_client.prepare_job("text_notes", plan(), id=f"ok{i}") for i in range(3)]
    bad = bare_client.prepare_job("text_notes", plan(), id="bad", depends_on=["missing"])
    before = keys(bare_client)
    with pytest.raises(InvalidInputError):
        bare_client.create_jobs([*good, bad])
    assert keys(bare_client) == before and bare_client._store.count() == 0


# --- broken files, recognised by a worker -----------------------------------------------------

BROKEN_FILES = [
    ("file_notes", "documents/pdf/corrupt/broken_xref_unreadable_metadata.pdf", {}, "damaged"),
    ("file_notes", "documents/pdf/corrupt/truncated_45pct.pdf", {}, "truncated"),
    ("file_notes", "documents/pdf/encrypted/aes256_user_password_asdfzxcv.pdf", {}, "password"),
    ("file_notes", "documents/pdf/encrypted/rc4_user_password_openpassword.pdf", {}, "password"),
    (
        "file_notes",
        "documents/pdf/encrypted/rc4_user_password_openpassword.pdf",
        {"password": "nope"},
        "password",
    ),
    ("file_notes", "documents/docx/truncated_word_sample.docx", {}, "damaged"),
    ("file_notes", "video/no_audio_track_3s.mp4", {}, "unsupported file type"),
    ("video_notes", "video/no_audio_track_3s.mp4", {}, "no audio"),
    ("video_notes", "documents/pdf/text/faa_amt_handbook_page.pdf", {}, "not a readable audio or video"),
]


def test_broken_files_fail_permanently_naming_the_file_and_the_worker_survives(
    bare_client: Client, spawn_worker: Callable[..., WorkerProcess], shared_data: Path
) -> None:
    # Given: a worker process with the real document and media processors
    worker = spawn_worker(threads=2, name="files")

    # When: every broken file is submitted as a job
    jobs = [
        bare_client.create_job(job_type, {"path": str(shared_data / rel), "options": options})
        for job_type, rel, options, _ in BROKEN_FILES
    ]
    records = bare_client.wait_all([j.id for j in jobs], timeout=120)

    # Then: each failed at once (no retries) with a message naming the file and the problem
    for (_, rel, _, expected), record in zip(BROKEN_FILES, records, strict=True):
        assert record.status is JobStatus.FAILED, (rel, record.status)
        assert record.retry_count == 0, rel
        assert record.error_message and Path(rel).name in record.error_message, record.error_message
        assert expected in record.error_message.lower(), record.error_message
    # ... and the same worker process is alive and completes the next job
    assert worker.alive
    assert bare_client.wait(bare_client.create_job("text_notes", plan()).id, timeout=30).status is (
        JobStatus.COMPLETED
    )
    assert worker.owns(bare_client.get_job(jobs[0].id).worker_id)


# --- course CSVs ------------------------------------------------------------------------------


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "notes.txt").write_text("Stacks are last in, first out.\n")
    (tmp_path / "outside.txt").write_text("Outside the course folder.\n")
    return folder


def batch_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(batch_main, [str(a) for a in args], catch_exceptions=False)


HEADER = "id,type,source,title,depends_on\n"
BAD_CSVS: list[tuple[str, bytes, str]] = [
    ("latin1", (HEADER + "r1,text,caf\xe9 notes,,\n").encode("latin-1"), "line 2: .*not UTF-8"),
    ("utf16", (HEADER + "r1,text,hello,,\n").encode("utf-16"), "UTF-16"),
    ("binary", b"%PDF-1.4\n\x00\x01\x02\xff\xfe binary", "not UTF-8"),
    ("empty", b"", "empty"),
    ("missing-type-column", b"id,source\nr1,hello\n", "type"),
    ("unknown-column", b"id,type,source,colour\nr1,text,hello,red\n", "colour"),
    ("extra-cells", (HEADER + "r1,text,hello,t,,surplus\n").encode(), "line 2: .*5 columns"),
    (
        "huge-field",
        (HEADER + "r1,text," + "x" * (MAX_TEXT_CHARS + 1) + ",,\n").encode(),
        "field limit|characters",
    ),
    ("formula-id", (HEADER + '=HYPERLINK("http://evil.test"),text,hello,,\n').encode(), "line 2: id"),
    ("cycle", (HEADER + "a,text,x,,b\nb,text,y,,a\n").encode(), "cycle"),
    ("self-dependency", (HEADER + "a,text,x,,a\n").encode(), "line 2: depends_on: .*itself"),
    ("unknown-dependency", (HEADER + "a,text,x,,ghost\n").encode(), "line 2: depends_on: .*ghost"),
    ("duplicate-id", (HEADER + "a,text,x,,\na,text,y,,\n").encode(), "line 3: id: duplicate"),
    ("outside-relative", (HEADER + "a,file,../outside.txt,,\n").encode(), "line 2: source: .*outside"),
    ("outside-absolute", (HEADER + "a,file,/etc/hostname,,\n").encode(), "line 2: source: .*outside"),
    ("missing-file", (HEADER + "a,file,nowhere.pdf,,\n").encode(), "line 2: source"),
    ("bad-type", (HEADER + "a,spreadsheet,x,,\n").encode(), "line 2: type"),
    ("bad-youtube", (HEADER + "a,youtube,https://evil.test/v,,\n").encode(), "line 2"),
    ("empty-text", (HEADER + "a,text,,,\n").encode(), "line 2"),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in BAD_CSVS], ids=[c[0] for c in BAD_CSVS])
def test_bad_course_csvs_exit_2_listing_the_problem_and_enqueue_nothing(
    bare_client: Client, redis_url: str, course_dir: Path, content: bytes, expected: str
) -> None:
    csv_path = course_dir / "course.csv"
    csv_path.write_bytes(content)
    before = keys(bare_client)

    result = batch_cli("run", csv_path, "--redis", redis_url, "--no-wait", "--user", "tester")

    assert result.exit_code == 2, result.output
    assert re.search(expected, result.output, re.IGNORECASE | re.DOTALL), result.output
    assert "Traceback" not in result.output
    assert keys(bare_client) == before, "a refused CSV left keys behind"


def test_csv_rows_with_broken_files_fail_clearly_and_formula_names_are_neutralised(
    bare_client: Client, redis_url: str, course_dir: Path, shared_data: Path
) -> None:
    # Given: a corrupt PDF whose file name a spreadsheet would run as a formula, and a text
    # file given as a video
    shutil.copy(shared_data / "documents/pdf/corrupt/truncated_45pct.pdf", course_dir / "=1+2.pdf")
    (course_dir / "course.csv").write_text(
        HEADER + "pdf,file,=1+2.pdf,,\nvid,video,notes.txt,,\nok,text,fine,,\n"
    )

    # When: the course runs on in-process workers
    out = course_dir / "out"
    result = batch_cli(
        "run",
        course_dir / "course.csv",
        "--redis",
        redis_url,
        "--workers",
        "2",
        "--out",
        out,
        "--user",
        "tester",
        "--no-progress",
    )

    # Then: exit 1, the broken rows failed naming their files, results.csv is spreadsheet-safe
    assert result.exit_code == 1, result.output
    records = {r.title or r.id: r for r in bare_client.list_jobs(limit=10)}
    assert len(records) == 3
    results = (out / "results.csv").read_text()
    assert "'=1+2.pdf" in results and "notes.txt" in results
    for cell in (c for line in results.splitlines()[1:] for c in line.split(",")):
        assert not cell.strip('"').startswith(("=", "+", "-", "@")), f"formula cell in results.csv: {cell}"


def test_csv_text_cell_above_128k_but_within_the_sdk_limit_is_accepted(
    redis_url: str, course_dir: Path
) -> None:
    (course_dir / "course.csv").write_text(HEADER + "big,text," + "word " * 40_000 + ",,\n")
    result = batch_cli("validate", course_dir / "course.csv", "--redis", redis_url, "--user", "tester")
    assert result.exit_code == 0, result.output
    # Beyond the SDK's limit: refused with the line and the column to fix.
    (course_dir / "course.csv").write_text(
        HEADER + "ok,text,fine,,\nhuge,text," + "x" * (MAX_TEXT_CHARS + 1) + ",,\n"
    )
    result = batch_cli("validate", course_dir / "course.csv", "--redis", redis_url, "--user", "tester")
    assert result.exit_code != 0
    assert "line 3: source:" in result.output and "the limit is 2,000,000" in result.output, result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), max_size=6),
        max_size=5,
    ),
    header=st.sampled_from([HEADER, "id,type,source\n", "ID,Type,Source,Options\n", ""]),
)
def test_generated_csvs_never_crash_the_cli(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory, cells: list[list[str]], header: str
) -> None:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(cells)
    folder = tmp_path_factory.mktemp("gen")
    (folder / "course.csv").write_text(header + buffer.getvalue(), encoding="utf-8")
    result = batch_cli("validate", folder / "course.csv", "--redis", redis_url, "--user", "tester")
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
