"""Reading a text for the offline generator: the step every part of a note is built from.

The text is split into sentences in its language (detected unless given), over-long ones cut at
clause boundaries; the sentences a note may quote (candidates: complete prose, not formulas,
indexes, fragments or lists of terms) are ranked by TextRank, biased towards the opening
sentences of the text and its paragraphs, which usually say what it is about, and towards a
custom prompt's topics. Summary, key points, glossary and quiz all draw on this ``Analysis``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import PermanentError
from .language import detect_language, normalize_language
from .ranking import Ranking, prompt_keywords, rank_sentences
from .sentences import Sentence, clean_sentence, dangling_start, split_long_sentences, split_sentences
from .textprep import cap_text, few_stops, prepare_units
from .words import content_words, is_term_list, stopwords

__all__ = ["MAX_ANALYSIS_CHARS", "Analysis", "analyse", "noise"]

#: Text beyond this is sampled (evenly spaced runs), so a 500-page book costs what 20,000 words do.
MAX_ANALYSIS_CHARS = 120_000


def _alpha_ratio(text: str) -> float:
    """Share of letters among the visible characters."""
    visible = [ch for ch in text if not ch.isspace()]
    return sum(ch.isalpha() for ch in visible) / len(visible) if visible else 0.0


_SYMBOLS = frozenset("=<>→⇒⇔↦∈∉⊆⊂⊇⊃∪∩∅∀∃■□◦≤≥≠±×÷∑∏∫√∞|{}^~∼≅≃∗")  # noqa: RUF001
_LONE_LETTER_OK = frozenset("aAIyoeàé")


def noise(text: str) -> int:
    """Formula symbols and lone variable letters: high in maths and code, which make poor notes."""
    symbols = sum(ch in _SYMBOLS for ch in text) + text.count("->")
    bare = (w.strip(".,;:!?()[]{}") for w in text.split())
    letters = sum(1 for w in bare if len(w) == 1 and w.isalpha() and w not in _LONE_LETTER_OK)
    return symbols + letters


def _digit_share(text: str) -> float:
    """Share of number tokens: high in indexes, tables of contents and reference lists."""
    words = text.split()
    return sum(1 for w in words if any(ch.isdigit() for ch in w)) / len(words) if words else 0.0


def _is_candidate(sentence: Sentence) -> bool:
    """A sentence a note may quote: prose or a list item of readable length, mostly words."""
    words = len(sentence.text.split())
    if sentence.text[:1].islower() or re.search(r"[a-z],[a-z]", sentence.text):
        return False  # a fragment: text glued together by extraction, or a broken sentence
    minimum = 4 if sentence.kind == "item" else 6
    return (
        sentence.kind in ("para", "item")
        and minimum <= words <= 60
        and _alpha_ratio(sentence.text) >= 0.7
        and noise(sentence.text) <= 1
        and not sentence.text.rstrip().endswith(":")
        and ". . ." not in sentence.text
        and _digit_share(sentence.text) <= 0.15
        and "http" not in sentence.text
        and not is_term_list(sentence.text)
    )


@dataclass(frozen=True, slots=True)
class Analysis:
    """A text read into ranked sentences; sentence indices are positions in ``sentences``."""

    language: str
    sentences: list[Sentence]
    #: the sentences' texts, by index
    texts: list[str]
    stop: frozenset[str]
    #: the sentences a note may quote, in text order
    candidates: list[int]
    candidate_set: frozenset[int]
    #: keyword stems of a custom prompt's topics (empty without a prompt)
    focus: frozenset[str]
    #: TextRank over the candidates
    ranking: Ranking

    def clean(self, text: str) -> str:
        """``text`` as a note shows it (citations and enumerators removed)."""
        return clean_sentence(text, self.language)

    def leans_back(self, i: int) -> bool:
        """Sentence ``i`` opens with a back-reference ("It keeps …") and is not the first
        candidate, whose opening words refer to the title or the text itself."""
        return dangling_start(self.texts[i], self.language) and i != self.candidates[0]


def analyse(
    text: str, *, language: str | None, prompt: str | None, kind: str, progress: Callable[[float], None]
) -> Analysis:
    """``text`` read into ranked sentences; ``progress`` receives 5, 30 and 55 as it goes."""
    units = prepare_units(text)
    if not units:
        raise PermanentError("there is no text to take notes from")
    progress(5)
    lang = normalize_language(language) or detect_language(" ".join(u.text for u in units[:400]))
    units = cap_text(units, MAX_ANALYSIS_CHARS)
    loose = kind == "transcript" or few_stops(text)
    sentences = split_long_sentences(split_sentences(units, lang), lang, loose=loose)
    progress(30)
    stop = stopwords(lang)
    texts = [s.text for s in sentences]
    candidates = _candidates(sentences)
    cand_words = [content_words(texts[i], stop) for i in candidates]
    focus = prompt_keywords(prompt, content_words(prompt or "", stop))
    prior = _lead_bias(sentences, candidates, lang)
    # ranked over candidates; renamed back to indices into ``sentences``
    ranking = rank_sentences(cand_words, prior=prior, focus=focus).remap(candidates)
    progress(55)
    return Analysis(lang, sentences, texts, stop, candidates, frozenset(candidates), focus, ranking)


def _candidates(sentences: list[Sentence]) -> list[int]:
    candidates = [s.index for s in sentences if _is_candidate(s)]
    if not candidates:
        # very short or odd text: any non-heading line will do, then anything at all
        candidates = [s.index for s in sentences if s.kind != "heading"] or [s.index for s in sentences]
    return candidates


def _lead_bias(sentences: list[Sentence], candidates: list[int], language: str) -> list[float]:
    """PageRank's jump weight per candidate: the opening sentences of a text and of its
    paragraphs usually state what it is about; list items and back-references less so."""
    return [
        (
            1.0
            + (0.6 if sentences[i].first_in_unit else 0.0)
            + (0.6 if k < 3 else 0.0)
            + (1.0 if k == 0 else 0.0)
        )
        * (0.7 if sentences[i].kind == "item" else 1.0)
        * (0.5 if dangling_start(sentences[i].text, language) else 1.0)
        for k, i in enumerate(candidates)
    ]
