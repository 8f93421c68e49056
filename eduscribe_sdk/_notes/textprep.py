"""Text preparation: raw source text (plain, Markdown or PDF-extracted) split into units.

A unit is a heading, list item, table row or paragraph with its line wraps joined; the later
steps split units into sentences (sentences.py) and need to know what kind of unit a sentence
came from: headings name terms but are no sentences to quote, list items are fragments more
often than prose is. Markdown markup is removed here (code fences dropped: code is not prose),
and the layout of PDF-extracted text is undone: hard line wraps, hyphenation, short capitalised
lines that are headings, numbered labels ("Definition 24 (…)") glued to their sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = ["Unit", "UnitKind", "cap_text", "few_stops", "prepare_units", "strip_markdown_inline"]

UnitKind = Literal["heading", "item", "para", "table"]


@dataclass(frozen=True, slots=True)
class Unit:
    """A heading, list item, table row or paragraph, with line wraps already joined."""

    kind: UnitKind
    text: str


_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_ITEM = re.compile(r"^\s*(?:[*+\-•▪◦‣]|\d{1,3}[.)])\s+")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]{0,200}>")
_CODE_SPAN = re.compile(r"`+([^`]*)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")
_MATH = re.compile(r"\$\$?([^$]{1,200})\$\$?")
_TEX_CMD = re.compile(r"\\([A-Za-z]+)")
_SPACES = re.compile(r"[ \t\u00a0]+")
_CITE_MARK = re.compile(r"(?<=[.,;:!?\"”])\[\d{1,3}\]")
# "Übungsauf-\ngaben" → "Übungsaufgaben"; "Schwarz-\nWeiß" keeps its hyphen (capital next).
_HYPHEN_WRAP = re.compile(r"(\w)[-\u00ad]\n([a-zäöüßàâçéèêëîïôûùÿñæœ])")
# "Definition 24 (Mannigfaltigkeit) Sei …": numbered labels of lecture notes glued to the
# sentence they introduce; they become headings of their own.
_LABEL_CORE = (
    r"(?:Definition|Satz|Lemma|Bemerkung|Beispiel|Korollar|Proposition|Theorem|Corollary|Example|"
    r"Remark|Exercise|Aufgabe|Folgerung|Übung|Abbildung|Figure|Tabelle|Table)"
    r"\s+\d+(?:\.\d+)*:?(?:\s+\([^()\n]{1,80}\))?"
)
_LABEL = re.compile(r"(?:^|(?<=[\s.:]))(" + _LABEL_CORE + r")\s+(?=[A-ZÄÖÜ(])")
_LABEL_LINE = re.compile(_LABEL_CORE)


def strip_markdown_inline(text: str) -> str:
    """Markup removed, words kept: links keep their text, code spans their content."""
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _CODE_SPAN.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EM_STAR.sub(r"\1", text)
    text = _EM_UNDER.sub(r"\1", text)
    text = _MATH.sub(lambda m: _TEX_CMD.sub(r"\1", m.group(1)), text)
    return _SPACES.sub(" ", text).strip()


def _is_short_title_line(line: str, typical: float) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 8
        and len(line) < 0.6 * typical
        and not line.rstrip().endswith((".", ",", ";", ":", "!", "?", "-"))
        and line[:1].isupper()
    )


# a full stop, possibly followed by closing quotes or a citation mark ("… in 1924.[28] By …")
_STOP_MARK = re.compile(r"[.!?…。！？](?:\[\d+\]|[\"'”’»)\]])*(?=\s|$)")  # noqa: RUF001
#: Fewer full stops than one per this many words: the text is not punctuated in sentences.
_WORDS_PER_STOP = 40


def few_stops(text: str) -> bool:
    """Hardly any full stops: speech-to-text output, subtitles, scraped lists."""
    words = len(text.split())
    return words >= 60 and len(_STOP_MARK.findall(text)) * _WORDS_PER_STOP < words


def prepare_units(text: str) -> list[Unit]:
    """Split ``text`` into headings, list items, table rows and paragraphs.

    Handles Markdown (fences dropped: code is not prose), pandoc ``%`` title lines, and the hard
    line wraps and hyphenation of PDF-extracted text, where short capitalised lines without
    punctuation are headings.
    """
    lines = _normalize(text).split("\n")
    builder = _UnitBuilder(lines)
    for i, raw in enumerate(lines):
        builder.add_line(i, raw)
    builder.flush()
    return builder.units


def _normalize(text: str) -> str:
    """One newline convention, PDF hyphenation undone, labels on lines of their own."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_WRAP.sub(r"\1\2", text)
    # Wikipedia's citation marks hide sentence ends from the splitter ("in 1924.[28] By 1933")
    text = _CITE_MARK.sub("", text)
    return _LABEL.sub(lambda m: f"\n{m.group(1).strip()}\n", text)


def _unpunctuated_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it ends a unit because its block is hardly punctuated.

    Speech-to-text and subtitle dumps have line breaks but hardly any full stops: there a line
    is the best sentence boundary there is, while joining lines would make one endless sentence.
    Decided per block (between blank lines): hard-wrapped prose paragraphs are short enough
    to tell from those.
    """
    line_units = [False] * len(lines)
    block: list[int] = []
    for i, line in enumerate([*lines, ""]):
        if line.strip():
            block.append(i)
            continue
        if len(block) >= 4 and few_stops("\n".join(lines[k] for k in block)):
            for k in block:
                line_units[k] = True
        block = []
    return line_units


def _typical_length(lines: list[str]) -> float:
    """The length of a full line of the text (PDF text wraps at it; shorter lines end something)."""
    lengths = sorted(len(line) for line in lines if line.strip())
    return float(lengths[int(len(lengths) * 0.8)]) if lengths else 80.0


class _UnitBuilder:
    """Units collected line by line: a paragraph or list item grows until a line ends it."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.line_units = _unpunctuated_lines(lines)
        self.typical = _typical_length(lines)
        self.units: list[Unit] = []
        self.para: list[str] = []
        self.para_kind: UnitKind = "para"
        self.in_fence = False

    def flush(self) -> None:
        if self.para:
            joined = strip_markdown_inline(" ".join(self.para))
            if joined:
                self.units.append(Unit(self.para_kind, joined))
            self.para.clear()

    def heading(self, raw_text: str) -> None:
        self.flush()
        cleaned = strip_markdown_inline(raw_text)
        if cleaned:
            self.units.append(Unit("heading", cleaned))

    def add_line(self, i: int, raw: str) -> None:
        line = raw.rstrip()
        if _FENCE.match(line):
            self.flush()
            self.in_fence = not self.in_fence
            return
        if self.in_fence:
            return
        stripped = line.strip()
        if not stripped:
            self.flush()
            return
        if self._markup_line(i, line, stripped):
            return
        if stripped.startswith(">"):
            stripped = stripped.lstrip("> ").strip()
        if self._list_line(raw, stripped):
            return
        self._prose_line(i, stripped)

    def _markup_line(self, i: int, line: str, stripped: str) -> bool:
        """Title lines, headings, table rows and separators; False for any other line."""
        if i < 3 and stripped.startswith("% "):
            self.heading(stripped[2:])
            return True
        if _SETEXT.match(stripped) and self.para and self.para_kind == "para" and len(self.para) == 1:
            # "Title\n=====" (or -----): the line before was a heading
            self.heading(self.para.pop())
            return True
        if _TABLE_SEP.match(stripped) or _SETEXT.match(stripped):
            return True
        if _LABEL_LINE.fullmatch(stripped):
            self.heading(stripped)
            return True
        if match := _HEADING.match(line):
            self.heading(match.group(2))
            return True
        if stripped.startswith("|") and stripped.count("|") >= 2:
            self.flush()
            cells = [strip_markdown_inline(c) for c in stripped.strip("|").split("|")]
            self.units.append(Unit("table", " · ".join(c for c in cells if c)))
            return True
        return False

    def _list_line(self, raw: str, stripped: str) -> bool:
        """A list item or its continuation; any other line ends the item (and returns False)."""
        if _ITEM.match(stripped):
            self.flush()
            self.para_kind = "item"
            self.para.append(_ITEM.sub("", stripped, count=1))
            return True
        if self.para_kind == "item" and self.para and raw[:1].isspace():
            self.para.append(stripped)  # an indented continuation of a wrapped list item
            return True
        if self.para_kind == "item":
            self.flush()
            self.para_kind = "para"
        return False

    def _prose_line(self, i: int, stripped: str) -> None:
        next_line = self.lines[i + 1].strip() if i + 1 < len(self.lines) else ""
        if (
            not self.para
            and _is_short_title_line(stripped, self.typical)
            and (not next_line or next_line[:1].isupper())
        ):
            self.heading(stripped)
            return
        self.para.append(stripped)
        if self.line_units[i] or (
            len(stripped) < 0.75 * self.typical and stripped.endswith((".", "!", "?", ":"))
        ):
            # a short last line ends a paragraph in PDF text, which has no blank lines
            self.flush()


def cap_text(units: list[Unit], max_chars: int) -> list[Unit]:
    """At most ``max_chars`` of units, taken as evenly spaced runs so the whole text is represented."""
    total = sum(len(u.text) for u in units)
    if total <= max_chars:
        return units
    runs = 12
    window = total / runs
    budget = max_chars / runs
    kept: list[Unit] = []
    position = 0
    for unit in units:
        offset = position % window
        if unit.kind == "heading" or offset < budget:
            kept.append(unit)
        position += len(unit.text)
    return kept
