"""``sniff_content_type``: the media type from the content, refusals that say what it is."""

from __future__ import annotations

import io
import zipfile

import pytest

from eduscribe_sdk import InvalidInputError, sniff_content_type
from tests.conftest import REPO

MATERIALS = REPO / "batch" / "examples" / "materials"
OOXML = "application/vnd.openxmlformats-officedocument"


def _zip(*names: str) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return data.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        ((MATERIALS / "03-hash-tables.pdf").read_bytes(), "x.txt", "application/pdf"),
        ((MATERIALS / "04-search-trees.mp3").read_bytes(), None, "audio/mpeg"),
        ((MATERIALS / "01-arrays-and-lists.md").read_bytes(), "a.md", "text/markdown"),
        ((MATERIALS / "01-arrays-and-lists.md").read_bytes(), "a.pdf", "text/plain"),
        (b"<!doctype html><html><p>x</p></html>", "a.txt", "text/html"),
        (_zip("[Content_Types].xml", "word/document.xml"), "a.bin", f"{OOXML}.wordprocessingml.document"),
        (_zip("ppt/presentation.xml"), None, f"{OOXML}.presentationml.presentation"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\0" * 40, None, "video/mp4"),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 40, None, "video/webm"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 40, None, "audio/wav"),
        ("Grüße aus Köln".encode("cp1252"), "a.txt", "text/plain"),
    ],
)  # fmt: skip
def test_types_come_from_the_content(data: bytes, name: str | None, expected: str) -> None:
    assert sniff_content_type(data, name) == expected
    stream = io.BytesIO(data)
    assert sniff_content_type(stream, name) == expected
    assert stream.tell() == 0  # left at the start for whoever stores it


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "PNG"),
        (_zip("xl/workbook.xml"), "Excel"),
        (_zip("notes.txt"), "ZIP archive"),
        (b"PK\x03\x04 truncated", "damaged"),
        (bytes(range(256)), "binary content"),
    ],
)
def test_unsupported_content_is_refused_saying_what_it_is(data: bytes, said: str) -> None:
    with pytest.raises(InvalidInputError, match=said) as caught:
        sniff_content_type(data, "upload.pdf")
    assert caught.value.field == "file"
