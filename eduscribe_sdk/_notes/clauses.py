"""Cutting over-long sentences at clause boundaries into pieces that read as sentences.

TextRank favours long sentences and instructors skim notes, so a run-on sentence (or a minute of
unpunctuated speech-to-text) is cut where a clause ends: semicolons, dashes and colons first, a
comma before a conjunction next, and in speech-to-text output bare commas too. Pieces that could
not stand alone ("To find a key,") stay joined to the clause they need.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

__all__ = ["split_clauses"]

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
