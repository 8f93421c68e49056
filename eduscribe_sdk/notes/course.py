"""``merge_course_notes``: one course-level note from the notes of its lectures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..config import Settings
from ..errors import PermanentError
from .generate import assemble
from .language import detect_language, normalize_language
from .offline import offline_parts
from .terms import term_key

__all__ = ["merge_course_notes"]

_MAX_KEY_POINTS = 12
_MAX_GLOSSARY = 20
_MAX_QUIZ = 10


def _round_robin(groups: Sequence[Sequence[Any]], limit: int) -> list[Any]:
    """Items taken in turn from each group (so every lecture is represented), deduplicated."""
    out: list[Any] = []
    seen: set[str] = set()
    depth = max((len(g) for g in groups), default=0)
    for level in range(depth):
        for group in groups:
            if level < len(group):
                item = group[level]
                key = " ".join(
                    str(item.get("question") if isinstance(item, Mapping) else item).casefold().split()
                )
                if key and key not in seen:
                    seen.add(key)
                    out.append(item)
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
    material = "\n\n".join(
        "\n\n".join([str(n.get("summary") or ""), *[str(p) for p in n.get("key_points") or ()]])
        for n in notes
    )
    ranked = offline_parts(material or summaries, language=lang, prompt=prompt, generate_quiz=False)
    key_points = _round_robin([[str(p) for p in n.get("key_points") or ()] for n in notes], _MAX_KEY_POINTS)
    glossary: list[dict[str, str]] = []
    by_key: dict[str, int] = {}
    for note in notes:
        for entry in note.get("glossary") or ():
            if not isinstance(entry, Mapping) or not entry.get("term"):
                continue
            key = term_key(str(entry["term"]))
            definition = str(entry.get("definition") or "")
            # a lecture that only points back ("see …") loses to one that defines the term
            if key in by_key:
                current = glossary[by_key[key]]
                if current["definition"].lower().startswith(("see ", "siehe ", "voir ", "véase ")):
                    current["definition"] = definition
                continue
            if len(glossary) < _MAX_GLOSSARY:
                by_key[key] = len(glossary)
                glossary.append({"term": str(entry["term"]), "definition": definition})
    result: dict[str, Any] = {
        "summary": ranked["summary"],
        "key_points": key_points or ranked["key_points"],
        "glossary": glossary,
        "language": lang,
    }
    if generate_quiz:
        quizzes = [[q for q in n.get("quiz") or () if isinstance(q, Mapping)] for n in notes]
        quiz = [dict(q) for q in _round_robin(quizzes, _MAX_QUIZ)]
        if not quiz:
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

    Offline: the course summary is ranked from the lectures' summaries and key points, key points
    are taken in turn from each lecture, glossaries merged (first real definition wins), the quiz
    drawn from the lectures' quizzes (generated from the material if they have none). With an LLM:
    one reduce call over the lectures' notes.
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
