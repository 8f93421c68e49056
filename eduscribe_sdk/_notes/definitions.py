"""How well a sentence defines a term: the scores the glossary picks definitions by.

A real definition names the term and says what it is: "X is a …", "… is called X", "X: …" (a
glossary line of the source), "… (X)" spelling out an acronym. A sentence that merely mentions
the term, a formula, a fragment of a PDF line or a list scores low: a bad definition is worse
than none, and ``glossary.py`` leaves a term out rather than show one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .terms import term_pattern
from .words import DETERMINERS

__all__ = ["definition_score", "glossary_line", "names_previous"]

# "X is …": verbs after the subject that make the sentence say what X is.
_DEF_AFTER = {
    "en": r"(?:is|are|was|were|means|refers to|denotes|describes|represents|consists of|is defined as)\b",
    "de": r"(?:ist|sind|war|waren|bezeichnet|bedeutet|heißt|heißen|beschreibt|nennt man)\b",
    "fr": r"(?:est|sont|était|désigne|signifie|représente|décrit)\b",
    "es": r"(?:es|son|era|significa|se refiere a|se define como|representa|designa|describe)\b",
}
# "… called X": words that name the term after a description of it.
_DEF_BEFORE = {
    "en": r"\b(?:called|known as|termed|referred to as|defined as|nicknamed)\s+(?:an?\s+|the\s+)?",
    "de": r"\b(?:heißt|heißen|nennt man|bezeichnet man als|versteht man unter|genannt)\s+"
    r"(?:der\s+|die\s+|das\s+|ein\s+|eine\s+)?",
    "fr": r"\b(?:appelée?s?|nommée?s?|on appelle|dite?s?)\s+(?:une?\s+|le\s+|la\s+|les\s+)?",
    "es": r"\b(?:llamad[oa]s?|denominad[oa]s?|conocid[oa]s? como|se denomina)\s+(?:una?\s+|el\s+|la\s+)?",
}
# "This is called a collision.": the definition is the sentence before plus this one.
_BACK_CALLED = {
    "en": r"^(?:(?:this|that|these|those|such)(?:\s+\w+)?|it|they)\s+(?:is|are)\s+(?:also\s+)?"
    r"(?:called|known as|termed)\b",
    "de": r"^(?:dies|das|diese[sr]?|man)\s+(?:heißt|nennt|bezeichnet)\b",
    "fr": r"^(?:c'est|on appelle cela|cela s'appelle|ceci est appelé)\b",
    "es": r"^(?:esto|esta|este)\s+(?:se llama|se denomina|es llamad[oa])\b",
}
# "X is a …" names the class X belongs to: the best kind of definition.
_CLASS = {
    "en": r"(?:a|an|one|any|called|defined|known)\b",
    "de": r"(?:ein|eine|einen|jede|jeder)\b",
    "fr": r"(?:un|une)\b",
    "es": r"(?:un|una)\b",
}
# Openings before a term that still make a sentence about it ("With open addressing the table …").
_LEAD_WORDS = {
    "en": frozenset(["with", "in", "under", "by"]),
    "de": frozenset(["bei", "beim", "mit", "im", "in"]),
    "fr": frozenset(["avec", "dans", "par", "en"]),
    "es": frozenset(["con", "en", "por"]),
}
# A subject opened by these ("This argument is called …") is about the sentence before.
_DEMONSTRATIVES = frozenset(
    [
        "this",
        "these",
        "that",
        "those",
        "such",
        "diese",
        "dieser",
        "dieses",
        "diesen",
        "ce",
        "cette",
        "ces",
        "este",
        "esta",
        "estos",
        "estas",
    ]
)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """The compiled definition patterns of one term (compiled once: the regex module's own cache
    is far smaller than terms times patterns)."""

    line: re.Pattern[str]
    apposition: re.Pattern[str]
    acronym: re.Pattern[str]
    after: re.Pattern[str] | None
    after_class: re.Pattern[str] | None
    before: re.Pattern[str] | None


@lru_cache(maxsize=4096)
def _patterns(term: str, language: str) -> _Patterns:
    escaped = re.escape(term)
    articles = "|".join(sorted(DETERMINERS.get(language, DETERMINERS["en"])))
    after = _DEF_AFTER.get(language)
    before = _DEF_BEFORE.get(language)
    subject_verb = r"(?<![\w-])" + escaped + r"(?:\s*\([^)]{0,80}\))?\s*,?\s+"
    flags = re.IGNORECASE
    return _Patterns(
        line=re.compile(r"^\W{0,3}" + escaped + r"\s*(?::|\s[–—-])\s+(?=\S)", flags),  # noqa: RUF001
        apposition=re.compile(r"(?<![\w-])" + escaped + r"\s*:\s+(?=(?:" + articles + r")\s)", flags),
        acronym=re.compile(r"[\w\"”’')]\s+\(\s*" + escaped + r"\s*\)"),  # noqa: RUF001
        after=re.compile(subject_verb + after, flags) if after else None,
        after_class=(
            re.compile(subject_verb + after + r"\s+" + _CLASS[language], flags)
            if after and language in _CLASS
            else None
        ),
        before=re.compile(before + escaped + r"(?![\w-])", flags) if before else None,
    )


def glossary_line(term: str, sentence: str, language: str) -> re.Match[str] | None:
    """ "Contiguous memory: one unbroken block of addresses." (a glossary entry in the source), or
    "… on a circular buffer: an array in which …" (a definition after a colon); the match ends
    where the definition starts."""
    patterns = _patterns(term, language)
    line = patterns.line.match(sentence) or patterns.apposition.search(sentence)
    # "Functional Languages: a tutorial" is a title and "Torus: Π1(T 2,X) wird …" a formula,
    # not definitions
    rest = sentence[line.end() :].split() if line is not None else []
    if line is None or len(rest) < 4 or not rest[0].strip("\"'“‘(").isalpha():  # noqa: RUF001
        return None
    if ":" in sentence[line.end() :]:
        return None  # "GHC Wiki: I know kung fu: learning STG by example" is a title

    return line


_FORMULA = re.compile(r"[=<>≤≥⊆⊂∈∉→⇒↦∀∃∑∫√∞§]")


_APPOSITION = re.compile(r"^\s*(?:\([^()]{1,60}\)|,[^,.;:]{1,40},)")


def _states_something(sentence: str, term_end: int) -> bool:
    """The term is followed by a word (a verb: "A linked list stores …") and the sentence ends
    properly, as opposed to "Kreis (um jeden Punkt …)" or "Homomorphismus o. B. d. A."."""
    # skip an apposition: "A deque, or double-ended queue, allows …"
    rest = _APPOSITION.sub("", sentence[term_end:], count=1).split()
    return (
        bool(rest)
        and len(rest[0]) >= 3
        and rest[0].isalpha()
        and rest[0].islower()
        and sentence.rstrip()[-1:] in ".!?"
    )


def definition_score(term: str, sentence: str, language: str) -> float:
    """How well ``sentence`` defines ``term``: 4 for a glossary line, 3-4 for "X is …", 2.5 for
    "called X", 1.5 when the term is the sentence's subject; ±1 for length. Below ``_DECENT`` it
    merely mentions the term."""
    match = term_pattern(term).search(sentence)
    if match is None:
        return float("-inf")
    n_words = len(sentence.split())
    lead = sentence[: match.start()].split()
    openers = DETERMINERS.get(language, DETERMINERS["en"]) | _LEAD_WORDS.get(language, frozenset())
    # "a CRISPR/Cas9-based approach": the term only modifies the subject
    modifier = sentence[match.end() : match.end() + 1] == "/"
    opener = lead[0].lower().strip("\"'“(") if lead else ""
    # "This argument is called …" is about the sentence before, not about "argument"
    demonstrative = opener in _DEMONSTRATIVES
    subject = not modifier and (not lead or (len(lead) <= 2 and opener in openers and not demonstrative))
    score = 0.0
    patterns = _patterns(term, language)
    if glossary_line(term, sentence, language):
        score = 4.0
    elif patterns.acronym.search(sentence):
        score = 3.0  # "… "last in, first out" (LIFO)": the sentence spells the acronym out
    else:
        if patterns.after and patterns.after.search(sentence):
            # "… which operations are cheap" only mentions the term in passing
            score = 4.0 if subject else 1.0
            if subject and patterns.after_class and patterns.after_class.search(sentence):
                score += 0.5  # "X is a …": names the class it belongs to
        if score < 2.5 and patterns.before and patterns.before.search(sentence):
            score = 2.5
        if score < 1.5 and subject and _states_something(sentence, match.end()):
            score = 1.5
    if _FORMULA.search(sentence):
        score -= 1.5  # a formula explains little to someone who needs the term explained
    # a PDF line or list fragment ("ein Homöomorphismus, der …,") is no definition to show
    if sentence[:1].islower() or sentence.rstrip()[-1:] in (",", ";"):
        score -= 1.5
    if 6 <= n_words <= 40:
        score += 0.5
    elif n_words > 45 or n_words < 4:
        score -= 1.0
    return score


def names_previous(sentence: str, language: str) -> re.Match[str] | None:
    """ "This is called a collision.": the term named at the match's end is what the sentence
    before describes, so that sentence belongs to the definition."""
    pattern = _BACK_CALLED.get(language)
    return re.match(pattern, sentence, re.IGNORECASE) if pattern else None
