"""``generate_notes``: pick the generator, then assemble the SPEC's ``output_data``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._config import Settings
from .markdown import render_markdown
from .source import NoteSource

__all__ = ["assemble", "builds_on", "generate_notes"]


def builds_on(prior_notes: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``[{id, title}]`` of the notes this one depends on, for the "Builds on" section."""
    out: list[dict[str, str]] = []
    for note in prior_notes:
        ident = str(note.get("id") or "")
        title = str(note.get("title") or ident or "?")
        out.append({"id": ident, "title": title})
    return out


def assemble(
    fields: Mapping[str, Any],
    *,
    generator: str,
    word_count: int,
    generate_quiz: bool,
    prior_notes: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The output dict in the SPEC's field order, with ``markdown`` rendered from the fields."""
    out: dict[str, Any] = {
        "title": fields["title"],
        "summary": fields["summary"],
        "key_points": list(fields["key_points"]),
        "glossary": list(fields["glossary"]),
    }
    if generate_quiz:
        out["quiz"] = list(fields.get("quiz") or [])
    out["language"] = fields["language"]
    out["word_count"] = word_count
    out["generator"] = generator
    if extra:
        out.update(extra)
    if prior_notes:
        out["builds_on"] = builds_on(prior_notes)
    out["markdown"] = render_markdown(out)
    return out


def generate_notes(
    source: NoteSource,
    *,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Notes for ``source``: the LLM generator when an API key is configured, else the offline one.

    ``progress`` receives 0..100 of this step. Errors: :class:`~eduscribe_sdk.errors.PermanentError`
    (nothing to take notes from, the LLM rejected the request) or
    :class:`~eduscribe_sdk.errors.TransientError` (rate limit, timeout, server error).
    """
    if settings.llm_enabled:
        from .llm import generate_llm

        fields = generate_llm(source, settings=settings, progress=progress)
        generator = f"openai:{settings.llm_model}"
    else:
        from .offline import generate_offline

        fields = generate_offline(source, progress=progress)
        generator = "offline"
    out = assemble(
        fields,
        generator=generator,
        word_count=len(source.text.split()),
        generate_quiz=source.generate_quiz,
        prior_notes=source.prior_notes,
    )
    if progress is not None:
        progress(100)
    return out
