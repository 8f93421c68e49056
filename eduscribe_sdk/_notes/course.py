"""``merge_course_notes``: one course-level note from the notes of its lectures."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._config import Settings
from ..errors import PermanentError
from .generate import assemble
from .glossary import is_reference
from .language import detect_language, normalize_language
from .offline import offline_parts
from .ranking import prompt_keywords, stem
from .sentences import dangling_start, split_sentences
from .terms import term_key, term_pattern
from .textprep import prepare_units
from .words import content_words, is_term_list, stopwords

__all__ = ["merge_course_notes"]

_MAX_KEY_POINTS = 12
_MAX_GLOSSARY = 20
_MAX_QUIZ = 10
#: The course summary takes this many sentences per lecture (one each for longer courses).
_SUMMARY_PER_LECTURE = 2
_SUMMARY_SENTENCES = 8
_MAX_SENTENCE_WORDS = 45
# Prompts about exams or revision: the offline merge then favours key points that use the
# lectures' glossary terms (what a student is examined on) over narrative ones.
_EXAM = re.compile(
    r"\b(?:exams?|examination|tests?|revision|revise|quiz|prüfung(?:en)?|klausur(?:en)?|examens?|"
    r"examen(?:es)?|révision|repaso)\b",
    re.IGNORECASE,
)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _sentences(text: str, language: str) -> list[str]:
    units = prepare_units(text)
    return [s.text for s in split_sentences(units, language)] if units else []


def _focus_hits(text: str, focus: frozenset[str], stop: frozenset[str]) -> int:
    if not focus:
        return 0
    words = content_words(text, stop)
    return sum(1 for w in set(words) if any(stem(w).startswith(f) for f in focus))


def _lecture_summary(
    note: Mapping[str, Any], language: str, count: int, focus: frozenset[str], stop: frozenset[str]
) -> list[str]:
    """The lecture's best ``count`` summary sentences, in their order: its opening ones, or those
    about the prompt's topics when it names any."""
    summary = str(note.get("summary") or "")
    options = [
        s
        for k, s in enumerate(_sentences(summary, language))
        if not is_term_list(s)
        and len(s.split()) <= _MAX_SENTENCE_WORDS
        and (k == 0 or not dangling_start(s, language))
    ]
    if not options:
        options = [str(p) for p in note.get("key_points") or () if not dangling_start(str(p), language)][:1]
    ranked = sorted(range(len(options)), key=lambda k: (-_focus_hits(options[k], focus, stop), k))
    return [options[k] for k in sorted(ranked[:count])]


def _similar(a: str, b: str, stop: frozenset[str]) -> bool:
    wa, wb = set(content_words(a, stop)), set(content_words(b, stop))
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.6


def _key_points(
    notes: Sequence[Mapping[str, Any]],
    language: str,
    *,
    exam: bool,
    taken: Sequence[str],
    stop: frozenset[str],
) -> list[str]:
    """Key points spread evenly over the lectures and listed in course order."""
    per_lecture: list[list[str]] = []
    for note in notes:
        points = [str(p) for p in note.get("key_points") or () if str(p).strip()]
        # without its lecture's context a back-reference ("It keeps …") dangles
        points = [p for p in points if not dangling_start(p, language)]
        if exam:
            terms = [str(g.get("term")) for g in note.get("glossary") or () if isinstance(g, Mapping)]
            # stable sort: points naming a key term first, otherwise the lecture's own order
            points.sort(key=lambda p: not any(term_pattern(t).search(p) for t in terms if t))
        per_lecture.append(points)
    chosen: list[list[str]] = [[] for _ in notes]
    kept: list[str] = list(taken)
    total = 0
    depth = max((len(p) for p in per_lecture), default=0)
    for level in range(depth):
        for lecture, points in enumerate(per_lecture):
            if total >= _MAX_KEY_POINTS:
                break
            if level >= len(points):
                continue
            point = points[level]
            if any(_norm(point) == _norm(k) or _similar(point, k, stop) for k in kept):
                continue
            chosen[lecture].append(point)
            kept.append(point)
            total += 1
    # within a lecture, keep the lecture's own order (it follows the lecture)
    out: list[str] = []
    for lecture, points in enumerate(chosen):
        order = {p: k for k, p in enumerate(str(q) for q in notes[lecture].get("key_points") or ())}
        out.extend(sorted(points, key=lambda p: order.get(p, 0)))
    return out


def _glossary(notes: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Every lecture's glossary merged without duplicates (case and plural ignored); a real
    definition wins over a pointer to another lecture; terms spread over the lectures."""
    entries: dict[str, tuple[int, int, dict[str, str]]] = {}
    for lecture, note in enumerate(notes):
        for position, entry in enumerate(note.get("glossary") or ()):
            if not isinstance(entry, Mapping) or not entry.get("term"):
                continue
            term = str(entry["term"])
            definition = str(entry.get("definition") or "")
            key = term_key(term)
            if key in entries:
                current = entries[key][2]
                if is_reference(current["definition"]) and not is_reference(definition):
                    entries[key] = (lecture, position, {"term": term, "definition": definition})
                continue
            entries[key] = (lecture, position, {"term": term, "definition": definition})
    # the same number of terms from every lecture before a lecture gets more (round robin)
    picked = sorted(entries.values(), key=lambda e: (e[1], e[0]))[:_MAX_GLOSSARY]
    return [entry for _, _, entry in sorted(picked, key=lambda e: (e[0], e[1]))]


def _round_robin(groups: Sequence[Sequence[Mapping[str, Any]]], limit: int) -> list[Mapping[str, Any]]:
    """Quiz questions taken in turn from each lecture, deduplicated."""
    out: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    depth = max((len(g) for g in groups), default=0)
    for level in range(depth):
        for group in groups:
            if level < len(group):
                key = _norm(str(group[level].get("question")))
                if key and key not in seen:
                    seen.add(key)
                    out.append(group[level])
            if len(out) >= limit:
                return out
    return out


def _offline(
    notes: Sequence[Mapping[str, Any]], *, language: str | None, generate_quiz: bool, prompt: str | None
) -> dict[str, Any]:
    lang = normalize_language(language)
    if lang is None:
        codes = [c for c in (normalize_language(str(n.get("language") or "")) for n in notes) if c]
        lang = max(sorted(set(codes)), key=codes.count) if codes else None
    summaries = "\n\n".join(str(n.get("summary") or "") for n in notes if n.get("summary"))
    lang = lang or detect_language(summaries)
    stop = stopwords(lang)
    focus = prompt_keywords(prompt, content_words(prompt or "", stop))
    exam = bool(prompt and _EXAM.search(prompt))
    # every lecture in course order: one or two sentences of its own summary each
    per_lecture = _SUMMARY_PER_LECTURE if len(notes) * _SUMMARY_PER_LECTURE <= _SUMMARY_SENTENCES else 1
    summary_sentences: list[str] = []
    for note in notes:
        for sentence in _lecture_summary(note, lang, per_lecture, focus, stop):
            if all(_norm(sentence) != _norm(s) for s in summary_sentences):
                summary_sentences.append(sentence)
    summary = " ".join(summary_sentences)
    key_points = _key_points(notes, lang, exam=exam, taken=summary_sentences, stop=stop)
    material = "\n\n".join(
        "\n\n".join([str(n.get("summary") or ""), *[str(p) for p in n.get("key_points") or ()]])
        for n in notes
    )
    if not summary or not key_points:
        ranked = offline_parts(
            material or summaries or "-", language=lang, prompt=prompt, generate_quiz=False
        )
        summary = summary or ranked["summary"]
        key_points = key_points or ranked["key_points"]
    result: dict[str, Any] = {
        "summary": summary,
        "key_points": key_points,
        "glossary": _glossary(notes),
        "language": lang,
    }
    if generate_quiz:
        quizzes = [[q for q in n.get("quiz") or () if isinstance(q, Mapping)] for n in notes]
        quiz = [dict(q) for q in _round_robin(quizzes, _MAX_QUIZ)]
        if not quiz and material.strip():
            quiz = offline_parts(material, language=lang, prompt=prompt, generate_quiz=True).get("quiz", [])
        result["quiz"] = quiz
    return result


def merge_course_notes(
    notes: Sequence[Mapping[str, Any]],
    *,
    title: str | None,
    language: str | None,
    generate_quiz: bool,
    prompt: str | None,
    settings: Settings,
) -> dict[str, Any]:
    """The course summary note: SPEC fields plus ``sources: [{id, title}]``.

    Offline: the summary walks through the lectures in course order, one or two sentences of
    each lecture's own summary; key points are spread evenly over the lectures and listed in
    course order (no back-references, no near-duplicates); glossaries are merged (case and plural
    ignored, a real definition beats a "see …" pointer, terms spread over the lectures); the quiz
    takes questions from each lecture in turn (generated from the material if they have none).
    A custom ``prompt`` is a bias, not an instruction: its topic words pick which of a lecture's
    summary sentences are used, and a prompt about exams or revision puts the key points that use
    a lecture's glossary terms first. With an LLM: one reduce call over the lectures' notes.
    """
    if not notes:
        raise PermanentError("a course summary needs at least one dependency")
    if settings.llm_enabled:
        from .llm import merge_llm

        fields = merge_llm(
            notes,
            title=title,
            language=language,
            generate_quiz=generate_quiz,
            prompt=prompt,
            settings=settings,
        )
        generator = f"openai:{settings.llm_model}"
    else:
        fields = _offline(notes, language=language, generate_quiz=generate_quiz, prompt=prompt)
        generator = "offline"
    fields["title"] = (title or "").strip() or fields.get("title") or "Course summary"
    sources = [
        {"id": str(n.get("id") or ""), "title": str(n.get("title") or n.get("id") or "")} for n in notes
    ]
    word_count = sum(int(n.get("word_count") or 0) for n in notes)
    return assemble(
        fields,
        generator=generator,
        word_count=word_count,
        generate_quiz=generate_quiz,
        extra={"sources": sources},
    )
