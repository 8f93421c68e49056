"""Terms the author marked as such, which the glossary prefers over statistical keyphrases.

An author singles a term out by listing it ("Key terms: a, b and c."), setting it in bold,
making it a short heading, or defining it ("A hash function is a …", "… is called a collision").
Each way of marking raises the term over yake's ranking by its own boost (``BOOST_*``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .words import term_list_items

__all__ = ["BOOST_LIST", "marked_terms"]

# "the … is …" subjects: "A hash function is …", "Ein topologischer Raum ist …"
_DEF_SUBJECT = {
    "en": r"^(?:(?:a|an|the)\s+)?([\w-]+(?:\s+[\w-]+){0,2}?)\s*(?:\([^)]{0,60}\)\s*)?,?\s+(?:is|are)\s+"
    r"(?:a|an|one|any|called|defined|known)\b",
    "de": r"^(?:(?:ein|eine|der|die|das)\s+)?([\w-]+(?:\s+[\w-]+){0,2}?)\s+"
    r"(?:ist|sind|heißt|heißen|bezeichnet)\s+(?:ein|eine|einen|dann|man)\b",
    "fr": r"^(?:(?:un|une|le|la|les|l')\s*)?([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:est|sont|désigne)\s+"
    r"(?:un|une)\b",
    "es": r"^(?:(?:un|una|el|la|los|las)\s+)?([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:es|son)\s+"
    r"(?:un|una)\b",
}
_CALLED = {
    "en": r"\b(?:called|known as|termed|referred to as|nicknamed)\s+(?:an?\s+|the\s+)?"
    r"([\w-]+(?:\s+[\w-]+){0,2}?)(?=\s*(?:[.,;)]|:(?!=))|\s+(?:and|or|because|which|that|when|if)\b|$)",
    "de": r"\b(?:heißt|heißen|nennt man|bezeichnet man als|genannt)\s+"
    r"(?:der\s+|die\s+|das\s+|ein\s+|eine\s+)?([\w-]+(?:\s+[\w-]+){0,2}?)(?=\s*(?:[.,;)]|:(?!=))|$)",
    "fr": r"\b(?:appelée?s?|nommée?s?|on appelle)\s+(?:une?\s+|le\s+|la\s+|les\s+)?"
    r"([\w-]+(?:\s+[\w-]+){0,2}?)(?=\s*(?:[.,;)]|:(?!=))|$)",
    "es": r"\b(?:llamad[oa]s?|denominad[oa]s?|conocid[oa]s? como|se denomina)\s+(?:una?\s+|el\s+|la\s+)?"
    r"([\w-]+(?:\s+[\w-]+){0,2}?)(?=\s*(?:[.,;)]|:(?!=))|$)",
}
# Any "The X is/are …" subject: a candidate yake may miss in a short text (not a mark of the
# author; the definition still has to be good enough).
_IS_SUBJECT = {
    "en": r"^(?:a|an|the)\s+([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:is|are)\b",
    "de": r"^(?:ein|eine|der|die|das)\s+([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:ist|sind)\b",
    "fr": r"^(?:un|une|le|la|les)\s+([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:est|sont)\b",
    "es": r"^(?:un|una|el|la|los|las)\s+([\w-]+(?:\s+[\w-]+){0,2}?)\s+(?:es|son)\b",
}
_HEADING_PARTS = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b|\bund\b|\boder\b|\bet\b|\bou\b|\by\b|\bo\b)\s*")
_BOLD = re.compile(r"(\*\*|__)(?=\S)([^*_\n]{2,60}?)(?<=\S)\1")
_TERM_CHARS = re.compile(r"^[\w'’ -]+$")  # noqa: RUF001
#: how much each way of naming a term raises it over yake's ranking
BOOST_LIST = 2.0
BOOST_BOLD = 1.5
BOOST_DEFINED = 1.5
BOOST_HEADING = 0.5


def marked_terms(
    raw_text: str, sentences: Sequence[str], headings: Sequence[str], language: str
) -> dict[str, float]:
    """Terms the author named as such, with a score boost: items of "Key terms: …" lists, bold
    Markdown, short headings, subjects of definitions ("A hash function is a …", "… is called X").
    Other "The X is …" subjects come with boost 0: candidates, but not marked."""
    out: dict[str, float] = {}

    def add(term: str, boost: float) -> None:
        term = " ".join(term.split()).strip(" -–—'\"“”‘’.,;:()[]")  # noqa: RUF001
        if term and len(term.split()) <= 4 and _TERM_CHARS.match(term) and any(ch.isalpha() for ch in term):
            out[term] = max(out.get(term, 0.0), boost)

    for match in _BOLD.finditer(raw_text[:200_000]):
        add(match.group(2), BOOST_BOLD)
    for text in headings:
        # "Stacks and Queues", "Search Trees (audio lecture)": each named thing is a term
        text = re.sub(r"\([^)]*\)|^[^:]{0,30}\d+\s*:", " ", text)
        for part in _HEADING_PARTS.split(text):
            if len(part.split()) <= 3:
                add(part, BOOST_HEADING)
    subject = _DEF_SUBJECT.get(language)
    called = _CALLED.get(language)
    loose_subject = _IS_SUBJECT.get(language)
    for sentence in sentences:
        if loose_subject and (found := re.match(loose_subject, sentence, re.IGNORECASE)):
            add(found.group(1), 0.0)
        for item in term_list_items(sentence):
            add(item, BOOST_LIST)
        if subject and (head := re.match(subject, sentence, re.IGNORECASE)):
            add(head.group(1), BOOST_DEFINED)
        if called:
            for named in re.finditer(called, sentence, re.IGNORECASE):
                add(named.group(1), BOOST_DEFINED)
    return out
