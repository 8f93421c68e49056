"""Word-level helpers shared by the offline steps: stop words, content words, lists of terms.

Stop words come from yake's lists, so term extraction and every other step agree on what a stop
word is in each language. A "list of terms" ("Key terms: a, b and c.") names things without saying
anything about them: the glossary takes its items as the author's terms, while summaries, key
points and definitions must never quote it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .language import yake_language

__all__ = ["DETERMINERS", "content_words", "is_term_list", "stopwords", "term_list_items"]

# Articles, possessives and quantifiers: they open a noun phrase, so a term never ends with one
# and a definition's subject may follow one.
DETERMINERS = {
    "en": frozenset(
        [
            "a",
            "an",
            "the",
            "its",
            "their",
            "his",
            "her",
            "our",
            "your",
            "each",
            "every",
            "this",
            "these",
            "those",
            "some",
            "any",
            "one",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "den",
            "dem",
            "des",
            "ein",
            "eine",
            "einen",
            "einem",
            "einer",
            "eines",
            "jede",
            "jeder",
            "jedes",
        ]
    ),
    "fr": frozenset(
        ["le", "la", "les", "l'", "un", "une", "des", "chaque", "tout", "toute", "ce", "cette", "ces"]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "unos",
            "unas",
            "cada",
            "todo",
            "toda",
            "este",
            "esta",
            "estos",
            "estas",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_][\w'’\-]*[^\W_]|[^\W\d_]")  # noqa: RUF001


@lru_cache(maxsize=16)
def stopwords(language: str) -> frozenset[str]:
    import yake

    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    path = folder / f"stopwords_{yake_language(language)}.txt"
    if not path.exists():
        return frozenset()
    words = path.read_text(encoding="utf-8", errors="ignore").split()
    return frozenset(w.lower() for w in words)


def content_words(text: str, stop: frozenset[str]) -> list[str]:
    """Lower-cased words that carry meaning (no stop words, numbers or one-letter tokens)."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if len(w) > 2 and w not in stop]


_TERM_LIST_LABEL = re.compile(
    r"^\s*(?:key\s+terms?|keywords?|key\s+words|key\s+concepts|important\s+terms|terms|glossary|vocabulary|"
    r"schlüsselbegriffe|schlüsselwörter|grundbegriffe|begriffe|stichwörter|stichworte|fachbegriffe|"
    r"mots[- ]clés|termes(?:\s+clés)?|notions\s+clés|vocabulaire|"
    r"términos(?:\s+clave)?|palabras\s+clave|conceptos\s+clave|vocabulario)\s*[:：]\s*",  # noqa: RUF001
    re.IGNORECASE,
)
_LIST_SPLIT = re.compile(r"\s*[,;]\s*|\s+(?:and|or|und|oder|et|ou|y|o)\s+")


def term_list_items(text: str) -> list[str]:
    """The items of an explicit list of terms ("Key terms: a, b and c."), else ``[]``."""
    match = _TERM_LIST_LABEL.match(text)
    if not match:
        return []
    body = text[match.end() :].strip().rstrip(".")
    items = [" ".join(item.split()).strip("\"'“”‘’()") for item in _LIST_SPLIT.split(body)]  # noqa: RUF001
    return [item for item in items if item and len(item.split()) <= 4]


def is_term_list(text: str) -> bool:
    """A bare list of terms: it names things without saying anything about them."""
    if _TERM_LIST_LABEL.match(text):
        return True
    items = [item for item in _LIST_SPLIT.split(text.strip().rstrip(".")) if item]
    return len(items) >= 4 and all(len(item.split()) <= 3 for item in items)
