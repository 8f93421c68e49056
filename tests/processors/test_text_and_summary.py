"""text_notes and course_summary processors, run directly with a LocalContext (no broker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eduscribe_sdk._processors import LocalContext, get_processor
from eduscribe_sdk._processors.summary import process_summary
from eduscribe_sdk._processors.text import process_text
from eduscribe_sdk._validation import normalize_input
from eduscribe_sdk.errors import JobCancelled, PermanentError


def _text_input(content: str, **options: Any) -> dict[str, Any]:
    return {"content": content, "options": options}


def test_registry_finds_both_processors() -> None:
    assert get_processor("text_notes") is process_text
    assert get_processor("course_summary") is process_summary


def test_text_notes_from_real_text(shared_data: Path) -> None:
    content = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")
    ctx = LocalContext(job_id="j1", title="Ducks")
    out = process_text(_text_input(content, generateQuiz=True), ctx)
    assert out["title"] == "Ducks"
    assert out["generator"] == "offline" and out["language"] == "en"
    assert out["quiz"] and all(q["answer"] in q["choices"] for q in out["quiz"])
    assert out["markdown"].startswith("# Ducks\n")
    percents = [p for p, _ in ctx.reports]
    assert percents[0] == 0 and percents[-1] == 100 and percents == sorted(percents)


def test_text_notes_accepts_validated_input() -> None:
    raw = {
        "content": "Mitochondria produce ATP for the cell. They have their own DNA.",
        "options": {"language": "en", "generateQuiz": False},
    }
    data = normalize_input("text_notes", raw)
    out = process_text(data, LocalContext())
    assert "quiz" not in out
    assert out["summary"].startswith("Mitochondria produce ATP")


def test_text_notes_language_option_wins() -> None:
    content = "Photosynthesis converts light energy into chemical energy in plants and algae."
    out = process_text(_text_input(content, language="de-DE"), LocalContext())
    assert out["language"] == "de"
    assert "## Zusammenfassung" in out["markdown"]


def test_text_notes_build_on_dependencies(shared_data: Path) -> None:
    content = (shared_data / "text" / "wikipedia_ibm_excerpt.md").read_text(encoding="utf-8")
    deps = [
        {
            "id": "intro",
            "title": "Computing history",
            "summary": "…",
            "glossary": [{"term": "IBM", "definition": "x"}],
        }
    ]
    out = process_text(_text_input(content), LocalContext(dependencies=deps))
    assert out["builds_on"] == [{"id": "intro", "title": "Computing history"}]
    ibm = [e for e in out["glossary"] if e["term"] == "IBM"]
    assert ibm and ibm[0]["definition"] == "See “Computing history”."


def test_cancellation_propagates(shared_data: Path) -> None:
    content = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")
    with pytest.raises(JobCancelled):
        process_text(_text_input(content), LocalContext(cancel_after=30))


def _lecture(shared_data: Path, job_id: str, name: str, title: str) -> dict[str, Any]:
    content = (shared_data / "text" / name).read_text(encoding="utf-8")
    out = process_text(_text_input(content, generateQuiz=True), LocalContext(job_id=job_id, title=title))
    return {**out, "id": job_id, "title": title}


def test_course_summary_merges_lectures(shared_data: Path) -> None:
    lectures = [
        _lecture(shared_data, "l1", "wikipedia_duck.txt", "Ducks"),
        _lecture(shared_data, "l2", "wikipedia_ibm_excerpt.md", "IBM"),
        _lecture(shared_data, "l3", "ghc_compiler_lecture_notes.md", "GHC"),
    ]
    ctx = LocalContext(job_id="sum", title="Course overview", dependencies=lectures)
    out = process_summary({"options": {"generateQuiz": True}}, ctx)
    assert out["title"] == "Course overview"
    assert out["sources"] == [
        {"id": "l1", "title": "Ducks"},
        {"id": "l2", "title": "IBM"},
        {"id": "l3", "title": "GHC"},
    ]
    assert out["generator"] == "offline" and out["language"] == "en"
    assert out["word_count"] == sum(lec["word_count"] for lec in lectures)
    all_points = {p for lec in lectures for p in lec["key_points"]}
    assert out["key_points"] and set(out["key_points"]) <= all_points
    # every lecture contributes a key point (round robin)
    for lec in lectures:
        assert set(lec["key_points"]) & set(out["key_points"])
    terms = [e["term"].casefold() for e in out["glossary"]]
    assert len(terms) == len(set(terms))
    assert set(terms) <= {e["term"].casefold() for lec in lectures for e in lec["glossary"]}
    lecture_questions = {q["question"] for lec in lectures for q in lec["quiz"]}
    assert out["quiz"] and {q["question"] for q in out["quiz"]} <= lecture_questions
    summary_source = " ".join(lec["summary"] + " " + " ".join(lec["key_points"]) for lec in lectures)
    for sentence in out["summary"].split(". "):
        assert sentence.rstrip(".")[:40] in summary_source
    assert "## Sources" in out["markdown"] and "- GHC" in out["markdown"]


def test_course_summary_without_dependencies_fails_permanently() -> None:
    with pytest.raises(PermanentError, match="at least one dependency"):
        process_summary({}, LocalContext())


def test_course_summary_generates_a_quiz_when_lectures_have_none(shared_data: Path) -> None:
    lecture = _lecture(shared_data, "l1", "wikipedia_duck.txt", "Ducks")
    lecture.pop("quiz")
    out = process_summary({"options": {"generateQuiz": True}}, LocalContext(dependencies=[lecture]))
    assert out["quiz"]
    for q in out["quiz"]:
        assert q["answer"] in q["choices"]
