"""Every exception EduScribe raises, in one tree.

::

    EduscribeError
    ├── InvalidInputError (also ValueError)      bad input; names the field, row or file
    │   ├── PriorityNotAllowedError              asked for a priority above the user's tier
    │   ├── UnknownDependencyError               depends_on names ids that do not exist
    │   └── DependencyCycleError                 depends_on would close a cycle
    ├── ConfigError (also ValueError)            a setting (environment variable, Settings field)
    │                                            that cannot work; names the setting
    ├── JobNotFoundError (also LookupError)      no job with that id
    ├── CorruptRecordError                       a stored job record no reader can parse
    ├── InvalidTransitionError                   e.g. cancelling a completed job
    ├── JobFailed                                Client.wait: the job ended failed/cancelled/skipped
    ├── JobTimeout (also TimeoutError)           Client.wait: the timeout ran out first
    ├── RedisUnavailableError (also ConnectionError)
    │                                            Redis could not be reached within the timeout
    ├── StorageError (also OSError)              the blob store (file and video inputs) could
    │                                            not be read or written; names the file or blob
    ├── AuthenticationError (also PermissionError)
    │                                            a missing, unknown or revoked API key
    ├── PermissionDeniedError (also PermissionError)
    │                                            the key is valid but may not do this (admin only)
    ├── RateLimitExceeded                        the key made too many requests; retry_after_s
    ├── UnsupportedOperationError (also NotImplementedError)
    │                                            a dramatiq operation EduScribe's broker refuses
    │                                            (actor.send, flush, join): use the Client
    └── ProcessingError                          raised by processors while a job runs
        ├── PermanentError                       fail at once, never retried (bad file, no audio…)
        │   ├── JobTimeLimitExceeded             ran past its job type's time limit; stopped
        │   ├── JobMemoryLimitExceeded           needed more memory than EDUSCRIBE_MAX_JOB_MEMORY_MB
        │   └── DecompressionLimitExceeded       a compressed document (DOCX, PPTX) expands too far
        ├── TransientError                       retried with back-off (rate limit, network…)
        │   └── ProcessorCrashed                 the processor's child process died (a signal, a crash)
        └── JobCancelled                         the job was cancelled while it ran

Catch ``EduscribeError`` to catch everything; ``ValueError`` still catches bad input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import JobRecord

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "CorruptRecordError",
    "DecompressionLimitExceeded",
    "DependencyCycleError",
    "EduscribeError",
    "InvalidInputError",
    "InvalidTransitionError",
    "JobCancelled",
    "JobFailed",
    "JobMemoryLimitExceeded",
    "JobNotFoundError",
    "JobTimeLimitExceeded",
    "JobTimeout",
    "PermanentError",
    "PermissionDeniedError",
    "PriorityNotAllowedError",
    "ProcessingError",
    "ProcessorCrashed",
    "RateLimitExceeded",
    "RedisUnavailableError",
    "StorageError",
    "TransientError",
    "UnknownDependencyError",
    "UnsupportedOperationError",
]


class EduscribeError(Exception):
    """Root of every error raised by EduScribe."""


class InvalidInputError(EduscribeError, ValueError):
    """Input that can never be processed. ``field`` names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class PriorityNotAllowedError(InvalidInputError):
    """A caller asked for a higher priority than the user's tier grants."""


class UnknownDependencyError(InvalidInputError):
    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = sorted(ids)
        super().__init__(f"unknown job id(s): {', '.join(self.ids)}", field="depends_on")


class DependencyCycleError(InvalidInputError):
    def __init__(self, cycle: Iterable[str]) -> None:
        self.cycle = list(cycle)
        super().__init__(f"dependency cycle: {' -> '.join(self.cycle)}", field="depends_on")


class ConfigError(EduscribeError, ValueError):
    """A setting that cannot work. ``setting`` names it (an environment variable or field)."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}" if setting else message)


class JobNotFoundError(EduscribeError, LookupError):
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job with id {job_id!r}")


class CorruptRecordError(EduscribeError):
    """A stored job record that cannot be read (written behind the SDK's back, or by a bug).

    ``field`` names the first field that failed to parse. Listings and statistics skip such a
    record with a logged warning; a worker fails the job with this error's message.
    """

    def __init__(self, job_id: str, field: str, detail: str) -> None:
        self.job_id = job_id
        self.field = field
        super().__init__(f"corrupt record for job {job_id!r}: {field}: {detail}")


class InvalidTransitionError(EduscribeError):
    def __init__(self, job_id: str, status: str, action: str) -> None:
        self.job_id = job_id
        self.status = status
        self.action = action
        super().__init__(f"cannot {action} job {job_id}: it is {status}")


class JobFailed(EduscribeError):
    """The awaited job ended without completing; ``record`` holds the details."""

    def __init__(self, record: JobRecord) -> None:
        self.record = record
        detail = f": {record.error_message}" if record.error_message else ""
        super().__init__(f"job {record.id} {record.status}{detail}")


class JobTimeout(EduscribeError, TimeoutError):
    def __init__(self, job_id: str, timeout: float) -> None:
        self.job_id = job_id
        self.timeout = timeout
        super().__init__(f"job {job_id} did not finish within {timeout:g} s")


class RedisUnavailableError(EduscribeError, ConnectionError):
    """Redis did not answer in time. The URL in the message has its password masked."""


class StorageError(EduscribeError, OSError):
    """The blob store could not store or give back an input; the message names it."""


class AuthenticationError(EduscribeError, PermissionError):
    """No API key, or one that is unknown or revoked (the web service answers 401)."""


class PermissionDeniedError(EduscribeError, PermissionError):
    """The API key is valid but may not do this: an admin action with a user's key (403)."""


class RateLimitExceeded(EduscribeError):
    """The API key made more requests than its rate limit allows (429, ``Retry-After``)."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many requests: try again in {retry_after_s:.2f} s")


class UnsupportedOperationError(EduscribeError, NotImplementedError):
    """A dramatiq broker operation that EduScribe does not offer; the message says what to use."""


class ProcessingError(EduscribeError):
    """Raised by processors; the worker decides from the subclass whether to retry."""


class PermanentError(ProcessingError):
    """The job cannot succeed by trying again (bad file, unsupported format, no audio…)."""


class TransientError(ProcessingError):
    """Trying again later may succeed. ``retry_after`` (seconds) is a lower bound for the wait."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class JobTimeLimitExceeded(PermanentError):
    """The job ran longer than its job type's time limit and was stopped (its process killed).

    Keyword attributes have defaults so that the error pickles (it crosses process borders).
    """

    def __init__(self, message: str, *, limit_s: float | None = None) -> None:
        self.limit_s = limit_s
        super().__init__(message)


class JobMemoryLimitExceeded(PermanentError):
    """The job needed more memory than ``EDUSCRIBE_MAX_JOB_MEMORY_MB`` allows its process."""

    def __init__(self, message: str, *, limit_mb: int | None = None) -> None:
        self.limit_mb = limit_mb
        super().__init__(message)


class DecompressionLimitExceeded(PermanentError):
    """A compressed document (a DOCX or PPTX is a zip) would expand past what a job may read:
    a zip bomb, or XML too large to parse within the job's memory. The message names the file
    and the part."""


class ProcessorCrashed(TransientError):
    """The child process running the processor died without an answer (a signal, a C crash).

    Transient: retried like any unexpected error, up to the job's ``max_retries``.
    """

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        self.exit_code = exit_code
        super().__init__(message)


class JobCancelled(ProcessingError):
    """The job was cancelled while it ran; raised from the progress callback."""
