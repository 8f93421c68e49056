"""Key terms (yake), their definitions (the source sentence that best defines each) and cloze quizzes."""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .language import heading, yake_language

__all__ = ["Term", "build_quiz", "define_terms", "extract_terms", "term_key"]

# yake's cost is linear in its input; the best-ranked sentences carry the key terms anyway
_YAKE_INPUT_CHARS = 16_000
_JUNK = frozenset(
    [
        "figure",
        "figures",
        "fig",
        "table",
        "tables",
        "supplement",
        "supplementary",
        "section",
        "sections",
        "chapter",
        "chapters",
        "example",
        "examples",
        "page",
        "pages",
        "data",
        "results",
        "result",
        "study",
        "studies",
        "et",
        "al",
        "ref",
        "refs",
        "source",
        "sources",
        "abbildung",
        "abbildungen",
        "tabelle",
        "tabellen",
        "kapitel",
        "beispiel",
        "beispiele",
        "seite",
        "seiten",
        "abschnitt",
        "figura",
        "tabla",
        "tablas",
        "ejemplo",
        "página",
        "tableau",
        "exemple",
        "chapitre",
    ]
)
_DEF_AFTER = {
    "en": r"(?:is|are|was|were|means|refers to|denotes|describes|represents|consists of|is defined as)\b",
    "de": r"(?:ist|sind|war|waren|bezeichnet|bedeutet|heißt|heißen|beschreibt|nennt man)\b",
    "fr": r"(?:est|sont|était|désigne|signifie|représente|décrit)\b",
    "es": r"(?:es|son|era|significa|se refiere a|se define como|representa|designa|describe)\b",
}
_DEF_BEFORE = {
    "en": r"\b(?:called|known as|termed|referred to as|defined as)\s+(?:an?\s+|the\s+)?",
    "de": r"\b(?:heißt|heißen|nennt man|bezeichnet man als|versteht man unter|genannt)\s+"
    r"(?:der\s+|die\s+|das\s+|ein\s+|eine\s+)?",
    "fr": r"\b(?:appelée?s?|nommée?s?|on appelle|dite?s?)\s+(?:une?\s+|le\s+|la\s+|les\s+)?",
    "es": r"\b(?:llamad[oa]s?|denominad[oa]s?|conocid[oa]s? como|se denomina)\s+(?:una?\s+|el\s+|la\s+)?",
}


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    key: str
    weight: float


def term_key(term: str) -> str:
    """A comparison key that merges case and simple plurals ("KRAB-ZFPs" ~ "KRAB-ZFP")."""
    words = term.casefold().split()
    return " ".join(w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words)


def _specific(term: str) -> bool:
    """Multi-word, capitalised, acronym-like or long: more telling than a common word like "water"."""
    return (
        " " in term
        or any(ch.isupper() or ch.isdigit() or ch == "-" for ch in term[1:])
        or (term[:1].isupper() and not term[1:].islower())
        or len(term) >= 10
    )


@lru_cache(maxsize=512)
def term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE)


def extract_terms(text: str, language: str, *, stop: frozenset[str], limit: int = 40) -> list[Term]:
    """Keyphrases of ``text`` in its language, cleaned of junk and near-duplicates."""
    import yake

    if len(text) > _YAKE_INPUT_CHARS:
        text = text[:_YAKE_INPUT_CHARS]
    extractor = yake.KeywordExtractor(lan=yake_language(language), n=3, dedup_lim=0.8, top=limit * 2)
    raw: list[tuple[str, float]] = extractor.extract_keywords(text)
    terms: list[Term] = []
    seen: set[str] = set()
    for phrase, score in raw:
        phrase = " ".join(phrase.split()).strip(" -–—'\"“”‘’.,;:()[]")  # noqa: RUF001
        words = phrase.casefold().split()
        if not (3 <= len(phrase) <= 60) or not words or len(words) > 3:
            continue
        if not any(ch.isalpha() for ch in phrase) or sum(ch.isalpha() for ch in phrase) < 0.6 * len(phrase):
            continue
        if words[0] in stop or words[-1] in stop or any(w in _JUNK for w in words):
            continue
        if len(words) == 1 and len(phrase) < 4 and not phrase.isupper():
            continue
        shouting = [w for w in phrase.split() if w.isupper() and len(w) >= 5]
        if len(shouting) >= 2 or any(len(w) >= 8 for w in shouting):
            continue  # running page headers of PDFs ("TOPOLOGISCHE RÄUME")
        key = term_key(phrase)
        if key in seen:
            continue
        seen.add(key)
        terms.append(Term(phrase, key, 1.0 / (1e-9 + float(score))))
        if len(terms) >= limit:
            break
    return terms


def _definition_score(term: str, sentence: str, language: str) -> float:
    after = _DEF_AFTER.get(language)
    before = _DEF_BEFORE.get(language)
    escaped = re.escape(term)
    score = 0.0
    if after and re.search(
        r"(?<![\w-])" + escaped + r"(?:\s*\([^)]{0,80}\))?\s*,?\s+" + after, sentence, re.IGNORECASE
    ):
        score += 3.0
    if before and re.search(before + escaped + r"(?![\w-])", sentence, re.IGNORECASE):
        score += 2.5
    match = term_pattern(term).search(sentence)
    if match and len(sentence[: match.start()].split()) <= 4:
        score += 1.5
    n_words = len(sentence.split())
    if 8 <= n_words <= 40:
        score += 0.5
    elif n_words > 55:
        score -= 1.0
    return score


def define_terms(
    terms: Sequence[Term],
    sentences: Sequence[str],
    *,
    eligible: Callable[[int], bool],
    rank_bonus: Callable[[int], float],
    language: str,
    source_text: str,
    count: int,
    prior_terms: Mapping[str, str],
    clean: Callable[[str], str],
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The glossary, and for each entry the index of the sentence that defines it.

    A term must occur in ``source_text``; terms nested in an already chosen term (or containing
    one) are skipped so the glossary covers more ground.
    """
    haystack = " ".join(source_text.split())
    # common single words only fill the glossary up when there are too few specific terms
    specific = [t for t in terms if _specific(t.text)]
    if len(specific) >= min(count, 3):
        general = [
            t for t in terms if not _specific(t.text) and len(t.text) >= 8 and not t.text.endswith("ly")
        ]
        terms = specific + general
    glossary: list[dict[str, str]] = []
    used_sentences: dict[str, int] = {}
    chosen_keys: list[str] = []
    used: set[int] = set()
    for term in terms:
        if len(glossary) >= count:
            break
        if not term_pattern(term.text).search(haystack):
            continue
        if any(_nested(term.key, k) for k in chosen_keys):
            continue
        best: tuple[float, int] | None = None
        for idx, sentence in enumerate(sentences):
            if not eligible(idx) or not term_pattern(term.text).search(sentence):
                continue
            score = (
                _definition_score(term.text, sentence, language)
                + rank_bonus(idx)
                - (2.0 if idx in used else 0.0)
            )
            if best is None or score > best[0]:
                best = (score, idx)
        if best is None:
            continue
        chosen_keys.append(term.key)
        prior_title = prior_terms.get(term.key)
        if prior_title is not None:
            definition = heading(language, "see").format(title=prior_title)
            definition = definition[:1].upper() + definition[1:] + "."
        else:
            definition = clean(sentences[best[1]])
            used.add(best[1])
            used_sentences[term.text] = best[1]
        glossary.append({"term": term.text, "definition": definition})
    return glossary, used_sentences


def _nested(a: str, b: str) -> bool:
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "


def _kind(term: str) -> tuple[int, bool, bool]:
    return len(term.split()), term.isupper() or any(ch.isdigit() for ch in term), term[:1].isupper()


def build_quiz(
    candidates: Sequence[tuple[int, str]],
    sentences: Sequence[str],
    pool: Sequence[str],
    *,
    language: str,
    count: int,
    clean: Callable[[str], str] = lambda s: s,
) -> list[dict[str, Any]]:
    """Cloze questions: a source sentence with a key term blanked, choices of terms of a similar kind.

    ``candidates`` are (sentence index, term) pairs, best first. The answer is the term exactly as
    written in the sentence, so it can be found in the source. Choice order is shuffled with a seed
    taken from the question, so the same text always gives the same quiz.
    """
    quiz: list[dict[str, Any]] = []
    used_sentences: set[int] = set()
    used_answers: set[str] = set()
    for idx, term in candidates:
        if len(quiz) >= count:
            break
        sentence = clean(sentences[idx])
        key = term_key(term)
        if idx in used_sentences or key in used_answers:
            continue
        n_words = len(sentence.split())
        if not 6 <= n_words <= 45:
            continue
        matches = list(term_pattern(term).finditer(sentence))
        if not matches or matches[0].start() == 0:
            continue  # a capitalised sentence start would give the answer away
        answer = matches[0].group(0)
        wanted = _kind(answer)
        others = [
            p
            for p in dict.fromkeys(pool)
            if not _nested(term_key(p), key) and not term_pattern(p).search(sentence)
        ]
        others.sort(
            key=lambda p: (
                abs(_kind(p)[0] - wanted[0]) + (_kind(p)[1] != wanted[1]) + 0.5 * (_kind(p)[2] != wanted[2]),
                abs(len(p) - len(answer)) / 20,
            )
        )
        distractors: list[str] = []
        for p in others:
            if all(not _nested(term_key(p), term_key(d)) and term_key(p) != term_key(d) for d in distractors):
                distractors.append(p)
            if len(distractors) == 3:
                break
        if len(distractors) < 2:
            continue
        blanked = term_pattern(term).sub("_____", sentence)
        question = heading(language, "blank").format(sentence=blanked)
        choices = [answer, *distractors]
        random.Random(zlib.crc32(question.encode("utf-8"))).shuffle(choices)
        quiz.append({"question": question, "choices": choices, "answer": answer})
        used_sentences.add(idx)
        used_answers.add(key)
    return quiz
