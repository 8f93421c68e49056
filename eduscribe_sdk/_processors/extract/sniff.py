"""Decide what a file is from its bytes; the name only separates Markdown from plain text.

Users rename files, download them without extensions or save HTML as ``.txt``; the content
is what the extractor has to cope with, so it decides.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from ._common import DocumentKind, document_error

__all__ = ["HTML_START", "KNOWN_BINARIES", "decode_text", "ensure_text", "sniff_kind"]

_HEAD_BYTES = 8192
_MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mkdn"}
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<!doctype\s+html|<html[\s>]", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(rb"<(head|body|p|div|h[1-6]|title|meta)[\s>/]", re.IGNORECASE)

#: Magic numbers of formats people commonly try, so the error can say what the file is.
KNOWN_BINARIES: tuple[tuple[bytes, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Microsoft Office file (.doc/.ppt/.xls); save it as DOCX or PPTX",
    ),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "an RTF document; save it as DOCX"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _zip_kind(path: Path, head: bytes) -> DocumentKind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        # A truncated OOXML file still shows its first member names in the local headers.
        guess = "DOCX" if b"word/" in head else "PPTX" if b"ppt/" in head else "ZIP"
        raise document_error(
            path, f"the {guess} file is damaged or truncated (not a readable ZIP archive)"
        ) from exc
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        what = "an Excel workbook (XLSX)"
    elif "mimetype" in names or "content.xml" in names:
        what = "an OpenDocument or EPUB file"
    else:
        what = "a ZIP archive"
    raise document_error(path, f"unsupported file type: {what} (expected PDF, DOCX, PPTX, HTML, TXT or MD)")


def sniff_kind(path: Path) -> DocumentKind:
    """The document type from the file's content; raises :class:`PermanentError` if unsupported."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise document_error(path, f"cannot read the file ({exc.strerror or exc})") from exc
    # The PDF spec tolerates junk before the header; readers look in the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path, head)
    text_head = _text_head(head)
    if text_head is None:
        for magic, what in KNOWN_BINARIES:
            if head.startswith(magic):
                raise document_error(path, f"unsupported file type: {what}")
        raise document_error(
            path, "unsupported file type: binary content (expected PDF, DOCX, PPTX, HTML, TXT or MD)"
        )
    suffix = path.suffix.lower()
    lowered = text_head.lower().encode("utf-8", "replace")
    if HTML_START.search(lowered[:4096]) or (suffix in _HTML_SUFFIXES and _HTML_TAG.search(lowered)):
        return "html"
    return "md" if suffix in _MARKDOWN_SUFFIXES else "txt"


def _text_head(head: bytes) -> str | None:
    """The start of the file as text, or None when it does not look like text at all."""
    if not head:
        return ""
    try:
        return decode_text(head, partial=True)
    except UnicodeDecodeError:
        return None


def decode_text(data: bytes, *, partial: bool = False) -> str:
    """Decode a text file: BOM first, then UTF-8, then Windows-1252/Latin-1 for legacy files.

    Raises :class:`UnicodeDecodeError` for content that is not text (NULs, control bytes).
    ``partial`` tolerates a multi-byte character cut off at the end (a file's first block).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], encoding, partial)
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _decode(data, utf16, partial)
    if b"\x00" in data:
        raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), len(data), "NUL byte: binary data")
    try:
        text = _decode(data, "utf-8", partial)
    except UnicodeDecodeError:
        # Not UTF-8: a legacy 8-bit file. cp1252 covers Latin-1's printable range plus curly quotes;
        # its five undefined bytes fall back to Latin-1 so decoding can never fail here.
        text = data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1")
    if _looks_binary(text):
        raise UnicodeDecodeError("utf-8", data, 0, len(data), "control characters: binary data")
    return text


def _decode(data: bytes, encoding: str, partial: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    return decoder.decode(data, final=not partial)


def _cp1252_ok(data: bytes) -> bool:
    return not any(b in data for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM shows NULs in every other byte of ASCII-heavy content."""
    sample = data[:2048]
    if len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    control = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ch == "\x7f")
    # Latin-1 decoding of random bytes yields C1 controls too; real text almost never has them.
    c1 = sum(1 for ch in sample if 0x80 <= ord(ch) < 0xA0)
    return (control + c1) > 0.02 * len(sample)


def ensure_text(path: Path, data: bytes) -> str:
    try:
        return decode_text(data)
    except UnicodeDecodeError as exc:
        raise document_error(path, "unsupported file type: binary content, not text") from exc
