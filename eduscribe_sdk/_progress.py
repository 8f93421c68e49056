"""State of a live progress table: rows, their order, counts and what changed. No display.

:mod:`eduscribe_sdk.notebook` feeds a :class:`ProgressModel` with job records and events;
:mod:`eduscribe_sdk._render` turns it into HTML (an ipywidgets HTML widget in Jupyter)
or a text table. Keeping the state apart lets it be tested without a kernel or a renderer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ._models import JobEvent, JobRecord, JobStatus
from .errors import InvalidInputError

__all__ = ["DEFAULT_MAX_ROWS", "ProgressModel", "Row"]

#: Rows drawn before the rest is folded into one summary line; 1,000 table rows would make
#: every update re-layout the notebook.
DEFAULT_MAX_ROWS = 50

# When rows are capped, the ones a person is watching come first: running work, then
# failures (they need action), then the line ahead; finished rows fold into the summary.
_INTEREST = {
    JobStatus.PROCESSING: 0,
    JobStatus.RETRYING: 1,
    JobStatus.FAILED: 2,
    JobStatus.QUEUED: 3,
    JobStatus.WAITING: 4,
    JobStatus.CANCELLED: 5,
    JobStatus.SKIPPED: 6,
    JobStatus.COMPLETED: 7,
}


@dataclass(slots=True)
class Row:
    """One job as the table shows it; mutable so events can update it in place."""

    id: str
    label: str
    job_type: str
    priority: str
    status: JobStatus
    progress: int
    position: int | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    error: str | None
    estimated_wait_s: float | None = None

    @classmethod
    def from_record(cls, record: JobRecord) -> Row:
        return cls(
            id=record.id,
            label=record.title or record.id,
            job_type=record.job_type.value,
            priority=record.priority.value,
            status=record.status,
            progress=record.progress,
            position=record.queue_position,
            created_at=record.created_at,
            started_at=record.started_at,
            completed_at=record.completed_at,
            updated_at=record.updated_at,
            error=record.error_message,
        )

    def elapsed_s(self, now: datetime) -> float:
        """From creation until it finished (or until now): what the person has waited."""
        end = self.completed_at if self.status.finished and self.completed_at else now
        return max(0.0, (end - self.created_at).total_seconds())


class ProgressModel:
    """Rows for a fixed set of jobs, updated from records (authoritative) and events (cheap)."""

    def __init__(self, records: Sequence[JobRecord], *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        # bool is an int, but max_rows=True is a mistake, not a one-row table.
        if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
            raise InvalidInputError(
                f"must be a whole number of at least 1, got {max_rows!r}", field="max_rows"
            )
        self.max_rows = max_rows
        self.order: list[str] = []
        self.rows: dict[str, Row] = {}
        for record in records:
            if record.id not in self.rows:
                self.order.append(record.id)
                self.rows[record.id] = Row.from_record(record)
        self._index = {job_id: i for i, job_id in enumerate(self.order)}
        self.version = 0

    # --- updates ---------------------------------------------------------------------
    def update_records(self, records: Iterable[JobRecord | None]) -> bool:
        """Replace rows with fresh records; True when anything the table shows changed."""
        changed = False
        for record in records:
            if record is None or record.id not in self.rows:
                continue
            old, new = self.rows[record.id], Row.from_record(record)
            if new.status is JobStatus.QUEUED and new.position == old.position:
                new.estimated_wait_s = old.estimated_wait_s
            if new != old:
                self.rows[record.id] = new
                changed = True
        if changed:
            self.version += 1
        return changed

    def apply_events(self, events: Iterable[JobEvent]) -> set[str]:
        """Take status and progress from events; returns the ids of our jobs they touched.

        An event carries no error message or position, so the caller re-reads the records of
        touched rows that are on screen; the counts in the header need no read at all.
        """
        touched: set[str] = set()
        for event in events:
            row = self.rows.get(event.job_id)
            if row is None:
                continue
            touched.add(event.job_id)
            if event.at < row.updated_at:
                continue  # an older event than the record we already hold
            if event.status is not None:
                if event.status is JobStatus.PROCESSING and row.started_at is None:
                    row.started_at = event.at
                if event.status.finished and not row.status.finished:
                    row.completed_at = event.at
                row.status = event.status
                if event.status is not JobStatus.QUEUED:
                    row.position = row.estimated_wait_s = None
            if event.progress is not None:
                row.progress = event.progress
            row.updated_at = event.at
        if touched:
            self.version += 1
        return touched

    def set_wait_estimates(self, estimate: Callable[[int], float]) -> None:
        """Estimated wait for every queued row with a known position (seconds)."""
        changed = False
        for row in self.rows.values():
            queued = row.status is JobStatus.QUEUED and row.position is not None
            wait = estimate(row.position) if queued and row.position is not None else None
            if wait != row.estimated_wait_s:
                row.estimated_wait_s = wait
                changed = True
        if changed:
            self.version += 1

    # --- queries ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return all(row.status.finished for row in self.rows.values())

    def counts(self) -> Counter[JobStatus]:
        return Counter(row.status for row in self.rows.values())

    def unfinished_ids(self) -> list[str]:
        return [job_id for job_id in self.order if not self.rows[job_id].status.finished]

    def visible(self) -> list[Row]:
        """Every row in submission order, or, past ``max_rows``, the most interesting ones."""
        if len(self.order) <= self.max_rows:
            return [self.rows[job_id] for job_id in self.order]

        def key(row: Row) -> tuple[int, int, int]:
            position = row.position if row.position is not None else 1 << 30
            return (_INTEREST[row.status], position, self._index[row.id])

        chosen = sorted(self.rows.values(), key=key)[: self.max_rows]
        return sorted(chosen, key=lambda row: self._index[row.id])

    def hidden_counts(self) -> Counter[JobStatus]:
        """Statuses of the rows :meth:`visible` leaves out; empty while every row fits."""
        if len(self.order) <= self.max_rows:
            return Counter()
        shown = {row.id for row in self.visible()}
        return Counter(row.status for row in self.rows.values() if row.id not in shown)
