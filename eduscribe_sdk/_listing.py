"""A page of jobs, newest first, by one index or by several filters (``Client.list_jobs``)."""

from __future__ import annotations

from ._models import JobRecord, JobStatus
from ._store import Store

__all__ = ["page_of_jobs"]

#: Ids read per step when walking an index for jobs that match more than one filter.
_CHUNK = 500


def page_of_jobs(
    store: Store,
    status: JobStatus | None,
    user_id: str | None,
    batch_id: str | None,
    *,
    page: int,
    limit: int,
) -> list[JobRecord]:
    """Page ``page`` (from 1) of ``limit`` jobs. One filter reads its index's slice; several
    walk the most selective index (batch, else user) and filter, chunk by chunk."""
    if sum(x is not None for x in (status, user_id, batch_id)) <= 1:
        ids = store.list_ids(
            status=status, user_id=user_id, batch_id=batch_id, offset=(page - 1) * limit, limit=limit
        )
        return [r for r in store.get_many(ids, skip_corrupt=True) if r is not None]
    matches: list[JobRecord] = []
    skip, offset = (page - 1) * limit, 0
    while len(matches) < limit:
        ids = store.list_ids(user_id=user_id, batch_id=batch_id, offset=offset, limit=_CHUNK)
        if not ids:
            break
        offset += _CHUNK
        for record in store.get_many(ids, skip_corrupt=True):
            if (
                record is None
                or (status and record.status != status)
                or (user_id and record.user_id != user_id)
            ):
                continue
            if skip:
                skip -= 1
                continue
            matches.append(record)
            if len(matches) == limit:
                break
    return matches
