"""The offline note generator on real course material and on awkward inputs."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from eduscribe_sdk._config import Settings
from eduscribe_sdk._notes import NoteSource, detect_language, generate_notes, render_markdown
from eduscribe_sdk.errors import PermanentError

OFFLINE = Settings()
TEXTS = [
    "wikipedia_duck.txt",
    "wikipedia_ibm_excerpt.md",
    "ghc_compiler_lecture_notes.md",
    "elife_56337_krab_zfp.txt",
]


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", _norm(text).lower())


def _from_source(sentence: str, source: str) -> bool:
    """Every word occurs in the source, and the sentence's opening words occur there in order."""
    words = _tokens(sentence.rstrip(" …"))
    source_tokens = _tokens(source)
    if not words or not set(words) <= set(source_tokens):
        return False
    opening = " ".join(words[:4])
    return f" {opening} " in f" {' '.join(source_tokens)} "


def _notes(text: str, **kwargs: Any) -> dict[str, Any]:
    return generate_notes(NoteSource(text=text, **kwargs), settings=OFFLINE)


def _check_note(out: dict[str, Any], source: str, *, quiz: bool) -> None:
    assert set(out) >= {"title", "summary", "key_points", "glossary", "markdown", "language", "word_count"}
    assert out["generator"] == "offline"
    assert out["word_count"] == len(source.split())
    assert out["summary"].strip()
    assert out["key_points"] and len(out["key_points"]) == len(set(out["key_points"]))
    for point in out["key_points"]:
        assert _from_source(point, source), point
    flat = _norm(source).lower()
    for entry in out["glossary"]:
        assert entry["term"].lower() in flat, entry["term"]
        assert entry["definition"].strip()
        assert _from_source(entry["definition"], source), entry["definition"]
    terms = [e["term"].lower() for e in out["glossary"]]
    assert len(terms) == len(set(terms))
    if quiz:
        assert "quiz" in out
        for q in out["quiz"]:
            assert "_____" in q["question"]
            assert q["answer"] in q["choices"]
            assert len(q["choices"]) >= 3 and len(set(q["choices"])) == len(q["choices"])
            assert _norm(q["answer"]) in _norm(source)
    else:
        assert "quiz" not in out
    assert out["markdown"].startswith(f"# {out['title']}")


@pytest.mark.parametrize("name", TEXTS)
def test_real_texts(shared_data: Path, name: str) -> None:
    source = (shared_data / "text" / name).read_text(encoding="utf-8")
    out = _notes(source, generate_quiz=True)
    _check_note(out, source, quiz=True)
    assert out["language"] == "en"
    assert len(out["glossary"]) >= 3
    assert out["quiz"], "a text this long must give at least one question"
    for point in out["key_points"] + [out["summary"]]:
        assert "```" not in point and "**" not in point and not point.startswith("#")


def test_duck_summary_names_the_topic(shared_data: Path) -> None:
    source = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")
    out = _notes(source, title="Ducks")
    assert out["title"] == "Ducks"
    assert "Anatidae" in out["summary"]
    assert any("duck" in entry["term"].lower() or "Anatidae" in entry["term"] for entry in out["glossary"])


def test_deterministic(shared_data: Path) -> None:
    source = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")
    assert _notes(source, generate_quiz=True) == _notes(source, generate_quiz=True)


def test_markdown_headings_follow_the_language() -> None:
    text = (
        "Ein topologischer Raum ist eine Menge zusammen mit einer Topologie. "
        "Die Topologie legt fest, welche Teilmengen offen sind. "
        "Eine Abbildung heißt stetig, wenn Urbilder offener Mengen offen sind. "
        "Ein metrischer Raum ist ein topologischer Raum mit der von der Metrik erzeugten Topologie. "
        "Jeder metrische Raum ist hausdorffsch, aber nicht jeder topologische Raum ist hausdorffsch. "
        "Ein Homöomorphismus ist eine stetige Bijektion mit stetiger Umkehrabbildung. "
        "Kompakte Räume sind topologische Räume, in denen jede offene Überdeckung endlich ist. "
        "Zusammenhängende Räume lassen sich nicht in zwei disjunkte offene Mengen zerlegen."
    )
    out = _notes(text, generate_quiz=True)
    assert out["language"] == "de"
    for section in ("## Zusammenfassung", "## Kernpunkte", "## Glossar", "## Quiz"):
        assert section in out["markdown"]
    _check_note(out, text, quiz=True)
    for q in out["quiz"]:
        assert q["question"].startswith("Ergänzen Sie die Lücke")


def test_german_pdf_gives_german_notes(shared_data: Path) -> None:
    import pypdf  # a core dependency: missing means a broken install, not a reason to skip

    reader = pypdf.PdfReader(
        shared_data / "documents" / "pdf" / "large" / "geotopo_lecture_notes_de_117p.pdf"
    )
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    started = time.perf_counter()
    out = _notes(text, title="Geometrie und Topologie", generate_quiz=True)
    print(f"\n117-page German PDF ({len(text.split()):,} words): {time.perf_counter() - started:.2f} s")
    assert out["language"] == "de"
    assert detect_language(out["summary"]) == "de"
    assert detect_language(" ".join(out["key_points"])) == "de"
    assert "## Zusammenfassung" in out["markdown"] and "## Glossar" in out["markdown"]
    flat = _norm(text).lower()
    assert out["glossary"]
    assert all(entry["term"].lower() in flat for entry in out["glossary"])
    german_words = {"raum", "topologie", "mannigfaltigkeit", "abbildung", "menge", "überlagerung", "räume"}
    assert any(set(_tokens(entry["term"])) & german_words for entry in out["glossary"])


def test_ten_thousand_words_timing(shared_data: Path) -> None:
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((shared_data / "text").glob("*")))
    words = text.split(" ")
    ten_k = " ".join(words[: len(words) * 10_000 // len(text.split())])
    generate_notes(NoteSource(text="Warm up the language detector and pysbd."), settings=OFFLINE)
    started = time.perf_counter()
    out = _notes(ten_k, generate_quiz=True)
    elapsed = time.perf_counter() - started
    print(f"\noffline notes for {len(ten_k.split()):,} words: {elapsed:.2f} s")
    _check_note(out, ten_k, quiz=True)


def test_prompt_keywords_bias_the_ranking(shared_data: Path) -> None:
    source = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")

    def mentions(out: dict[str, Any]) -> int:
        text = " ".join([out["summary"], *out["key_points"]]).lower()
        return len(re.findall(r"predator|hunt", text))

    plain = _notes(source)
    focused = _notes(source, prompt="Focus on predators and hunting.")
    assert mentions(focused) > mentions(plain)
    _check_note(focused, source, quiz=False)


def test_prior_notes_are_referenced_not_repeated(shared_data: Path) -> None:
    source = (shared_data / "text" / "wikipedia_duck.txt").read_text(encoding="utf-8")
    first = _notes(source, title="Ducks")
    term = first["glossary"][0]["term"]
    prior = [{"id": "lec-1", "title": "Waterfowl basics", "glossary": [{"term": term, "definition": "x"}]}]
    out = _notes(source, title="Ducks again", prior_notes=prior)
    entry = next(e for e in out["glossary"] if e["term"] == term)
    assert entry["definition"] == "See “Waterfowl basics”."
    assert out["builds_on"] == [{"id": "lec-1", "title": "Waterfowl basics"}]
    assert "## Builds on\n\n- Waterfowl basics" in out["markdown"]


def test_one_sentence() -> None:
    text = "Photosynthesis converts light energy into chemical energy in plants."
    out = _notes(text, generate_quiz=True)
    assert out["summary"] == text
    assert out["key_points"] == [text]
    assert out["word_count"] == 9
    assert isinstance(out["quiz"], list)
    _check_note(out, text, quiz=True)


WATER_CYCLE = (
    "the water cycle moves water between oceans air and land evaporation lifts water vapour "
    "condensation forms clouds precipitation returns rain and snow runoff carries water to rivers"
)


def test_text_without_punctuation() -> None:
    words = WATER_CYCLE.split()
    text = " ".join(words * 12)
    out = _notes(text)
    _check_note(out, text, quiz=False)
    assert all(len(p.split()) <= 50 for p in out["key_points"])


def test_markdown_input_is_stripped_for_analysis() -> None:
    text = (
        "# Sorting algorithms\n\n"
        "**Quicksort** is a divide-and-conquer algorithm that picks a *pivot* element.\n\n"
        "```python\ndef quicksort(xs):\n    return xs\n```\n\n"
        "- Merge sort is a stable sorting algorithm with guaranteed n log n time.\n"
        "- Heapsort is an in-place sorting algorithm built on a binary heap.\n\n"
        "See [the visualisation](https://example.org/sort) for an animated comparison "
        "of sorting algorithms.\n"
    )
    out = _notes(text, generate_quiz=True)
    blob = " ".join([out["summary"], *out["key_points"], *(e["definition"] for e in out["glossary"])])
    for markup in ("**", "```", "def quicksort", "](", "https://"):
        assert markup not in blob
    assert out["title"] == "Sorting algorithms"
    assert "Quicksort is a divide-and-conquer algorithm" in blob


def test_huge_text_is_capped(shared_data: Path) -> None:
    source = (shared_data / "text" / "elife_56337_krab_zfp.txt").read_text(encoding="utf-8")
    text = "\n\n".join([source] * 15)  # ~700,000 characters
    started = time.perf_counter()
    out = _notes(text)
    print(f"\noffline notes for {len(text):,} characters: {time.perf_counter() - started:.2f} s")
    assert out["word_count"] == len(text.split())
    assert out["summary"]


def test_empty_text_is_permanent_error() -> None:
    with pytest.raises(PermanentError):
        _notes("   \n\n  ")


def test_progress_is_monotonic_and_ends_at_100() -> None:
    seen: list[float] = []
    generate_notes(
        NoteSource(text="Cells divide by mitosis. Mitosis produces two identical daughter cells."),
        settings=OFFLINE,
        progress=seen.append,
    )
    assert seen == sorted(seen) and seen[-1] == 100 and all(0 <= p <= 100 for p in seen)


def test_render_markdown_with_transcript_and_escaping() -> None:
    note = {
        "title": "Lecture <1>",
        "summary": "A summary.",
        "key_points": ["# not a heading", "second"],
        "glossary": [{"term": "Term", "definition": "Meaning."}],
        "quiz": [{"question": "Q?", "choices": ["a", "b"], "answer": "b"}],
        "language": "en",
        "word_count": 1234,
        "generator": "offline",
        "builds_on": [{"id": "x", "title": "Earlier lecture"}],
        "transcript": [
            {"start": 0.0, "end": 4.0, "text": "Hello and welcome."},
            {"start": 4.0, "end": 9.5, "text": "Today: ducks."},
            {"start": 75.0, "end": 80.0, "text": "Second minute."},
        ],
    }
    md = render_markdown(note)
    assert md.startswith("# Lecture &lt;1>\n")
    assert "- \\# not a heading" in md
    assert "B) b</details>" in md
    assert "<details>\n<summary>Transcript (3 segments)</summary>" in md
    assert "**[00:00]** Hello and welcome. Today: ducks." in md
    assert "**[01:15]** Second minute." in md
    assert "## Builds on\n\n- Earlier lecture" in md
    assert "1,234 words" in md
    fr = render_markdown({**note, "language": "fr"})
    assert "## Résumé" in fr and "## Points clés" in fr
