"""Jupyter widgets: the live progress table, job cards and the queue dashboard.

The only module that imports ipywidgets and IPython (like ``tqdm.notebook``). The table's
state lives in :mod:`eduscribe_sdk._progress`, every HTML and text rendering in
:mod:`eduscribe_sdk._render`; this module adds widgets and the background threads
that feed them. Every object here
also has a text form, so the same calls work in a terminal or a script::

    table = client.progress_table(jobs)   # a live table in Jupyter, a text table elsewhere
    table.wait(timeout=600)               # True once every job finished
    client.dashboard()                    # queue depth, workers, recent jobs; refreshes live
    job_card(client, job)                 # one job, with Cancel and Retry buttons

Updates are pushed: one thread per table reads the store's event stream and redraws at most
every :data:`BATCH_SECONDS`, however many jobs change.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._models import JobEvent, JobRecord, JobStatus
from ._progress import DEFAULT_MAX_ROWS, ProgressModel
from ._render import (
    DashboardData,
    action_error_html,
    dashboard_html,
    dashboard_text,
    job_card_html,
    job_card_text,
    progress_header_html,
    progress_state_html,
    progress_table_html,
    progress_table_text,
    queue_stats_html,
)
from .errors import EduscribeError, JobNotFoundError

if TYPE_CHECKING:
    from ._client import Client, JobHandle

__all__ = [
    "BATCH_SECONDS",
    "Dashboard",
    "JobCard",
    "ProgressTable",
    "dashboard",
    "in_notebook",
    "job_card",
    "job_card_html",
    "progress_table",
    "register_formatters",
]

logger = logging.getLogger("eduscribe.notebook")

#: How often a live widget redraws at most; events in between are applied in one batch.
BATCH_SECONDS = 0.2
#: Queue positions, wait estimates and elapsed times of rows on screen are re-read this often.
POSITION_SECONDS = 1.0
#: Every unfinished job is re-read this often: the event stream is capped, so a burst could
#: push an event out before it is read.
RECONCILE_SECONDS = 5.0
#: ``jobs=None`` watches at most this many of the user's newest jobs.
DEFAULT_JOBS_LIMIT = 2000


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where widgets have a frontend to talk to)."""
    try:
        from IPython.core.getipython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()  # type: ignore[no-untyped-call]
    return shell is not None and getattr(shell, "kernel", None) is not None


def register_formatters(shell: Any) -> None:
    """Show job records, job handles and ``client.stats()`` as HTML in an IPython ``shell``.

    ``import eduscribe_sdk`` calls this when an IPython shell is already running (a Jupyter
    kernel); call it yourself for a shell started later (``register_formatters(get_ipython())``).
    The data classes carry no ``_repr_html_``: their display is registered from here.
    """
    # client.py reaches this module lazily; at call time the package has loaded it anyway.
    from ._handle import JobHandle

    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(JobRecord, job_card_html)
    formatter.for_type(JobHandle, _handle_card_html)
    # By name, so registering does not import pandas; IPython matches it once stats is loaded.
    formatter.for_type_by_name("eduscribe_sdk._stats", "QueueStats", queue_stats_html)


def _handle_card_html(handle: JobHandle) -> str:
    return job_card_html(handle.record)


def _widgets() -> Any:
    import ipywidgets

    return ipywidgets


class _ClosedWatch:
    """Tells whether the client was closed, without a hook into ``Client.close``.

    A closed client still answers when its Redis is external (redis-py reconnects), so a
    background thread could outlive it; closing drops the in-process worker and the embedded
    server, which is what this looks for when the client has no ``closed`` flag.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.had_parts = (
            getattr(client, "_worker", None) is not None or getattr(client, "_server", None) is not None
        )

    def closed(self) -> bool:
        flag = getattr(self.client, "closed", None)
        if isinstance(flag, bool):
            return flag
        if not self.had_parts:
            return False
        return getattr(self.client, "_worker", None) is None and getattr(self.client, "_server", None) is None


class _Live:
    """A daemon thread that calls ``tick`` until it returns False or ``stop`` is called."""

    name = "eduscribe-live"

    def __init__(self, client: Client) -> None:
        self.client = client
        self._closed = _ClosedWatch(client)
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._done.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop updating (the widget keeps its last state)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and not self._closed.closed():
                if not self._tick():
                    break
        except Exception as exc:
            # The client was closed under us or Redis went away: the widget keeps its last
            # state and says why it stopped, rather than a traceback in some later cell.
            self.error = exc
            logger.debug("live update stopped: %s", exc)
        finally:
            self._done.set()
            with contextlib.suppress(Exception):
                self._stopped()

    def _tick(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _stopped(self) -> None:
        """Called once in the thread when it ends."""


class _EventReader:
    """Reads the event stream in batches of :data:`BATCH_SECONDS` from a saved cursor."""

    def __init__(self, client: Client) -> None:
        self.store = client._store  # the SDK's own event stream reader, in batches
        self.cursor = self.store.last_event_id()

    def batch(self, seconds: float, stop: threading.Event) -> list[JobEvent]:
        events: list[JobEvent] = []
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            got = self.store.read_events(self.cursor, block_ms=max(1, int(remaining * 1000)), count=1000)
            if got:
                self.cursor = got[-1].id
                events += got
        return events


def _job_ids(client: Client, jobs: Iterable[JobHandle | JobRecord | str] | None) -> list[str]:
    if jobs is None:
        records = client.list_jobs(user_id=client.user_id, limit=DEFAULT_JOBS_LIMIT)
        unfinished = [r.id for r in records if not r.finished]
        return list(reversed(unfinished or [r.id for r in records[:10]]))
    if isinstance(jobs, str):
        jobs = [jobs]
    return list(dict.fromkeys(j if isinstance(j, str) else j.id for j in jobs))


# Re-running a cell must not leave the previous table's thread running: one per job set.
_TABLES: dict[tuple[str, frozenset[str]], ProgressTable] = {}
_TABLES_LOCK = threading.Lock()


class ProgressTable(_Live):
    """A live table of jobs; a widget in Jupyter, a text table everywhere else.

    ``wait()`` blocks until every job finished, ``refresh()`` re-reads everything now,
    ``stop()`` stops updating; ``model`` holds the rows (see :class:`ProgressModel`).
    """

    name = "eduscribe-progress"

    def __init__(
        self,
        client: Client,
        job_ids: list[str],
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        widget: bool | None = None,
    ) -> None:
        super().__init__(client)
        self.job_ids = job_ids
        # The cursor is taken before the first read, so no change between the two is lost.
        self._events = _EventReader(client)
        self._lock = threading.Lock()
        records = client.get_jobs(job_ids)
        missing = [i for i, r in zip(job_ids, records, strict=True) if r is None]
        if missing:
            raise JobNotFoundError(missing[0])
        self.model = ProgressModel([r for r in records if r is not None], max_rows=max_rows)
        self._estimate_wait()
        self._rendered_version = -1
        #: Redraws so far (each is one widget update sent to the browser).
        self.draws = 0
        self.widget: Any = None
        if in_notebook() if widget is None else widget:
            w = _widgets()
            self._header = w.HTML(progress_header_html(self.model))
            self._table = w.HTML(progress_table_html(self.model))
            self._state = w.HTML(self._state_html())
            self.widget = w.VBox([self._header, self._table, self._state])
            self.widget.add_class("eduscribe-progress-table")
        self._last_positions = self._last_reconcile = self._last_draw = time.monotonic()

    # --- public ------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job finished (True) or ``timeout`` seconds passed (False)."""
        if not self.running and not self.model.finished:
            self.refresh()
            if not self.model.finished:
                self.start()
        self._done.wait(timeout)
        return self.model.finished

    def refresh(self) -> ProgressTable:
        """Re-read every job now and redraw."""
        records = self.client.get_jobs(self.job_ids)
        with self._lock:
            self.model.update_records(records)
        self._estimate_wait()
        self._draw(force=True)
        return self

    def text(self) -> str:
        with self._lock:
            return progress_table_text(self.model)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.widget is not None:
            bundle: dict[str, Any] = self.widget._repr_mimebundle_(include=include, exclude=exclude)
            return bundle
        return {"text/plain": self.text()}

    # --- the updater -------------------------------------------------------------------
    def _tick(self) -> bool:
        events = self._events.batch(BATCH_SECONDS, self._stop)
        now = time.monotonic()
        with self._lock:
            touched = self.model.apply_events(events)
            on_screen = [row.id for row in self.model.visible()]
        reread = set(touched) & set(on_screen)
        estimate = False
        if now - self._last_positions >= POSITION_SECONDS:
            with self._lock:
                reread |= {i for i in on_screen if not self.model.rows[i].status.finished}
            self._last_positions, estimate = now, True
        if now - self._last_reconcile >= RECONCILE_SECONDS:
            with self._lock:
                reread |= set(self.model.unfinished_ids())
            self._last_reconcile = now
        if reread:
            records = self.client.get_jobs(sorted(reread))
            with self._lock:
                self.model.update_records(records)
        if estimate:
            self._estimate_wait()
        finished = self.model.finished
        # Elapsed times move even when nothing else does: redraw at least once a second.
        self._draw(force=finished or now - self._last_draw >= POSITION_SECONDS)
        return not finished

    def _estimate_wait(self) -> None:
        from ._stats import estimated_wait_seconds  # pandas is imported only if a wait is shown

        with self._lock:
            queued = any(r.status is JobStatus.QUEUED for r in self.model.rows.values())
        if not queued:
            return
        snapshot = self.client._store.stats_snapshot(recent=0)
        with self._lock:
            self.model.set_wait_estimates(lambda position: estimated_wait_seconds(snapshot, position))

    def _state_html(self) -> str:
        return progress_state_html(error=self.error, finished=self.model.finished, running=self.running)

    def _draw(self, *, force: bool = False) -> None:
        if self.widget is None:
            return
        with self._lock:
            if not force and self.model.version == self._rendered_version:
                return
            self._rendered_version = self.model.version
            header, table = progress_header_html(self.model), progress_table_html(self.model)
        self._header.value = header
        self._table.value = table
        self._state.value = self._state_html()
        self._last_draw = time.monotonic()
        self.draws += 1

    def _stopped(self) -> None:
        self._draw(force=True)
        if self.widget is not None:
            self._state.value = self._state_html()


def progress_table(
    client: Client,
    jobs: Iterable[JobHandle | JobRecord | str] | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    widget: bool | None = None,
) -> ProgressTable:
    """A live progress table for ``jobs`` (handles, records or ids).

    ``jobs=None`` shows the client user's unfinished jobs (or, if none, their ten newest).
    Showing the same jobs again (re-running the cell) stops the previous table's updates.
    ``widget`` forces the widget (True) or the text table (False); default: widget in Jupyter.
    """
    ids = _job_ids(client, jobs)
    table = ProgressTable(client, ids, max_rows=max_rows, widget=widget)
    key = (client.url, frozenset(ids))
    with _TABLES_LOCK:
        old = _TABLES.pop(key, None)
        for stale in [k for k, t in _TABLES.items() if not t.running]:
            del _TABLES[stale]
        _TABLES[key] = table
    if old is not None:
        old.stop()
    if not table.model.finished:
        table.start()
    return table


# --- job cards -----------------------------------------------------------------------------
class JobCard(_Live):
    """One job as a card with Cancel, Retry and Refresh buttons; follows the job live."""

    name = "eduscribe-card"

    def __init__(self, client: Client, record: JobRecord, *, widget: bool | None = None) -> None:
        super().__init__(client)
        self.record = record
        self._events = _EventReader(client)
        self._last_read = time.monotonic()
        self.widget: Any = None
        if in_notebook() if widget is None else widget:
            w = _widgets()
            self._html = w.HTML(job_card_html(record))
            self.cancel_button = w.Button(description="Cancel", icon="stop", button_style="warning")
            self.retry_button = w.Button(description="Retry", icon="redo", button_style="info")
            self.refresh_button = w.Button(description="Refresh", icon="refresh")
            self._message = w.HTML("")
            self.cancel_button.on_click(lambda _: self._act(self.cancel))
            self.retry_button.on_click(lambda _: self._act(self.retry))
            self.refresh_button.on_click(lambda _: self._act(self.refresh))
            buttons = w.HBox([self.cancel_button, self.retry_button, self.refresh_button, self._message])
            self.widget = w.VBox([self._html, buttons])
            self.widget.add_class("eduscribe-job-card")
        self._show()

    def cancel(self) -> None:
        self.client.cancel(self.record.id)
        self.refresh()

    def retry(self) -> None:
        self.client.retry(self.record.id)
        self._events = _EventReader(self.client)
        self.refresh()
        self.start()

    def refresh(self) -> JobCard:
        self.record = self.client.get_job(self.record.id)
        self._last_read = time.monotonic()
        self._show()
        return self

    def _act(self, action: Callable[[], object]) -> None:
        # A button callback's exception would vanish into the kernel log: show it on the card.
        try:
            action()
            self._note("")
        except EduscribeError as exc:
            self._note(action_error_html(exc))

    def _note(self, text: str) -> None:
        if self.widget is not None:
            self._message.value = text

    def _show(self) -> None:
        if self.widget is None:
            return
        self._html.value = job_card_html(self.record)
        status = self.record.status
        self.cancel_button.disabled = status.finished
        self.retry_button.disabled = status not in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED)

    def _tick(self) -> bool:
        events = self._events.batch(BATCH_SECONDS, self._stop)
        now = time.monotonic()
        # Its own events redraw at once; otherwise once a second, for the running time.
        if any(e.job_id == self.record.id for e in events) or now - self._last_read >= POSITION_SECONDS:
            self.refresh()
        return not self.record.finished

    def __repr__(self) -> str:
        return job_card_text(self.record)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.widget is not None:
            bundle: dict[str, Any] = self.widget._repr_mimebundle_(include=include, exclude=exclude)
            return bundle
        return {"text/plain": repr(self), "text/html": job_card_html(self.record)}


def job_card(client: Client, job: JobHandle | JobRecord | str, *, widget: bool | None = None) -> JobCard:
    """A card for one job with Cancel and Retry buttons, updating until the job finished."""
    record = client.get_job(job if isinstance(job, str) else job.id)
    card = JobCard(client, record, widget=widget)
    if not record.finished:
        card.start()
    return card


# --- dashboard -----------------------------------------------------------------------------
_DASHBOARDS: dict[str, Dashboard] = {}


class Dashboard(_Live):
    """Queue depth per tier, processing count, estimated wait, workers and recent jobs."""

    name = "eduscribe-dashboard"

    def __init__(self, client: Client, *, interval: float = 1.0, widget: bool | None = None) -> None:
        super().__init__(client)
        self.interval = interval
        self.data = self._read()
        self.widget: Any = None
        if in_notebook() if widget is None else widget:
            self.widget = _widgets().HTML(dashboard_html(self.data))
            self.widget.add_class("eduscribe-dashboard")

    def refresh(self) -> Dashboard:
        self.data = self._read()
        if self.widget is not None:
            self.widget.value = dashboard_html(self.data)
        return self

    def _read(self) -> DashboardData:
        stats = self.client.stats()
        workers = self.client.workers()
        return DashboardData(
            totals=stats.totals,
            queue=stats.queue,
            tiers=[
                {str(k): v for k, v in row.items()} for row in stats.frame.reset_index().to_dict("records")
            ],
            workers=[{str(k): v for k, v in row.items()} for row in workers.to_dict("records")],
            at=datetime.now(UTC),
        )

    def _tick(self) -> bool:
        if self._stop.wait(self.interval):
            return False
        self.refresh()
        return True

    def __repr__(self) -> str:
        return dashboard_text(self.data)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.widget is not None:
            bundle: dict[str, Any] = self.widget._repr_mimebundle_(include=include, exclude=exclude)
            return bundle
        return {"text/plain": repr(self), "text/html": dashboard_html(self.data)}


def dashboard(client: Client, *, interval: float = 1.0, widget: bool | None = None) -> Dashboard:
    """The queue dashboard; in Jupyter it refreshes every ``interval`` seconds until stopped."""
    board = Dashboard(client, interval=interval, widget=widget)
    old = _DASHBOARDS.pop(client.url, None)
    if old is not None:
        old.stop()
    if board.widget is not None:
        _DASHBOARDS[client.url] = board
        board.start()
    return board
