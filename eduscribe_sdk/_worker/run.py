"""One attempt of one job on this worker, as the processor sees it (its :class:`JobContext`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._config import Settings
from .._store import Started, Store
from ..errors import JobCancelled, RedisUnavailableError
from .outage import ProgressOutage

__all__ = ["JobRun"]


@dataclass
class JobRun:
    """One attempt of one job on this worker; also the processor's :class:`JobContext`.

    The lifecycle middleware creates it once the attempt is claimed; the actor gets it as
    its argument and leaves the processor's output in ``output`` for the middleware to record.
    """

    started: Started
    store: Store
    worker_id: str
    settings: Settings
    output: object = None
    _last_percent: int = -1
    _last_report: float = field(default=0.0)
    _outage: ProgressOutage = field(default_factory=ProgressOutage)

    @property
    def job_id(self) -> str:
        return self.started.id

    @property
    def title(self) -> str | None:
        return self.started.title

    @property
    def dependencies(self) -> Sequence[Mapping[str, Any]]:
        return self.started.dependencies

    def progress(self, percent: float, message: str | None = None) -> None:
        value = max(0, min(100, int(percent)))
        if value == 100:
            # Completion records 100 a moment later in the same step as the result; a report
            # here would cost a round trip per job for nothing a watcher could act on.
            return
        now = time.monotonic()
        # One round trip per whole percent at most, but at least a cancellation check a second.
        if value == self._last_percent and now - self._last_report < 1.0:
            return
        if self._outage.dropping():
            return
        self._last_percent, self._last_report = value, now
        self._report(value)

    def check_still_wanted(self) -> None:
        """Raise :class:`JobCancelled` once the job was cancelled or another attempt owns it.

        For processors that report nothing for a while: the percent last written again, which
        progress.lua answers without writing (an unchanged percent is only read).
        """
        if not self._outage.dropping():
            self._report(max(0, self._last_percent))

    def _report(self, percent: int) -> None:
        try:
            verdict = self.store.report_progress(self.job_id, self.started.attempt, percent, self.worker_id)
        except RedisUnavailableError as exc:
            # Progress is advice: an outage must not fail (and so re-run) the job; see outage.py.
            self._outage.failed(self.job_id, exc)
            return
        self._outage.recovered()
        if verdict != "ok":
            raise JobCancelled(
                f"job {self.job_id} was cancelled"
                if verdict == "cancelled"
                else f"job {self.job_id} is no longer owned by this attempt"
            )
