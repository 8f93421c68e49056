"""EduScribe: turn course materials into study notes at scale, on Dramatiq + Redis.

>>> from eduscribe_sdk import Client
>>> with Client() as client:                      # embedded Redis + in-process workers
...     job = client.submit_text("Photosynthesis converts light into chemical energy ...")
...     print(job.wait().output_data["markdown"])

The public surface is this module's ``__all__`` and the modules ``errors`` (the exception
tree), ``actors`` (``dramatiq eduscribe_sdk.actors``), ``notebook`` (widgets), ``plots``
(matplotlib charts) and ``testing`` (a throwaway server for your tests). Modules whose names
start with an underscore are the implementation: they change without notice.
"""

import logging
import sys

from ._auth import ApiKey
from ._client import Client, JobHandle
from ._config import Settings
from ._control import WorkerInfo
from ._creation import JobSpec
from ._dag import topological_order
from ._models import JobEvent, JobRecord, JobStatus, JobType, Priority, Tier
from ._processors.base import JobContext, LocalContext, Processor
from ._sniff import sniff_content_type
from ._validation import MAX_TEXT_CHARS
from .errors import (
    AuthenticationError,
    ConfigError,
    CorruptRecordError,
    DecompressionLimitExceeded,
    DependencyCycleError,
    EduscribeError,
    InvalidInputError,
    InvalidTransitionError,
    JobCancelled,
    JobFailed,
    JobMemoryLimitExceeded,
    JobNotFoundError,
    JobTimeLimitExceeded,
    JobTimeout,
    PermanentError,
    PermissionDeniedError,
    PriorityNotAllowedError,
    ProcessingError,
    ProcessorCrashed,
    RateLimitExceeded,
    RedisUnavailableError,
    StorageError,
    TransientError,
    UnknownDependencyError,
    UnsupportedOperationError,
)

__version__ = "0.1.0"

__all__ = [
    "MAX_TEXT_CHARS",
    "ApiKey",
    "AuthenticationError",
    "Client",
    "ConfigError",
    "CorruptRecordError",
    "DecompressionLimitExceeded",
    "DependencyCycleError",
    "EduscribeError",
    "InvalidInputError",
    "InvalidTransitionError",
    "JobCancelled",
    "JobContext",
    "JobEvent",
    "JobFailed",
    "JobHandle",
    "JobMemoryLimitExceeded",
    "JobNotFoundError",
    "JobRecord",
    "JobSpec",
    "JobStatus",
    "JobTimeLimitExceeded",
    "JobTimeout",
    "JobType",
    "LocalContext",
    "PermanentError",
    "PermissionDeniedError",
    "Priority",
    "PriorityNotAllowedError",
    "ProcessingError",
    "Processor",
    "ProcessorCrashed",
    "RateLimitExceeded",
    "RedisUnavailableError",
    "Settings",
    "StorageError",
    "Tier",
    "TransientError",
    "UnknownDependencyError",
    "UnsupportedOperationError",
    "WorkerInfo",
    "__version__",
    "sniff_content_type",
    "topological_order",
]


def _register_display() -> None:
    # Records show as job cards in Jupyter, but the data classes know nothing of HTML: the
    # display side registers their formatters, and only inside a running IPython shell, so a
    # plain import never loads IPython, ipywidgets or the renderer.
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        return
    try:
        from .notebook import register_formatters

        register_formatters(shell)
    except Exception:
        # Without cards the SDK still works; an import that fails inside a kernel would not.
        logging.getLogger("eduscribe.notebook").warning(
            "could not register EduScribe's HTML display with IPython", exc_info=True
        )


_register_display()
