"""Turning raw source text (plain, Markdown or PDF-extracted) into sentences for analysis."""

from __future__ import annotations

import itertools
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
    "few_stops",
    "is_term_list",
    "prepare_units",
    "split_clauses",
    "split_sentences",
    "stopwords",
    "strip_markdown_inline",
    "term_list_items",
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
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHEN_WRAP.sub(r"\1\2", text)
    # Wikipedia's citation marks hide sentence ends from the splitter ("in 1924.[28] By 1933")
    text = _CITE_MARK.sub("", text)
    text = _LABEL.sub(lambda m: f"\n{m.group(1).strip()}\n", text)
    lines = text.split("\n")
    # Speech-to-text and subtitle dumps have line breaks but hardly any full stops: there a line
    # is the best sentence boundary there is, while joining lines would make one endless sentence.
    # Decided per block (between blank lines): hard-wrapped prose paragraphs are short enough
    # to tell from those.
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
        if line_units[i] or (len(stripped) < 0.75 * typical and stripped.endswith((".", "!", "?", ":"))):
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


def _plain_pieces(text: str) -> list[tuple[str, bool]]:
    """``text`` cut at its unambiguous stops (a word, a stop, a capital), each piece with
    whether it still holds an ambiguous stop (an abbreviation, an initial, a decimal) that
    needs pysbd's rules. pysbd is slow on long input, so it only ever sees such pieces."""
    pieces: list[tuple[str, bool]] = []
    start, ambiguous = 0, False
    for match in _PLAIN_STOP.finditer(text):
        word = match.group(1).strip("\"'”’)»]").lower()  # noqa: RUF001
        clear = (
            len(word) >= 3
            and word.rstrip(".") not in _ABBREVIATIONS
            and "." not in word
            and _PLAIN_NEXT.match(text, match.end()) is not None
        )
        if clear:
            pieces.append((text[start : match.end(2)], ambiguous))
            start, ambiguous = match.end(), False
        else:
            ambiguous = True
    pieces.append((text[start:], ambiguous))
    return [(p.strip(), a) for p, a in pieces if p.strip()]


def split_sentences(units: list[Unit], language: str) -> list[Sentence]:
    """Sentences of every unit; pysbd only sees the stretches whose stops are ambiguous."""
    segmenter = _segmenter(language)
    sentences: list[Sentence] = []
    for u_index, unit in enumerate(units):
        if unit.kind in ("heading", "table") or not _BOUNDARY.search(unit.text):
            parts = [unit.text]
        else:
            parts = []
            for piece, ambiguous in _plain_pieces(unit.text):
                if ambiguous:
                    parts += [p.strip() for p in segmenter.segment(piece) if p.strip()]
                else:
                    parts.append(piece)
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


# --- over-long sentences -------------------------------------------------------------------------

_COORDINATING = {
    "en": "and but or so yet then",
    "de": "und aber oder denn sondern doch",
    "fr": "et mais ou donc car puis",
    "es": "y pero o pues sino entonces",
}
_SUBORDINATING = {
    "en": "when while where which because although though if whereas since unless until who whose",
    "de": "wenn weil während wobei obwohl falls sodass damit dass da nachdem bevor",
    "fr": "quand lorsque parce puisque tandis bien si qui où",
    "es": "cuando porque aunque mientras donde si que",
}
_ARTICLES = frozenset(
    ["a", "an", "the", "un", "une", "le", "la", "les", "ein", "eine", "der", "die", "das", "el", "los", "las"]
)
_DASHES = frozenset(["-", "–", "—"])  # noqa: RUF001
_MIN_PIECE_WORDS = 4


@lru_cache(maxsize=16)
def _conjunctions(language: str) -> tuple[frozenset[str], frozenset[str]]:
    return (
        frozenset(_COORDINATING.get(language, _COORDINATING["en"]).split()),
        frozenset(_SUBORDINATING.get(language, _SUBORDINATING["en"]).split()),
    )


# Words that open a clause with its own subject after "and"/"but" ("…, and the list …").
_SUBJECT_STARTS = {
    "en": "the a an this that these those it they we he she i you there its their his her our each every "
    "all some many most no one two both such",
    "de": "der die das ein eine es sie er wir man dies diese dieser jeder jede alle",
    "fr": "le la les l' un une il elle ils elles on ce cette ces chaque tous",
    "es": "el la los las un una ello él ella ellos ellas se este esta estos estas cada todos",
}


@lru_cache(maxsize=16)
def _subject_starts(language: str) -> frozenset[str]:
    return frozenset(_SUBJECT_STARTS.get(language, _SUBJECT_STARTS["en"]).split())


def _boundary_strengths(words: list[str], language: str, *, loose: bool) -> list[float]:
    """How good a place to cut each gap is: ``out[k]`` is the gap before ``words[k]``; 0 = never.

    Semicolons and dashes end a clause for sure, a colon nearly so, then a comma before "and",
    "but" … In edited prose that is all: a cut at a bare comma or before "which"/"because"
    leaves a fragment. Speech-to-text (``loose``) marks every pause with a comma and nothing
    else, so there bare commas and conjunctions are boundaries too. Nothing inside brackets is cut.
    """
    coordinating, subordinating = _conjunctions(language)
    subjects = _subject_starts(language)
    out = [0.0] * len(words)
    depth = 0
    for k, word in enumerate(words):
        if k > 0 and depth == 0:
            prev = words[k - 1].rstrip("\"'”’»)")  # noqa: RUF001
            low = word.lower().strip("\"'“‘«(")  # noqa: RUF001
            following = words[k + 1] if k + 1 < len(words) else ""
            clause_follows = following[:1].isupper() or following.lower() in subjects
            if prev.endswith(";") or word in _DASHES:
                out[k] = 3.0
            elif prev.endswith(":"):
                # "… a circular buffer: an array in which …" defines what precedes the colon
                out[k] = (1.0 if loose else 0.0) if low in _ARTICLES else 2.5
            elif prev.endswith(",") and low in coordinating and (loose or clause_follows):
                out[k] = 1.5
            elif loose and prev.endswith(","):
                out[k] = 1.5 if low in subordinating else 1.0
            elif loose and (low in coordinating or low in subordinating):
                out[k] = 0.4
        depth = max(0, depth + word.count("(") - word.count(")"))
    return out


_RELATIVE = {
    "en": "which who whose whom",
    "de": "der die das welche welcher welches dessen deren",
    "fr": "qui que dont",
    "es": "que quien quienes cuyo cuya",
}
# Words that open a clause which needs the next one ("To find a key, start at the root").
# Clause openers that need the next clause ("To find a key, start at the root"; "When the tree
# is balanced, every search is fast") and subordinators that finish the previous one ("…, because
# the tree has logarithmic height").
_OPENERS = {
    "en": "to when if while once before after",
    "de": "um wenn falls während nachdem bevor sobald",
    "fr": "pour quand lorsque si avant après",
    "es": "para cuando si mientras antes después",
}
_TRAILING = {
    "en": "because since although though whereas unless until so",
    "de": "weil obwohl sodass damit dass da",
    "fr": "parce puisque bien tandis",
    "es": "porque aunque pues",
}
_DROP_LEAD = frozenset(["and", "und", "et", "y"])


@lru_cache(maxsize=16)
def _clause_words(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """(words that continue the previous clause, words that open a clause needing the next)."""
    coordinating, _subordinating = _conjunctions(language)
    relative = frozenset(_RELATIVE.get(language, _RELATIVE["en"]).split())
    trailing = frozenset(_TRAILING.get(language, "").split())
    opener = frozenset(_OPENERS.get(language, "").split())
    return coordinating | relative | trailing, opener


def _even_chunks(words: list[str], max_words: int) -> list[list[str]]:
    chunks = -(-len(words) // max_words)
    size = -(-len(words) // chunks)
    return [words[i : i + size] for i in range(0, len(words), size)]


def _group(
    words: list[str],
    strengths: list[float],
    levels: tuple[float, ...],
    max_words: int,
    language: str,
    *,
    loose: bool,
) -> list[list[str]]:
    """Clauses cut at boundaries of the first strength level, regrouped into readable pieces;
    pieces still too long are cut at the next, weaker level."""
    if len(words) <= max_words:
        return [words]
    if not levels:
        # prose without a clean clause boundary stays whole: a long sentence beats two fragments
        return _even_chunks(words, max_words) if loose else [words]
    cuts = [k for k in range(1, len(words)) if strengths[k] >= levels[0]]
    if not cuts:
        return _group(words, strengths, levels[1:], max_words, language, loose=loose)
    continuing, opening = _clause_words(language)
    bounds = [0, *cuts, len(words)]
    pieces: list[tuple[int, int]] = []
    clauses_in_piece = 0
    for a, b in itertools.pairwise(bounds):
        first = words[a].lower().strip("\"'“‘«(")  # noqa: RUF001
        if pieces:
            start, end = pieces[-1]
            piece_first = words[start].lower().strip("\"'“‘«(")  # noqa: RUF001
            fits = (end - start) + (b - a) <= max_words
            tiny = end - start < _MIN_PIECE_WORDS or b - a < _MIN_PIECE_WORDS
            # "To find a key," / "When the tree is balanced," alone are fragments: always joined
            dependent = piece_first in opening and clauses_in_piece == 1
            if tiny or dependent or (first in continuing and fits):
                pieces[-1] = (start, b)
                clauses_in_piece += 1
                continue
        pieces.append((a, b))
        clauses_in_piece = 1
    out: list[list[str]] = []
    for a, b in pieces:
        out.extend(_group(words[a:b], strengths[a:b], levels[1:], max_words, language, loose=loose))
    return out


def split_clauses(text: str, language: str, max_words: int, *, loose: bool = False) -> list[str]:
    """``text`` cut at clause boundaries into pieces of at most about ``max_words`` words.

    Strong boundaries (semicolons, dashes, colons, a comma before a conjunction) are tried first,
    bare commas only if a piece is still too long, unless ``loose``: speech-to-text output marks
    every pause with a comma and nothing else. Each piece reads as a sentence of its own: a capital
    at the start, a full stop at the end, no dangling comma or leading "and".
    """
    words = text.split()
    if len(words) <= max_words:
        return [text]
    levels = (1.0, 0.4) if loose else (1.5, 1.0)
    strengths = _boundary_strengths(words, language, loose=loose)
    pieces = _group(words, strengths, levels, max_words, language, loose=loose)
    out: list[str] = []
    for piece in pieces:
        while piece and (piece[0] in _DASHES or (len(piece) > 3 and piece[0].lower() in _DROP_LEAD)):
            piece = piece[1:]
        joined = " ".join(piece).rstrip(",;:–—- ")  # noqa: RUF001
        if not joined:
            continue
        if joined[-1] not in ".!?…":
            joined += "."
        out.append(joined[:1].upper() + joined[1:])
    return out


# --- lists of key terms ("Key terms: a, b, c") -----------------------------------------------------

_TERM_LIST_LABEL = re.compile(
    r"^\s*(?:key\s+terms?|keywords?|key\s+words|key\s+concepts|important\s+terms|terms|glossary|vocabulary|"
    r"schlüsselbegriffe|schlüsselwörter|grundbegriffe|begriffe|stichwörter|stichworte|fachbegriffe|"
    r"mots[- ]clés|termes(?:\s+clés)?|notions\s+clés|vocabulaire|"
    r"términos(?:\s+clave)?|palabras\s+clave|conceptos\s+clave|vocabulario)\s*[:：]\s*",  # noqa: RUF001
    re.IGNORECASE,
)
_LIST_SPLIT = re.compile(r"\s*[,;]\s*|\s+(?:and|or|und|oder|et|ou|y|o)\s+")


def term_list_items(text: str) -> list[str]:
    """The items of an explicit list of terms ("Key terms: a, b and c."), else ``[]``."""
    match = _TERM_LIST_LABEL.match(text)
    if not match:
        return []
    body = text[match.end() :].strip().rstrip(".")
    items = [" ".join(item.split()).strip("\"'“”‘’()") for item in _LIST_SPLIT.split(body)]  # noqa: RUF001
    return [item for item in items if item and len(item.split()) <= 4]


def is_term_list(text: str) -> bool:
    """A bare list of terms: it names things without saying anything about them."""
    if _TERM_LIST_LABEL.match(text):
        return True
    items = [item for item in _LIST_SPLIT.split(text.strip().rstrip(".")) if item]
    return len(items) >= 4 and all(len(item.split()) <= 3 for item in items)
