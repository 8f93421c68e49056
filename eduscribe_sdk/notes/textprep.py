"""Turning raw source text (plain, Markdown or PDF-extracted) into sentences for analysis."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .language import pysbd_language, yake_language

__all__ = [
    "Sentence",
    "Unit",
    "cap_text",
    "content_words",
    "prepare_units",
    "split_sentences",
    "stopwords",
    "strip_markdown_inline",
]

UnitKind = Literal["heading", "item", "para", "table"]


@dataclass(frozen=True, slots=True)
class Unit:
    """A heading, list item, table row or paragraph, with line wraps already joined."""

    kind: UnitKind
    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    text: str
    kind: UnitKind
    #: index of the unit it came from, and whether it opens that unit
    unit: int
    first_in_unit: bool


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
_BOUNDARY = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+\S")  # noqa: RUF001
_WORD = re.compile(r"[^\W\d_][\w'’\-]*[^\W_]|[^\W\d_]")  # noqa: RUF001


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


def prepare_units(text: str) -> list[Unit]:
    """Split ``text`` into headings, list items, table rows and paragraphs.

    Handles Markdown (fences dropped: code is not prose), pandoc ``%`` title lines, and the hard
    line wraps and hyphenation of PDF-extracted text, where short capitalised lines without
    punctuation are headings.
    """
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_WRAP.sub(r"\1\2", text)
    text = _LABEL.sub(lambda m: f"\n{m.group(1).strip()}\n", text)
    lines = text.split("\n")
    lengths = sorted(len(line) for line in lines if line.strip())
    typical = float(lengths[int(len(lengths) * 0.8)]) if lengths else 80.0
    units: list[Unit] = []
    para: list[str] = []
    para_kind: UnitKind = "para"
    in_fence = False

    def flush() -> None:
        if para:
            joined = strip_markdown_inline(" ".join(para))
            if joined:
                units.append(Unit(para_kind, joined))
            para.clear()

    def heading(raw_text: str) -> None:
        flush()
        cleaned = strip_markdown_inline(raw_text)
        if cleaned:
            units.append(Unit("heading", cleaned))

    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if i < 3 and stripped.startswith("% "):
            heading(stripped[2:])
            continue
        if _SETEXT.match(stripped) and para and para_kind == "para" and len(para) == 1:
            # "Title\n=====" (or -----): the line before was a heading
            title = para.pop()
            heading(title)
            continue
        if _TABLE_SEP.match(stripped) or _SETEXT.match(stripped):
            continue
        if _LABEL_LINE.fullmatch(stripped):
            heading(stripped)
            continue
        if match := _HEADING.match(line):
            heading(match.group(2))
            continue
        if stripped.startswith("|") and stripped.count("|") >= 2:
            flush()
            cells = [strip_markdown_inline(c) for c in stripped.strip("|").split("|")]
            units.append(Unit("table", " · ".join(c for c in cells if c)))
            continue
        if stripped.startswith(">"):
            stripped = stripped.lstrip("> ").strip()
        if _ITEM.match(stripped):
            flush()
            para_kind = "item"
            para.append(_ITEM.sub("", stripped, count=1))
            continue
        if para_kind == "item" and para and raw[:1].isspace():
            para.append(stripped)  # an indented continuation of a wrapped list item
            continue
        if para_kind == "item":
            flush()
            para_kind = "para"
        next_line = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if (
            not para
            and _is_short_title_line(stripped, typical)
            and (not next_line or next_line[:1].isupper())
        ):
            heading(stripped)
            continue
        para.append(stripped)
        if len(stripped) < 0.75 * typical and stripped.endswith((".", "!", "?", ":")):
            # a short last line ends a paragraph in PDF text, which has no blank lines
            flush()
    flush()
    return units


@lru_cache(maxsize=8)
def _segmenter(language: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=pysbd_language(language), clean=False)


_PLAIN_STOP = re.compile(r"(\S+)([.!?])(\s+)(?=\S)")
_PLAIN_NEXT = re.compile(r"[\"“„«(]?[A-ZÄÖÜÀ-ÝΑ-ΩА-Я]")
_ABBREVIATION_LIST = """etc approx resp bzw usw vgl abb prof dr mr mrs ms nr fig figs eq eqs sec ch
vol no ca jr sr st inc ltd co corp dept univ al cf ibid"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_LIST.split())


def _plain_split(text: str) -> list[str] | None:
    """The sentences of ``text`` when every stop is unambiguous (a word, a stop, a capital);
    None when anything (an abbreviation, an initial, a decimal) needs pysbd's rules."""
    parts: list[str] = []
    start = 0
    for match in _PLAIN_STOP.finditer(text):
        word = match.group(1).strip("\"'”’)»]").lower()  # noqa: RUF001
        if len(word) < 3 or word.rstrip(".") in _ABBREVIATIONS or "." in word:
            return None
        if not _PLAIN_NEXT.match(text, match.end()):
            return None
        parts.append(text[start : match.end(2)])
        start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def split_sentences(units: list[Unit], language: str) -> list[Sentence]:
    """Sentences of every unit. pysbd (slow) only runs on units whose stops are ambiguous."""
    segmenter = _segmenter(language)
    sentences: list[Sentence] = []
    for u_index, unit in enumerate(units):
        if unit.kind in ("heading", "table") or not _BOUNDARY.search(unit.text):
            parts = [unit.text]
        elif (plain := _plain_split(unit.text)) is not None:
            parts = plain
        else:
            parts = [p.strip() for p in segmenter.segment(unit.text) if p.strip()]
        for k, part in enumerate(parts):
            sentences.append(Sentence(len(sentences), part, unit.kind, u_index, k == 0))
    return sentences


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


@lru_cache(maxsize=16)
def stopwords(language: str) -> frozenset[str]:
    import yake

    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    path = folder / f"stopwords_{yake_language(language)}.txt"
    if not path.exists():
        return frozenset()
    words = path.read_text(encoding="utf-8", errors="ignore").split()
    return frozenset(w.lower() for w in words)


def content_words(text: str, stop: frozenset[str]) -> list[str]:
    """Lower-cased words that carry meaning (no stop words, numbers or one-letter tokens)."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if len(w) > 2 and w not in stop]
