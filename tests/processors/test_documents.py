"""The ``file_notes`` processor end to end: extraction, notes, progress, cancellation, errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eduscribe_sdk._config import Settings
from eduscribe_sdk._notes import NoteSource
from eduscribe_sdk._processors import LocalContext, get_processor
from eduscribe_sdk._processors.documents import process_file
from eduscribe_sdk._validation import normalize_input
from eduscribe_sdk.errors import JobCancelled, PermanentError

GERMAN_PDF = "documents/pdf/large/geotopo_lecture_notes_de_117p.pdf"


def _input(path: Path, **options: Any) -> dict[str, Any]:
    return normalize_input("file_notes", {"path": str(path), "options": options})


def test_registered_as_file_notes() -> None:
    assert get_processor("file_notes") is process_file


def test_german_lecture_notes(shared_data: Path) -> None:
    ctx = LocalContext()
    output = process_file(_input(shared_data / GERMAN_PDF), ctx)
    assert output["language"] == "de"
    assert output["title"] == "Geometrie und Topologie"
    assert output["source"] == {
        "type": "pdf",
        "pages": 117,
        "characters": output["source"]["characters"],
        "ocr": False,
        "file": "geotopo_lecture_notes_de_117p.pdf",
    }
    assert output["source"]["characters"] > 100_000
    for field in ("summary", "key_points", "glossary", "markdown", "word_count", "generator"):
        assert field in output
    assert "quiz" not in output or not output["quiz"]
    percents = [p for p, _ in ctx.reports]
    assert percents == sorted(percents) and percents[-1] == 100.0
    extraction = [p for p in percents if p <= 70.0]
    assert len(extraction) >= 50  # reported as the pages go by, not in one jump
    # The time it takes (budget 10 s on 2 cores) is a benchmark figure: bench_processors.py.


def test_docx_with_quiz_and_job_title(shared_data: Path) -> None:
    ctx = LocalContext(title="Week 1: Ducks")
    output = process_file(
        _input(shared_data / "documents/docx/docling_word_sample.docx", generateQuiz=True), ctx
    )
    assert output["title"] == "Week 1: Ducks"
    assert output["quiz"]
    assert output["source"]["type"] == "docx" and output["source"]["file"] == "docling_word_sample.docx"
    assert ctx.reports[-1][0] == 100.0


def test_pptx_progress_by_slide(shared_data: Path) -> None:
    ctx = LocalContext()
    output = process_file(_input(shared_data / "documents/pptx/ghc_compiler_lecture_53slides.pptx"), ctx)
    assert output["source"]["slides"] == 53
    extraction = [p for p, _ in ctx.reports if p <= 70.0]
    assert len(extraction) == 54 and extraction[-1] == pytest.approx(70.0)


def test_file_stem_is_the_fallback_title(tmp_path: Path) -> None:
    path = tmp_path / "cell_division_notes.txt"
    path.write_text(
        "Mitosis is the division of a cell nucleus into two identical nuclei. "
        "It has four phases: prophase, metaphase, anaphase and telophase. "
        "Cytokinesis then divides the cytoplasm, producing two daughter cells.",
        encoding="utf-8",
    )
    output = process_file(_input(path), LocalContext())
    assert output["title"] == "cell_division_notes"
    assert output["source"] == {"type": "txt", "characters": output["source"]["characters"], "ocr": False,
                                "file": "cell_division_notes.txt"}  # fmt: skip


def test_note_source_carries_options_and_dependencies(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[NoteSource] = []

    def fake_generate_notes(
        source: NoteSource, *, settings: Settings, progress: Callable[[float], None] | None = None
    ) -> dict[str, Any]:
        seen.append(source)
        if progress:
            progress(50.0)
            progress(100.0)
        return {"title": source.title, "markdown": "# x", "language": "en"}

    monkeypatch.setattr("eduscribe_sdk._notes.generate_notes", fake_generate_notes)
    prior = [{"id": "j1", "title": "Intro", "summary": "Before"}]
    ctx = LocalContext(dependencies=prior)
    output = process_file(
        _input(
            shared_data / "documents/pdf/text/faa_amt_handbook_page.pdf",
            language="en",
            generateQuiz=True,
            prompt="Focus on fasteners",
        ),
        ctx,
    )
    (source,) = seen
    assert source.kind == "document"
    assert source.title == "AMT General Handbook"
    assert source.language == "en" and source.generate_quiz is True and source.prompt == "Focus on fasteners"
    assert list(source.prior_notes) == prior
    assert "self-locking nuts" in source.text
    assert [p for p, _ in ctx.reports][-3:] == [70.0, 85.0, 100.0]
    assert output["source"]["pages"] == 1


def test_cancellation_mid_document(shared_data: Path) -> None:
    ctx = LocalContext(cancel_after=30.0)
    with pytest.raises(JobCancelled):
        process_file(_input(shared_data / GERMAN_PDF), ctx)
    last = ctx.reports[-1][0]
    assert 30.0 <= last < 32.0  # stopped right at the page that crossed the mark


def test_encrypted_pdf_via_password_option(shared_data: Path) -> None:
    path = shared_data / "documents/pdf/encrypted/rc4_user_password_openpassword.pdf"
    output = process_file(_input(path, password="openpassword"), LocalContext())
    assert output["source"]["type"] == "pdf"
    with pytest.raises(PermanentError) as info:
        process_file(_input(path), LocalContext())
    assert str(info.value).startswith(
        "rc4_user_password_openpassword.pdf: the PDF is encrypted and needs a password"
    )
    with pytest.raises(PermanentError) as info:
        process_file(_input(path, password="not-the-one"), LocalContext())
    assert "password given is wrong" in str(info.value) and "not-the-one" not in str(info.value)


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("documents/pdf/corrupt/broken_xref_unreadable_metadata.pdf", "damaged"),
        ("documents/pdf/corrupt/truncated_45pct.pdf", "truncated"),
        ("documents/docx/truncated_word_sample.docx", "damaged or truncated"),
    ],
)
def test_corrupt_files_fail_permanently(shared_data: Path, relative: str, reason: str) -> None:
    path = shared_data / relative
    with pytest.raises(PermanentError) as info:
        process_file(_input(path), LocalContext())
    assert str(info.value).startswith(f"{path.name}: ")
    assert reason in str(info.value)
    assert info.value.__cause__ is not None


def test_broken_xref_recovers_end_to_end(shared_data: Path) -> None:
    output = process_file(_input(shared_data / "documents/pdf/corrupt/broken_xref_tiny.pdf"), LocalContext())
    assert output["source"]["characters"] == len("test example")


def test_file_over_the_size_limit(shared_data: Path) -> None:
    path = shared_data / "documents/pdf/text/evolution_of_word_processor_5p.pdf"
    ctx = LocalContext(settings=Settings(max_file_bytes=64 * 1024))
    with pytest.raises(PermanentError) as info:
        process_file(_input(path), ctx)
    assert str(info.value).startswith("evolution_of_word_processor_5p.pdf: the file is 0.1 MB; the limit is")


def test_empty_docx_fails_permanently(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(PermanentError, match=r"^blank\.docx: the DOCX document contains no text"):
        process_file(_input(path), LocalContext())


def test_binary_junk_fails_permanently(tmp_path: Path) -> None:
    path = tmp_path / "lecture.pdf.exe"
    path.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 8)
    with pytest.raises(PermanentError, match=r"^lecture\.pdf\.exe: unsupported file type"):
        process_file(_input(path), LocalContext())


def test_missing_path_is_permanent() -> None:
    with pytest.raises(PermanentError, match="path"):
        process_file({"options": {}}, LocalContext())


def test_importing_the_processor_stays_light() -> None:
    code = (
        "import sys, eduscribe_sdk._processors.documents, eduscribe_sdk._processors.extract;"
        "heavy = {'pypdf', 'docx', 'pptx', 'bs4', 'PIL', 'pytesseract', 'lxml'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
