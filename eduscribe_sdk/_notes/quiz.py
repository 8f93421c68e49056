"""Quiz questions: cloze questions that blank a key term in a source sentence.

The answer is the term exactly as the sentence writes it, so a student can find it in the
material; the other choices are terms of a similar kind (multi-word or not, acronym or not), so
the question tests the concept rather than the shape of the words. Glossary terms are asked in
their defining sentences first; when nothing in the text defines its terms (a handout, a slide
deck), the key terms themselves are blanked.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .analysis import Analysis
from .language import heading
from .terms import Term, plain_word, term_key, term_pattern

__all__ = ["build_quiz", "make_quiz"]


def make_quiz(
    analysis: Analysis,
    terms: Sequence[Term],
    glossary: Sequence[Mapping[str, str]],
    defining: Mapping[str, int],
) -> list[dict[str, Any]]:
    """The note's quiz from its key ``terms`` and ``glossary`` (``defining``: term → the index of
    its defining sentence)."""
    a = analysis
    glossary_terms = [g["term"] for g in glossary]
    # distractors must be things of the same kind: terms, not stray words ("built", "easy")
    pool = [*glossary_terms, *(t.text for t in terms if t.marked or not plain_word(t.text))]
    quiz = build_quiz(
        _glossary_questions(a, glossary_terms, defining),
        a.texts,
        pool,
        language=a.language,
        count=min(5, max(1, len(a.candidates) // 4)),
        clean=a.clean,
        preferred=glossary_terms,
    )
    if quiz:
        return quiz
    # nothing in the text defines its terms (a handout, a slide deck): a quiz was asked
    # for, so blank the key terms themselves, named concepts before everyday words
    fallback = sorted((t.text for t in terms), key=plain_word)
    fallback_pairs = [
        (i, term)
        for i in a.ranking.order[:100]
        if not a.leans_back(i)
        for term in fallback
        if term_pattern(term).search(a.texts[i])
    ]
    return build_quiz(
        fallback_pairs,
        a.texts,
        fallback,
        language=a.language,
        count=min(3, max(1, len(a.candidates) // 4)),
        clean=a.clean,
    )


def _glossary_questions(
    a: Analysis, glossary_terms: list[str], defining: Mapping[str, int]
) -> list[tuple[int, str]]:
    """(sentence, term) pairs to ask, best first: every glossary term's defining sentence, then
    each term's other best-ranked sentences, taking the terms in turn."""
    per_term: list[list[int]] = []
    for term in glossary_terms:
        pattern = term_pattern(term)
        own = [defining[term]] if term in defining else []
        others = [i for i in a.ranking.order[:200] if pattern.search(a.texts[i])][:4]
        # a question stands alone: "This argument is called _____." gives nothing to go on
        per_term.append([i for i in dict.fromkeys(own + others) if not a.leans_back(i)])
    return [
        (ids[level], term)
        for level in range(max((len(ids) for ids in per_term), default=0))
        for term, ids in zip(glossary_terms, per_term, strict=True)
        if level < len(ids)
    ]


def _nested(a: str, b: str) -> bool:
    """One term inside the other as whole words ("linked list", "doubly linked list"): as a
    wrong choice it would be half right."""
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "


def _kind(term: str) -> tuple[int, bool, bool]:
    """(words, acronym or number, capitalised): choices alike in these look equally plausible."""
    return len(term.split()), term.isupper() or any(ch.isdigit() for ch in term), term[:1].isupper()


def build_quiz(
    candidates: Sequence[tuple[int, str]],
    sentences: Sequence[str],
    pool: Sequence[str],
    *,
    language: str,
    count: int,
    clean: Callable[[str], str] = lambda s: s,
    preferred: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Cloze questions: a source sentence with a key term blanked, choices of terms of a similar kind.

    ``candidates`` are (sentence index, term) pairs, best first. The answer is the term exactly as
    written in the sentence, so it can be found in the source. Choice order is shuffled with a seed
    taken from the question, so the same text always gives the same quiz. Distractors come from
    ``preferred`` (the glossary's terms) before the rest of ``pool``.
    """
    preferred_keys = {term_key(p) for p in preferred}
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
        distractors = _distractors(answer, key, sentence, pool, preferred_keys)
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


def _distractors(
    answer: str, key: str, sentence: str, pool: Sequence[str], preferred_keys: set[str]
) -> list[str]:
    """Up to three wrong choices: terms of the answer's kind, none inside another or the answer,
    none in the sentence (it would give itself away), the glossary's (``preferred_keys``) first."""
    wanted = _kind(answer)
    others = [
        p
        for p in dict.fromkeys(pool)
        if not _nested(term_key(p), key) and not term_pattern(p).search(sentence)
    ]
    others.sort(
        key=lambda p: (
            abs(_kind(p)[0] - wanted[0])
            + (_kind(p)[1] != wanted[1])
            + 0.5 * (_kind(p)[2] != wanted[2])
            + (0.0 if term_key(p) in preferred_keys else 1.0),
            abs(len(p) - len(answer)) / 20,
        )
    )
    distractors: list[str] = []
    for p in others:
        if all(not _nested(term_key(p), term_key(d)) and term_key(p) != term_key(d) for d in distractors):
            distractors.append(p)
        if len(distractors) == 3:
            break
    return distractors
