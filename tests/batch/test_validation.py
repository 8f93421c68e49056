"""Every validation error, through the CLI: listed with its line number, all at once, nothing enqueued."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from batch.rows import Problem, read_course

from .conftest import Invoke

HEADER = "id,type,source,title,depends_on,quiz,language,priority,prompt,options\n"

CASES: list[tuple[str, str, list[str]]] = [
    ("unknown column", "id,type,source,colour\na,text,hello,red\n", ["line 1: unknown column 'colour'"]),
    ("missing id column", "type,source\ntext,hello\n", ["line 1: missing required column(s): id"]),
    ("duplicate column", "id,type,source,ID\na,text,hi,b\n", ["line 1: column 'id' appears twice"]),
    ("empty file", "\n\n", ["line 1: the file is empty"]),
    ("id missing", HEADER + ",text,hello,,,,,,,\n", ["line 2: id: is required"]),
    ("id unsafe", HEADER + "../x,text,hello,,,,,,,\n", ["line 2: id: '../x' may contain only"]),
    (
        "duplicate id",
        HEADER + "a,text,one,,,,,,,\na,text,two,,,,,,,\n",
        ["line 3: id: duplicate id 'a' (first used on line 2)"],
    ),
    ("type missing", HEADER + "a,,hello,,,,,,,\n", ["line 2: type: is required"]),
    ("type unknown", HEADER + "a,podcast,hello,,,,,,,\n", ["line 2: type: unknown type 'podcast'"]),
    ("text empty", HEADER + "a,text,,,,,,,,\n", ["line 2: source: must not be empty"]),
    ("file path missing", HEADER + "a,file,,,,,,,,\n", ["line 2: source: a file path is required"]),
    ("file not found", HEADER + "a,file,nope.md,,,,,,,\n", ["line 2: source: file not found"]),
    (
        "file outside",
        HEADER + "a,file,../outside.md,,,,,,,\n",
        ["line 2: source: '../outside.md' is outside"],
    ),
    ("youtube url", HEADER + "a,youtube,https://vimeo.com/1234,,,,,,,\n", ["line 2: source: not a YouTube"]),
    ("options json", HEADER + 'a,text,hello,,,,,,,"{bad"\n', ["line 2: options: not valid JSON"]),
    ("options not object", HEADER + "a,text,hello,,,,,,,[1]\n", ["line 2: options: must be a JSON object"]),
    (
        "options unknown key",
        HEADER + 'a,text,hello,,,,,,,"{""colour"": 1}"\n',
        ["line 2: options: unknown option(s) colour"],
    ),
    ("quiz value", HEADER + "a,text,hello,,,maybe,,,,\n", ["line 2: quiz: must be true or false"]),
    ("language", HEADER + "a,text,hello,,,,english!,,,\n", ["line 2: language: must be a language code"]),
    ("priority unknown", HEADER + "a,text,hello,,,,,asap,,\n", ["line 2: priority: unknown priority 'asap'"]),
    (
        "priority above tier",
        HEADER + "a,text,hello,,,,,high,,\n",
        ["line 2: priority: user 'tester' has the free tier"],
    ),
    ("depends unknown", HEADER + "a,text,hello,,zz,,,,,\n", ["line 2: depends_on: unknown id(s): zz"]),
    ("depends self", HEADER + "a,text,hello,,a,,,,,\n", ["line 2: depends_on: 'a' depends on itself"]),
    (
        "cycle",
        HEADER + "a,text,x,,c,,,,,\nb,text,y,,a,,,,,\nc,text,z,,b,,,,,\n",
        ["line 2: depends_on: dependency cycle: a -> c -> b -> a"],
    ),
    (
        "summary source",
        HEADER + "a,text,x,,,,,,,\ns,summary,oops,,a,,,,,\n",
        ["line 3: source: must be empty"],
    ),
    ("summary no deps", HEADER + "s,summary,,,,,,,,\n", ["line 2: depends_on: a course_summary job needs"]),
    ("too many cells", "id,type,source\na,text,hello,extra\n", ["line 2: has 4 cells; the header has 3"]),
    ("unclosed quote", 'id,type,source\na,text,"hello\n', ["file: not a valid CSV file"]),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_validation_error_is_reported_with_its_line(
    cli: Invoke,
    write_csv: Callable[..., Path],
    redis_url: str,
    nothing_enqueued: Callable[[], None],
    name: str,
    text: str,
    expected: list[str],
) -> None:
    # Given a CSV with one kind of problem
    path = write_csv(text)
    # When it is validated, then run
    for command in (["validate"], ["run", "--workers", "0"]):
        result = cli(*command, path, "--redis", redis_url, "--user", "tester")
        # Then the problem is listed with its line number, exit 2, and nothing is enqueued
        assert result.exit_code == 2, result.output
        for fragment in expected:
            assert fragment in result.output
        assert "Nothing was enqueued." in result.output
        nothing_enqueued()


def test_every_problem_is_listed_at_once(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str, nothing_enqueued: Callable[[], None]
) -> None:
    path = write_csv(
        HEADER
        + "intro,text,Welcome,,,,,,,\n"
        + "intro,text,again,,,,,,,\n"  # line 3: duplicate
        + "l1,file,missing.pdf,,intro,,,,,\n"  # line 4: file not found
        + "l2,youtube,not a url,,,,,,,\n"  # line 5: youtube
        + 'l3,text,"multi\nline text",,ghost,,,,,\n'  # lines 6-7: unknown dependency
        + "l4,text,hi,,,perhaps,,,,\n"  # line 8: quiz
    )
    result = cli("run", path, "--redis", redis_url, "--workers", "0")
    assert result.exit_code == 2
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("line ")]
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 4", "line 5", "line 6", "line 8"]
    assert "5 problems" in result.output
    nothing_enqueued()


def test_priority_is_allowed_once_the_user_has_the_tier(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str
) -> None:
    path = write_csv(HEADER + "a,text,hello,,,,,high,,\nb,text,hi,,,,,low,,\n")
    assert cli("validate", path, "--redis", redis_url, "--user", "ana").exit_code == 2
    assert cli("users", "set-tier", "ana", "premium", "--redis", redis_url).exit_code == 0
    result = cli("validate", path, "--redis", redis_url, "--user", "ana")
    assert result.exit_code == 0, result.output
    assert "2 rows, no problems" in result.output


def test_not_utf8_is_a_clear_error(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str, nothing_enqueued: Callable[[], None]
) -> None:
    path = write_csv("id,type,source\na,text,caf\xe9\n".encode("latin-1"))
    result = cli("validate", path, "--redis", redis_url)
    assert result.exit_code == 2
    assert "line 2: course.csv is not UTF-8 (byte 0xe9" in result.output
    path = write_csv("id,type,source\na,text,hello\n".encode("utf-16"))
    result = cli("validate", path, "--redis", redis_url)
    assert result.exit_code == 2
    assert "course.csv is UTF-16 encoded; save it as UTF-8" in result.output
    nothing_enqueued()


def test_bom_and_case_insensitive_columns_are_accepted(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str
) -> None:
    path = write_csv(
        "\ufeffID,Type,Source,Depends_On\na,TEXT,caf\u00e9 notes,\nb,text_notes,more,a\n".encode()
    )
    result = cli("validate", path, "--redis", redis_url)
    assert result.exit_code == 0, result.output
    rows = read_course(path).rows
    assert [r.input_data["content"] for r in rows] == ["caf\u00e9 notes", "more"]


def test_paths_outside_the_folder(
    cli: Invoke, write_csv: Callable[..., Path], redis_url: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside\n\nSome lecture text about queues and stacks.\n")
    path = write_csv(HEADER + "a,file,../outside.md,,,,,,,\nb,file,link.md,,,,,,,\n")
    os.symlink(outside, path.parent / "link.md")
    # A symlink inside the folder that points outside is refused like the plain path.
    result = cli("validate", path, "--redis", redis_url)
    assert result.exit_code == 2
    assert "line 2: source: '../outside.md' is outside" in result.output
    assert "line 3: source: 'link.md' is outside" in result.output
    result = cli("validate", path, "--redis", redis_url, "--allow-outside")
    assert result.exit_code == 0, result.output


def test_problem_str() -> None:
    assert str(Problem(3, "id", "is required")) == "line 3: id: is required"
    assert str(Problem(0, None, "cannot read")) == "file: cannot read"


def test_missing_csv_file(cli: Invoke, redis_url: str, tmp_path: Path) -> None:
    result = cli("validate", tmp_path / "nope.csv", "--redis", redis_url)
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_row_hashes_and_job_ids_never_change() -> None:
    """Resuming a batch finds its jobs by these ids: a new hashing scheme would orphan them all."""
    import uuid

    from batch.rows import Row, content_hashes
    from batch.runner import NAMESPACE, _job_id
    from eduscribe_sdk._models import JobType, Priority

    text = {"content": "Stacks", "options": {"generateQuiz": True}}
    lecture = Row(2, "l1", JobType.TEXT_NOTES, text, "Lecture 1")
    summary = Row(3, "sum", JobType.COURSE_SUMMARY, {"options": {}}, None, Priority.LOW, ("l1",))
    hashes = content_hashes([summary, lecture])  # any order: dependencies are hashed first
    assert hashes == {
        "l1": "69121a2b2f2acd535c080661a096d6fe135fe973f931080438c12fbf4e45101b",
        "sum": "24c7fc5d1a344b16469816f3fb1e8ad096ef268cceab4806b6394f15bc4a5883",
    }
    for row_id, row_hash in hashes.items():
        name = f"batch-1\n{row_id}\n{row_hash}"
        assert _job_id("batch-1", row_id, row_hash) == str(uuid.uuid5(NAMESPACE, name))
