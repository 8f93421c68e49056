"""DOCX/PPTX packages that expand too far are refused from their zip directory, in bounded memory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from eduscribe_sdk import DecompressionLimitExceeded, PermanentError
from eduscribe_sdk._processors.extract.office import MAX_PACKAGE_PARTS, extract_docx, extract_pptx
from tests.conftest import REPO

_PARAGRAPH = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>"
_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)


def _small_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("A small lecture.")
    document.save(str(path))


def _bomb(path: Path, xml_mb: int) -> None:
    """A valid DOCX whose document.xml is ``xml_mb`` MB of paragraphs: a few hundred KB zipped."""
    source = path.with_suffix(".small.docx")
    _small_docx(source)
    with zipfile.ZipFile(source) as small, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in small.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, small.read(item))
        with bomb.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(_HEAD)
            chunk = _PARAGRAPH * (1024 * 1024 // len(_PARAGRAPH))
            for _ in range(xml_mb):
                part.write(chunk)
            part.write(b"</w:body></w:document>")


def test_a_docx_bomb_is_refused_by_name_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "lecture.docx"
    _bomb(path, xml_mb=100)
    assert path.stat().st_size < 1024 * 1024
    # In a process of its own with 1 GB of address space: parsing the XML would need more.
    script = f"""
import json, resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, resource.RLIM_INFINITY))
from pathlib import Path
from eduscribe_sdk._processors.extract.office import extract_docx
try:
    extract_docx(Path({str(path)!r}), max_chars=1_000_000)
    outcome = ["none", ""]
except BaseException as exc:
    outcome = [type(exc).__name__, str(exc)]
# VmHWM, not ru_maxrss: Linux carries a parent's peak RSS across fork and exec into
# ru_maxrss, so under a big pytest process that figure says nothing about this one.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
peak_mb = int(hwm.split()[1]) / 1024
print(json.dumps([*outcome, peak_mb]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    kind, message, peak_mb = json.loads(done.stdout.strip().splitlines()[-1])
    assert kind == "DecompressionLimitExceeded", (kind, message)
    assert re.match(r"lecture\.docx: expands to 10\d MB of XML \(largest part word/document\.xml", message)
    assert peak_mb < 300, f"peak {peak_mb:.0f} MB"


def test_too_many_parts_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(MAX_PACKAGE_PARTS + 1):
            archive.writestr(f"ppt/media/p{i}.bin", b"")
    with pytest.raises(DecompressionLimitExceeded, match=r"^slides\.pptx: the package has 10,001 parts"):
        extract_pptx(path, max_chars=1000)


def test_the_error_is_permanent_and_a_normal_docx_still_reads(tmp_path: Path) -> None:
    assert issubclass(DecompressionLimitExceeded, PermanentError)
    path = tmp_path / "fine.docx"
    _small_docx(path)
    assert "A small lecture." in extract_docx(path, max_chars=1000).text
