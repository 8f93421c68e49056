"""``course_summary``: one course-level note merged from the notes of the job's dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._notes import merge_course_notes
from ..errors import PermanentError
from .base import JobContext

__all__ = ["process_summary"]


def process_summary(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The dependencies' notes (``ctx.dependencies``) merged; output adds ``sources: [{id, title}]``."""
    if not ctx.dependencies:
        raise PermanentError("a course summary needs at least one dependency")
    options: Mapping[str, Any] = input_data.get("options") or {}
    ctx.progress(0, "merging notes")
    output = merge_course_notes(
        list(ctx.dependencies),
        title=ctx.title,
        language=options.get("language"),
        generate_quiz=bool(options.get("generateQuiz", False)),
        prompt=options.get("prompt"),
        settings=ctx.settings,
    )
    ctx.progress(100, "done")
    return output
