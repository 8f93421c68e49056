"""Rendering a note (an ``output_data`` dict) as Markdown.

Every field comes from user material or a model, so text is flattened to one line and ``<``
is escaped: a note must not inject HTML into the notebook or page that shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .language import heading

__all__ = ["render_markdown"]

# A transcript can be hours long; the section groups segments into paragraphs of about this span.
_TRANSCRIPT_PARAGRAPH_S = 60.0
_TRANSCRIPT_MAX_CHARS = 200_000


def _inline(value: Any) -> str:
    text = " ".join(str(value).split())
    text = text.replace("<", "&lt;")
    if text[:1] in "#>" or text[:2] in ("- ", "* ", "+ "):
        text = "\\" + text
    return text


def _clock(seconds: Any) -> str:
    try:
        total = max(0, int(float(seconds)))
    except (TypeError, ValueError):
        return "--:--"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _transcript(segments: list[Mapping[str, Any]], language: str | None) -> list[str]:
    paragraphs: list[tuple[Any, list[str]]] = []
    for seg in segments:
        text = _inline(seg.get("text", ""))
        if not text:
            continue
        start = seg.get("start", 0)
        try:
            fresh = not paragraphs or float(start) - float(paragraphs[-1][0]) >= _TRANSCRIPT_PARAGRAPH_S
        except (TypeError, ValueError):
            fresh = not paragraphs
        if fresh:
            paragraphs.append((start, [text]))
        else:
            paragraphs[-1][1].append(text)
    count = heading(language, "segments").format(count=len(segments))
    lines = ["<details>", f"<summary>{heading(language, 'transcript')} ({count})</summary>", ""]
    used = 0
    for start, texts in paragraphs:
        paragraph = f"**[{_clock(start)}]** " + " ".join(texts)
        used += len(paragraph)
        if used > _TRANSCRIPT_MAX_CHARS:
            lines += ["…", ""]
            break
        lines += [paragraph, ""]
    lines.append("</details>")
    return lines


def render_markdown(output: Mapping[str, Any]) -> str:
    """The whole note as Markdown, with headings in the note's language (English as fallback).

    Sections: title, summary, key points, glossary, quiz (answers in collapsed blocks), sources
    (course summaries), "builds on" (prior notes), a collapsed transcript (media), and a footer.
    """
    lang = output.get("language")
    lines: list[str] = [f"# {_inline(output.get('title') or 'Notes')}", ""]
    if output.get("summary"):
        lines += [f"## {heading(lang, 'summary')}", "", _inline(output["summary"]), ""]
    points = [p for p in output.get("key_points") or () if str(p).strip()]
    if points:
        lines += [f"## {heading(lang, 'key_points')}", ""]
        lines += [f"- {_inline(p)}" for p in points]
        lines.append("")
    glossary = [g for g in output.get("glossary") or () if isinstance(g, Mapping) and g.get("term")]
    if glossary:
        lines += [f"## {heading(lang, 'glossary')}", ""]
        lines += [f"- **{_inline(g['term'])}**: {_inline(g.get('definition', ''))}" for g in glossary]
        lines.append("")
    quiz = [q for q in output.get("quiz") or () if isinstance(q, Mapping) and q.get("question")]
    if quiz:
        lines += [f"## {heading(lang, 'quiz')}", ""]
        for n, q in enumerate(quiz, 1):
            lines.append(f"{n}. {_inline(q['question'])}")
            choices = [str(c) for c in q.get("choices") or ()]
            answer = str(q.get("answer", ""))
            letter = ""
            for k, choice in enumerate(choices):
                label = chr(ord("A") + k) if k < 26 else str(k + 1)
                lines.append(f"   - {label}) {_inline(choice)}")
                if choice == answer and not letter:
                    letter = f"{label}) "
            lines.append(
                f"   <details><summary>{heading(lang, 'answer')}</summary>{letter}{_inline(answer)}</details>"
            )
            lines.append("")
    sources = [s for s in output.get("sources") or () if isinstance(s, Mapping)]
    if sources:
        lines += [f"## {heading(lang, 'sources')}", ""]
        lines += [f"- {_inline(s.get('title') or s.get('id') or '')}" for s in sources]
        lines.append("")
    builds_on = [b for b in output.get("builds_on") or () if isinstance(b, Mapping)]
    if builds_on:
        lines += [f"## {heading(lang, 'builds_on')}", ""]
        lines += [f"- {_inline(b.get('title') or b.get('id') or '')}" for b in builds_on]
        lines.append("")
    transcript = [t for t in output.get("transcript") or () if isinstance(t, Mapping)]
    if transcript:
        lines += [f"## {heading(lang, 'transcript')}", "", *_transcript(transcript, lang), ""]
    if output.get("generator"):
        footer = heading(lang, "generated").format(
            generator=output["generator"],
            language=output.get("language") or "?",
            words=f"{int(output.get('word_count') or 0):,}",
        )
        lines += ["---", "", f"*{_inline(footer)}*", ""]
    return "\n".join(lines).rstrip() + "\n"
