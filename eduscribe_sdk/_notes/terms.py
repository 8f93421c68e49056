"""Key terms of a text: yake's keyphrases plus the author's marked terms, noun phrases only.

yake ranks phrases statistically and knows nothing of grammar, so its phrases are filtered to
noun-phrase-like ones ("hash function", not "operation removes" or "stores key"), overlapping
phrases are reduced to the better one, and each term is shown in the spelling the text uses
inside sentences. The glossary (glossary.py) and the quiz (quiz.py) are built from these terms.
A custom prompt puts the terms about its topics first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .analysis import Analysis
from .author_terms import BOOST_LIST, marked_terms
from .language import yake_language
from .ranking import keyword_stems
from .words import DETERMINERS, content_words

__all__ = ["Term", "extract_terms", "key_terms", "plain_word", "term_key", "term_pattern"]

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
# Words and punctuation marks: the tokens whose neighbours tell English verbs from nouns.
_TOKEN = re.compile(r"[^\W_][\w'’-]*|[^\w\s]")  # noqa: RUF001


@dataclass(frozen=True, slots=True)
class Term:
    """A key term as the text spells it, its comparison key and its extraction score."""

    text: str
    key: str
    weight: float
    #: the author singled it out: a key-term list, bold type, a heading or "X is a …"
    marked: bool = False


def term_key(term: str) -> str:
    """A comparison key that merges case and simple plurals ("KRAB-ZFPs" ~ "KRAB-ZFP")."""
    words = term.casefold().split()
    return " ".join(w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words)


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """The term as a whole word or phrase, in any case (compiled once: terms are matched often)."""
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=16)
def _verbs(language: str) -> frozenset[str]:
    return frozenset(_VERBS.get(language, "").split())


def plain_word(term: str) -> bool:
    """A single everyday word ("restriction", "water"), as opposed to a named concept."""
    return " " not in term and term.isalpha() and term.islower()


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


_MODALS = frozenset(
    ["to", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "cannot"]
)


def _context(text: str, language: str, stop: frozenset[str]) -> _Context:
    verbish: set[str] = set()
    if language == "en":
        determiners = DETERMINERS["en"] - {"one", "this", "that"}
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


def key_terms(analysis: Analysis, *, source_text: str, title: str | None) -> list[Term]:
    """The note's key terms, best first; with a prompt, the terms about its topics first.

    yake reads the best-ranked sentences and the headings (all sentences of a short text);
    the author's marks are looked for in the whole ``source_text`` and the headings, ``title``
    included.
    """
    a = analysis
    marked = marked_terms(
        source_text,
        [a.texts[i] for i in range(len(a.texts)) if a.sentences[i].kind != "heading"],
        [*([title] if title else []), *(s.text for s in a.sentences if s.kind == "heading")],
        a.language,
    )
    terms = extract_terms(
        _yake_input(a), a.language, stop=a.stop, limit=60, context_text="\n".join(a.texts), marked=marked
    )
    if a.focus:
        # prompt topics first; sort is stable, so yake's order holds within each group
        terms.sort(key=lambda t: not _about(t.text, a.focus))
    return terms


def _yake_input(a: Analysis) -> str:
    yake_ids = sorted(set(a.ranking.order[:300]) | {s.index for s in a.sentences if s.kind == "heading"})
    chosen = yake_ids if len(a.candidates) > 5 else range(len(a.texts))
    # yake only splits phrases at sentence punctuation: end headings and list items with a period
    return "\n".join(
        t if t.rstrip()[-1:] in ".!?;:" else f"{t.rstrip()}." for t in (a.texts[i] for i in chosen)
    )


def _about(term: str, focus: frozenset[str]) -> bool:
    """A word of ``term`` has the stem of a prompt topic, or starts with one."""
    words = content_words(term, frozenset())
    return bool(keyword_stems(words) & focus or any(w.startswith(tuple(focus)) for w in words))


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
    boosts = marked or {}
    context = _context(re.sub(r"[ \t]+", " ", context_text or text), language, stop)
    ranked = _ranked_phrases(_yake_phrases(text, language, limit), boosts, context.lowered)
    terms: list[Term] = []
    kept: list[tuple[list[str], bool]] = []
    for phrase, score, is_marked in ranked:
        words = phrase.casefold().split()
        if not _term_like(phrase, words, context, is_marked=is_marked, boost=boosts.get(phrase, 0.0)):
            continue
        clashes = _clashes(words, is_marked, kept)
        if clashes is None:
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


def _yake_phrases(text: str, language: str, limit: int) -> list[tuple[str, float]]:
    """yake's keyphrases of (the start of) ``text``, best first."""
    import yake

    if len(text) > _YAKE_INPUT_CHARS:
        text = text[:_YAKE_INPUT_CHARS]
    extractor = yake.KeywordExtractor(lan=yake_language(language), n=3, dedup_lim=0.8, top=limit * 2)
    raw: list[tuple[str, float]] = extractor.extract_keywords(text)
    return raw


def _ranked_phrases(
    raw: Sequence[tuple[str, float]], marked: Mapping[str, float], lowered: str
) -> list[tuple[str, float, bool]]:
    """(phrase, score, marked by the author) best first: yake's rank, raised by the author's boost."""
    scored: dict[str, tuple[str, float, bool]] = {}
    for rank, (phrase, _score) in enumerate(raw):
        phrase = " ".join(phrase.split()).strip(" -–—'\"“”‘’.,;:()[]")  # noqa: RUF001
        key = term_key(phrase)
        if key not in scored:
            scored[key] = (phrase, 1.0 - rank / max(1, len(raw)), False)
    for phrase, boost in marked.items():
        key = term_key(phrase)
        found = scored.get(key)
        # lecture notes define dozens of things; the ones the text keeps using matter most
        uses = min(30, lowered.count(phrase.casefold()))
        base = (found[1] if found else 0.0) + 0.2 * math.log1p(uses)
        scored[key] = (found[0] if found else phrase, base + boost, boost > 0 or bool(found and found[2]))
    return sorted(scored.values(), key=lambda item: -item[1])


def _term_like(phrase: str, words: list[str], context: _Context, *, is_marked: bool, boost: float) -> bool:
    """Shaped like a term: short, mostly letters, no caption word, a noun phrase, not a PDF header."""
    if not (3 <= len(phrase) <= 60) or not words or len(words) > (4 if is_marked else 3):
        return False
    if not any(ch.isalpha() for ch in phrase) or sum(ch.isalpha() for ch in phrase) < 0.6 * len(phrase):
        return False
    if any(w in _JUNK for w in words) or (len(words) == 1 and words[0] in _VAGUE):
        return False
    if not _shape_ok(words, context, marked=is_marked):
        return False
    if len(words) == 1 and len(phrase) < 4 and not phrase.isupper() and boost < BOOST_LIST:
        # "pop" from a key-term list is a term; "Def" from "… das heißt Def." is not
        return False
    shouting = [w for w in phrase.split() if w.isupper() and len(w) >= 5]
    # running page headers of PDFs ("TOPOLOGISCHE RÄUME")
    return not (len(shouting) >= 2 or any(len(w) >= 8 for w in shouting))


def _clashes(words: list[str], is_marked: bool, kept: list[tuple[list[str], bool]]) -> list[int] | None:
    """Indices of the kept terms this phrase replaces, or None when a kept term stands for it.

    Two terms the author named may nest ("linked list", "doubly linked list"); otherwise the
    better of two overlapping phrases (the one kept first) stands for both, except that a phrase
    beats a lone modifier of it ("priority queue" over "priority").
    """
    clashes = [k for k, (other, _other_marked) in enumerate(kept) if _overlaps(words, other)]
    clashes = [k for k in clashes if not (is_marked and kept[k][1])]
    if any(not (len(words) > 1 and not kept[k][1] and plain_word(kept[k][0][0])) for k in clashes):
        return None
    return clashes
