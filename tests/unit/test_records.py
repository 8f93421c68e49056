"""Parsing stored records: a damaged field is a CorruptRecordError naming the job and the field."""

from __future__ import annotations

import math

import pytest

from eduscribe_sdk import CorruptRecordError, InvalidInputError, JobStatus
from eduscribe_sdk._records import record_from_hash, started_from_reply
from eduscribe_sdk._validation import check_count, check_event_id, check_id, check_seconds, check_string

GOOD = {
    "id": "j1",
    "user_id": "u",
    "job_type": "text_notes",
    "status": "queued",
    "priority": "normal",
    "input": '{"content": "x", "options": {}}',
    "progress": "0",
    "retry_count": "0",
    "max_retries": "3",
    "created_at": "1733580000.000001",
    "updated_at": "1733580000.000001",
    "estimated_duration": "",
    "depends_on": "[]",
}


def test_a_good_record_parses() -> None:
    record = record_from_hash(GOOD, 2)
    assert (record.status, record.max_retries, record.queue_position) == (JobStatus.QUEUED, 3, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", "True"),
        ("max_retries", "-1"),
        ("retry_count", "1_000"),
        ("progress", "50.5"),
        ("status", "exploded"),
        ("job_type", ""),
        ("priority", "asap"),
        ("input", "{oops"),
        ("input", "[1, 2]"),
        ("input", "[" * 5000),
        ("output", '"just text"'),
        ("error_details", "7"),
        ("created_at", "yesterday"),
        ("created_at", ""),
        ("started_at", "inf"),
        ("completed_at", "1e400"),
        ("estimated_duration", "nan"),
        ("depends_on", '[1, "a"]'),
        ("depends_on", '{"a": 1}'),
        ("user_id", ""),
    ],
)
def test_each_damaged_field_is_named(field: str, value: str) -> None:
    with pytest.raises(CorruptRecordError) as caught:
        record_from_hash({**GOOD, field: value})
    assert (caught.value.job_id, caught.value.field) == ("j1", field)
    assert str(caught.value).startswith(f"corrupt record for job 'j1': {field}: ")


def _reply(**changes: object) -> list[object]:
    values = {"attempt": 1, "job_type": "text_notes", "input": '{"content": "x"}', "title": "", "deps": "[]"}
    values |= changes
    return [
        "ok",
        values["attempt"],
        values["job_type"],
        values["input"],
        values["title"],
        values["deps"],
        "0",
        "3",
    ]


def test_a_claim_reply_parses_and_damage_is_named() -> None:
    assert started_from_reply("j1", _reply()).max_retries == 3
    for field, value in [("input", ""), ("input", "[]"), ("job_type", "nope"), ("deps", "[oops")]:
        with pytest.raises(CorruptRecordError):
            started_from_reply("j1", _reply(**{field: value}))
    with pytest.raises(CorruptRecordError, match="max_retries"):
        started_from_reply("j1", [*_reply()[:7], "True"])


@pytest.mark.parametrize("value", [True, False, 2.0, "3", None, -1, 101])
def test_counts_refuse_bools_floats_and_out_of_range(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^max_retries: "):
        check_count(value, "max_retries")


@pytest.mark.parametrize("value", [True, math.inf, -math.inf, math.nan, -1, "1", None, 10**20])
def test_seconds_are_finite_non_negative_numbers(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^estimated_duration_seconds: "):
        check_seconds(value, "estimated_duration_seconds")
    assert check_seconds(0, "x") == 0.0


@pytest.mark.parametrize("value", ["", " ", "a\x00", "a\nb", "\ud800", "é\udc80", "x" * 201, 7, None, b"id"])
def test_ids_are_short_printable_strings(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^job_id: "):
        check_id(value, "job_id")
    assert check_id("Lecture 3 · José", "job_id") == "Lecture 3 · José"


def test_text_refuses_nul_and_lone_surrogates_naming_the_position() -> None:
    with pytest.raises(InvalidInputError, match="lone surrogate '\\\\ud800' at position 3"):
        check_string("abc\ud800", "content", limit=10)
    with pytest.raises(InvalidInputError, match="NUL character at position 1"):
        check_string("a\x00", "content", limit=10)
    assert check_string("Grüße 🙂", "content", limit=10) == "Grüße 🙂"


@pytest.mark.parametrize(
    "value", ["bogus", "1-x", "-1", "1-", "18446744073709551616-0", "$\n", "\uff11\uff12", None, 5]
)
def test_event_ids(value: object) -> None:
    with pytest.raises(InvalidInputError, match=r"^since: "):
        check_event_id(value)
    for good in ("$", "0", "0-0", "1733580000000-12"):
        assert check_event_id(good) == good
