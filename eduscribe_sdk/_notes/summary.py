"""The summary and key points: the best-ranked sentences that stand on their own.

The summary keeps source order and prefers complete prose sentences; key points are further
distinct top sentences. Neither uses a sentence that opens with a back-reference ("It keeps …")
unless the sentence it leans on comes right before it, and both drop citations and lead-in
connectives ("However, "). A text too short for a sentence graph to say anything is summarised
by its lead.
"""

from __future__ import annotations

from .analysis import Analysis
from .sentences import clean_sentence

__all__ = ["summarize"]

#: With this many candidate sentences or fewer, the lead is the summary.
_FEW = 6


def summarize(analysis: Analysis, *, sentences: int, key_points: int) -> tuple[str, list[str]]:
    """(summary of up to ``sentences`` sentences, up to ``key_points`` key points)."""
    a = analysis
    standalone = [i for i in a.ranking.order if not a.leans_back(i)]
    summary_ids = _summary_ids(a, standalone, sentences)
    summary = " ".join(clean_sentence(a.texts[i], a.language, trim_lead=True) for i in summary_ids)
    if not summary:
        summary = clean_sentence(" ".join(a.texts[:3]), a.language)
    point_ids = _key_point_ids(a, standalone, summary_ids, key_points)
    points = list(dict.fromkeys(clean_sentence(a.texts[i], a.language, trim_lead=True) for i in point_ids))
    return summary, points


def _dangling(a: Analysis, i: int) -> bool:
    """Leans on the sentence before ("It keeps …"), and that sentence is not a candidate of the
    same paragraph, so the reader would not have it."""
    return a.leans_back(i) and not (
        i - 1 in a.candidate_set and a.sentences[i - 1].unit == a.sentences[i].unit
    )


def _summary_ids(a: Analysis, standalone: list[int], count: int) -> list[int]:
    # summary sentences: complete prose sentences (ending in a stop) when there are any
    prose = [i for i in standalone if a.sentences[i].kind == "para" and a.texts[i].rstrip()[-1:] in ".!?"]
    if len(a.candidates) <= _FEW:
        # too few sentences for a graph to say anything: the lead is the best summary
        lead = prose or [i for i in a.candidates if not _dangling(a, i)] or a.candidates
        return sorted(lead)[:count]
    return sorted(a.ranking.pick(count, among=prose or standalone or a.ranking.order))


def _key_point_ids(a: Analysis, standalone: list[int], summary_ids: list[int], count: int) -> list[int]:
    if len(a.candidates) <= _FEW:
        return sorted(i for i in a.candidates if not _dangling(a, i)) or a.candidates[:1]
    remaining = [i for i in a.ranking.order if i not in summary_ids]
    # key points repeat summary sentences only when nothing else is left
    exclude = set(summary_ids) if len(remaining) >= 3 else set()
    return sorted(a.ranking.pick(count, exclude=exclude, among=standalone))
