"""Language detection and per-language resources."""

from __future__ import annotations

import pytest

from eduscribe_sdk._notes import detect_language
from eduscribe_sdk._notes.language import heading, normalize_language, pysbd_language, yake_language

SAMPLES = {
    "en": "The mitochondrion is the powerhouse of the cell. It produces most of the chemical energy "
    "needed to power the cell's biochemical reactions, stored in a molecule called ATP.",
    "de": "Ein topologischer Raum ist eine Menge zusammen mit einer Topologie. Die Topologie legt fest, "
    "welche Teilmengen offen sind, und erlaubt es, Stetigkeit allgemein zu definieren.",
    "fr": "La photosynthèse est le processus par lequel les plantes vertes produisent de la matière "
    "organique à partir de la lumière du soleil, de l'eau et du dioxyde de carbone.",
    "es": "La célula es la unidad morfológica y funcional de todo ser vivo. De hecho, la célula es el "
    "elemento de menor tamaño que puede considerarse vivo.",
    "it": "La fotosintesi clorofilliana è un processo chimico per mezzo del quale le piante verdi "
    "producono sostanze organiche a partire dall'anidride carbonica e dall'acqua.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_detects_common_languages(code: str) -> None:
    assert detect_language(SAMPLES[code]) == code


def test_long_german_text_is_german() -> None:
    text = " ".join(SAMPLES["de"] for _ in range(50))
    assert detect_language(text) == "de"


def test_no_letters_falls_back_to_default() -> None:
    assert detect_language("12345 67 -- 89") == "en"
    assert detect_language("", default="de") == "de"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("de", "de"), ("de-DE", "de"), ("EN_us", "en"), ("auto", None), ("", None), (None, None), ("no", "nb")],
)
def test_normalize_language(raw: str | None, expected: str | None) -> None:
    assert normalize_language(raw) == expected


def test_resources_fall_back_to_english() -> None:
    assert pysbd_language("de") == "de"
    assert pysbd_language("sv") == "en"
    assert yake_language("cs") == "cz"
    assert yake_language("xx") == "en"
    assert heading("de", "summary") == "Zusammenfassung"
    assert heading("fr", "glossary") == "Glossaire"
    assert heading("es", "key_points") == "Puntos clave"
    assert heading("sv", "summary") == "Summary"
