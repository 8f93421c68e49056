"""State of a live progress table, with no widget library: rows, batching and rendering.

:mod:`eduscribe_sdk.notebook` feeds a :class:`ProgressModel` with job records and events and
puts :meth:`ProgressModel.render_html` into an ipywidgets HTML widget; outside Jupyter the same
model prints as a text table. Keeping the state here lets it be tested without a kernel.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import JobEvent, JobRecord, JobStatus

__all__ = [
    "DEFAULT_MAX_ROWS",
    "STATUS_STYLES",
    "ProgressModel",
    "Row",
    "StatusStyle",
    "format_duration",
    "status_badge_html",
]

#: Rows drawn before the rest is folded into one summary line; 1,000 table rows would make
#: every update re-layout the notebook.
DEFAULT_MAX_ROWS = 50


@dataclass(frozen=True, slots=True)
class StatusStyle:
    icon: str
    colour: str


# Narrow (single-cell) symbols, so the text table stays aligned in a terminal.
STATUS_STYLES: dict[JobStatus, StatusStyle] = {
    JobStatus.WAITING: StatusStyle("◔", "#8d8d8d"),
    JobStatus.QUEUED: StatusStyle("○", "#1e88e5"),
    JobStatus.PROCESSING: StatusStyle("▶", "#f57c00"),
    JobStatus.RETRYING: StatusStyle("↻", "#8e24aa"),
    JobStatus.COMPLETED: StatusStyle("✔", "#2e7d32"),
    JobStatus.FAILED: StatusStyle("✖", "#d32f2f"),
    JobStatus.CANCELLED: StatusStyle("⊘", "#616161"),
    JobStatus.SKIPPED: StatusStyle("↷", "#9e9e9e"),
}

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


def format_duration(seconds: float | None) -> str:
    """``"4.2s"``, ``"3m 05s"``, ``"2h 07m"``; ``""`` for unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def status_badge_html(status: JobStatus) -> str:
    style = STATUS_STYLES[status]
    return (
        f'<span class="eduscribe-status eduscribe-{status.value}" style="color:{style.colour};'
        f'font-weight:600;white-space:nowrap">{style.icon} {status.value}</span>'
    )


def progress_bar_html(percent: int, status: JobStatus) -> str:
    colour = STATUS_STYLES[status].colour
    percent = max(0, min(100, percent))
    return (
        '<div style="display:inline-block;width:110px;height:10px;background:#e0e0e0;'
        'border-radius:5px;overflow:hidden;vertical-align:middle">'
        f'<div style="width:{percent}%;height:100%;background:{colour}"></div></div>'
        f' <span style="font-variant-numeric:tabular-nums">{percent}%</span>'
    )


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
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
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

    def hidden_summary(self) -> str | None:
        """``"… and 950 more (800 completed, 150 queued)"`` when rows are capped."""
        if len(self.order) <= self.max_rows:
            return None
        shown = {row.id for row in self.visible()}
        hidden = Counter(row.status for row in self.rows.values() if row.id not in shown)
        parts = ", ".join(f"{n} {status.value}" for status, n in _by_status(hidden))
        return f"… and {sum(hidden.values())} more ({parts})"

    def header_text(self) -> str:
        counts = self.counts()
        total = len(self.rows)
        done = sum(n for status, n in counts.items() if status.finished)
        parts = " · ".join(f"{STATUS_STYLES[s].icon} {n} {s.value}" for s, n in _by_status(counts))
        state = "finished" if done == total else f"{done}/{total} finished"
        return f"{total} job{'s' if total != 1 else ''}, {state} — {parts}" if total else "no jobs"

    # --- rendering -------------------------------------------------------------------
    def render_text(self, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        header = ["", "job", "type", "priority", "status", "progress", "pos", "est. wait", "elapsed", "error"]
        lines = [header]
        for row in self.visible():
            filled = row.progress // 10
            lines.append(
                [
                    STATUS_STYLES[row.status].icon,
                    _clip(row.label, 32),
                    row.job_type,
                    row.priority,
                    row.status.value,
                    f"[{'#' * filled}{'.' * (10 - filled)}] {row.progress:3d}%",
                    "" if row.position is None else str(row.position),
                    format_duration(row.estimated_wait_s),
                    format_duration(row.elapsed_s(now)),
                    _clip(row.error or "", 60),
                ]
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        out = [self.header_text()]
        out += [
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines
        ]
        summary = self.hidden_summary()
        if summary:
            out.append(summary)
        return "\n".join(out)

    def render_header_html(self) -> str:
        counts = self.counts()
        chips = "".join(
            f'<span style="margin-right:14px">{status_badge_html(s)} <b>{n}</b></span>'
            for s, n in _by_status(counts)
        )
        total = len(self.rows)
        done = sum(n for status, n in counts.items() if status.finished)
        return (
            '<div class="eduscribe-progress-header" style="font-family:var(--jp-ui-font-family,sans-serif);'
            'margin:4px 0">'
            f"<b>EduScribe jobs</b> — {done}/{total} finished &nbsp; {chips}</div>"
        )

    def render_html(self, now: datetime | None = None) -> str:
        """The table (without the header): one HTML string, so one widget update per batch."""
        now = now or datetime.now(UTC)
        cells = "padding:2px 8px;text-align:left;border-bottom:1px solid #eee"
        head = "".join(
            f'<th style="{cells}">{h}</th>'
            for h in (
                "job",
                "type",
                "priority",
                "status",
                "progress",
                "position",
                "est. wait",
                "elapsed",
                "error",
            )
        )
        body = []
        for row in self.visible():
            body.append(
                f'<tr class="eduscribe-row" data-job-id="{html.escape(row.id)}" '
                f'data-status="{row.status.value}">'
                f'<td style="{cells}" title="{html.escape(row.id)}">{html.escape(_clip(row.label, 48))}</td>'
                f'<td style="{cells}">{row.job_type}</td>'
                f'<td style="{cells}">{row.priority}</td>'
                f'<td style="{cells}">{status_badge_html(row.status)}</td>'
                f'<td style="{cells}">{progress_bar_html(row.progress, row.status)}</td>'
                f'<td style="{cells}">{"" if row.position is None else row.position}</td>'
                f'<td style="{cells}">{format_duration(row.estimated_wait_s)}</td>'
                f'<td style="{cells}">{format_duration(row.elapsed_s(now))}</td>'
                f'<td style="{cells};color:#d32f2f">{html.escape(_clip(row.error or "", 120))}</td>'
                "</tr>"
            )
        summary = self.hidden_summary()
        foot = (
            f'<tr><td colspan="9" style="{cells};color:#666;font-style:italic">'
            f"{html.escape(summary)}</td></tr>"
            if summary
            else ""
        )
        return (
            '<table class="eduscribe-progress" style="border-collapse:collapse;font-size:13px">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}{foot}</tbody></table>"
        )


def _by_status(counts: Counter[JobStatus]) -> list[tuple[JobStatus, int]]:
    return [(status, counts[status]) for status in JobStatus if counts.get(status)]


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
