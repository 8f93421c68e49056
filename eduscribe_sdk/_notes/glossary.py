"""The glossary: which key terms make it, and the source sentence that defines each.

A term makes the glossary only with a decent definition (scored in ``definitions.py``): a
sentence that merely mentions a term explains nothing to a student who needs it explained. Each
sentence defines one term at most, entries follow the order of the lecture, and terms a prior
note (a dependency) already defines point there ("See “Lecture 1”.") instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from .analysis import Analysis, noise
from .definitions import definition_score, glossary_line, names_previous
from .language import heading
from .terms import Term, plain_word, term_key, term_pattern
from .words import is_term_list

__all__ = ["define_terms", "is_reference", "make_glossary"]

#: a term needs a definition at least this good: the author's terms a sentence they are the
#: subject of; other phrases a real definition ("X is …", "… called X")
_DECENT_MARKED = 2.0
_DECENT = 3.0
# A plain word ("restriction") needs "The X is a …" itself: "The restriction is the point" is no entry.
_DECENT_PLAIN_WORD = 5.0
#: with fewer entries than this, the glossary also takes subject sentences for unmarked phrases
_FEW_ENTRIES = 3


def make_glossary(
    analysis: Analysis,
    terms: Sequence[Term],
    *,
    source_text: str,
    prior_notes: Sequence[Mapping[str, Any]],
    count: int,
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """The note's glossary (up to ``count`` entries, more if the author marked more terms) and
    each entry's defining sentence.

    Definitions come from prose sentences without formulas; among equally good ones, the
    better-ranked sentence wins.
    """
    a = analysis
    top_score = max(a.ranking.scores.values(), default=1.0) or 1.0
    return define_terms(
        terms,
        a.texts,
        eligible=lambda i: (
            a.sentences[i].kind not in ("heading", "table")
            and len(a.texts[i].split()) >= 4
            and noise(a.texts[i]) <= 4
            and not is_term_list(a.texts[i])
        ),
        rank_bonus=lambda i: 2.0 * a.ranking.scores.get(i, 0.0) / top_score - 0.75 * noise(a.texts[i]),
        language=a.language,
        source_text=source_text,
        # the author's own key terms all deserve an entry when they can be defined
        count=max(count, min(12, sum(t.marked for t in terms))),
        prior_terms=_prior_terms(prior_notes),
        clean=a.clean,
    )


def _prior_terms(prior_notes: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """term key → title of the first prior note that defines the term."""
    prior_terms: dict[str, str] = {}
    for note in prior_notes:
        for entry in note.get("glossary") or ():
            # a prior note that itself only points further back defines nothing to point to
            if isinstance(entry, Mapping) and entry.get("term") and not is_reference(entry.get("definition")):
                prior_terms.setdefault(
                    term_key(str(entry["term"])), str(note.get("title") or note.get("id") or "?")
                )
    return prior_terms


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
    terms = _candidates(terms, source_text, count)
    found, mentions = _score_mentions(terms, sentences, eligible=eligible, language=language)
    picker = _Picker(terms, sentences, found, mentions, rank_bonus, language, count, prior_terms, clean)
    picker.assign(lambda t: _decent(t, language))
    if len(picker.entries) < min(count, _FEW_ENTRIES):
        # a text with few real definitions (an encyclopedia article, a transcript): named
        # concepts may also be explained by a sentence they are the subject of
        picker.assign(lambda t: _DECENT_MARKED if not plain_word(t.text) else _DECENT_PLAIN_WORD)
    picker.entries.sort(key=lambda entry: entry[0])
    return [entry for _, entry in picker.entries], picker.used_sentences


def _candidates(terms: Sequence[Term], source_text: str, count: int) -> list[Term]:
    """The terms worth defining, specific ones first, each found in the source as written."""
    haystack = " ".join(source_text.split())
    chosen = list(terms)
    # common single words only fill the glossary up when there are too few specific terms
    specific = [t for t in terms if _specific(t.text) or t.marked]
    if len(specific) >= min(count, 3):
        general = [
            t
            for t in terms
            if not (_specific(t.text) or t.marked) and len(t.text) >= 8 and not t.text.endswith("ly")
        ]
        chosen = specific + general
    return [t for t in chosen if term_pattern(t.text).search(haystack)]


def _specific(term: str) -> bool:
    """Multi-word, capitalised, acronym-like or long: more telling than a common word like "water"."""
    return (
        " " in term
        or any(ch.isupper() or ch.isdigit() or ch == "-" for ch in term[1:])
        or (term[:1].isupper() and not term[1:].islower())
        or len(term) >= 10
    )


def _decent(term: Term, language: str) -> float:
    """The definition score ``term`` needs to make the glossary."""
    if term.marked:
        return _DECENT_MARKED
    # German capitalises every noun: "Situation" is as everyday as "situation"
    word = term.text.lower() if language == "de" and term.text[1:].islower() else term.text
    return _DECENT_PLAIN_WORD if plain_word(word) else _DECENT


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


#: (term index, sentence index) → (how well the sentence defines the term, the term's form there)
_Found: TypeAlias = dict[tuple[int, int], tuple[float, str]]


def _score_mentions(
    terms: Sequence[Term], sentences: Sequence[str], *, eligible: Callable[[int], bool], language: str
) -> tuple[_Found, dict[int, list[int]]]:
    """Every eligible sentence mentioning a term, scored as its definition; and per term, the
    sentences that mention it, in text order."""
    lowered = [s.casefold() for s in sentences]
    found: _Found = {}
    mentions: dict[int, list[int]] = {}
    for t_index, term in enumerate(terms):
        forms = _variants(term.text, language)
        needles = [f.casefold() for f in forms]
        for idx, low in enumerate(lowered):
            if not any(n in low for n in needles) or not eligible(idx):
                continue
            score, form = max(
                ((definition_score(f, sentences[idx], language), f) for f in forms), key=lambda sf: sf[0]
            )
            if score == float("-inf"):
                continue
            if _named_after_previous(form, sentences, idx, eligible=eligible, language=language):
                score = max(score, 4.5)
            found[(t_index, idx)] = (score, form)
            mentions.setdefault(t_index, []).append(idx)
    return found, mentions


def _named_after_previous(
    form: str, sentences: Sequence[str], idx: int, *, eligible: Callable[[int], bool], language: str
) -> bool:
    """ "This argument is called amortised analysis.": the sentence names the term after "called",
    and the (eligible) sentence before says what it is."""
    if idx == 0 or not eligible(idx - 1):
        return False
    named = names_previous(sentences[idx], language)
    return bool(named and term_pattern(form).search(sentences[idx], named.end()))


class _Picker:
    """Glossary entries picked term by term; a sentence, once used, defines no other term."""

    def __init__(
        self,
        terms: Sequence[Term],
        sentences: Sequence[str],
        found: _Found,
        mentions: dict[int, list[int]],
        rank_bonus: Callable[[int], float],
        language: str,
        count: int,
        prior_terms: Mapping[str, str],
        clean: Callable[[str], str],
    ) -> None:
        self.terms = terms
        self.sentences = sentences
        self.found = found
        self.mentions = mentions
        self.rank_bonus = rank_bonus
        self.language = language
        self.count = count
        self.prior_terms = prior_terms
        self.clean = clean
        #: (sentence index, entry): sorted by sentence at the end, to follow the lecture
        self.entries: list[tuple[int, dict[str, str]]] = []
        self.used_sentences: dict[str, int] = {}
        self.used: set[int] = set()
        self.done: set[int] = set()

    def assign(self, decent: Callable[[Term], float]) -> None:
        """Entries for the terms still undefined whose definition is at least ``decent``."""
        best_here = self._best_term_per_sentence(decent)
        for t_index, term in enumerate(self.terms):
            if len(self.entries) >= self.count:
                return
            seen = self.mentions.get(t_index)
            if t_index in self.done or not seen:
                continue
            if self._refer_to_prior(t_index, term, seen, decent):
                continue
            options = [
                (self.found[(t_index, idx)][0] + self.rank_bonus(idx), idx)
                for idx in seen
                if idx not in self.used and idx in best_here and -best_here[idx][2] == t_index
            ]
            if not options:
                continue  # no sentence says what it is: a bad definition is worse than none
            _score, idx = max(options, key=lambda o: (o[0], -o[1]))
            self._define(t_index, idx)

    def _best_term_per_sentence(self, decent: Callable[[Term], float]) -> dict[int, tuple[float, int, int]]:
        """The term each sentence defines best, among those it defines well enough, as
        sentence → (score, term length, -term index)."""
        best_here: dict[int, tuple[float, int, int]] = {}
        for (t_index, idx), (score, _form) in self.found.items():
            if t_index in self.done or score < decent(self.terms[t_index]):
                continue
            rank = (score, len(self.terms[t_index].text), -t_index)
            if idx not in best_here or rank > best_here[idx]:
                best_here[idx] = rank
        return best_here

    def _refer_to_prior(
        self, t_index: int, term: Term, seen: list[int], decent: Callable[[Term], float]
    ) -> bool:
        """A prior note defines the term: the entry points there ("See “Lecture 1”.")."""
        prior_title = self.prior_terms.get(term.key)
        if prior_title is None or not (
            term.marked or any(self.found[(t_index, idx)][0] >= decent(term) for idx in seen)
        ):
            return False
        see = heading(self.language, "see").format(title=prior_title)
        self.entries.append((seen[0], {"term": term.text, "definition": see[:1].upper() + see[1:] + "."}))
        self.done.add(t_index)
        return True

    def _define(self, t_index: int, idx: int) -> None:
        form = self.found[(t_index, idx)][1]
        self.used.add(idx)
        self.done.add(t_index)
        self.used_sentences[form] = idx
        self.entries.append((idx, {"term": form, "definition": self._definition(form, idx)}))

    def _definition(self, form: str, idx: int) -> str:
        """The definition as shown: after a glossary line's colon, with the sentence before for
        "This is called X.", else the whole sentence."""
        sentence = self.sentences[idx]
        if (line := glossary_line(form, sentence, self.language)) is not None:
            rest = self.clean(sentence[line.end() :])
            return rest[:1].upper() + rest[1:]
        if idx > 0 and names_previous(sentence, self.language):
            return self.clean(f"{self.sentences[idx - 1]} {sentence}")
        return self.clean(sentence)


def is_reference(definition: object) -> bool:
    """A glossary definition that only points to another note ("See “Lecture 1”.")."""
    text = str(definition or "").strip().casefold()
    return any(
        text.startswith(heading(code, "see").split("{")[0].strip().casefold())
        for code in ("en", "de", "fr", "es")
    )
