"""Pieces every extractor shares: the result type, error wording and text clean-up."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ...errors import PermanentError

__all__ = [
    "DocumentKind",
    "ExtractedDocument",
    "Progress",
    "TextBuffer",
    "clean_text",
    "document_error",
]

DocumentKind = Literal["pdf", "docx", "pptx", "html", "txt", "md"]

#: Called with the percentage (0-100) of the extraction that is done. It may raise
#: :class:`~eduscribe_sdk.errors.JobCancelled`; extractors let that through untouched.
Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    """The text of one document, with enough metadata to title and describe it."""

    text: str
    kind: DocumentKind
    #: Pages (PDF) or slides (PPTX); ``None`` for formats without a fixed layout.
    pages: int | None = None
    #: The document's own title (metadata or first heading), if it has one.
    title: str | None = None
    #: True when at least one page's text came from OCR.
    ocr: bool = False
    #: Pages that were OCRed (1-based); empty unless ``ocr``.
    ocr_pages: tuple[int, ...] = ()
    #: True when extraction stopped at the character limit; ``text`` is then the beginning.
    truncated: bool = False

    @property
    def characters(self) -> int:
        return len(self.text)

    def source_metadata(self) -> dict[str, Any]:
        """The short ``source`` dict a processor puts into ``output_data``."""
        meta: dict[str, Any] = {"type": self.kind}
        if self.pages is not None:
            meta["slides" if self.kind == "pptx" else "pages"] = self.pages
        meta["characters"] = self.characters
        meta["ocr"] = self.ocr
        if self.truncated:
            meta["truncated"] = True
        return meta


def document_error(path: Path | str, reason: str) -> PermanentError:
    """A permanent failure that names the file (basename only: paths may be private)."""
    return PermanentError(f"{Path(path).name}: {reason}")


class TextBuffer:
    """Collects text blocks up to a character budget so a huge document cannot exhaust memory."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._parts: list[str] = []
        self._size = 0
        self.truncated = False

    def add(self, block: str) -> bool:
        """Append ``block``; False once the budget is used up (the caller should stop)."""
        if self.truncated:
            return False
        block = block.strip("\n")
        if not block.strip():
            return True
        room = self.max_chars - self._size
        if len(block) > room:
            # Cut at a paragraph or line boundary if one is near, so the last block stays readable.
            cut = block.rfind("\n", 0, room)
            block = block[: cut if cut > room // 2 else room]
            self.truncated = True
        self._parts.append(block)
        self._size += len(block) + 2
        return not self.truncated

    def text(self) -> str:
        return "\n\n".join(self._parts).strip()


_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\u00ad": ""}
)
# A word split by a line-end hyphen ("unterschiedli-\nchem"): join it again, but only when the next
# line starts in lower case, so that "Nord-\nSüd" style compounds and list dashes keep their hyphen.
_HYPHENATED = re.compile(r"(\w)-\n(?=[a-zäöüßàâçéèêëîïôûùüÿñæœ]{2})")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Normalise extracted text: typographic ligatures, soft hyphens, line-end hyphenation, NULs.

    NFC (not NFKC) so that maths symbols and superscripts survive; ligatures are mapped
    explicitly because they break word counts, keyword extraction and language detection.
    """
    text = unicodedata.normalize("NFC", text.translate(_LIGATURES))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n"))
    text = _HYPHENATED.sub(r"\1", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()
