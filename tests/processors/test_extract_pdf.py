"""PDF extraction: text layer, encryption, damaged files, scans (OCR), limits."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduscribe_sdk._processors.extract import extract_document, ocr, pdf
from eduscribe_sdk.errors import PermanentError

HAVE_TESSERACT = shutil.which("tesseract") is not None
needs_tesseract = pytest.mark.skipif(
    not HAVE_TESSERACT,
    reason="tesseract binary not installed (apt-get install tesseract-ocr tesseract-ocr-deu)",
)


def make_pdf(
    path: Path,
    pages: Iterable[str],
    *,
    user_password: str | None = None,
    algorithm: str = "AES-128",
) -> Path:
    """A PDF whose pages show the given lines of text in Helvetica."""
    from pypdf import PdfWriter
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for text in pages:
        page = writer.add_blank_page(612, 792)
        if not text:
            continue
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = ContentStream(None, None)
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1"))
        page.replace_contents(stream)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def recall(expected: str, got: str) -> float:
    """Share of the expected words (with multiplicity) that the OCR found."""
    from collections import Counter

    want, have = Counter(words(expected)), Counter(words(got))
    return sum((want & have).values()) / max(1, sum(want.values()))


# --------------------------------------------------------------------------- text layer


def test_text_pdf_pages_title_and_progress(shared_data: Path) -> None:
    reports: list[float] = []
    document = extract_document(
        shared_data / "documents/pdf/text/evolution_of_word_processor_5p.pdf", progress=reports.append
    )
    assert document.kind == "pdf"
    assert document.pages == 5
    assert document.ocr is False
    assert "The Evolution of the Word Processor" in document.text
    assert document.source_metadata() == {
        "type": "pdf",
        "pages": 5,
        "characters": len(document.text),
        "ocr": False,
    }
    # One report per page, rising, ending at 100.
    assert reports == [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]


def test_metadata_title(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/pdf/text/faa_amt_handbook_page.pdf")
    assert document.title == "AMT General Handbook"
    assert "self-locking nuts" in document.text


def test_large_german_pdf_is_clean(shared_data: Path) -> None:
    # Its speed is a benchmark figure (benchmarks/bench_processors.py, "PDF 117 pages").
    document = extract_document(shared_data / "documents/pdf/large/geotopo_lecture_notes_de_117p.pdf")
    assert document.pages == 117
    assert document.title == "Geometrie und Topologie"
    assert "Topologische Räume" in document.text
    # Ligatures are resolved ("oﬀen" would defeat word counts and language detection).
    assert "ﬀ" not in document.text and "offen" in document.text


def test_progress_is_throttled_on_long_documents(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", [f"Page number {i} of a long handout" for i in range(400)])
    reports: list[float] = []
    document = extract_document(path, progress=reports.append)
    assert document.pages == 400
    assert reports[0] == 0.0 and reports[-1] == 100.0
    assert reports == sorted(reports)
    assert len(reports) <= 110  # about one per percent, not one per page


def test_character_limit_stops_reading_early(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "huge.pdf", [f"Line of page {i} with some words on it" for i in range(300)])
    reports: list[float] = []
    document = extract_document(path, max_chars=2_000, progress=reports.append)
    assert document.truncated is True
    assert len(document.text) <= 2_000
    assert document.source_metadata()["truncated"] is True
    assert max(reports) < 50  # it stopped well before the last page


# --------------------------------------------------------------------------- encryption


@pytest.mark.parametrize(
    ("name", "password", "expected"),
    [
        ("rc4_user_password_openpassword.pdf", "openpassword", "Lorem ipsum"),
        ("aes256_user_password_asdfzxcv.pdf", "asdfzxcv", "pdf encryption test"),
    ],
)
def test_encrypted_with_password(shared_data: Path, name: str, password: str, expected: str) -> None:
    document = extract_document(shared_data / "documents/pdf/encrypted" / name, password=password)
    assert expected in document.text


@pytest.mark.parametrize("name", ["rc4_user_password_openpassword.pdf", "aes256_user_password_asdfzxcv.pdf"])
def test_encrypted_without_password(shared_data: Path, name: str) -> None:
    with pytest.raises(PermanentError) as info:
        extract_document(shared_data / "documents/pdf/encrypted" / name)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert "encrypted" in message and "needs a password" in message


@pytest.mark.parametrize("name", ["rc4_user_password_openpassword.pdf", "aes256_user_password_asdfzxcv.pdf"])
def test_encrypted_wrong_password_is_not_echoed(shared_data: Path, name: str) -> None:
    with pytest.raises(PermanentError) as info:
        extract_document(shared_data / "documents/pdf/encrypted" / name, password="hunter2-guess")
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert "encrypted" in message and "wrong" in message
    assert "hunter2" not in message


def test_generated_encrypted_pdf_and_empty_user_password(tmp_path: Path) -> None:
    locked = make_pdf(tmp_path / "locked.pdf", ["Secret lecture"], user_password="pw")
    assert extract_document(locked, password="pw").text == "Secret lecture"
    with pytest.raises(PermanentError, match="needs a password"):
        extract_document(locked)
    # Encrypted only for permissions (empty user password): opens without one, like any viewer.
    open_pdf = make_pdf(tmp_path / "perm.pdf", ["Open lecture"], user_password="")
    assert extract_document(open_pdf).text == "Open lecture"
    # A password for an unencrypted file is ignored.
    plain = make_pdf(tmp_path / "plain.pdf", ["Plain lecture"])
    assert extract_document(plain, password="unused").text == "Plain lecture"


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    ("name", "reason", "cause"),
    [
        ("broken_xref_unreadable_metadata.pdf", "damaged", "PdfReadError"),
        ("truncated_45pct.pdf", "truncated", "PdfStreamError"),
    ],
)
def test_corrupt_pdfs(shared_data: Path, name: str, reason: str, cause: str) -> None:
    with pytest.raises(PermanentError) as info:
        extract_document(shared_data / "documents/pdf/corrupt" / name)
    assert str(info.value).startswith(f"{name}: ")
    assert reason in str(info.value)
    assert type(info.value.__cause__).__name__ == cause


def test_broken_xref_recovers(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/pdf/corrupt/broken_xref_tiny.pdf")
    assert document.text == "test example"


def test_pdf_without_any_text(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "blank.pdf", ["", ""])
    with pytest.raises(PermanentError, match=r"^blank\.pdf: the PDF contains no text"):
        extract_document(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.floats(min_value=0.05, max_value=0.999),
    flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 255)), max_size=8),
)
def test_mangled_pdfs_never_leak_library_errors(
    tmp_path: Path, cut: float, flips: list[tuple[float, int]]
) -> None:
    source = tmp_path / "source.pdf"
    if not source.exists():
        make_pdf(source, ["First page of notes", "Second page (with parens)", "Third page"])
    data = bytearray(source.read_bytes())
    for where, value in flips:
        data[int(where * len(data))] = value
    mangled = tmp_path / "mangled.pdf"
    mangled.write_bytes(bytes(data[: max(16, int(cut * len(data)))]))
    try:
        extract_document(mangled)
    except PermanentError as exc:
        assert str(exc).startswith("mangled.pdf: ")


# --------------------------------------------------------------------------- scans and OCR


def test_scan_without_tesseract_says_how_to_get_it(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr, "tesseract_command", lambda: None)
    with pytest.raises(PermanentError) as info:
        extract_document(shared_data / "documents/pdf/scanned/docling_ocr_test_image_only.pdf")
    message = str(info.value)
    assert message.startswith("docling_ocr_test_image_only.pdf: ")
    assert "no text layer" in message and "Tesseract" in message
    assert "apt-get install tesseract-ocr" in message


def test_pdf_with_ocr_layer_needs_no_ocr(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "tesseract_command", lambda: None)
    document = extract_document(shared_data / "documents/pdf/scanned/vicksburg_scan_with_ocr_layer_6p.pdf")
    assert document.pages == 6 and document.ocr is False
    assert document.title is None  # its metadata title is a file name ("Binder1.pdf")


@needs_tesseract
def test_ocr_single_page(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/pdf/scanned/docling_ocr_test_image_only.pdf")
    expected = (
        "Docling bundles PDF document conversion to JSON and Markdown in an easy self contained package"
    )
    assert recall(expected, document.text) >= 0.8
    assert document.ocr is True and document.ocr_pages == (1,)
    assert document.source_metadata()["ocr"] is True


@needs_tesseract
def test_ocr_six_page_scan_matches_its_ocr_layer(shared_data: Path) -> None:
    reports: list[float] = []
    scanned = extract_document(
        shared_data / "documents/pdf/scanned/vicksburg_scan_image_only_6p.pdf", progress=reports.append
    )
    reference = extract_document(shared_data / "documents/pdf/scanned/vicksburg_scan_with_ocr_layer_6p.pdf")
    assert scanned.ocr_pages == (1, 2, 3, 4, 5, 6)
    assert recall(reference.text, scanned.text) >= 0.8
    assert len(reports) == 7 and reports == sorted(reports)


@pytest.mark.parametrize(
    ("hint", "available", "expected"),
    [
        ("de", {"deu", "eng"}, "deu"),
        ("de-AT", {"deu", "eng"}, "deu"),
        ("fr", {"deu", "eng"}, "eng"),
        (None, {"deu", "eng"}, "eng"),
        ("auto", {"deu", "eng"}, "eng"),
        ("zh", {"chi_sim", "eng"}, "chi_sim"),
        ("deu", {"deu", "eng"}, "deu"),
    ],
)
def test_ocr_language_mapping(hint: str | None, available: set[str], expected: str) -> None:
    assert ocr.tesseract_language(hint, frozenset(available)) == expected


@needs_tesseract
def test_installed_languages_include_english() -> None:
    command = ocr.tesseract_command()
    assert command is not None
    assert "eng" in ocr.installed_languages(command)


def test_min_page_chars_is_small() -> None:
    # A threshold above a typical line would OCR pages that do have a text layer.
    assert 0 < pdf.MIN_PAGE_CHARS < 80


def test_ocr_uses_the_language_hint(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_ocr(image: object, *, command: str, language: str, timeout: float = 0) -> str:
        calls.append(language)
        return "Erkannter Text einer eingescannten Seite"

    monkeypatch.setattr(ocr, "tesseract_command", lambda: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "installed_languages", lambda command: frozenset({"deu", "eng", "osd"}))
    monkeypatch.setattr(ocr, "ocr_image", fake_ocr)
    path = shared_data / "documents/pdf/scanned/docling_ocr_test_image_only.pdf"
    german = extract_document(path, language="de")
    assert calls == ["deu"] and german.ocr is True
    assert german.text == "Erkannter Text einer eingescannten Seite"
    extract_document(path, language="pt")  # not installed: English
    assert calls == ["deu", "eng"]
