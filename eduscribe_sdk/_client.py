"""The SDK's front door: :class:`Client` (its :class:`JobHandle` lives in ``_handle.py``)."""

from __future__ import annotations

import functools
import getpass
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from . import _control
from ._auth import ApiKeys
from ._config import Settings
from ._control import WorkerInfo
from ._creation import JobSpec
from ._dag import topological_order
from ._embedded import EmbeddedServer
from ._handle import JobHandle
from ._inputs import Inputs
from ._listing import page_of_jobs
from ._models import JobEvent, JobRecord, JobStatus, JobType, Priority, Tier
from ._store import Store, connect
from ._validation import (
    check_count,
    check_event_id,
    check_flag,
    check_id,
    check_id_list,
    check_ids,
    check_seconds,
    check_spec,
    check_string,
    check_timeout,
    normalize_input,
    normalize_title,
    parse_job_type,
    parse_status,
)
from ._waiting import follow, wait_for
from .errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from ._stats import QueueStats
    from ._worker import InProcessWorker

__all__ = ["Client", "JobHandle"]


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # getuser raises several types when no name can be found
        return "anonymous"


class Client:
    """Talks to one EduScribe deployment, or runs an embedded one.

    ``Client()`` with no URL (and no ``EDUSCRIBE_REDIS_URL``) starts an embedded Redis in
    ``EDUSCRIBE_HOME`` and ``WORKER_MAX_CONCURRENT_JOBS`` in-process worker threads. With a
    URL it only talks to the deployment; pass ``workers=N`` to also run N job slots here.
    Use it as a context manager (or call :meth:`close`) to stop what it started.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        user_id: str | None = None,
        workers: int | None = None,
        settings: Settings | None = None,
        prefix: str = "eduscribe",
    ) -> None:
        if settings is not None and not isinstance(settings, Settings):
            raise InvalidInputError(f"must be a Settings, got {type(settings).__name__}", field="settings")
        if url is not None:
            check_string(url, "url", limit=4096)
        if workers is not None:
            check_count(workers, "workers", high=1024)
        check_id(prefix, "prefix")
        self.settings = settings or Settings.from_env()
        self.user_id = check_id(user_id, "user_id") if user_id is not None else _default_user()
        self._server: EmbeddedServer | None = None
        self._worker: InProcessWorker | None = None
        self.closed = False
        self._wait_rate: tuple[float, float] = (float("-inf"), 0.0)
        url = url or self.settings.redis_url
        if url is None:
            self._server = EmbeddedServer(self.settings.home)
            url = self._server.start()
            if workers is None:
                workers = self.settings.worker_threads
        self.settings = replace(self.settings, redis_url=url)
        try:
            self._store = Store(connect(url, settings=self.settings), settings=self.settings, prefix=prefix)
            self._inputs = Inputs(self._store, self.settings)
            self._store.ping()
            if workers:
                from ._worker import InProcessWorker

                self._worker = InProcessWorker(self._store, settings=self.settings, threads=workers)
                self._worker.start()
        except BaseException:
            self.close()
            raise

    # --- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop in-process workers and the embedded server this client started."""
        self.closed = True
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        store = getattr(self, "_store", None)
        if store is not None:
            store.redis.close()
            store.redis.connection_pool.disconnect()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        return self._store.url

    @property
    def embedded(self) -> bool:
        return self._server is not None

    @property
    def worker_id(self) -> str | None:
        """The id of this client's in-process worker, if it runs one."""
        return self._worker.worker_id if self._worker else None

    # --- users ---------------------------------------------------------------------------
    def set_user_tier(self, user_id: str, tier: Tier | str) -> None:
        self._store.set_user_tier(check_id(user_id, "user_id"), tier)

    def user_tier(self, user_id: str | None = None) -> Tier:
        return self._store.user_tier(self.user_id if user_id is None else check_id(user_id, "user_id"))

    def user_tiers(self) -> dict[str, Tier]:
        """Every user with a stored tier (the others are ``free``)."""
        return self._store.user_tiers()

    @functools.cached_property
    def api_keys(self) -> ApiKeys:
        """The web service's API keys: ``create``, ``list``, ``revoke``, ``authenticate``."""
        return ApiKeys(self._store)

    # --- creating jobs -------------------------------------------------------------------
    def prepare_job(
        self,
        job_type: JobType | str,
        input_data: Mapping[str, Any] | None,
        *,
        id: str = "",
        priority: Priority | str | None = None,
        estimated_duration_seconds: float | None = None,
        depends_on: Sequence[str] = (),
        title: str | None = None,
        max_retries: int | None = None,
        batch_id: str | None = None,
        user_id: str | None = None,
    ) -> JobSpec:
        """Validate one job without creating it (for :meth:`create_jobs`).

        Raises :class:`InvalidInputError` naming the field; checks that need the store
        (priority allowed for the user, dependencies that exist) happen at creation.
        """
        kind = parse_job_type(job_type)
        data = normalize_input(
            kind, input_data, max_file_bytes=self.settings.max_file_bytes, file_roots=self.settings.file_roots
        )
        if priority is not None:
            try:
                priority = Priority(priority)
            except ValueError:
                names = ", ".join(p.value for p in Priority)
                raise InvalidInputError(
                    f"unknown priority {priority!r} (one of {names})", field="priority"
                ) from None
        deps = check_ids(depends_on, "depends_on")
        if kind is JobType.COURSE_SUMMARY and not deps:
            raise InvalidInputError("a course_summary job needs at least one dependency", field="depends_on")
        spec = JobSpec(
            job_type=kind,
            input_data=data,
            user_id=self.user_id if user_id is None else user_id,
            id=id,
            priority=priority,
            max_retries=self.settings.default_max_retries if max_retries is None else max_retries,
            estimated_duration_seconds=estimated_duration_seconds,
            title=normalize_title(title),
            # "" is no batch (the batch runner passes it while a CSV still has problems).
            batch_id=batch_id or None,
            depends_on=deps,
        )
        check_spec(spec)  # every other field, as create_jobs checks specs built by hand
        return spec

    def create_job(
        self,
        job_type: JobType | str,
        input_data: Mapping[str, Any] | None = None,
        *,
        priority: Priority | str | None = None,
        estimated_duration_seconds: float | None = None,
        depends_on: Sequence[str] = (),
        title: str | None = None,
        max_retries: int | None = None,
        user_id: str | None = None,
        batch_id: str | None = None,
    ) -> JobHandle:
        """Validate and enqueue one job (``waiting`` while it has unfinished dependencies)."""
        spec = self.prepare_job(
            job_type,
            input_data,
            priority=priority,
            estimated_duration_seconds=estimated_duration_seconds,
            depends_on=depends_on,
            title=title,
            max_retries=max_retries,
            batch_id=batch_id,
            user_id=user_id,
        )
        with self._inputs.stored([spec]) as stored:
            ((job_id, _, _),) = self._store.create_jobs(stored)
        return JobHandle(self, self.get_job(job_id))

    def create_jobs(
        self, specs: Sequence[JobSpec], *, batch_metadata: Mapping[str, Mapping[str, str]] | None = None
    ) -> list[str]:
        """Create many jobs in one atomic step; ``specs`` may depend on each other by ``id``.

        Each spec comes from :meth:`prepare_job` (the batch runner prepares every row first,
        collecting problems with line numbers); ids are required. ``batch_metadata``
        ({batch id: {field: value}}, strings) is saved with the jobs, in the same step (for
        more than 1,000 jobs: with the first 1,000); read it back with :meth:`batch_metadata`.
        Returns the ids in creation order.
        """
        if isinstance(specs, str | bytes) or not isinstance(specs, Sequence):
            raise InvalidInputError(f"must be a list of JobSpec, got {type(specs).__name__}", field="specs")
        for spec in specs:
            if not isinstance(spec, JobSpec):
                message = f"must be a list of JobSpec, got a {type(spec).__name__}"
                raise InvalidInputError(message, field="specs")
        by_id = {spec.id: spec for spec in specs}
        if len(by_id) != len(specs) or "" in by_id:
            raise InvalidInputError("every job in a bulk create needs a unique id", field="id")
        if batch_metadata is not None and not isinstance(batch_metadata, Mapping):
            raise InvalidInputError("must be {batch id: {field: value}}", field="batch_metadata")
        for batch_id, fields in (batch_metadata or {}).items():
            check_id(batch_id, "batch_metadata")
            if not isinstance(fields, Mapping):
                raise InvalidInputError("must be {batch id: {field: value}}", field="batch_metadata")
            for text in (*fields, *fields.values()):
                # Values hold whole CSV row lists: bounded by Redis, not by us.
                check_string(text, "batch_metadata", limit=512 * 1024 * 1024, allow_empty=True)
        order = topological_order({spec.id: list(spec.depends_on) for spec in specs})
        with self._inputs.stored([by_id[job_id] for job_id in order]) as stored:
            created = self._store.create_jobs(stored, batches=batch_metadata)
        return [job_id for job_id, _, _ in created]

    def upload(
        self,
        source: str | Path | bytes | BinaryIO,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Store a file (a local path, read now, its bytes, or a binary file object, read in
        chunks from where it stands) for later jobs; returns an id to use as
        ``input_data={"uploadId": id}`` for ``file_notes`` and ``video_notes``.

        The bytes go to the blob store (``EDUSCRIBE_BLOB_URL``), so workers anywhere can
        read them. ``filename`` names it (needed for bytes: its extension tells the file's
        type). ``content_type`` overrides the type guessed from the name (a service that
        sniffed the bytes passes what it found). An upload no job used for
        ``EDUSCRIBE_UPLOAD_TTL_HOURS`` is removed by :meth:`cleanup`. ``user_id`` owns it
        (default: this client's user), as for jobs.
        """
        owner = self.user_id if user_id is None else check_id(user_id, "user_id")
        return self._inputs.upload(source, filename=filename, user_id=owner, content_type=content_type)

    def batch_metadata(self, batch_id: str) -> dict[str, str]:
        """What :meth:`create_jobs` saved for ``batch_id`` (later saves set fields, keep the
        rest); ``{}`` for a batch never saved, or removed by :meth:`cleanup` with its jobs."""
        return self._store.batch_meta(check_id(batch_id, "batch_id"))

    def batch_ids(self) -> list[str]:
        """Every batch with saved metadata, most recently created first."""
        return self._store.batch_ids()

    def submit_text(
        self,
        content: str,
        *,
        title: str | None = None,
        language: str | None = None,
        generate_quiz: bool = False,
        prompt: str | None = None,
        **kwargs: Any,
    ) -> JobHandle:
        return self.create_job(
            JobType.TEXT_NOTES,
            {"content": content, "options": _options(language, generate_quiz, prompt)},
            title=title,
            **kwargs,
        )

    def submit_file(
        self,
        path: str | Path,
        *,
        title: str | None = None,
        language: str | None = None,
        generate_quiz: bool = False,
        prompt: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> JobHandle:
        options = _options(language, generate_quiz, prompt)
        if password is not None:
            options["password"] = password
        return self.create_job(
            JobType.FILE_NOTES, {"path": str(path), "options": options}, title=title, **kwargs
        )

    def submit_video(
        self,
        path: str | Path,
        *,
        title: str | None = None,
        language: str | None = None,
        generate_quiz: bool = False,
        prompt: str | None = None,
        subtitles: str | None = None,
        **kwargs: Any,
    ) -> JobHandle:
        options = _options(language, generate_quiz, prompt)
        if subtitles not in (None, False, ""):
            options["subtitles"] = subtitles
        return self.create_job(
            JobType.VIDEO_NOTES, {"path": str(path), "options": options}, title=title, **kwargs
        )

    def submit_youtube(
        self,
        url_or_id: str,
        *,
        title: str | None = None,
        language: str | None = None,
        generate_quiz: bool = False,
        prompt: str | None = None,
        preferred_languages: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> JobHandle:
        options = _options(language, generate_quiz, prompt)
        if preferred_languages is not None:
            # Anything but a list (or tuple) is left for the input validation to name.
            p = preferred_languages
            options["preferredLanguages"] = list(p) if isinstance(p, tuple) else p
        return self.create_job(
            JobType.YOUTUBE_NOTES, {"youtubeUrl": url_or_id, "options": options}, title=title, **kwargs
        )

    # --- reading -------------------------------------------------------------------------
    def get_job(self, job_id: str) -> JobRecord:
        return self._store.get(check_id(job_id, "job_id"))

    def get_jobs(self, job_ids: Sequence[str]) -> list[JobRecord | None]:
        """Records in the order of ``job_ids``: None for a job that does not exist, or whose
        stored record cannot be read (logged as a warning; :meth:`get_job` names the field)."""
        return self._store.get_many(check_id_list(job_ids, "job_ids"), skip_corrupt=True)

    def estimated_wait_seconds(self, job: JobRecord | str, *, max_age: float = 0.0) -> float | None:
        """Seconds until a queued job starts: the jobs ahead of it times the mean observed
        duration of the queued mix (per job type), spread over the live workers' job slots.

        ``max_age`` > 0 lets the estimate reuse the queue's figures read up to that many
        seconds ago (a service answering many reads a second: the figures move slowly, and
        reading them costs more than reading the job).
        """
        check_seconds(max_age, "max_age", high=3600)
        record = job if isinstance(job, JobRecord) else self.get_job(job)  # get_job checks the id
        if record.status is not JobStatus.QUEUED or record.queue_position is None:
            return None
        return record.queue_position * self._seconds_per_job_ahead(max_age)

    def _seconds_per_job_ahead(self, max_age: float) -> float:
        from ._stats import estimated_wait_seconds

        read_at, seconds = self._wait_rate  # one tuple, replaced whole: safe across threads
        now = time.monotonic()
        if max_age <= 0 or now - read_at > max_age:
            # The estimate is linear in the jobs ahead: one figure per reading of the queue.
            seconds = estimated_wait_seconds(self._store.stats_snapshot(recent=0), 1)
            self._wait_rate = (now, seconds)
        return seconds

    def job(self, job_id: str) -> JobHandle:
        return JobHandle(self, self.get_job(job_id))

    def list_jobs(
        self,
        status: JobStatus | str | None = None,
        page: int = 1,
        limit: int = 10,
        *,
        user_id: str | None = None,
        batch_id: str | None = None,
    ) -> list[JobRecord]:
        """Newest first. ``page`` starts at 1. Filters by one index, then by the others."""
        check_count(page, "page", low=1, high=10**9)
        check_count(limit, "limit", low=1, high=10**6)
        if user_id is not None:
            check_id(user_id, "user_id")
        if batch_id is not None:
            check_id(batch_id, "batch_id")
        wanted = parse_status(status) if status is not None else None
        return page_of_jobs(self._store, wanted, user_id, batch_id, page=page, limit=limit)

    def count_jobs(
        self,
        status: JobStatus | str | None = None,
        *,
        user_id: str | None = None,
        batch_id: str | None = None,
    ) -> int:
        """How many jobs :meth:`list_jobs` pages through with the same filters."""
        if user_id is not None:
            check_id(user_id, "user_id")
        if batch_id is not None:
            check_id(batch_id, "batch_id")
        wanted = parse_status(status) if status is not None else None
        return self._store.count(status=wanted, user_id=user_id, batch_id=batch_id)

    # --- acting on jobs ------------------------------------------------------------------
    def cancel(self, job_id: str) -> int:
        """Cancel a job that has not finished; returns how many dependents were skipped."""
        return self._store.cancel(check_id(job_id, "job_id"))

    def retry(self, job_id: str) -> list[str]:
        """Put a failed, cancelled or skipped job back in line (with what it needs)."""
        return self._store.retry(check_id(job_id, "job_id"))

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """Block until the job finished; return its record or raise JobFailed / JobTimeout."""
        (record,) = self.wait_all([check_id(job_id, "job_id")], timeout=timeout, raise_on_failure=True)
        return record

    def wait_all(
        self, job_ids: Iterable[str], timeout: float | None = None, *, raise_on_failure: bool = False
    ) -> list[JobRecord]:
        """Block until every job finished; woken by the event stream, not by polling."""
        ids = list(dict.fromkeys(check_id_list(job_ids, "job_ids")))
        timeout = check_timeout(timeout)
        check_flag(raise_on_failure, "raise_on_failure")
        return wait_for(self._store, ids, timeout, raise_on_failure=raise_on_failure)

    def watch(
        self, job_ids: Iterable[str] | None = None, *, since: str = "$", timeout: float | None = None
    ) -> Iterator[JobEvent]:
        """Live job events; resume after a disconnect with ``since=<last event id>``.

        Ends after ``timeout`` seconds without a matching event, or when every watched job
        has finished; runs forever when neither applies. Bad arguments raise here, not at
        the first ``next()``.
        """
        wanted = set(check_id_list(job_ids, "job_ids")) if job_ids is not None else None
        check_event_id(since)
        return follow(self._store, wanted, since, check_timeout(timeout))

    def events(self, since: str = "0-0", *, limit: int = 500) -> list[JobEvent]:
        """Up to ``limit`` events after ``since`` (an event id), oldest first, without waiting:
        a page of the event stream, for a service replaying what a subscriber missed."""
        check_event_id(since)
        check_count(limit, "limit", low=1, high=10_000)
        return self._store.read_events(since, count=limit)

    def last_event_id(self) -> str:
        """The id of the newest event ("0-0" when there is none): resume a watch after it."""
        return self._store.last_event_id()

    def cleanup(self, older_than_days: float = 30) -> int:
        """Delete jobs that finished more than ``older_than_days`` ago; returns how many.

        Then removes uploads unused for ``EDUSCRIBE_UPLOAD_TTL_HOURS`` and deletes the stored
        inputs that no job or upload needs any more.
        """
        days = check_seconds(older_than_days, "older_than_days", high=100 * 366, unit="days")
        removed = self._store.cleanup(datetime.now(UTC) - timedelta(days=days))
        self._inputs.collect()
        return removed

    # --- analytics (pandas) --------------------------------------------------------------
    def stats(self) -> QueueStats:
        from ._stats import queue_stats

        return queue_stats(self._store)

    def stats_frame(self, by: Sequence[str] = ("priority", "job_type")) -> pd.DataFrame:
        from ._stats import stats_frame

        names = [by] if isinstance(by, str) else by
        if not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names):
            raise InvalidInputError(f"must name 'priority' and/or 'job_type', got {by!r}", field="by")
        return stats_frame(self._store, by=names)

    def jobs_frame(
        self,
        *,
        status: JobStatus | str | None = None,
        user_id: str | None = None,
        batch_id: str | None = None,
        limit: int = 1000,
        notes: bool = False,
    ) -> pd.DataFrame:
        from ._stats import jobs_frame

        check_flag(notes, "notes")
        records = self.list_jobs(status, 1, limit, user_id=user_id, batch_id=batch_id)
        return jobs_frame(records, notes=notes)

    # --- worker controls (_control.py: every worker, on any machine, through Redis) ------
    def pause(self, tier: Tier | Priority | str | None = None) -> None:
        """Workers stop taking jobs of this tier (a tier or priority name), or of all (None)."""
        _control.pause(self._store, tier)

    def resume(self, tier: Tier | Priority | str | None = None) -> None:
        """Unpause this tier; with None every tier, and drained workers fetch again."""
        _control.resume(self._store, tier)

    def paused_tiers(self) -> frozenset[Priority]:
        """The queues paused now (tiers as their priorities: ``free`` is ``low``)."""
        return _control.paused(self._store)

    def drain(self, worker_id: str | None = None) -> int:
        """This live worker (None: all) ends its jobs, takes none until :meth:`resume`; how many."""
        return _control.ask_workers(self._store, "drain", worker_id)

    def restart_workers(self, worker_id: str | None = None) -> int:
        """:meth:`drain`, then exit once idle (docs/architecture.md, "Worker controls"); how many."""
        return _control.ask_workers(self._store, "restart", worker_id)

    def worker_info(self) -> list[WorkerInfo]:
        """The live workers: heartbeats, slots, the jobs they hold and their state."""
        return _control.worker_info(self._store)

    def workers(self) -> pd.DataFrame:
        from ._stats import workers_frame

        return workers_frame(self._store.workers(), heartbeat_timeout_s=self.settings.heartbeat_timeout_s)

    # --- notebooks -----------------------------------------------------------------------
    def progress_table(self, jobs: Iterable[JobHandle | str] | None = None) -> Any:
        from .notebook import progress_table

        if jobs is not None:
            items = [jobs] if isinstance(jobs, str) else jobs
            if isinstance(items, Mapping) or not isinstance(items, Iterable):
                raise InvalidInputError("must be job handles, records or ids", field="jobs")
            jobs = [j if isinstance(j, JobHandle | JobRecord) else check_id(j, "jobs") for j in items]
        return progress_table(self, jobs)

    def dashboard(self) -> Any:
        from .notebook import dashboard

        return dashboard(self)


def _options(language: str | None, generate_quiz: bool, prompt: str | None) -> dict[str, Any]:
    # "" means "not given" (as before); any other value goes to the input validation, which
    # names what is wrong with it, instead of being dropped or used for its truth value.
    options: dict[str, Any] = {}
    if language is not None and language != "":
        options["language"] = language
    if check_flag(generate_quiz, "generate_quiz"):
        options["generateQuiz"] = True
    if prompt is not None and prompt != "":
        options["prompt"] = prompt
    return options
