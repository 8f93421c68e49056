"""What a processor sees: its input, a progress callback and its dependencies' notes.

A processor is a plain function ``(input_data, ctx) -> output_data``. It never touches Redis
or dramatiq, so it can be tested by calling it with a :class:`LocalContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._config import Settings
from ..errors import JobCancelled

__all__ = ["JobContext", "LocalContext", "Processor"]


class JobContext(Protocol):
    @property
    def job_id(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def dependencies(self) -> Sequence[Mapping[str, Any]]:
        """The dependencies' ``output_data`` in ``depends_on`` order, each with ``id`` and ``title``."""
        ...

    def progress(self, percent: float, message: str | None = None) -> None:
        """Report progress (0-100).

        In a worker the processor runs in a child process that is killed once the job is
        cancelled, whether or not it reports; :class:`LocalContext` (``cancel_after``) raises
        :class:`JobCancelled` here instead, as the worker's own thread did before.
        """
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
