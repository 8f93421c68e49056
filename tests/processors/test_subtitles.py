"""SRT / WebVTT formatting: pure unit tests, no media."""

from __future__ import annotations

import itertools
import re

import pytest

from eduscribe_sdk._processors.subtitles import format_srt, format_subtitles, format_timestamp, format_vtt
from eduscribe_sdk.errors import InvalidInputError

SEGMENTS = [
    {"start": 0.0, "end": 2.5, "text": " And so my fellow Americans,"},
    {"start": 2.5, "end": 3661.042, "text": "ask not what your country can do for you"},
]
SRT_TIMING = re.compile(r"^\d{2,}:\d{2}:\d{2},\d{3} --> \d{2,}:\d{2}:\d{2},\d{3}$")
VTT_TIMING = re.compile(r"^\d{2,}:\d{2}:\d{2}\.\d{3} --> \d{2,}:\d{2}:\d{2}\.\d{3}$")


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0, "00:00:00,000", "00:00:00.000"),
        (1, "00:00:01,000", "00:00:01.000"),
        (61.5, "00:01:01,500", "00:01:01.500"),
        (3661.042, "01:01:01,042", "01:01:01.042"),
        (59.9996, "00:01:00,000", "00:01:00.000"),  # rounds up across the minute, never ",1000"
        (0.0004, "00:00:00,000", "00:00:00.000"),
        (-0.2, "00:00:00,000", "00:00:00.000"),
        (100 * 3600 + 0.25, "100:00:00,250", "100:00:00.250"),
    ],
)
def test_timestamps(seconds: float, srt: str, vtt: str) -> None:
    assert format_timestamp(seconds, "srt") == srt
    assert format_timestamp(seconds, "vtt") == vtt


def test_timestamp_rejects_unknown_format() -> None:
    with pytest.raises(InvalidInputError, match="ass") as info:
        format_timestamp(1.0, "ass")  # type: ignore[arg-type]
    assert info.value.field == "fmt"


def test_srt_layout() -> None:
    text = format_srt(SEGMENTS)
    assert text == (
        "1\n00:00:00,000 --> 00:00:02,500\nAnd so my fellow Americans,\n"
        "\n"
        "2\n00:00:02,500 --> 01:01:01,042\nask not what your country can do for you\n"
    )


def test_vtt_layout() -> None:
    text = format_vtt(SEGMENTS)
    assert text.startswith("WEBVTT\n\n")
    blocks = text.split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert blocks[1] == "00:00:00.000 --> 00:00:02.500\nAnd so my fellow Americans,"
    assert blocks[2] == "00:00:02.500 --> 01:01:01.042\nask not what your country can do for you\n"


@pytest.mark.parametrize("fmt", ["srt", "vtt", "SRT", " vtt "])
def test_every_timing_line_is_well_formed(fmt: str) -> None:
    segments = [{"start": i * 1.37, "end": i * 1.37 + 1.2, "text": f"line {i}"} for i in range(50)]
    text = format_subtitles(segments, fmt)
    pattern = SRT_TIMING if fmt.strip().lower() == "srt" else VTT_TIMING
    timings = [line for line in text.splitlines() if "-->" in line]
    assert len(timings) == 50
    assert all(pattern.match(line) for line in timings)


def test_srt_numbers_cues_consecutively_and_skips_empty_text() -> None:
    segments = [
        {"start": 0, "end": 1, "text": "one"},
        {"start": 1, "end": 2, "text": "   "},
        {"start": 2, "end": 3, "text": "three"},
    ]
    blocks = format_srt(segments).strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == ["1", "2"]
    assert blocks[1].splitlines()[2] == "three"


def test_cue_text_never_breaks_the_format() -> None:
    segments = [{"start": 0, "end": 1, "text": "a\n\n\nb --> c <i>&"}]
    srt = format_srt(segments, line_width=0)
    assert srt == "1\n00:00:00,000 --> 00:00:01,000\na\nb -> c <i>&\n"
    vtt = format_vtt(segments, line_width=0)
    assert vtt.endswith("00:00:00.000 --> 00:00:01.000\na\nb -&gt; c &lt;i&gt;&amp;\n")
    assert vtt.count("-->") == 1


def test_long_text_is_wrapped_into_short_lines() -> None:
    cue = format_srt([{"start": 0, "end": 4, "text": "printing " * 8}]).splitlines()
    assert cue[2:] == ["printing printing printing printing"] * 2


def test_long_segment_becomes_several_two_line_cues_sharing_its_time() -> None:
    words = " ".join(f"word{i:02d}" for i in range(40))  # 279 characters, 7 lines of <= 42
    blocks = format_srt([{"start": 10, "end": 30, "text": words}]).strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == ["1", "2", "3", "4"]
    texts = [block.splitlines()[2:] for block in blocks]
    assert all(1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines) for lines in texts)
    assert " ".join(" ".join(lines) for lines in texts) == words
    timings = [block.splitlines()[1].split(" --> ") for block in blocks]
    assert timings[0][0] == "00:00:10,000"
    assert timings[-1][1] == "00:00:30,000"
    for (_, end), (start, _) in itertools.pairwise(timings):
        assert end == start  # contiguous, no gaps or overlaps
    assert [t[0] for t in timings] == sorted(t[0] for t in timings)


def test_splitting_can_be_switched_off() -> None:
    words = " ".join(["printing"] * 30)
    text = format_vtt([{"start": 0, "end": 9, "text": words}], max_lines=0)
    assert text.count("-->") == 1
    text = format_vtt([{"start": 0, "end": 9, "text": words}], line_width=0)
    assert text.count("-->") == 1
    assert text.splitlines()[-1] == words


def test_missing_or_backwards_end_gets_a_minimum_duration() -> None:
    text = format_vtt([{"start": 5, "text": "caption"}, {"start": 7, "end": 6, "text": "odd"}])
    assert "00:00:05.000 --> 00:00:05.500" in text
    assert "00:00:07.000 --> 00:00:07.500" in text


def test_no_segments() -> None:
    assert format_srt([]) == ""
    assert format_vtt([]) == "WEBVTT\n"


def test_unknown_format() -> None:
    with pytest.raises(InvalidInputError, match="unknown subtitle format") as info:
        format_subtitles(SEGMENTS, "ass")
    assert info.value.field == "fmt"


@pytest.mark.parametrize("bad", [{"text": "no start"}, {"start": "soon", "text": "x"}, "00:01 hello"])
def test_a_segment_without_a_numeric_start_is_invalid_input(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="segment 1") as info:
        format_srt([{"start": 0, "end": 1, "text": "fine"}, bad])  # type: ignore[list-item]
    assert info.value.field == "segments"
