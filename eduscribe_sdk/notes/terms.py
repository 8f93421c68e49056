"""Key terms (yake), their definitions (the source sentence that best defines each) and cloze quizzes."""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .language import heading, yake_language
from .words import term_list_items

__all__ = [
    "Term",
    "build_quiz",
    "define_terms",
    "extract_terms",
    "marked_terms",
    "plain_word",
    "term_key",
    "term_pattern",
]

# yake's cost is linear in its input; the best-ranked sentences carry the key terms anyway
_YAKE_INPUT_CHARS = 16_000
# Words that make any phrase containing them a caption or reference, not a term.
_JUNK = frozenset(
    [
        "figure",
        "figures",
        "fig",
        "supplement",
        "supplementary",
        "section",
        "sections",
        "chapter",
        "chapters",
        "page",
        "pages",
        "et",
        "al",
        "ref",
        "refs",
        "abbildung",
        "abbildungen",
        "kapitel",
        "seite",
        "seiten",
        "abschnitt",
        "figura",
        "página",
        "tableau",
        "chapitre",
    ]
)
# Words too vague to be a term alone, fine inside one ("hash table", "data structure").
_VAGUE = frozenset(
    [
        "table",
        "tables",
        "data",
        "results",
        "result",
        "study",
        "studies",
        "source",
        "sources",
        "example",
        "examples",
        "tabelle",
        "tabellen",
        "beispiel",
        "beispiele",
        "tabla",
        "tablas",
        "ejemplo",
        "exemple",
    ]
)
_DEF_AFTER = {
    "en": r"(?:is|are|was|were|means|refers to|denotes|describes|represents|consists of|is defined as)\b",
    "de": r"(?:ist|sind|war|waren|bezeichnet|bedeutet|heißt|heißen|beschreibt|nennt man)\b",
    "fr": r"(?:est|sont|était|désigne|signifie|représente|décrit)\b",
    "es": r"(?:es|son|era|significa|se refiere a|se define como|representa|designa|describe)\b",
}
_DEF_BEFORE = {
    "en": r"\b(?:called|known as|termed|referred to as|defined as|nicknamed)\s+(?:an?\s+|the\s+)?",
    "de": r"\b(?:heißt|heißen|nennt man|bezeichnet man als|versteht man unter|genannt)\s+"
    r"(?:der\s+|die\s+|das\s+|ein\s+|eine\s+)?",
    "fr": r"\b(?:appelée?s?|nommée?s?|on appelle|dite?s?)\s+(?:une?\s+|le\s+|la\s+|les\s+)?",
    "es": r"\b(?:llamad[oa]s?|denominad[oa]s?|conocid[oa]s? como|se denomina)\s+(?:una?\s+|el\s+|la\s+)?",
}


# Verbs that yake's stop-word lists lack; a keyphrase starting or ending with one is a clause
# fragment ("operation removes", "stores key"), not a term. Only unambiguous verb forms: "use",
# "change" or "mean" are nouns too ("arithmetic mean").
_VERBS = {
    "en": "called known used uses using makes made takes taken gives given shows shown means describes "
    "introduces introduce stores holds removes adds keeps finds goes gets becomes contains allows needs "
    "requires provides lets seems turns selects grows happens includes appears sits puts runs spreads "
    "produces lands probes rehashes allocates copies points wins restricts behaves arrives named "
    "nicknamed renamed let’s let's modulo per "  # noqa: RUF001
    "via versus vs",
    "de": "heißt heißen bezeichnet bezeichnen nennt nennen gilt gelten liegt liegen enthält folgt sei "
    "seien ergibt besitzt definiert",
    "fr": "appelle appelé appelée appelés désigne désignent permet permettent contient définit",
    "es": "llama llaman llamado llamada define definen permite permiten contiene",
}
# Stop words allowed inside a term ("separation of concerns", "Satz von Stokes").
_CONNECTORS = {
    "en": frozenset(["of"]),
    "de": frozenset(["der", "des", "von"]),
    "fr": frozenset(["de", "du", "des", "d'", "à"]),
    "es": frozenset(["de", "del"]),
}
_DETERMINERS = {
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
# "This is called a collision.": the definition is the sentence before plus this one.
_BACK_CALLED = {
    "en": r"^(?:(?:this|that|these|those|such)(?:\s+\w+)?|it|they)\s+(?:is|are)\s+(?:also\s+)?"
    r"(?:called|known as|termed)\b",
    "de": r"^(?:dies|das|diese[sr]?|man)\s+(?:heißt|nennt|bezeichnet)\b",
    "fr": r"^(?:c'est|on appelle cela|cela s'appelle|ceci est appelé)\b",
    "es": r"^(?:esto|esta|este)\s+(?:se llama|se denomina|es llamad[oa])\b",
}
_HEADING_PARTS = re.compile(r"\s*(?:,|&|/|\band\b|\bor\b|\bund\b|\boder\b|\bet\b|\bou\b|\by\b|\bo\b)\s*")
_BOLD = re.compile(r"(\*\*|__)(?=\S)([^*_\n]{2,60}?)(?<=\S)\1")
_TERM_CHARS = re.compile(r"^[\w'’ -]+$")  # noqa: RUF001
_TOKEN = re.compile(r"[^\W_][\w'’-]*|[^\w\s]")  # noqa: RUF001
#: how much each way of naming a term raises it over yake's ranking
_BOOST_LIST = 2.0
_BOOST_BOLD = 1.5
_BOOST_DEFINED = 1.5
_BOOST_HEADING = 0.5
#: a term needs a definition at least this good: the author's terms a sentence they are the
#: subject of; other phrases a real definition ("X is …", "… called X")
_DECENT_MARKED = 2.0
_DECENT = 3.0
# A plain word ("restriction") needs "The X is a …" itself: "The restriction is the point" is no entry.
_DECENT_PLAIN_WORD = 5.0
#: with fewer entries than this, the glossary also takes subject sentences for unmarked phrases
_FEW_ENTRIES = 3
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


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    key: str
    weight: float
    #: the author singled it out: a key-term list, bold type, a heading or "X is a …"
    marked: bool = False


def term_key(term: str) -> str:
    """A comparison key that merges case and simple plurals ("KRAB-ZFPs" ~ "KRAB-ZFP")."""
    words = term.casefold().split()
    return " ".join(w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words)


def _specific(term: str) -> bool:
    """Multi-word, capitalised, acronym-like or long: more telling than a common word like "water"."""
    return (
        " " in term
        or any(ch.isupper() or ch.isdigit() or ch == "-" for ch in term[1:])
        or (term[:1].isupper() and not term[1:].islower())
        or len(term) >= 10
    )


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=16)
def _verbs(language: str) -> frozenset[str]:
    return frozenset(_VERBS.get(language, "").split())


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
        add(match.group(2), _BOOST_BOLD)
    for text in headings:
        # "Stacks and Queues", "Search Trees (audio lecture)": each named thing is a term
        text = re.sub(r"\([^)]*\)|^[^:]{0,30}\d+\s*:", " ", text)
        for part in _HEADING_PARTS.split(text):
            if len(part.split()) <= 3:
                add(part, _BOOST_HEADING)
    subject = _DEF_SUBJECT.get(language)
    called = _CALLED.get(language)
    loose_subject = _IS_SUBJECT.get(language)
    for sentence in sentences:
        if loose_subject and (found := re.match(loose_subject, sentence, re.IGNORECASE)):
            add(found.group(1), 0.0)
        for item in term_list_items(sentence):
            add(item, _BOOST_LIST)
        if subject and (head := re.match(subject, sentence, re.IGNORECASE)):
            add(head.group(1), _BOOST_DEFINED)
        if called:
            for named in re.finditer(called, sentence, re.IGNORECASE):
                add(named.group(1), _BOOST_DEFINED)
    return out


@dataclass(frozen=True, slots=True)
class _Context:
    """Word statistics of the whole text for telling noun phrases from clause fragments."""

    text: str
    lowered: str
    language: str
    stop: frozenset[str]
    #: English words seen right before a determiner and never right after one: verbs ("removes the")
    verbish: frozenset[str]
    text_lower_words: _OriginalWords


class _OriginalWords:
    """The words of a phrase as first written in the text ("IBM debuted" for "ibm debuted")."""

    def __init__(self, text: str) -> None:
        self._text = text

    def get(self, phrase: str) -> list[str] | None:
        match = term_pattern(phrase).search(self._text)
        return match.group(0).split() if match else None


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
_MODALS = frozenset(
    ["to", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "cannot"]
)


def _context(text: str, language: str, stop: frozenset[str]) -> _Context:
    verbish: set[str] = set()
    if language == "en":
        determiners = _DETERMINERS["en"] - {"one", "this", "that"}
        tokens = _TOKEN.findall(text.lower())
        before: set[str] = set()
        after: set[str] = set()
        for k in range(1, len(tokens) - 1):
            # "removes the …", "can relax", "to drown": verbs, unless a determiner precedes them too
            if tokens[k + 1] in determiners or tokens[k - 1] in _MODALS:
                before.add(tokens[k])
            if tokens[k - 1] in determiners:
                after.add(tokens[k])
        verbish = before - after
    return _Context(text, text.casefold(), language, stop, frozenset(verbish), _OriginalWords(text))


def _shape_ok(words: Sequence[str], context: _Context, *, marked: bool) -> bool:
    """Noun-phrase-like: no stop word or verb at either end, no stop word inside but "of"-like
    connectors, and (English) no word used as a verb elsewhere in the text."""
    edges = context.stop | _verbs(context.language)
    if words[0] in edges or words[-1] in edges:
        return False
    connectors = _CONNECTORS.get(context.language, frozenset())
    if any(w in context.stop and w not in connectors for w in words[1:-1]):
        return False
    return marked or not (any(w in context.verbish for w in words) or _subject_verb(words, context))


def _subject_verb(words: Sequence[str], context: _Context) -> bool:
    """English "IBM debuted", "Watson joined CTR", "IBM continues (to …)": a name and its verb."""
    if context.language != "en" or len(words) < 2:
        return False
    phrase = " ".join(words)
    originals = context.text_lower_words.get(phrase)
    for k in range(1, len(words)):
        if words[k].endswith("ed") and originals is not None and originals[k - 1][:1].isupper():
            return True
    last = words[-1]
    if last.endswith("s") and not last.endswith(("ss", "us", "is")) and originals is not None:
        return bool(re.search(re.escape(phrase) + r"\s+(?:to|the|a|an|its|their)\b", context.lowered))
    return False


def _in_noun_context(term: str, context: _Context) -> bool:
    """Somewhere in the text the phrase starts a noun phrase: after a stop word (article,
    preposition), punctuation or at a start. "tables power Python" never does."""
    for count, match in enumerate(term_pattern(term).finditer(context.text)):
        if count >= 50:
            break
        tail = context.text[max(0, match.start() - 40) : match.start()].rstrip()
        if not tail or not tail[-1].isalnum():
            return True
        last = re.search(r"[\w'’-]+$", tail)  # noqa: RUF001
        if last is None or last.group(0).lower() in context.stop or last.group(0).isdigit():
            return True
    return False


def _overlaps(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two phrases naming the same thing: one inside the other ("search tree key", "search
    tree"; "hash" in "hash function"), or sharing two or more words at the seam ("tree key sits",
    "key sits keys"). A head word alone is a term of its own: "duck" and "call duck" both stay."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == 1 and len(long_) > 1:
        return short[0] in long_[:-1]
    if f" {' '.join(short)} " in f" {' '.join(long_)} ":
        return True
    for size in range(2, min(len(a), len(b)) + 1):
        if list(a[-size:]) == list(b[:size]) or list(b[-size:]) == list(a[:size]):
            return True
    return False


def _surface(term: str, text: str, language: str) -> str:
    """The spelling the text uses most inside sentences ("linked list", not a heading's "Linked List")."""
    counts: dict[str, int] = {}
    for k, match in enumerate(term_pattern(term).finditer(text)):
        if k >= 40:
            break
        before = text[max(0, match.start() - 3) : match.start()].rstrip(" \t")
        if before and before[-1] not in ".!?:\n":
            counts[match.group(0)] = counts.get(match.group(0), 0) + 1
    if not counts:
        # only ever seen at the start of a line or in a title: the capitals are the position's,
        # not the word's (except in German, which capitalises nouns)
        words = term.split()
        if language != "de" and term[:1].isupper() and all(w[1:] == w[1:].lower() for w in words):
            return " ".join(w[:1].lower() + w[1:] if w[1:] else w for w in words)
        return term
    return max(sorted(counts), key=lambda form: (counts[form], form.islower()))


def extract_terms(
    text: str,
    language: str,
    *,
    stop: frozenset[str],
    limit: int = 40,
    context_text: str | None = None,
    marked: Mapping[str, float] | None = None,
) -> list[Term]:
    """Key terms of ``text`` in its language, best first: yake's keyphrases plus the terms the
    author marked (``marked``: term → boost), noun-phrase-like only, without overlaps.

    ``context_text`` (default ``text``) is where phrases are checked for how they are used.
    """
    import yake

    context = _context(re.sub(r"[ \t]+", " ", context_text or text), language, stop)
    if len(text) > _YAKE_INPUT_CHARS:
        text = text[:_YAKE_INPUT_CHARS]
    extractor = yake.KeywordExtractor(lan=yake_language(language), n=3, dedup_lim=0.8, top=limit * 2)
    raw: list[tuple[str, float]] = extractor.extract_keywords(text)
    lowered = context.lowered
    scored: dict[str, tuple[str, float, bool]] = {}
    for rank, (phrase, _score) in enumerate(raw):
        phrase = " ".join(phrase.split()).strip(" -–—'\"“”‘’.,;:()[]")  # noqa: RUF001
        key = term_key(phrase)
        if key not in scored:
            scored[key] = (phrase, 1.0 - rank / max(1, len(raw)), False)
    for phrase, boost in (marked or {}).items():
        key = term_key(phrase)
        found = scored.get(key)
        # lecture notes define dozens of things; the ones the text keeps using matter most
        uses = min(30, lowered.count(phrase.casefold()))
        base = (found[1] if found else 0.0) + 0.2 * math.log1p(uses)
        scored[key] = (found[0] if found else phrase, base + boost, boost > 0 or bool(found and found[2]))
    ranked = sorted(scored.values(), key=lambda item: -item[1])
    terms: list[Term] = []
    kept: list[tuple[list[str], bool]] = []
    for phrase, score, is_marked in ranked:
        words = phrase.casefold().split()
        if not (3 <= len(phrase) <= 60) or not words or len(words) > (4 if is_marked else 3):
            continue
        if not any(ch.isalpha() for ch in phrase) or sum(ch.isalpha() for ch in phrase) < 0.6 * len(phrase):
            continue
        if any(w in _JUNK for w in words) or (len(words) == 1 and words[0] in _VAGUE):
            continue
        if not _shape_ok(words, context, marked=is_marked):
            continue
        if (
            len(words) == 1
            and len(phrase) < 4
            and not phrase.isupper()
            and (marked or {}).get(phrase, 0.0) < _BOOST_LIST
        ):
            # "pop" from a key-term list is a term; "Def" from "… das heißt Def." is not
            continue
        shouting = [w for w in phrase.split() if w.isupper() and len(w) >= 5]
        if len(shouting) >= 2 or any(len(w) >= 8 for w in shouting):
            continue  # running page headers of PDFs ("TOPOLOGISCHE RÄUME")
        # two terms the author named may nest ("linked list", "doubly linked list"); otherwise
        # the better of two overlapping phrases stands for both, except that a phrase beats a
        # lone modifier of it ("priority queue" over "priority")
        clashes = [k for k, (other, other_marked) in enumerate(kept) if _overlaps(words, other)]
        clashes = [k for k in clashes if not (is_marked and kept[k][1])]
        if any(not (len(words) > 1 and not kept[k][1] and plain_word(kept[k][0][0])) for k in clashes):
            continue
        if not is_marked and len(words) > 1 and not _in_noun_context(phrase, context):
            continue
        if not term_pattern(phrase).search(context.text):
            continue
        for k in reversed(clashes):
            del kept[k], terms[k]
        kept.append((words, is_marked))
        display = _surface(phrase, context.text, language)
        terms.append(Term(display, term_key(display), score, is_marked))
        if len(terms) >= limit:
            break
    return terms


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
    articles = "|".join(sorted(_DETERMINERS.get(language, _DETERMINERS["en"])))
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


def _glossary_line(term: str, sentence: str, language: str) -> re.Match[str] | None:
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


def _definition_score(term: str, sentence: str, language: str) -> float:
    """How well ``sentence`` defines ``term``: 4 for a glossary line, 3-4 for "X is …", 2.5 for
    "called X", 1.5 when the term is the sentence's subject; ±1 for length. Below ``_DECENT`` it
    merely mentions the term."""
    match = term_pattern(term).search(sentence)
    if match is None:
        return float("-inf")
    n_words = len(sentence.split())
    lead = sentence[: match.start()].split()
    openers = _DETERMINERS.get(language, _DETERMINERS["en"]) | _LEAD_WORDS.get(language, frozenset())
    # "a CRISPR/Cas9-based approach": the term only modifies the subject
    modifier = sentence[match.end() : match.end() + 1] == "/"
    opener = lead[0].lower().strip("\"'“(") if lead else ""
    # "This argument is called …" is about the sentence before, not about "argument"
    demonstrative = opener in _DEMONSTRATIVES
    subject = not modifier and (not lead or (len(lead) <= 2 and opener in openers and not demonstrative))
    score = 0.0
    patterns = _patterns(term, language)
    if _glossary_line(term, sentence, language):
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


def _decent(term: Term, language: str) -> float:
    if term.marked:
        return _DECENT_MARKED
    # German capitalises every noun: "Situation" is as everyday as "situation"
    word = term.text.lower() if language == "de" and term.text[1:].islower() else term.text
    return _DECENT_PLAIN_WORD if plain_word(word) else _DECENT


def plain_word(term: str) -> bool:
    """A single everyday word ("restriction", "water"), as opposed to a named concept."""
    return " " not in term and term.isalpha() and term.islower()


def _variants(term: str, language: str) -> list[str]:
    """The term and its other number ("array" for "arrays"), so a heading's plural finds the
    singular definition."""
    if language != "en" or not term[-1:].isalpha() or term.isupper():
        return [term]
    if term.endswith("ies"):
        return [term, term[:-3] + "y"]
    if term.endswith("s") and not term.endswith("ss"):
        return [term, term[:-1]]
    return [term, term + "s"]


def define_terms(
    terms: Sequence[Term],
    sentences: Sequence[str],
    *,
    eligible: Callable[[int], bool],
    rank_bonus: Callable[[int], float],
    language: str,
    source_text: str,
    count: int,
    prior_terms: Mapping[str, str],
    clean: Callable[[str], str],
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The glossary, and for each entry the index of the sentence that defines it.

    A term makes the glossary only with a decent definition: for the author's terms (``marked``) a
    sentence they are the subject of ("A linked list stores …"), for other phrases a real
    definition ("X is …", "… called X", "X: …"). Each sentence defines one term at most, the one
    it defines best (the longer term on a tie: "doubly linked list" over "linked list"). Terms a
    prior note defines point there instead. Entries follow the order of their sentences, which is
    the order of the lecture.
    """
    haystack = " ".join(source_text.split())
    # common single words only fill the glossary up when there are too few specific terms
    specific = [t for t in terms if _specific(t.text) or t.marked]
    if len(specific) >= min(count, 3):
        general = [
            t
            for t in terms
            if not (_specific(t.text) or t.marked) and len(t.text) >= 8 and not t.text.endswith("ly")
        ]
        terms = specific + general
    terms = [t for t in terms if term_pattern(t.text).search(haystack)]
    lowered = [s.casefold() for s in sentences]
    back_called = _BACK_CALLED.get(language)
    # (term, sentence) → (score, the term's form in that sentence)
    found: dict[tuple[int, int], tuple[float, str]] = {}
    mentions: dict[int, list[int]] = {}
    for t_index, term in enumerate(terms):
        forms = _variants(term.text, language)
        needles = [f.casefold() for f in forms]
        for idx, low in enumerate(lowered):
            if not any(n in low for n in needles) or not eligible(idx):
                continue
            score, form = max(
                ((_definition_score(f, sentences[idx], language), f) for f in forms), key=lambda sf: sf[0]
            )
            if score == float("-inf"):
                continue
            # "This argument is called amortised analysis.": names the term after "called" only
            if (
                back_called
                and idx > 0
                and eligible(idx - 1)
                and (named := re.match(back_called, sentences[idx], re.IGNORECASE))
                and term_pattern(form).search(sentences[idx], named.end())
            ):
                score = max(score, 4.5)
            found[(t_index, idx)] = (score, form)
            mentions.setdefault(t_index, []).append(idx)

    entries: list[tuple[int, dict[str, str]]] = []
    used_sentences: dict[str, int] = {}
    used: set[int] = set()
    done: set[int] = set()

    def assign(decent: Callable[[Term], float]) -> None:
        # the term each sentence defines best, among those it defines well enough
        best_here: dict[int, tuple[float, int, int]] = {}
        for (t_index, idx), (score, _form) in found.items():
            if t_index in done or score < decent(terms[t_index]):
                continue
            rank = (score, len(terms[t_index].text), -t_index)
            if idx not in best_here or rank > best_here[idx]:
                best_here[idx] = rank
        for t_index, term in enumerate(terms):
            if len(entries) >= count:
                return
            seen = mentions.get(t_index)
            if t_index in done or not seen:
                continue
            prior_title = prior_terms.get(term.key)
            if prior_title is not None and (
                term.marked or any(found[(t_index, idx)][0] >= decent(term) for idx in seen)
            ):
                see = heading(language, "see").format(title=prior_title)
                entries.append((seen[0], {"term": term.text, "definition": see[:1].upper() + see[1:] + "."}))
                done.add(t_index)
                continue
            options = [
                (found[(t_index, idx)][0] + rank_bonus(idx), idx)
                for idx in seen
                if idx not in used and idx in best_here and -best_here[idx][2] == t_index
            ]
            if not options:
                continue  # no sentence says what it is: a bad definition is worse than none
            _score, idx = max(options, key=lambda o: (o[0], -o[1]))
            form = found[(t_index, idx)][1]
            sentence = sentences[idx]
            if (line := _glossary_line(form, sentence, language)) is not None:
                rest = clean(sentence[line.end() :])
                definition = rest[:1].upper() + rest[1:]
            elif back_called and idx > 0 and re.match(back_called, sentence, re.IGNORECASE):
                definition = clean(f"{sentences[idx - 1]} {sentence}")
            else:
                definition = clean(sentence)
            used.add(idx)
            done.add(t_index)
            used_sentences[form] = idx
            entries.append((idx, {"term": form, "definition": definition}))

    assign(lambda t: _decent(t, language))
    if len(entries) < min(count, _FEW_ENTRIES):
        # a text with few real definitions (an encyclopedia article, a transcript): named
        # concepts may also be explained by a sentence they are the subject of
        assign(lambda t: _DECENT_MARKED if not plain_word(t.text) else _DECENT_PLAIN_WORD)
    entries.sort(key=lambda entry: entry[0])
    return [entry for _, entry in entries], used_sentences


def _nested(a: str, b: str) -> bool:
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "


def _kind(term: str) -> tuple[int, bool, bool]:
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
