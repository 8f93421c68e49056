"""The input of every note generator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["NoteSource", "SourceKind"]

SourceKind = Literal["text", "document", "transcript", "course"]


@dataclass(frozen=True, slots=True)
class NoteSource:
    text: str
    title: str | None = None
    #: Requested language (ISO 639-1) or None/"auto" to detect it from ``text``.
    language: str | None = None
    generate_quiz: bool = False
    prompt: str | None = None
    kind: SourceKind = "text"
    #: Notes of the jobs this one depends on (``output_data`` dicts with ``id`` and ``title``).
    prior_notes: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
