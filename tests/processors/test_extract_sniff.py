"""File-type detection from content, and text decoding."""

from __future__ import annotations

import contextlib
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduscribe_sdk._processors.extract import extract_document, sniff_kind
from eduscribe_sdk._processors.extract.sniff import decode_text
from eduscribe_sdk.errors import PermanentError


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def test_content_decides_not_the_name(shared_data: Path, tmp_path: Path) -> None:
    docs = shared_data / "documents"
    assert sniff_kind(_copy(docs / "pdf/text/faa_amt_handbook_page.pdf", tmp_path / "notes.txt")) == "pdf"
    assert sniff_kind(_copy(docs / "docx/docling_headings.docx", tmp_path / "download")) == "docx"
    assert sniff_kind(_copy(docs / "pptx/docling_powerpoint_sample.pptx", tmp_path / "deck.zip")) == "pptx"


def test_html_is_sniffed_and_extension_only_separates_text_from_markdown(tmp_path: Path) -> None:
    html = tmp_path / "page.txt"
    html.write_text("<!DOCTYPE html><html><body><p>Hello</p></body></html>")
    assert sniff_kind(html) == "html"
    bare = tmp_path / "fragment.htm"
    bare.write_text("<body><p>Hello</p></body>")
    assert sniff_kind(bare) == "html"
    text = tmp_path / "readme"
    text.write_text("# Title\n\nbody")
    assert sniff_kind(text) == "txt"
    markdown = tmp_path / "readme.MD"
    markdown.write_text("# Title\n\nbody")
    assert sniff_kind(markdown) == "md"


def test_pdf_header_after_junk_bytes(tmp_path: Path) -> None:
    path = tmp_path / "odd.bin"
    path.write_bytes(b"\x00\x01junk\n%PDF-1.4\n...")
    assert sniff_kind(path) == "pdf"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(256)) * 20, "binary content"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Microsoft Office"),
    ],
)
def test_binary_garbage_is_unsupported(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "mystery.txt"
    path.write_bytes(content)
    with pytest.raises(PermanentError) as info:
        extract_document(path)
    message = str(info.value)
    assert message.startswith("mystery.txt: ")
    assert "unsupported file type" in message
    assert reason in message


def test_zip_that_is_not_office_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(PermanentError, match=r"^book\.xlsx: unsupported file type: an Excel workbook"):
        extract_document(path)


def test_latin1_text_file(tmp_path: Path) -> None:
    path = tmp_path / "alt.txt"
    path.write_bytes("Grüße aus Köln \u2013 5 € für Kaffee".encode("cp1252"))
    document = extract_document(path)
    assert document.text == "Grüße aus Köln \u2013 5 € für Kaffee"
    assert document.kind == "txt"
    path.write_bytes("Ça coûte très cher".encode("latin-1"))
    assert extract_document(path).text == "Ça coûte très cher"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32", "utf-16-le"])
def test_boms_and_utf16(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes("# Über Enten\n\nEnten schwimmen gern. Ducks swim.".encode(encoding))
    document = extract_document(path)
    assert document.kind == "md"
    assert document.text.startswith("# Über Enten")
    assert "\ufeff" not in document.text
    assert document.title == "Über Enten"


def test_whitespace_only_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(" \n\t\n   \n")
    with pytest.raises(PermanentError, match=r"^blank\.txt: the file contains no text"):
        extract_document(path)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=300))
def test_utf8_text_round_trips(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == text


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=2000))
def test_decode_text_either_decodes_or_raises_unicode_error(data: bytes) -> None:
    with contextlib.suppress(UnicodeDecodeError):
        decode_text(data)
