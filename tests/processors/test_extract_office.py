"""DOCX, PPTX, HTML and plain-text extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from eduscribe_sdk._processors.extract import extract_document
from eduscribe_sdk.errors import PermanentError

# --------------------------------------------------------------------------- DOCX


def test_docx_sample_structure(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/docx/docling_word_sample.docx")
    text = document.text
    assert document.kind == "docx" and document.pages is None
    assert document.title == "Swimming in the lake"
    assert "# Swimming in the lake" in text.splitlines()
    assert "## Let\u2019s swim!" in text.splitlines()
    # A list stays one block of "- " items.
    assert "- You can relax and look around\n- Paddle about\n- Enjoy summer warmth" in text
    # Table cells, as a Markdown table.
    assert "| Food | Calories per portion |" in text
    assert "Blueberry" in text
    assert document.source_metadata() == {"type": "docx", "characters": len(text), "ocr": False}


def test_docx_heading_levels(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/docx/docling_headings.docx")
    lines = document.text.splitlines()
    assert lines[0] == "# Test Document"
    assert "## Section 1" in lines and "### Section 1.1" in lines and "#### Section 1.2.3" in lines


def test_docx_core_title(shared_data: Path) -> None:
    document = extract_document(shared_data / "documents/docx/elife_56337_article.docx")
    assert document.title is not None and document.title.startswith("KRAB-zinc finger protein")
    assert "## Abstract" in document.text


def _make_docx(path: Path, *, empty: bool = False) -> Path:
    import docx

    document = docx.Document()
    if not empty:
        document.add_heading("Photosynthesis", level=1)
        document.add_paragraph("Plants turn light into sugar.")
        document.add_paragraph("Chlorophyll", style="List Bullet")
        document.add_paragraph("Stomata", style="List Bullet")
        document.add_paragraph("Light reactions", style="List Number")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "Input"
        table.cell(0, 1).text = "Output"
        table.cell(1, 0).text = "CO2 | water"
        table.cell(1, 1).text = "glucose"
    else:
        document.add_paragraph("")
        document.add_table(rows=1, cols=1)
    document.save(str(path))
    return path


def test_generated_docx(tmp_path: Path) -> None:
    document = extract_document(_make_docx(tmp_path / "bio.docx"))
    assert document.text.splitlines()[0] == "## Photosynthesis"
    assert document.title == "Photosynthesis"
    assert "- Chlorophyll\n- Stomata\n1. Light reactions" in document.text
    assert "| Input | Output |\n| --- | --- |\n| CO2 \\| water | glucose |" in document.text


def test_docx_without_text(tmp_path: Path) -> None:
    path = _make_docx(tmp_path / "nothing.docx", empty=True)
    with pytest.raises(PermanentError, match=r"^nothing\.docx: the DOCX document contains no text"):
        extract_document(path)


def test_truncated_docx(shared_data: Path) -> None:
    with pytest.raises(PermanentError) as info:
        extract_document(shared_data / "documents/docx/truncated_word_sample.docx")
    assert str(info.value).startswith("truncated_word_sample.docx: ")
    assert "damaged or truncated" in str(info.value) and "DOCX" in str(info.value)
    assert info.value.__cause__ is not None


def test_docx_with_missing_document_part(tmp_path: Path) -> None:
    """A zip that claims to be a DOCX but whose package is broken: python-docx's error is wrapped."""
    import zipfile

    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(PermanentError) as info:
        extract_document(path)
    assert str(info.value).startswith("hollow.docx: the DOCX file is damaged")
    assert info.value.__cause__ is not None


# --------------------------------------------------------------------------- PPTX


def test_pptx_sample(shared_data: Path) -> None:
    reports: list[float] = []
    document = extract_document(
        shared_data / "documents/pptx/docling_powerpoint_sample.pptx", progress=reports.append
    )
    text = document.text
    assert document.kind == "pptx" and document.pages == 3
    assert document.source_metadata()["slides"] == 3 and "pages" not in document.source_metadata()
    assert text.startswith("## Slide 1: Test Table Slide")
    assert "| R1 | True | False |" in text  # table cells, columns kept aligned
    assert text.count("Speaker notes:") == 2
    assert "## Slide 2" in text and "## Slide 3" in text
    assert reports == [0.0, pytest.approx(100 / 3), pytest.approx(200 / 3), 100.0]


def test_pptx_53_slides_progress_by_slide(shared_data: Path) -> None:
    reports: list[float] = []
    document = extract_document(
        shared_data / "documents/pptx/ghc_compiler_lecture_53slides.pptx", progress=reports.append
    )
    assert document.pages == 53
    assert document.title == "A Haskell Compiler"
    assert len(reports) == 54 and reports == sorted(reports)
    assert document.text.count("Speaker notes:") == 26
    assert "- Understand Core & STG -- performance" in document.text


def _make_pptx(path: Path, *, with_text: bool = True) -> Path:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1 if with_text else 6])
    if with_text:
        slide.shapes.title.text = "Cell biology"
        body = slide.placeholders[1].text_frame
        body.text = "Membranes"
        sub = body.add_paragraph()
        sub.text = "Lipid bilayer"
        sub.level = 1
        table = slide.shapes.add_table(2, 2, Inches(1), Inches(5), Inches(4), Inches(1)).table
        table.cell(0, 0).text = "Organelle"
        table.cell(0, 1).text = "Role"
        table.cell(1, 0).text = "Mitochondrion"
        table.cell(1, 1).text = "Energy"
        slide.notes_slide.notes_text_frame.text = "Mention the fluid mosaic model."
    presentation.save(str(path))
    return path


def test_generated_pptx(tmp_path: Path) -> None:
    document = extract_document(_make_pptx(tmp_path / "cells.pptx"))
    assert document.title == "Cell biology"
    assert document.text.splitlines()[0] == "## Slide 1: Cell biology"
    assert "- Membranes\n  - Lipid bilayer" in document.text
    assert "| Organelle | Role |" in document.text and "| Mitochondrion | Energy |" in document.text
    assert "Speaker notes: Mention the fluid mosaic model." in document.text


def test_pptx_without_text(tmp_path: Path) -> None:
    path = _make_pptx(tmp_path / "blank.pptx", with_text=False)
    with pytest.raises(PermanentError, match=r"^blank\.pptx: the PPTX presentation contains no text"):
        extract_document(path)


def test_truncated_pptx(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "documents/pptx/docling_powerpoint_sample.pptx").read_bytes()
    path = tmp_path / "cut.pptx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PermanentError, match=r"^cut\.pptx: the PPTX file is damaged or truncated"):
        extract_document(path)


# --------------------------------------------------------------------------- HTML and text

_HTML = """<!DOCTYPE html>
<html><head><title>Enzymes | Biology 101</title><style>p { color: red }</style>
<script>var tracking = "should not appear";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/menu">Menu entry</a></nav>
<div role="navigation">Breadcrumb trail</div>
<main>
<h1>Enzymes</h1>
<p>Enzymes are <b>biological catalysts</b> that speed up reactions.</p>
<h2>Properties</h2>
<ul><li>Specific to a substrate</li><li>Sensitive to temperature</li></ul>
<table><tr><th>Enzyme</th><th>Substrate</th></tr><tr><td>Amylase</td><td>Starch</td></tr></table>
<noscript>Enable JavaScript</noscript>
</main>
<footer hidden>Hidden footer</footer>
</body></html>"""


def test_html_readable_text(tmp_path: Path) -> None:
    path = tmp_path / "enzymes.html"
    path.write_text(_HTML, encoding="utf-8")
    document = extract_document(path)
    text = document.text
    assert document.kind == "html"
    assert document.title == "Enzymes | Biology 101"
    assert "# Enzymes" in text.splitlines() and "## Properties" in text.splitlines()
    assert "Enzymes are biological catalysts that speed up reactions." in text
    assert "- Specific to a substrate\n- Sensitive to temperature" in text
    assert "| Enzyme | Substrate |" in text and "| Amylase | Starch |" in text
    for dropped in (
        "tracking",
        "color: red",
        "Menu entry",
        "Breadcrumb",
        "Enable JavaScript",
        "Hidden footer",
    ):
        assert dropped not in text


def test_html_declared_charset(tmp_path: Path) -> None:
    path = tmp_path / "legacy.htm"
    html = '<html><head><meta charset="windows-1252"></head><body><p>Gr\xfc\xdfe, caf\xe9</p></body></html>'
    path.write_bytes(html.encode("cp1252"))
    assert extract_document(path).text == "Grüße, café"


def test_html_without_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<!doctype html><html><body><script>x()</script><nav>Home</nav></body></html>")
    with pytest.raises(PermanentError, match=r"^empty\.html: the HTML page contains no readable text"):
        extract_document(path)


def test_text_and_markdown_as_is(shared_data: Path) -> None:
    markdown = extract_document(shared_data / "text/wikipedia_ibm_excerpt.md")
    assert markdown.kind == "md" and markdown.title == "IBM"
    assert markdown.text.startswith("# IBM\n\nInternational Business Machines Corporation")
    plain = extract_document(shared_data / "text/wikipedia_duck.txt")
    assert plain.kind == "txt" and plain.title is None
    assert plain.text.startswith("Duck\n")
    pandoc = extract_document(shared_data / "text/ghc_compiler_lecture_notes.md")
    assert pandoc.title == "A Haskell Compiler"


def test_file_size_limit(shared_data: Path) -> None:
    path = shared_data / "text/wikipedia_duck.txt"
    with pytest.raises(PermanentError) as info:
        extract_document(path, max_bytes=1024)
    assert str(info.value).startswith("wikipedia_duck.txt: the file is ")
    assert "the limit is" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match=r"^gone\.pdf: file not found"):
        extract_document(tmp_path / "gone.pdf")
