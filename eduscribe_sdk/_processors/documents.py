"""``file_notes``: notes from a PDF, DOCX, PPTX, HTML, TXT or Markdown file.

Progress: 0-70 % while the text is extracted (by page or slide), 70-100 % while the notes
are generated. Every failure is a :class:`~eduscribe_sdk.errors.PermanentError` naming the
file and the reason: a broken or encrypted file does not get better by retrying.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._blobs import local_copy
from .base import JobContext, LocalContext
from .extract import ExtractedDocument, extract_document

__all__ = ["EXTRACTION_SHARE", "extract_for_job", "process_file"]

#: Share of the job's progress bar spent on extraction; note generation gets the rest.
EXTRACTION_SHARE = 70.0


def extract_for_job(input_data: Mapping[str, Any], ctx: JobContext) -> ExtractedDocument:
    """Extract the document of a normalised ``file_notes`` input, reporting to ``ctx``.

    The bytes come from the blob store (a private copy, see :func:`local_copy`), never from
    a path a client named.
    """
    document, _ = _extract(input_data, ctx)
    return document


def _extract(input_data: Mapping[str, Any], ctx: JobContext) -> tuple[ExtractedDocument, str]:
    options: Mapping[str, Any] = input_data.get("options") or {}
    password = options.get("password")
    language = options.get("language")
    with local_copy(input_data, ctx.settings, allow_path=isinstance(ctx, LocalContext)) as (path, filename):
        document = extract_document(
            path,
            password=password if isinstance(password, str) else None,
            language=language if isinstance(language, str) else None,
            progress=lambda percent: ctx.progress(percent * EXTRACTION_SHARE / 100.0),
            max_bytes=ctx.settings.max_file_bytes,
        )
    return document, filename


def process_file(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    from .._notes import NoteSource, generate_notes

    document, filename = _extract(input_data, ctx)
    options: Mapping[str, Any] = input_data.get("options") or {}
    source = NoteSource(
        kind="document",
        text=document.text,
        title=ctx.title or document.title or Path(filename).stem,
        language=options.get("language"),
        generate_quiz=bool(options.get("generateQuiz", False)),
        prompt=options.get("prompt"),
        prior_notes=ctx.dependencies,
    )
    rest = 100.0 - EXTRACTION_SHARE
    notes: dict[str, Any] = generate_notes(
        source,
        settings=ctx.settings,
        progress=lambda percent: ctx.progress(EXTRACTION_SHARE + percent * rest / 100.0),
    )
    output = dict(notes)
    output["source"] = {**document.source_metadata(), "file": filename}
    return output
