"""DOCX and PPTX text as light Markdown: headings, lists, tables, slide titles, speaker notes."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ...errors import DecompressionLimitExceeded
from ._common import ExtractedDocument, Progress, TextBuffer, clean_text, document_error

__all__ = ["MAX_PACKAGE_BYTES", "MAX_PACKAGE_PARTS", "MAX_XML_BYTES", "extract_docx", "extract_pptx"]

#: The XML of a package (its parts ending in .xml or .rels), uncompressed: python-docx and
#: python-pptx parse all of it into lxml trees, about ten times its size in memory. A
#: 500-page thesis has a few MB; a 453 KB zip bomb had hundreds.
MAX_XML_BYTES = 32 * 1024 * 1024
#: Every part uncompressed: both libraries read each part into memory when they open a file.
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_PACKAGE_PARTS = 10_000

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


def _package_errors() -> tuple[type[BaseException], ...]:
    """What python-docx / python-pptx raise on a damaged package (they wrap only some of it)."""
    from docx.opc.exceptions import OpcError
    from pptx.exc import PythonPptxError

    return (
        OpcError,
        PythonPptxError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        SyntaxError,  # lxml's XMLSyntaxError: a part whose XML is cut off or malformed
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        EOFError,
        OSError,
    )


def _cell_text(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _markdown_table(rows: Iterable[list[str]]) -> str:
    """Rows as a Markdown table; every row padded to the widest so columns stay aligned."""
    kept = [cells for cells in rows if any(cells)]
    if not kept:
        return ""
    width = max(len(cells) for cells in kept)
    lines: list[str] = []
    for index, cells in enumerate(kept):
        padded = cells + [""] * (width - len(cells))
        lines.append("| " + " | ".join(padded) + " |")
        if index == 0:
            lines.append("|" + " --- |" * width)
    return "\n".join(lines)


def _check_package(path: Path) -> None:
    """Refuse a package that would expand past the limits, from its zip directory alone.

    zipfile never inflates a member past the size its directory declares, so checking the
    declared sizes bounds what opening the package can allocate.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # damaged: the library's own error names it
    if len(members) > MAX_PACKAGE_PARTS:
        raise DecompressionLimitExceeded(
            f"{path.name}: the package has {len(members):,} parts; the limit is {MAX_PACKAGE_PARTS:,}"
        )
    xml = [m for m in members if m.filename.lower().endswith((".xml", ".rels"))]
    for total, limit, what in (
        (sum(m.file_size for m in xml), MAX_XML_BYTES, "of XML"),
        (sum(m.file_size for m in members), MAX_PACKAGE_BYTES, "in all"),
    ):
        if total > limit:
            parts = xml if what == "of XML" else members
            largest = max(parts, key=lambda m: m.file_size)
            raise DecompressionLimitExceeded(
                f"{path.name}: expands to {total / 1048576:,.0f} MB {what} (largest part "
                f"{largest.filename}, {largest.file_size / 1048576:,.0f} MB); the limit is "
                f"{limit / 1048576:.0f} MB"
            )


# --- DOCX


def extract_docx(path: Path, *, progress: Progress | None = None, max_chars: int) -> ExtractedDocument:
    import docx

    _check_package(path)
    errors = _package_errors()
    try:
        document = docx.Document(str(path))
        blocks = list(document.iter_inner_content())
    except errors as exc:
        raise document_error(path, f"the DOCX file is damaged or truncated ({_describe(exc)})") from exc
    buffer = TextBuffer(max_chars)
    title: str | None = None
    first_heading: str | None = None
    total = max(1, len(blocks))
    if progress:
        progress(0.0)
    list_items: list[str] = []
    try:
        for index, block in enumerate(blocks):
            style = "table"
            if hasattr(block, "rows"):
                text = _docx_table(block)
            else:
                text, style = _docx_paragraph(block)
                if style == "title" and title is None:
                    title = block.text.strip() or None
                elif style == "heading" and first_heading is None:
                    first_heading = block.text.strip() or None
            # Consecutive list items form one block, so the list is not torn apart by blank lines.
            if style == "list":
                list_items.append(text)
            elif text:
                if list_items and not buffer.add("\n".join(list_items)):
                    break
                list_items.clear()
                if not buffer.add(text):
                    break
            if progress and (index % 50 == 49 or index == total - 1):
                progress(100.0 * (index + 1) / total)
        if list_items:
            buffer.add("\n".join(list_items))
        core_title = (document.core_properties.title or "").strip()
    except errors as exc:
        raise document_error(path, f"the DOCX file is damaged ({_describe(exc)})") from exc
    text = clean_text(buffer.text())
    if not text:
        raise document_error(path, "the DOCX document contains no text")
    return ExtractedDocument(
        text=text,
        kind="docx",
        title=core_title or title or first_heading,
        truncated=buffer.truncated,
    )


def _docx_paragraph(paragraph: Any) -> tuple[str, str]:
    """The paragraph as Markdown and its role: "title", "heading", "list" or "text"."""
    text = paragraph.text.strip()
    if not text:
        return "", "text"
    style_name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style_name.lower() == "title":
        return f"# {text}", "title"
    match = _HEADING_STYLE.match(style_name)
    level = int(match.group(1)) if match else _outline_level(paragraph)
    if level is not None:
        # Heading 1 becomes "##" so that the document title can stay the single "#".
        return f"{'#' * min(level + 1, 6)} {text}", "heading"
    p_pr = paragraph._p.pPr
    num_pr = p_pr.numPr if p_pr is not None else None
    if num_pr is not None or style_name.lower().startswith("list"):
        depth = 0
        if num_pr is not None and num_pr.ilvl is not None and num_pr.ilvl.val is not None:
            depth = int(num_pr.ilvl.val)
        marker = "1." if "number" in style_name.lower() else "-"
        return f"{'  ' * depth}{marker} {text}", "list"
    return text, "text"


def _outline_level(paragraph: Any) -> int | None:
    """Custom heading styles carry their level as ``w:outlineLvl`` (0-based) instead of a name."""
    p_pr = paragraph._p.pPr
    for element in (p_pr, getattr(paragraph.style, "element", None)):
        if element is None:
            continue
        found = element.xpath("./w:outlineLvl/@w:val | ./w:pPr/w:outlineLvl/@w:val")
        if found and str(found[0]).isdigit() and int(found[0]) < 9:
            return int(found[0]) + 1
    return None


def _docx_table(table: Any) -> str:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous: Any = None
        for cell in row.cells:
            # A horizontally merged cell is returned once per grid column; print it once.
            if cell._tc is previous:
                cells.append("")
                continue
            previous = cell._tc
            parts: list[str] = []
            for inner in cell.iter_inner_content():
                # A table nested in a cell is flattened into the cell's text.
                parts.append(_docx_table(inner).replace("\n", " ") if hasattr(inner, "rows") else inner.text)
            cells.append(_cell_text(" ".join(parts)))
        rows.append(cells)
    return _markdown_table(rows)


# --- PPTX


def extract_pptx(path: Path, *, progress: Progress | None = None, max_chars: int) -> ExtractedDocument:
    import pptx

    _check_package(path)
    errors = _package_errors()
    try:
        presentation = pptx.Presentation(str(path))
        slides = list(presentation.slides)
    except errors as exc:
        raise document_error(path, f"the PPTX file is damaged or truncated ({_describe(exc)})") from exc
    buffer = TextBuffer(max_chars)
    first_title: str | None = None
    total = len(slides)
    if progress:
        progress(0.0)
    try:
        for number, slide in enumerate(slides, start=1):
            text, slide_title = _pptx_slide(slide, number)
            first_title = first_title or slide_title
            more = buffer.add(text)
            if progress:
                progress(100.0 * number / total)
            if not more:
                break
        core_title = (presentation.core_properties.title or "").strip()
    except errors as exc:
        raise document_error(path, f"the PPTX file is damaged ({_describe(exc)})") from exc
    text = clean_text(buffer.text())
    # Slide headings alone ("## Slide 3") are not content.
    if not re.sub(r"(?m)^## Slide \d+\s*$", "", text).strip():
        raise document_error(path, "the PPTX presentation contains no text")
    return ExtractedDocument(
        text=text,
        kind="pptx",
        pages=total,
        title=core_title or first_title,
        truncated=buffer.truncated,
    )


def _pptx_slide(slide: Any, number: int) -> tuple[str, str | None]:
    title_shape = slide.shapes.title
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    lines = [f"## Slide {number}: {title}" if title else f"## Slide {number}"]
    title_id = title_shape.shape_id if title_shape is not None else None
    for shape in _reading_order(slide.shapes):
        if shape.shape_id == title_id:
            continue
        lines.extend(_shape_lines(shape))
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = frame.text.strip() if frame is not None else ""
        if notes:
            lines.append("")
            lines.append("Speaker notes: " + notes)
    return "\n".join(lines), title or None


def _reading_order(shapes: Iterable[Any]) -> list[Any]:
    """Top-to-bottom, then left-to-right: the z-order in the file says nothing about reading."""
    return sorted(shapes, key=lambda s: ((s.top or 0) // 10_000, s.left or 0))


def _shape_lines(shape: Any) -> Iterator[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        for inner in _reading_order(shape.shapes):
            yield from _shape_lines(inner)
        return
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [
            ["" if cell.is_spanned else _cell_text(cell.text) for cell in row.cells]
            for row in shape.table.rows
        ]
        table = _markdown_table(rows)
        if table:
            yield ""
            yield table
            yield ""
        return
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        paragraphs = [(p.level, " ".join(p.text.split())) for p in shape.text_frame.paragraphs]
        paragraphs = [(level, text) for level, text in paragraphs if text]
        # Body placeholders hold bullet lists; free text boxes are prose.
        bulleted = shape.is_placeholder or len(paragraphs) > 1
        for level, text in paragraphs:
            yield f"{'  ' * level}- {text}" if bulleted else text


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {detail}" if detail else name
