"""Waiting for jobs and following their events: both read the event stream, never poll rows.

``Client.wait_all`` and ``Client.watch`` check their arguments and call these.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from ._models import JobEvent, JobRecord, JobStatus
from ._store import Store
from .errors import JobFailed, JobNotFoundError, JobTimeout

__all__ = ["follow", "records_of", "wait_for"]


def records_of(store: Store, ids: Sequence[str]) -> list[JobRecord]:
    """The records of ``ids``, in order; JobNotFoundError names the first missing one."""
    found = store.get_many(ids)
    for job_id, record in zip(ids, found, strict=True):
        if record is None:
            raise JobNotFoundError(job_id)
    return [r for r in found if r is not None]


def wait_for(
    store: Store, ids: Sequence[str], timeout: float | None, *, raise_on_failure: bool
) -> list[JobRecord]:
    deadline = None if timeout is None else time.monotonic() + timeout
    cursor = store.last_event_id()
    records = {r.id: r for r in records_of(store, ids)}
    pending = {i for i, r in records.items() if not r.finished}
    last_full_check = time.monotonic()
    while pending:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise JobTimeout(
                sorted(pending)[0] if len(pending) == 1 else f"{len(pending)} jobs", timeout or 0
            )
        block = 1000 if remaining is None else max(1, int(min(remaining, 1.0) * 1000))
        events = store.read_events(cursor, block_ms=block)
        touched = set()
        if events:
            cursor = events[-1].id
            touched = {e.job_id for e in events if e.job_id in pending and e.status and e.status.finished}
        # The stream is capped: re-read everything now and then so no event can be missed.
        if time.monotonic() - last_full_check > 5:
            touched, last_full_check = set(pending), time.monotonic()
        if touched:
            for record in records_of(store, sorted(touched)):
                records[record.id] = record
                if record.finished:
                    pending.discard(record.id)
    result = [records[i] for i in ids]
    if raise_on_failure:
        for record in result:
            if record.status is not JobStatus.COMPLETED:
                raise JobFailed(record)
    return result


def follow(store: Store, wanted: set[str] | None, since: str, timeout: float | None) -> Iterator[JobEvent]:
    unfinished = set(wanted or ())
    cursor = store.last_event_id() if since == "$" else since
    quiet_since = time.monotonic()
    while True:
        events = store.read_events(cursor, block_ms=500)
        for event in events:
            cursor = event.id
            if wanted is None or event.job_id in wanted:
                quiet_since = time.monotonic()
                yield event
                if event.status and event.status.finished:
                    unfinished.discard(event.job_id)
        if not events and unfinished:
            # Caught up with the stream: a job that finished before we looked (or whose
            # events were trimmed) ends the watch too.
            unfinished -= {r.id for r in records_of(store, sorted(unfinished)) if r.finished}
        if wanted is not None and not unfinished:
            return
        if timeout is not None and time.monotonic() - quiet_since > timeout:
            return
