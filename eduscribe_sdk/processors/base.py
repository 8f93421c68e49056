"""What a processor sees: its input, a progress callback and its dependencies' notes.

A processor is a plain function ``(input_data, ctx) -> output_data``. It never touches Redis
or dramatiq, so it can be tested by calling it with a :class:`LocalContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config import Settings
from ..errors import JobCancelled

__all__ = ["JobContext", "LocalContext", "Processor"]


class JobContext(Protocol):
    job_id: str
    title: str | None
    settings: Settings
    #: The dependencies' ``output_data`` in ``depends_on`` order, each with ``id`` and ``title``
    #: added (``output_data`` keys first, so a note's own title wins over the job's).
    dependencies: Sequence[Mapping[str, Any]]

    def progress(self, percent: float, message: str | None = None) -> None:
        """Report progress (0-100). Raises :class:`JobCancelled` once the job was cancelled."""
        ...


Processor = Callable[[Mapping[str, Any], JobContext], dict[str, Any]]


@dataclass
class LocalContext:
    """A context for running a processor directly (tests, notebooks, benchmarks)."""

    job_id: str = "local"
    title: str | None = None
    settings: Settings = field(default_factory=Settings)
    dependencies: Sequence[Mapping[str, Any]] = ()
    cancel_after: float | None = None
    reports: list[tuple[float, str | None]] = field(default_factory=list)

    def progress(self, percent: float, message: str | None = None) -> None:
        self.reports.append((percent, message))
        if self.cancel_after is not None and percent >= self.cancel_after:
            raise JobCancelled(f"job {self.job_id} was cancelled")
