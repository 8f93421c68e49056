"""Language detection and the per-language resources of the offline generator.

The lingua detectors are built lazily, once per process, and restricted to common languages:
detection over ~75 languages is slower and, on short texts, noticeably less accurate.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "detect_language",
    "heading",
    "normalize_language",
    "pysbd_language",
    "yake_language",
]

DEFAULT_LANGUAGE = "en"

#: Languages lingua chooses among (ISO 639-1). Teaching material outside this set is rare; a
#: smaller set keeps short-text detection accurate and the lazily loaded models small.
DETECTABLE = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "ru",
    "uk",
    "tr",
    "sv",
    "da",
    "nb",
    "fi",
    "cs",
    "hu",
    "ro",
    "el",
    "ar",
    "zh",
    "ja",
    "ko",
    "hi",
]

# pysbd's segmenters; anything else uses the English rules (still fine for most Latin scripts).
_PYSBD = frozenset(
    [
        "am",
        "ar",
        "bg",
        "da",
        "de",
        "el",
        "en",
        "es",
        "fa",
        "fr",
        "hi",
        "hy",
        "it",
        "ja",
        "kk",
        "mr",
        "my",
        "nl",
        "pl",
        "ru",
        "sk",
        "ur",
        "zh",
    ]
)
# yake ships stop-word lists under these names ("cz" is its name for Czech).
_YAKE = {"cs": "cz", "nb": "no", "nn": "no"}
_YAKE_LISTS = frozenset(
    [
        "ar",
        "bg",
        "br",
        "cz",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fa",
        "fi",
        "fr",
        "hi",
        "hr",
        "hu",
        "hy",
        "id",
        "it",
        "ja",
        "lt",
        "lv",
        "nl",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "tr",
        "uk",
        "zh",
    ]
)

# Below this many characters the low-accuracy (trigram-only) mode guesses too often.
_SHORT_TEXT = 160
# Enough text to be sure; more only costs time.
_SAMPLE_CHARS = 3000
_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")


def normalize_language(code: str | None) -> str | None:
    """``"de-DE"`` → ``"de"``; ``None``, ``""`` and ``"auto"`` → ``None`` (detect it)."""
    if code is None:
        return None
    code = code.strip()
    if not code or code.lower() == "auto":
        return None
    match = _CODE.match(code)
    if not match:
        return None
    base = match.group(1).lower()
    return {"no": "nb", "iw": "he", "in": "id"}.get(base, base)


@lru_cache(maxsize=2)
def _detector(low_accuracy: bool) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in DETECTABLE]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _sample(text: str) -> str:
    """Up to ``_SAMPLE_CHARS`` of prose from the start, middle and end (title pages mislead)."""
    text = " ".join(text.split())
    if len(text) <= _SAMPLE_CHARS:
        return text
    third = _SAMPLE_CHARS // 3
    mid = len(text) // 2
    return " ".join((text[:third], text[mid : mid + third], text[-third:]))


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The ISO 639-1 code of ``text``'s language, or ``default`` when it cannot tell."""
    sample = _sample(text)
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 3:
        return default
    short = len(sample) < _SHORT_TEXT
    detector = _detector(low_accuracy=not short)
    if short:
        values = detector.compute_language_confidence_values(sample)
        # A near tie between the two best on a few words is a guess; say so by using the default.
        if (
            not values
            or values[0].value < 0.2
            or (len(values) > 1 and values[0].value - values[1].value < 0.05)
        ):
            return default
        found = values[0].language
    else:
        found = detector.detect_language_of(sample)
    if found is None:
        return default
    return str(found.iso_code_639_1.name.lower())


def pysbd_language(code: str) -> str:
    return code if code in _PYSBD else "en"


def yake_language(code: str) -> str:
    name = _YAKE.get(code, code)
    return name if name in _YAKE_LISTS else "en"


_HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Summary",
        "key_points": "Key points",
        "glossary": "Glossary",
        "quiz": "Quiz",
        "answer": "Answer",
        "builds_on": "Builds on",
        "sources": "Sources",
        "transcript": "Transcript",
        "see": "see “{title}”",
        "blank": "Fill in the blank: {sentence}",
        "generated": "Generated by {generator} · language: {language} · {words} words",
        "segments": "{count} segments",
    },
    "de": {
        "summary": "Zusammenfassung",
        "key_points": "Kernpunkte",
        "glossary": "Glossar",
        "quiz": "Quiz",
        "answer": "Antwort",
        "builds_on": "Baut auf",
        "sources": "Quellen",
        "transcript": "Transkript",
        "see": "siehe „{title}“",
        "blank": "Ergänzen Sie die Lücke: {sentence}",
        "generated": "Erstellt von {generator} · Sprache: {language} · {words} Wörter",
        "segments": "{count} Abschnitte",
    },
    "fr": {
        "summary": "Résumé",
        "key_points": "Points clés",
        "glossary": "Glossaire",
        "quiz": "Quiz",
        "answer": "Réponse",
        "builds_on": "S’appuie sur",  # noqa: RUF001
        "sources": "Sources",
        "transcript": "Transcription",
        "see": "voir « {title} »",
        "blank": "Complétez la phrase : {sentence}",
        "generated": "Généré par {generator} · langue : {language} · {words} mots",
        "segments": "{count} segments",
    },
    "es": {
        "summary": "Resumen",
        "key_points": "Puntos clave",
        "glossary": "Glosario",
        "quiz": "Cuestionario",
        "answer": "Respuesta",
        "builds_on": "Se basa en",
        "sources": "Fuentes",
        "transcript": "Transcripción",
        "see": "véase «{title}»",
        "blank": "Complete el espacio en blanco: {sentence}",
        "generated": "Generado por {generator} · idioma: {language} · {words} palabras",
        "segments": "{count} segmentos",
    },
}


def heading(language: str | None, key: str) -> str:
    """A section heading or phrase in ``language``, English when it has no translation."""
    table = _HEADINGS.get(normalize_language(language) or DEFAULT_LANGUAGE, _HEADINGS["en"])
    return table.get(key, _HEADINGS["en"][key])
