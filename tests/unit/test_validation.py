"""Input validation: every refusal names its field; nothing heavy is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eduscribe_sdk._models import JobStatus
from eduscribe_sdk._validation import MAX_TEXT_CHARS, normalize_input, parse_status
from eduscribe_sdk.errors import InvalidInputError


def test_text_input_is_normalised() -> None:
    data = normalize_input(
        "text_notes", {"content": "Hi.", "options": {"language": "de", "generateQuiz": True}}
    )
    assert data == {"content": "Hi.", "options": {"language": "de", "generateQuiz": True}}


@pytest.mark.parametrize(
    ("job_type", "data", "field"),
    [
        ("text_notes", None, "content"),
        ("text_notes", [], "input_data"),
        ("text_notes", {"content": "   "}, "content"),
        ("text_notes", {"content": "x" * (MAX_TEXT_CHARS + 1)}, "content"),
        ("text_notes", {"content": "x", "options": {"language": "english"}}, "options.language"),
        ("text_notes", {"content": "x", "options": {"prompt": 5}}, "options.prompt"),
        ("text_notes", {"content": "x", "options": {"password": "p"}}, "options"),
        ("text_notes", {"content": "x", "options": "quiz"}, "options"),
        ("video_notes", {"path": 42}, "path"),
        ("video_notes", {"path": __file__, "options": {"subtitles": "ass"}}, "options.subtitles"),
        ("youtube_notes", {}, "youtubeUrl"),
        ("youtube_notes", {"videoId": "short"}, "youtubeUrl"),
        (
            "youtube_notes",
            {"youtubeUrl": "dQw4w9WgXcQ", "options": {"preferredLanguages": ["en", 3]}},
            "options.preferredLanguages",
        ),
        ("course_summary", {"content": "x"}, "input_data"),
        ("nonsense", {}, "job_type"),
    ],
)
def test_refusals_name_the_field(job_type: str, data: object, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        normalize_input(job_type, data)
    assert info.value.field == field and field in str(info.value)


def test_a_status_is_parsed_or_refused_naming_the_field() -> None:
    assert parse_status("failed") is JobStatus.FAILED
    assert parse_status(JobStatus.QUEUED) is JobStatus.QUEUED
    with pytest.raises(InvalidInputError) as info:
        parse_status("done", field="statuses")
    assert info.value.field == "statuses"
    assert all(status.value in str(info.value) for status in JobStatus)  # lists the valid ones


def test_paths_must_be_real_non_empty_files_under_the_limit(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    for path, message in [
        (tmp_path / "missing.pdf", "not found"),
        (tmp_path, "not a regular file"),
        (empty, "empty"),
        (big, "limit"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            normalize_input("file_notes", {"path": str(path)}, max_file_bytes=1024)


def test_importing_the_sdk_does_not_import_heavy_packages() -> None:
    code = (
        "import sys, eduscribe_sdk, eduscribe_sdk._client, eduscribe_sdk._processors;"
        "heavy = {'faster_whisper', 'pypdf', 'av', 'pandas', 'ipywidgets', 'openai',"
        " 'youtube_transcript_api'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
