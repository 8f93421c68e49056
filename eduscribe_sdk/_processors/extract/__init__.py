"""Text extraction for ``file_notes``: PDF, DOCX, PPTX, HTML, TXT and Markdown.

:func:`extract_document` is the single entry point. Every failure is a
:class:`~eduscribe_sdk.errors.PermanentError` whose message starts with the file's name and
says why (the library's exception is kept as ``__cause__``); a
:class:`~eduscribe_sdk.errors.JobCancelled` raised by the progress callback passes through.
Heavy libraries (pypdf, python-docx, python-pptx, BeautifulSoup, Pillow) are imported only
by the extractor that needs them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..._validation import MAX_TEXT_CHARS
from ._common import DocumentKind, ExtractedDocument, Progress, TextBuffer, clean_text, document_error
from .sniff import ensure_text, sniff_kind

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DocumentKind",
    "ExtractedDocument",
    "Progress",
    "extract_document",
    "sniff_kind",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024


def extract_document(
    path: str | os.PathLike[str],
    *,
    password: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> ExtractedDocument:
    """The text of a document, with its type, page/slide count and title.

    ``password`` opens an encrypted PDF; ``language`` (ISO 639-1) picks the OCR language
    for scanned pages; ``progress`` receives 0-100 as pages/slides are read. Text beyond
    ``max_chars`` is dropped (``truncated`` is then set) so a huge file cannot exhaust memory.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
    except FileNotFoundError as exc:
        raise document_error(file, "file not found") from exc
    except OSError as exc:
        raise document_error(file, f"cannot read the file ({exc.strerror or exc})") from exc
    if not file.is_file():
        raise document_error(file, "not a regular file")
    if size == 0:
        raise document_error(file, "the file is empty")
    if size > max_bytes:
        raise document_error(
            file, f"the file is {size / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB"
        )
    kind = sniff_kind(file)
    if kind == "pdf":
        from .pdf import extract_pdf

        return extract_pdf(file, password=password, language=language, progress=progress, max_chars=max_chars)
    if kind == "docx":
        from .office import extract_docx

        return extract_docx(file, progress=progress, max_chars=max_chars)
    if kind == "pptx":
        from .office import extract_pptx

        return extract_pptx(file, progress=progress, max_chars=max_chars)
    data = _read(file)
    if kind == "html":
        from .html import extract_html

        return extract_html(file, data, progress=progress, max_chars=max_chars)
    return _extract_plain(file, data, kind, progress=progress, max_chars=max_chars)


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise document_error(file, f"cannot read the file ({exc.strerror or exc})") from exc


def _extract_plain(
    file: Path, data: bytes, kind: DocumentKind, *, progress: Progress | None, max_chars: int
) -> ExtractedDocument:
    if progress:
        progress(0.0)
    buffer = TextBuffer(max_chars)
    buffer.add(clean_text(ensure_text(file, data)))
    text = buffer.text()
    if progress:
        progress(100.0)
    if not text:
        raise document_error(file, "the file contains no text (only whitespace)")
    return ExtractedDocument(
        text=text, kind=kind, title=_first_heading(text, kind), truncated=buffer.truncated
    )


def _first_heading(text: str, kind: DocumentKind) -> str | None:
    if kind != "md":
        return None
    lines = text.splitlines()[:50]
    # "% Title" opens a Pandoc title block; otherwise the first "# Title" heading.
    if lines and lines[0].startswith("% "):
        return lines[0][2:].strip() or None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip(" #") or None
    return None
