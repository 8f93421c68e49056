"""``text_notes``: notes from text the user pasted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._notes import NoteSource, generate_notes
from .base import JobContext

__all__ = ["process_text"]


def process_text(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``input_data`` is already normalised: ``{"content": str, "options": {...}}``."""
    options: Mapping[str, Any] = input_data.get("options") or {}
    ctx.progress(0, "taking notes")
    source = NoteSource(
        kind="text",
        text=str(input_data["content"]),
        title=ctx.title,
        language=options.get("language"),
        generate_quiz=bool(options.get("generateQuiz", False)),
        prompt=options.get("prompt"),
        prior_notes=tuple(ctx.dependencies),
    )
    # ctx.progress raises JobCancelled once the job is cancelled; it propagates out of the generator
    output = generate_notes(source, settings=ctx.settings, progress=lambda p: ctx.progress(p))
    ctx.progress(100, "done")
    return output
