"""The offline note generator: extractive, deterministic, no network.

* Sentences: pysbd in the note's language (English rules for languages pysbd lacks). Sentences
  over ~38 words (~25 in transcripts, whose speech-to-text output often has commas only) are cut
  at clause boundaries; in text with hardly any full stops line breaks end sentences too.
* Summary and key points: TextRank (TF-IDF cosine graph, PageRank) over the best candidate
  sentences; the summary keeps source order, key points are further distinct top sentences with
  citations and lead-in connectives trimmed. Lists of terms ("Key terms: …") are never used, nor
  sentences opening with a pronoun that points back ("It keeps …") unless they open the text.
* Glossary: yake keyphrases in the detected language plus the terms the author marked (key-term
  lists, bold, short headings, "X is a …"), noun-phrase-like only (no stop word or verb at either
  end); each definition is the source sentence that best defines the term ("X is …", "… called X",
  "X heißt …", "X: …"), a sentence defines one term at most, and a term without a decent
  definition is left out.
* Quiz: cloze questions blanking glossary terms in source sentences; distractors are other
  glossary terms, then other key terms, of a similar kind.
* A custom ``prompt`` is honoured by its content words: sentences mentioning them get a larger
  share of PageRank's random jumps, and glossary terms containing them come first. Instruction
  words ("focus on", "explain", "students") are ignored.
* Prior notes (dependencies): terms they already define point to that note instead of repeating.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import PermanentError
from .author_terms import marked_terms
from .clauses import split_clauses
from .glossary import define_terms, is_reference
from .language import detect_language, normalize_language
from .quiz import build_quiz
from .ranking import keyword_stems, prompt_keywords, rank_sentences
from .sentences import Sentence, split_sentences
from .source import NoteSource
from .terms import extract_terms, plain_word, term_key, term_pattern
from .textprep import cap_text, few_stops, prepare_units
from .words import content_words, is_term_list, stopwords

__all__ = ["dangling_start", "generate_offline", "offline_parts"]

#: Text beyond this is sampled (evenly spaced runs), so a 500-page book costs what 20,000 words do.
MAX_ANALYSIS_CHARS = 120_000
#: Longer sentences are cut at clause boundaries; instructors skim notes, and TextRank favours
#: long sentences, which would crowd out everything else.
_LONG_SENTENCE_WORDS = 38
#: Speech-to-text runs clauses together with commas; shorter pieces read better there.
_LOOSE_SENTENCE_WORDS = 25
_FEW = 6
_CITATION = re.compile(
    r"\s*\((?:[^()]*\b(?:19|20)\d{2}[a-z]?\b[^()]*|(?:Fig(?:ure)?s?\.?|Abb\.|Table|Tab\.|see|vgl\.)[^()]*)\)"
    r"|\s*\[\d+(?:\s*[,–-]\s*\d+)*\]",  # noqa: RUF001
    re.IGNORECASE,
)
# Sentences opening with these lean on the previous one ("This shows…"); alone they confuse.
_ANAPHORA = {
    "en": re.compile(r"^(?:this|these|those|that|it|they|such|he|she|its|their|here)\b", re.IGNORECASE),
    "de": re.compile(r"^(?:dies|diese[rsmn]?|es|sie|er|dabei|hier|damit|dadurch)\b", re.IGNORECASE),
    "fr": re.compile(r"^(?:cela|ceci|ce|cette|ces|il|elle|ils|elles)\b", re.IGNORECASE),
    "es": re.compile(r"^(?:esto|este|esta|estos|estas|ello|él|ella|ellos)\b", re.IGNORECASE),
}
_LEADS = {
    "en": "however|moreover|furthermore|in addition|additionally|also|thus|therefore|hence|finally|"
    "in contrast|interestingly|notably|indeed|importantly|in summary|in conclusion|overall|"
    "first|second|third|lastly|for example|for instance|similarly|consequently|together",
    "de": "außerdem|zudem|jedoch|allerdings|daher|somit|also|schließlich|insbesondere|ferner|"
    "zusammenfassend|beispielsweise|dennoch",
    "fr": "cependant|de plus|en outre|ainsi|donc|enfin|par exemple|en effet|toutefois|néanmoins",
    "es": "sin embargo|además|así|por lo tanto|finalmente|por ejemplo|en efecto|no obstante",
}


# "(a) ", "(ii) ", "■ ", ": " left at the start of a sentence by lists and proofs
_ENUMERATOR = re.compile(r"^\s*(?:\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s+|[■□:•]\s*)+")


def _alpha_ratio(text: str) -> float:
    visible = [ch for ch in text if not ch.isspace()]
    return sum(ch.isalpha() for ch in visible) / len(visible) if visible else 0.0


_SYMBOLS = frozenset("=<>→⇒⇔↦∈∉⊆⊂⊇⊃∪∩∅∀∃■□◦≤≥≠±×÷∑∏∫√∞|{}^~∼≅≃∗")  # noqa: RUF001
_LONE_LETTER_OK = frozenset("aAIyoeàé")


def noise(text: str) -> int:
    """Formula symbols and lone variable letters: high in maths and code, which make poor notes."""
    symbols = sum(ch in _SYMBOLS for ch in text) + text.count("->")
    bare = (w.strip(".,;:!?()[]{}") for w in text.split())
    letters = sum(1 for w in bare if len(w) == 1 and w.isalpha() and w not in _LONE_LETTER_OK)
    return symbols + letters


def _digit_share(text: str) -> float:
    """Share of number tokens: high in indexes, tables of contents and reference lists."""
    words = text.split()
    return sum(1 for w in words if any(ch.isdigit() for ch in w)) / len(words) if words else 0.0


def _is_candidate(sentence: Sentence) -> bool:
    words = len(sentence.text.split())
    if sentence.text[:1].islower() or re.search(r"[a-z],[a-z]", sentence.text):
        return False  # a fragment: text glued together by extraction, or a broken sentence
    minimum = 4 if sentence.kind == "item" else 6
    return (
        sentence.kind in ("para", "item")
        and minimum <= words <= 60
        and _alpha_ratio(sentence.text) >= 0.7
        and noise(sentence.text) <= 1
        and not sentence.text.rstrip().endswith(":")
        and ". . ." not in sentence.text
        and _digit_share(sentence.text) <= 0.15
        and "http" not in sentence.text
        and not is_term_list(sentence.text)
    )


def _split_long(sentences: list[Sentence], language: str, *, loose: bool) -> list[Sentence]:
    """Over-long sentences (unpunctuated speech-to-text, run-on prose) cut into readable clauses.

    ``loose``: the text is a transcript or has hardly any full stops, so commas are the only
    boundaries it has and lower-case sentence starts are normal, not signs of a broken fragment.
    """
    limit = _LOOSE_SENTENCE_WORDS if loose else _LONG_SENTENCE_WORDS
    out: list[Sentence] = []
    for s in sentences:
        pieces = (
            [s.text]
            if s.kind in ("heading", "table")
            else split_clauses(s.text, language, limit, loose=loose)
        )
        for k, piece in enumerate(pieces):
            if loose:
                piece = piece[:1].upper() + piece[1:]
            out.append(Sentence(len(out), piece, s.kind, s.unit, s.first_in_unit and k == 0))
    return out


def clean_sentence(text: str, language: str, *, trim_lead: bool = False) -> str:
    """Citations and reference marks removed; optionally a leading connective ("However, ")."""
    text = _CITATION.sub("", text)
    text = _ENUMERATOR.sub("", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    if trim_lead and (leads := _LEADS.get(language)):
        trimmed = re.sub(rf"^(?:{leads}),\s+", "", text, flags=re.IGNORECASE)
        if trimmed != text and len(trimmed.split()) >= 4:
            text = trimmed[:1].upper() + trimmed[1:]
    words = text.split()
    if len(words) > 50:
        text = " ".join(words[:45]).rstrip(",;:") + " …"
    return text


def _counts(n_candidates: int) -> tuple[int, int, int]:
    """How many summary sentences, key points and glossary terms suit a text this long."""
    summary = 1 if n_candidates <= 3 else min(5, max(2, round(n_candidates**0.5 / 2)))
    key_points = min(8, max(1, n_candidates // 3 + 1))
    glossary = min(12, max(3, n_candidates // 8))
    return summary, key_points, glossary


def _title(source: NoteSource, sentences: Sequence[Sentence], fallback: str) -> str:
    if source.title and source.title.strip():
        return source.title.strip()
    for s in sentences[:5]:
        if s.kind == "heading" and 1 <= len(s.text.split()) <= 15:
            return s.text
    if sentences:
        words = sentences[0].text.split()
        return " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return fallback


def dangling_start(text: str, language: str) -> bool:
    """Opens with a word pointing back to a previous sentence ("It keeps …", "Dies zeigt …")."""
    pattern = _ANAPHORA.get(language)
    return bool(pattern and pattern.match(text))


def offline_parts(
    text: str,
    *,
    language: str | None,
    prompt: str | None,
    generate_quiz: bool,
    prior_notes: Sequence[Mapping[str, Any]] = (),
    progress: Callable[[float], None] | None = None,
    kind: str = "text",
    title: str | None = None,
) -> dict[str, Any]:
    """Everything of an offline note except title, markdown and bookkeeping fields."""
    report = progress or (lambda _p: None)
    units = prepare_units(text)
    if not units:
        raise PermanentError("there is no text to take notes from")
    report(5)
    lang = normalize_language(language) or detect_language(" ".join(u.text for u in units[:400]))
    units = cap_text(units, MAX_ANALYSIS_CHARS)
    loose = kind == "transcript" or few_stops(text)
    sentences = _split_long(split_sentences(units, lang), lang, loose=loose)
    report(30)
    stop = stopwords(lang)
    texts = [s.text for s in sentences]
    candidates = [s.index for s in sentences if _is_candidate(s)]
    if not candidates:
        # very short or odd text: any non-heading line will do, then anything at all
        candidates = [s.index for s in sentences if s.kind != "heading"] or [s.index for s in sentences]
    cand_words = [content_words(texts[i], stop) for i in candidates]
    focus = prompt_keywords(prompt, content_words(prompt or "", stop))
    anaphora = _ANAPHORA.get(lang)
    prior = [
        # the opening sentences of a text and of its paragraphs usually state what it is about
        (
            1.0
            + (0.6 if sentences[i].first_in_unit else 0.0)
            + (0.6 if k < 3 else 0.0)
            + (1.0 if k == 0 else 0.0)
        )
        * (0.7 if sentences[i].kind == "item" else 1.0)
        * (0.5 if anaphora and anaphora.match(texts[i]) else 1.0)
        for k, i in enumerate(candidates)
    ]
    # ranked over candidates; renamed back to indices into ``sentences``
    ranking = rank_sentences(cand_words, prior=prior, focus=focus).remap(candidates)
    report(55)
    n_summary, n_points, n_terms = _counts(len(candidates))
    candidate_set = set(candidates)

    def dangling(i: int) -> bool:
        """Opens with a pronoun pointing back ("It keeps …") and the sentence before is not there."""
        return bool(anaphora and i != candidates[0] and anaphora.match(texts[i])) and not (
            i - 1 in candidate_set and sentences[i - 1].unit == sentences[i].unit
        )

    standalone = [
        i for i in ranking.order if not anaphora or i == candidates[0] or not anaphora.match(texts[i])
    ]
    # summary sentences: complete prose sentences (ending in a stop) when there are any
    prose = [i for i in standalone if sentences[i].kind == "para" and texts[i].rstrip()[-1:] in ".!?"]
    if len(candidates) <= _FEW:
        # too few sentences for a graph to say anything: the lead is the best summary
        summary_ids = sorted(prose or [i for i in candidates if not dangling(i)] or candidates)[:n_summary]
    else:
        summary_ids = sorted(ranking.pick(n_summary, among=prose or standalone or ranking.order))
    summary = " ".join(clean_sentence(texts[i], lang, trim_lead=True) for i in summary_ids)
    if not summary:
        summary = clean_sentence(" ".join(texts[:3]), lang)
    remaining = [i for i in ranking.order if i not in summary_ids]
    exclude = set(summary_ids) if len(remaining) >= 3 else set()
    if len(candidates) <= _FEW:
        point_ids = sorted(i for i in candidates if not dangling(i)) or candidates[:1]
    else:
        point_ids = sorted(ranking.pick(n_points, exclude=exclude, among=standalone))
    key_points = list(dict.fromkeys(clean_sentence(texts[i], lang, trim_lead=True) for i in point_ids))
    report(65)

    top_score = max(ranking.scores.values(), default=1.0) or 1.0
    yake_ids = sorted(set(ranking.order[:300]) | {s.index for s in sentences if s.kind == "heading"})
    chosen = yake_ids if len(candidates) > 5 else range(len(texts))
    # yake only splits phrases at sentence punctuation: end headings and list items with a period
    yake_text = "\n".join(
        t if t.rstrip()[-1:] in ".!?;:" else f"{t.rstrip()}." for t in (texts[i] for i in chosen)
    )
    marked = marked_terms(
        text,
        [texts[i] for i in range(len(texts)) if sentences[i].kind != "heading"],
        [*([title] if title else []), *(s.text for s in sentences if s.kind == "heading")],
        lang,
    )
    terms = extract_terms(yake_text, lang, stop=stop, limit=60, context_text="\n".join(texts), marked=marked)
    if focus:
        # prompt topics first; sort is stable, so yake's order holds within each group
        terms.sort(
            key=lambda t: (
                not (
                    keyword_stems(content_words(t.text, frozenset())) & focus
                    or any(w.startswith(tuple(focus)) for w in content_words(t.text, frozenset()))
                )
            )
        )
    prior_terms: dict[str, str] = {}
    for note in prior_notes:
        for entry in note.get("glossary") or ():
            # a prior note that itself only points further back defines nothing to point to
            if isinstance(entry, Mapping) and entry.get("term") and not is_reference(entry.get("definition")):
                prior_terms.setdefault(
                    term_key(str(entry["term"])), str(note.get("title") or note.get("id") or "?")
                )
    glossary, def_sentences = define_terms(
        terms,
        texts,
        eligible=lambda i: (
            sentences[i].kind not in ("heading", "table")
            and len(texts[i].split()) >= 4
            and noise(texts[i]) <= 4
            and not is_term_list(texts[i])
        ),
        rank_bonus=lambda i: 2.0 * ranking.scores.get(i, 0.0) / top_score - 0.75 * noise(texts[i]),
        language=lang,
        source_text=text,
        # the author's own key terms all deserve an entry when they can be defined
        count=max(n_terms, min(12, sum(t.marked for t in terms))),
        prior_terms=prior_terms,
        clean=lambda s: clean_sentence(s, lang),
    )
    report(85)
    result: dict[str, Any] = {
        "summary": summary,
        "key_points": key_points,
        "glossary": glossary,
        "language": lang,
        "_sentences": sentences,
    }
    if generate_quiz:
        glossary_terms = [g["term"] for g in glossary]
        # distractors must be things of the same kind: terms, not stray words ("built", "easy")
        pool = [*glossary_terms, *(t.text for t in terms if t.marked or not plain_word(t.text))]

        def pointing_back(i: int) -> bool:
            # a question stands alone: "This argument is called _____." gives nothing to go on
            return i != candidates[0] and dangling_start(texts[i], lang)

        # every glossary term's defining sentence first, then its other best-ranked sentences
        per_term: list[list[int]] = []
        for term in glossary_terms:
            pattern = term_pattern(term)
            own = [def_sentences[term]] if term in def_sentences else []
            others = [i for i in ranking.order[:200] if pattern.search(texts[i])][:4]
            per_term.append([i for i in dict.fromkeys(own + others) if not pointing_back(i)])
        pairs = [
            (ids[level], term)
            for level in range(max((len(ids) for ids in per_term), default=0))
            for term, ids in zip(glossary_terms, per_term, strict=True)
            if level < len(ids)
        ]
        result["quiz"] = build_quiz(
            pairs,
            texts,
            pool,
            language=lang,
            count=min(5, max(1, len(candidates) // 4)),
            clean=lambda s: clean_sentence(s, lang),
            preferred=glossary_terms,
        )
        if not result["quiz"]:
            # nothing in the text defines its terms (a handout, a slide deck): a quiz was asked
            # for, so blank the key terms themselves, named concepts before everyday words
            fallback = sorted((t.text for t in terms), key=plain_word)
            fallback_pairs = [
                (i, term)
                for i in ranking.order[:100]
                if not pointing_back(i)
                for term in fallback
                if term_pattern(term).search(texts[i])
            ]
            result["quiz"] = build_quiz(
                fallback_pairs,
                texts,
                fallback,
                language=lang,
                count=min(3, max(1, len(candidates) // 4)),
                clean=lambda s: clean_sentence(s, lang),
            )
    report(95)
    return result


def generate_offline(
    source: NoteSource, *, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Note fields for ``source``: title, summary, key_points, glossary, quiz (if asked), language."""
    parts = offline_parts(
        source.text,
        language=source.language,
        prompt=source.prompt,
        generate_quiz=source.generate_quiz,
        prior_notes=source.prior_notes,
        progress=progress,
        kind=source.kind,
        title=source.title,
    )
    sentences: list[Sentence] = parts.pop("_sentences")
    parts["title"] = _title(source, sentences, fallback="Notes")
    return parts
