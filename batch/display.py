"""The live view while a batch runs: rich on a terminal, plain lines elsewhere (CI, pipes, logs).

The only module that imports rich. Both views take the same updates: the batch's records in
row order, as :func:`batch.runner.wait_for` reads them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any, Protocol

from eduscribe_sdk import JobRecord, JobStatus

__all__ = ["Display", "PlainDisplay", "RichDisplay", "open_display"]

_ORDER = [s.value for s in JobStatus]
_STYLE = {
    "waiting": "dim",
    "queued": "cyan",
    "processing": "yellow",
    "retrying": "magenta",
    "completed": "green",
    "failed": "red",
    "cancelled": "red",
    "skipped": "red",
}
MAX_RUNNING_SHOWN = 8


class Display(Protocol):
    def update(self, records: Sequence[JobRecord | None]) -> None: ...

    def close(self) -> None: ...


def _counts(records: Sequence[JobRecord | None]) -> Counter[str]:
    return Counter(r.status.value if r else "missing" for r in records)


def _running(row_ids: Sequence[str], records: Sequence[JobRecord | None]) -> list[tuple[str, JobRecord]]:
    return [
        (row_id, r)
        for row_id, r in zip(row_ids, records, strict=True)
        if r is not None and r.status is JobStatus.PROCESSING
    ]


class PlainDisplay:
    """One line per change, at most every ``interval_s`` seconds, and a last line at the end."""

    def __init__(self, row_ids: Sequence[str], stream: IO[str], *, interval_s: float = 2.0) -> None:
        self.row_ids = list(row_ids)
        self.stream = stream
        self.interval_s = interval_s
        self._last_line = ""
        self._last_at = 0.0
        self._pending = ""

    def _line(self, records: Sequence[JobRecord | None]) -> str:
        counts = _counts(records)
        finished = sum(1 for r in records if r is not None and r.finished)
        parts = ", ".join(f"{status} {counts[status]}" for status in _ORDER if counts[status])
        running = _running(self.row_ids, records)
        shown = ", ".join(f"{row_id} {r.progress}%" for row_id, r in running[:MAX_RUNNING_SHOWN])
        more = f" (+{len(running) - MAX_RUNNING_SHOWN})" if len(running) > MAX_RUNNING_SHOWN else ""
        tail = f" | running: {shown}{more}" if running else ""
        return f"[{finished}/{len(records)}] {parts}{tail}"

    def update(self, records: Sequence[JobRecord | None]) -> None:
        line = self._line(records)
        if line == self._last_line:
            return
        now = time.monotonic()
        if now - self._last_at < self.interval_s:
            self._pending = line
            return
        self._emit(line, now)

    def _emit(self, line: str, now: float) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._last_line, self._last_at, self._pending = line, now, ""

    def close(self) -> None:
        if self._pending and self._pending != self._last_line:
            self._emit(self._pending, time.monotonic())


class RichDisplay:
    """A progress bar, counts per status and the rows running now, redrawn in place."""

    def __init__(self, row_ids: Sequence[str], stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.row_ids = list(row_ids)
        self.console = Console(file=stream, stderr=stream is None)
        self.progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.task = self.progress.add_task("batch", total=len(self.row_ids))
        self.live = Live(self._render([]), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _render(self, records: Sequence[JobRecord | None]) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        counts = _counts(records)
        summary = Text()
        for status in _ORDER:
            if counts[status]:
                summary.append(f"{status} {counts[status]}  ", style=_STYLE.get(status, ""))
        running = _running(self.row_ids, records) if records else []
        parts: list[Any] = [self.progress, summary]
        if running:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            table.add_column("running")
            table.add_column("type")
            table.add_column("progress", justify="right")
            for row_id, record in running[:MAX_RUNNING_SHOWN]:
                table.add_row(row_id, record.job_type.value, f"{record.progress}%")
            if len(running) > MAX_RUNNING_SHOWN:
                table.add_row(f"... {len(running) - MAX_RUNNING_SHOWN} more", "", "")
            parts.append(table)
        return Group(*parts)

    def update(self, records: Sequence[JobRecord | None]) -> None:
        finished = sum(1 for r in records if r is not None and r.finished)
        self.progress.update(self.task, completed=finished)
        self.live.update(self._render(records))

    def close(self) -> None:
        self.live.stop()


def open_display(row_ids: Sequence[str], stream: IO[str], *, live: bool | None = None) -> Display:
    """``RichDisplay`` when ``stream`` is a terminal (or ``live=True``), else ``PlainDisplay``."""
    if live is None:
        live = stream.isatty()
    if live:
        return RichDisplay(row_ids, stream)
    return PlainDisplay(row_ids, stream)
