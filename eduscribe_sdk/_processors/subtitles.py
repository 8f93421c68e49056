"""SubRip (SRT) and WebVTT text from timed transcript segments.

Pure functions with no heavy imports, usable for any ``[{start, end, text}]`` transcript
(speech-to-text output or a YouTube caption track).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of transcript: seconds from the start, and what was said."""

    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


__all__ = [
    "SUBTITLE_FORMATS",
    "Segment",
    "SubtitleFormat",
    "format_srt",
    "format_subtitles",
    "format_timestamp",
    "format_vtt",
]

SubtitleFormat = Literal["srt", "vtt"]
SUBTITLE_FORMATS: tuple[SubtitleFormat, ...] = ("srt", "vtt")

#: Broadcast subtitle guidelines keep cues to two lines of about 42 characters.
LINE_WIDTH = 42
MAX_LINES = 2

_BLANK_LINES = re.compile(r"\n\s*\n+")


def format_timestamp(seconds: float, fmt: SubtitleFormat = "srt") -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (VTT); hours widen past 99, never wrap."""
    if fmt not in SUBTITLE_FORMATS:
        raise _unknown_format(fmt)
    # Rounding the total first (not each field) means 59.9996 s becomes 00:01:00,000
    # instead of the invalid 00:00:59,1000.
    total_ms = max(0, round(float(seconds) * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    separator = "," if fmt == "srt" else "."
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_lines(text: str, width: int) -> list[str]:
    # A blank line ends a cue in both formats, so it must never occur inside one.
    text = _BLANK_LINES.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    # "-->" inside a cue would be read as a timing line by players.
    text = text.replace("-->", "->")
    if width <= 0:
        return [line for line in text.split("\n") if line.strip()]
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(textwrap.wrap(line, width=width, break_long_words=False, break_on_hyphens=False))
    return lines


def _escape(text: str, fmt: SubtitleFormat) -> str:
    if fmt == "vtt":
        # WebVTT cue text is markup: a bare & or < starts an entity or a tag.
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _cues(
    segments: Iterable[Mapping[str, Any]], fmt: SubtitleFormat, width: int, max_lines: int
) -> Iterable[tuple[str, str, str]]:
    for index, segment in enumerate(segments):
        try:
            lines = _cue_lines(str(segment.get("text") or ""), width)
            if not lines:
                continue
            start = max(0.0, float(segment["start"]))
            end = segment.get("end")
            # Caption tracks sometimes give only a start (or a zero-length cue); players drop
            # cues whose end is not after their start, so give them a short minimum duration.
            end_s = float(end) if end is not None else start
        except (AttributeError, KeyError, TypeError, ValueError):
            raise InvalidInputError(
                f"segment {index} is not a mapping with a numeric 'start' (and 'end'): {segment!r:.80}",
                field="segments",
            ) from None
        if end_s <= start:
            end_s = start + 0.5
        groups = [lines]
        if max_lines > 0 and len(lines) > max_lines:
            groups = [lines[i : i + max_lines] for i in range(0, len(lines), max_lines)]
        # Whisper segments carry no word times here; speech rate is steady enough within one
        # segment that sharing its time out by characters keeps each cue close to its words.
        total_chars = sum(len(line) for line in lines)
        done = 0
        cue_start = start
        for group in groups:
            done += sum(len(line) for line in group)
            cue_end = end_s if done >= total_chars else start + (end_s - start) * done / total_chars
            text = _escape("\n".join(group), fmt)
            yield format_timestamp(cue_start, fmt), format_timestamp(cue_end, fmt), text
            cue_start = cue_end


def format_srt(
    segments: Iterable[Mapping[str, Any]], *, line_width: int = LINE_WIDTH, max_lines: int = MAX_LINES
) -> str:
    """SubRip text: numbered cues from 1, ``00:00:01,000 --> 00:00:02,500``, blank-line separated.

    Segments are mappings with ``start`` and ``end`` (seconds) and ``text``; empty texts are
    skipped. ``line_width`` wraps long lines (0: one line per segment); a segment longer than
    ``max_lines`` lines becomes several cues sharing its time span (0: never split).
    """
    blocks = [
        f"{index}\n{start} --> {end}\n{text}\n"
        for index, (start, end, text) in enumerate(_cues(segments, "srt", line_width, max_lines), start=1)
    ]
    return "\n".join(blocks)


def format_vtt(
    segments: Iterable[Mapping[str, Any]], *, line_width: int = LINE_WIDTH, max_lines: int = MAX_LINES
) -> str:
    """WebVTT text: the ``WEBVTT`` header, then ``00:00:01.000 --> 00:00:02.500`` cues."""
    blocks = ["WEBVTT\n"]
    cues = _cues(segments, "vtt", line_width, max_lines)
    blocks.extend(f"{start} --> {end}\n{text}\n" for start, end, text in cues)
    return "\n".join(blocks)


def format_subtitles(
    segments: Iterable[Mapping[str, Any]],
    fmt: SubtitleFormat | str,
    *,
    line_width: int = LINE_WIDTH,
    max_lines: int = MAX_LINES,
) -> str:
    """Subtitles in ``fmt`` (``"srt"`` or ``"vtt"``, case-insensitive)."""
    name = str(fmt).strip().lower()
    if name == "srt":
        return format_srt(segments, line_width=line_width, max_lines=max_lines)
    if name == "vtt":
        return format_vtt(segments, line_width=line_width, max_lines=max_lines)
    raise _unknown_format(fmt)


def _unknown_format(fmt: object) -> InvalidInputError:
    # A processor that meets this fails the job at once: asking again cannot help.
    return InvalidInputError(
        f"unknown subtitle format {fmt!r} (one of {', '.join(SUBTITLE_FORMATS)})", field="fmt"
    )
