"""The offline note generator: extractive, deterministic, no network.

Each step lives in its own module; this one runs them in order and reports progress:

1. ``analysis.py``: the text read into sentences (``textprep.py``, ``sentences.py``,
   ``clauses.py``) in the detected language, and the quotable ones ranked by TextRank
   (``ranking.py``). A custom ``prompt`` is honoured by its content words: sentences mentioning
   them get a larger share of PageRank's random jumps. Instruction words ("focus on",
   "explain", "students") are ignored.
2. ``summary.py``: summary and key points, the best-ranked sentences that stand alone.
3. ``terms.py`` (with ``author_terms.py``): the key terms, yake keyphrases plus the terms the
   author marked, noun-phrase-like only; the prompt's topics first.
4. ``glossary.py`` (with ``definitions.py``): each term with the source sentence that best
   defines it, or left out; terms a prior note defines point to that note.
5. ``quiz.py``: cloze questions blanking glossary terms in source sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from .analysis import analyse
from .glossary import make_glossary
from .quiz import make_quiz
from .sentences import Sentence
from .source import NoteSource
from .summary import summarize
from .terms import key_terms

__all__ = ["generate_offline", "offline_parts"]


class _Sizes(NamedTuple):
    summary: int
    key_points: int
    glossary: int


def _sizes(n_candidates: int) -> _Sizes:
    """How many summary sentences, key points and glossary terms suit a text this long."""
    summary = 1 if n_candidates <= 3 else min(5, max(2, round(n_candidates**0.5 / 2)))
    key_points = min(8, max(1, n_candidates // 3 + 1))
    glossary = min(12, max(3, n_candidates // 8))
    return _Sizes(summary, key_points, glossary)


def _title(source: NoteSource, sentences: Sequence[Sentence], fallback: str) -> str:
    """The source's title, else an opening heading, else the text's first words."""
    if source.title and source.title.strip():
        return source.title.strip()
    for s in sentences[:5]:
        if s.kind == "heading" and 1 <= len(s.text.split()) <= 15:
            return s.text
    if sentences:
        words = sentences[0].text.split()
        return " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return fallback


def offline_parts(
    text: str,
    *,
    language: str | None,
    prompt: str | None,
    generate_quiz: bool,
    prior_notes: Sequence[Mapping[str, Any]] = (),
    progress: Callable[[float], None] | None = None,
    kind: str = "text",
    title: str | None = None,
) -> dict[str, Any]:
    """Everything of an offline note except title, markdown and bookkeeping fields.

    Also ``_sentences``, the analysed sentences, for the caller to take the title from.
    """
    report = progress or (lambda _p: None)
    analysis = analyse(text, language=language, prompt=prompt, kind=kind, progress=report)
    sizes = _sizes(len(analysis.candidates))
    summary, key_points = summarize(analysis, sentences=sizes.summary, key_points=sizes.key_points)
    report(65)
    terms = key_terms(analysis, source_text=text, title=title)
    glossary, defining = make_glossary(
        analysis, terms, source_text=text, prior_notes=prior_notes, count=sizes.glossary
    )
    report(85)
    result: dict[str, Any] = {
        "summary": summary,
        "key_points": key_points,
        "glossary": glossary,
        "language": analysis.language,
        "_sentences": analysis.sentences,
    }
    if generate_quiz:
        result["quiz"] = make_quiz(analysis, terms, glossary, defining)
    report(95)
    return result


def generate_offline(
    source: NoteSource, *, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Note fields for ``source``: title, summary, key_points, glossary, quiz (if asked), language."""
    parts = offline_parts(
        source.text,
        language=source.language,
        prompt=source.prompt,
        generate_quiz=source.generate_quiz,
        prior_notes=source.prior_notes,
        progress=progress,
        kind=source.kind,
        title=source.title,
    )
    sentences: list[Sentence] = parts.pop("_sentences")
    parts["title"] = _title(source, sentences, fallback="Notes")
    return parts
