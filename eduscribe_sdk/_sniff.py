"""What a file is, from its first bytes: the media type a service records for an upload.

The extractor (``_processors/extract/sniff.py``) decides again when the job runs; this is the
early answer at the door, so a web service can refuse an image or an archive with a clear
message when it arrives instead of a failed job later. The file name only tells Markdown from
plain text, as in the extractor.
"""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

from ._processors.extract.sniff import HTML_START, KNOWN_BINARIES, decode_text
from .errors import InvalidInputError

__all__ = ["sniff_content_type"]

_HEAD_BYTES = 8192
_MARKDOWN = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
_EXPECTED = "expected PDF, DOCX, PPTX, HTML, TXT, MD, or an audio or video file"

#: (offset, magic, media type) of the audio and video containers the transcriber reads.
_MEDIA: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftypM4A", "audio/mp4"),
    (4, b"ftypqt", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"FLV\x01", "video/x-flv"),
    (0, b"\x00\x00\x01\xba", "video/mpeg"),
)
_RIFF = {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_OOXML = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def sniff_content_type(source: bytes | BinaryIO, filename: str | None = None) -> str:
    """The media type of a document, audio or video file from its content (a seekable binary
    file is read from its start and left there; bytes are looked at as they are).

    Raises :class:`~eduscribe_sdk.InvalidInputError` (``field="file"``) for an empty file and
    for content EduScribe cannot turn into notes (an image, an archive, an executable...),
    saying what it looks like.
    """
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    stream.seek(0)
    head = stream.read(_HEAD_BYTES)
    stream.seek(0)
    if not head:
        raise InvalidInputError("the file is empty", field="file")
    if b"%PDF-" in head[:1024]:  # PDF readers tolerate junk before the header
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(stream)
    for offset, magic, media in _MEDIA:
        if head[offset : offset + len(magic)] == magic:
            return media
    if head.startswith(b"RIFF") and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and b"\x00" not in head[:4]:
        return "audio/mpeg"  # an MP3 frame sync without an ID3 tag
    try:
        text = decode_text(head, partial=True)
    except UnicodeDecodeError:
        for magic, what in KNOWN_BINARIES:
            if head.startswith(magic):
                raise InvalidInputError(f"unsupported file type: {what}", field="file") from None
        message = f"unsupported file type: binary content ({_EXPECTED})"
        raise InvalidInputError(message, field="file") from None
    if HTML_START.search(text.lower().encode("utf-8", "replace")[:4096]):
        return "text/html"
    name = (filename or "").lower()
    return "text/markdown" if name.endswith(_MARKDOWN) else "text/plain"


def _zip_type(stream: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInputError("the file is a damaged or truncated ZIP archive", field="file") from None
    finally:
        stream.seek(0)
    for member, media in _OOXML.items():
        if member in names:
            return media
    what = (
        "an Excel workbook (XLSX)"
        if "xl/workbook.xml" in names
        else "an OpenDocument or EPUB file"
        if "mimetype" in names
        else "a ZIP archive"
    )
    raise InvalidInputError(f"unsupported file type: {what} ({_EXPECTED})", field="file")
