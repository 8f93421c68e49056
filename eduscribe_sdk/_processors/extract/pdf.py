"""PDF text with pypdf, page by page, with OCR for pages that have no text layer."""

from __future__ import annotations

import logging
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import EduscribeError, PermanentError
from . import ocr
from ._common import ExtractedDocument, Progress, TextBuffer, clean_text, document_error

if TYPE_CHECKING:
    from PIL.Image import Image
    from pypdf import PageObject, PdfReader

__all__ = ["extract_pdf"]

log = logging.getLogger(__name__)

#: A page with fewer characters than this (after stripping) counts as having no text layer:
#: scans often carry a stray page number or a scanner stamp as real text.
MIN_PAGE_CHARS = 25

_TESSERACT_HINT = "apt-get install tesseract-ocr"
_NEEDS_PASSWORD = "the PDF is encrypted and needs a password (give it as options.password)"
_FILE_NAME_TITLE = re.compile(
    r"^[\w\-. ]+\.(pdf|docx?|pptx?|odt|tex|dvi|ps|rtf|txt|jpe?g|png|tiff?)$|^[\w-]*_[\w-]*$", re.IGNORECASE
)


def _library_errors() -> tuple[type[BaseException], ...]:
    """What pypdf raises on bad input besides its own errors (it does not wrap everything)."""
    from pypdf.errors import PyPdfError

    return (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        ArithmeticError,
        RecursionError,
        AssertionError,
        NotImplementedError,
        zlib.error,
        struct.error,
    )


def extract_pdf(
    path: Path,
    *,
    password: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
    max_chars: int,
) -> ExtractedDocument:
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfStreamError, WrongPasswordError

    errors = _library_errors()
    # An open file, not the path: given a path pypdf reads the whole file into memory first.
    with path.open("rb") as handle:
        try:
            reader = _open(handle)
            _unlock(path, reader, password)
            page_count = len(reader.pages)
        except EduscribeError:
            raise
        except WrongPasswordError as exc:
            raise document_error(path, "the PDF is encrypted and the password given is wrong") from exc
        except FileNotDecryptedError as exc:
            raise document_error(path, _NEEDS_PASSWORD) from exc
        except DependencyError as exc:
            raise document_error(
                path, "the PDF uses AES encryption, which needs the 'cryptography' package"
            ) from exc
        except PdfStreamError as exc:
            raise document_error(path, f"the PDF is truncated or damaged ({exc})") from exc
        except NotImplementedError as exc:
            # Certificate (public-key) security and exotic crypt filters land here.
            raise document_error(
                path, f"the PDF uses an encryption or feature that is not supported ({exc})"
            ) from exc
        except errors as exc:
            raise document_error(path, f"the PDF is damaged and cannot be read ({exc})") from exc
        if page_count == 0:
            raise document_error(path, "the PDF has no pages")
        return _read_pages(
            path, reader, page_count, language=language, progress=progress, max_chars=max_chars
        )


def _open(handle: Any) -> PdfReader:
    from pypdf import PdfReader

    # strict=False lets pypdf rebuild a broken xref table, which rescues many real-world files.
    return PdfReader(handle, strict=False)


def _unlock(path: Path, reader: PdfReader, password: str | None) -> None:
    if not reader.is_encrypted:
        return  # a password for an unencrypted file is harmless; ignore it
    from pypdf import PasswordType

    if not password:
        # pypdf silently opens files whose *owner* password is empty; a PDF viewer would still
        # ask for the user password, and so do we: only an empty user password means "open".
        if reader.decrypt("") != PasswordType.USER_PASSWORD:
            raise document_error(path, _NEEDS_PASSWORD)
        return
    if reader.decrypt(password) == PasswordType.NOT_DECRYPTED:
        raise document_error(path, "the PDF is encrypted and the password given is wrong")


class _Throttle:
    """Forwards progress at most once per whole percent or half second: each report may be a
    Redis write in a worker, and a 10,000-page PDF must not make 10,000 of them."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last_percent = -1.0
        self._last_time = 0.0

    def __call__(self, percent: float, *, force: bool = False) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if force or percent - self._last_percent >= 1.0 or now - self._last_time >= 0.5:
            self._last_percent, self._last_time = percent, now
            self._progress(percent)


def _read_pages(
    path: Path,
    reader: PdfReader,
    page_count: int,
    *,
    language: str | None,
    progress: Progress | None,
    max_chars: int,
) -> ExtractedDocument:
    errors = _library_errors()
    report = _Throttle(progress)
    buffer = TextBuffer(max_chars)
    tesseract = ocr.tesseract_command()
    ocr_language = ocr.tesseract_language(language, ocr.installed_languages(tesseract)) if tesseract else ""
    ocr_pages: list[int] = []
    unreadable: list[int] = []
    needs_ocr: list[int] = []
    report(0.0, force=True)
    for index in range(page_count):
        number = index + 1
        try:
            page = reader.pages[index]
            text = clean_text(page.extract_text())
        except errors as exc:
            # One bad content stream should not cost the other pages; the count decides below.
            log.warning("%s: page %d unreadable: %s", path.name, number, exc)
            unreadable.append(number)
            text, page = "", None
        if len(text) < MIN_PAGE_CHARS and page is not None and _has_images(page):
            if tesseract:
                ocr_text = _ocr_page(path, page, number, command=tesseract, language=ocr_language)
                if len(ocr_text) > len(text):
                    text = ocr_text
                    ocr_pages.append(number)
            else:
                needs_ocr.append(number)
        more = buffer.add(text)
        report(100.0 * number / page_count, force=number == page_count)
        if not more:
            break
        # Parsed objects are cached per reader; dropping each page's content keeps memory flat
        # on very long documents (the cache refills only if the page is read again).
        _forget_page(reader, index)
    text = buffer.text()
    if not text:
        if needs_ocr:
            raise document_error(
                path,
                "the PDF has no text layer (it looks like a scan) and OCR needs Tesseract, "
                f"which is not installed ({_TESSERACT_HINT})",
            )
        if unreadable:
            raise document_error(path, f"the PDF is damaged: none of its {page_count} pages can be read")
        if tesseract is None:
            raise document_error(path, "the PDF contains no text")
        raise document_error(path, "the PDF contains no text, not even after OCR")
    if needs_ocr:
        log.warning(
            "%s: %d scanned page(s) skipped: OCR needs Tesseract (%s)",
            path.name,
            len(needs_ocr),
            _TESSERACT_HINT,
        )
    return ExtractedDocument(
        text=text,
        kind="pdf",
        pages=page_count,
        title=_title(reader),
        ocr=bool(ocr_pages),
        ocr_pages=tuple(ocr_pages),
        truncated=buffer.truncated,
    )


def _forget_page(reader: PdfReader, index: int) -> None:
    try:
        page = reader.pages[index]
        contents = page.get("/Contents")
    except Exception:  # best effort only: a cache miss is never an error
        return
    refs = contents if isinstance(contents, list) else [contents]
    for ref in refs:
        key = (getattr(ref, "generation", None), getattr(ref, "idnum", None))
        if key[1] is not None:
            reader.resolved_objects.pop(key, None)


def _has_images(page: PageObject) -> bool:
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            return False
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                return True
            if obj.get("/Subtype") == "/Form":
                # Scanners and converters often wrap the scan in a form XObject.
                return True
    except _library_errors():
        return False
    return False


def _page_images(page: PageObject) -> Iterator[Image]:
    for image_file in page.images:
        image = image_file.image
        if image is not None and image.width >= 32 and image.height >= 32:
            yield image


def _ocr_page(path: Path, page: PageObject, number: int, *, command: str, language: str) -> str:
    image_errors: tuple[type[BaseException], ...] = (*_library_errors(), OSError)
    try:
        width_inches = float(page.mediabox.width) / 72.0
        parts = [
            ocr.ocr_image(
                ocr.prepare_image(image, width_inches=width_inches), command=command, language=language
            )
            for image in _page_images(page)
        ]
    except PermanentError as exc:
        raise document_error(path, f"OCR of page {number} failed: {exc}") from exc
    except image_errors as exc:
        # An image pypdf/Pillow cannot decode (e.g. JBIG2 without jbig2dec): skip that page's OCR.
        log.warning("%s: page %d: image not decodable for OCR: %s", path.name, number, exc)
        return ""
    return clean_text("\n\n".join(part for part in parts if part.strip()))


def _title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except _library_errors():
        return None
    if not isinstance(title, str):
        return None
    title = title.strip()
    for prefix in ("Microsoft Word - ", "Microsoft PowerPoint - "):
        if title.startswith(prefix):
            title = title.removeprefix(prefix).rsplit(".", 1)[0]
    # Converters often store the source file name ("Binder1.pdf", "scan_0001"): not a title.
    if (
        not title
        or title.lower() in {"untitled", "title", "document", "slide 1"}
        or len(title) > 300
        or _FILE_NAME_TITLE.match(title)
    ):
        return None
    return title
