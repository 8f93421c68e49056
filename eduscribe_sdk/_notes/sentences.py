"""Sentences: prepared text units split into sentences, and sentences made fit to show.

pysbd knows each language's abbreviations and is the reference splitter, but it is slow on long
input; most full stops are unambiguous (a word, a stop, a capital), so the text is cut there first
and pysbd only sees the stretches that still hold an ambiguous stop. Over-long sentences are then
cut at clause boundaries (clauses.py). A sentence quoted in a note loses its citations and
enumerators (``clean_sentence``); one that opens with a back-reference ("It keeps …") means little
on its own (``dangling_start``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .clauses import split_clauses
from .language import pysbd_language
from .textprep import Unit, UnitKind

__all__ = ["Sentence", "clean_sentence", "dangling_start", "split_long_sentences", "split_sentences"]

#: Longer sentences are cut at clause boundaries; instructors skim notes, and TextRank favours
#: long sentences, which would crowd out everything else.
_LONG_SENTENCE_WORDS = 38
#: Speech-to-text runs clauses together with commas; shorter pieces read better there.
_LOOSE_SENTENCE_WORDS = 25
# "(Smith et al. 2019)", "(see Fig. 2)", "[12]": references the reader of a note cannot follow.
_CITATION = re.compile(
    r"\s*\((?:[^()]*\b(?:19|20)\d{2}[a-z]?\b[^()]*|(?:Fig(?:ure)?s?\.?|Abb\.|Table|Tab\.|see|vgl\.)[^()]*)\)"
    r"|\s*\[\d+(?:\s*[,–-]\s*\d+)*\]",  # noqa: RUF001
    re.IGNORECASE,
)
# Sentences opening with these lean on the previous one ("This shows…"); alone they confuse.
_ANAPHORA = {
    "en": re.compile(r"^(?:this|these|those|that|it|they|such|he|she|its|their|here)\b", re.IGNORECASE),
    "de": re.compile(r"^(?:dies|diese[rsmn]?|es|sie|er|dabei|hier|damit|dadurch)\b", re.IGNORECASE),
    "fr": re.compile(r"^(?:cela|ceci|ce|cette|ces|il|elle|ils|elles)\b", re.IGNORECASE),
    "es": re.compile(r"^(?:esto|este|esta|estos|estas|ello|él|ella|ellos)\b", re.IGNORECASE),
}
# Lead-in connectives ("However, "): they tie a sentence to one the note does not show.
_LEADS = {
    "en": "however|moreover|furthermore|in addition|additionally|also|thus|therefore|hence|finally|"
    "in contrast|interestingly|notably|indeed|importantly|in summary|in conclusion|overall|"
    "first|second|third|lastly|for example|for instance|similarly|consequently|together",
    "de": "außerdem|zudem|jedoch|allerdings|daher|somit|also|schließlich|insbesondere|ferner|"
    "zusammenfassend|beispielsweise|dennoch",
    "fr": "cependant|de plus|en outre|ainsi|donc|enfin|par exemple|en effet|toutefois|néanmoins",
    "es": "sin embargo|además|así|por lo tanto|finalmente|por ejemplo|en efecto|no obstante",
}
# "(a) ", "(ii) ", "■ ", ": " left at the start of a sentence by lists and proofs
_ENUMERATOR = re.compile(r"^\s*(?:\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s+|[■□:•]\s*)+")
# A stop followed by more text: a unit without one is a single sentence, no splitter needed.
_BOUNDARY = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+\S")  # noqa: RUF001


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the text, with the kind of unit it came from."""

    #: position in the text's list of sentences
    index: int
    text: str
    kind: UnitKind
    #: index of the unit it came from, and whether it opens that unit
    unit: int
    first_in_unit: bool


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


def split_long_sentences(sentences: list[Sentence], language: str, *, loose: bool) -> list[Sentence]:
    """Over-long sentences (unpunctuated speech-to-text, run-on prose) cut into readable clauses.

    ``loose``: the text is a transcript or has hardly any full stops, so commas are the only
    boundaries it has and lower-case sentence starts are normal, not signs of a broken fragment.
    """
    limit = _LOOSE_SENTENCE_WORDS if loose else _LONG_SENTENCE_WORDS
    out: list[Sentence] = []
    for s in sentences:
        pieces = (
            [s.text]
            if s.kind in ("heading", "table")
            else split_clauses(s.text, language, limit, loose=loose)
        )
        for k, piece in enumerate(pieces):
            if loose:
                piece = piece[:1].upper() + piece[1:]
            out.append(Sentence(len(out), piece, s.kind, s.unit, s.first_in_unit and k == 0))
    return out


def clean_sentence(text: str, language: str, *, trim_lead: bool = False) -> str:
    """Citations and reference marks removed; optionally a leading connective ("However, ")."""
    text = _CITATION.sub("", text)
    text = _ENUMERATOR.sub("", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    if trim_lead and (leads := _LEADS.get(language)):
        trimmed = re.sub(rf"^(?:{leads}),\s+", "", text, flags=re.IGNORECASE)
        if trimmed != text and len(trimmed.split()) >= 4:
            text = trimmed[:1].upper() + trimmed[1:]
    words = text.split()
    if len(words) > 50:
        text = " ".join(words[:45]).rstrip(",;:") + " …"
    return text


def dangling_start(text: str, language: str) -> bool:
    """Opens with a word pointing back to a previous sentence ("It keeps …", "Dies zeigt …")."""
    pattern = _ANAPHORA.get(language)
    return bool(pattern and pattern.match(text))
