"""Splitting prepared text units into sentences, in the note's language.

pysbd knows each language's abbreviations and is the reference splitter, but it is slow on long
input; most full stops are unambiguous (a word, a stop, a capital), so the text is cut there first
and pysbd only sees the stretches that still hold an ambiguous stop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .language import pysbd_language
from .textprep import Unit, UnitKind

__all__ = ["Sentence", "split_sentences"]

_BOUNDARY = re.compile(r"[.!?…。！？][\"'”’»)\]]*\s+\S")  # noqa: RUF001


@dataclass(frozen=True, slots=True)
class Sentence:
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
