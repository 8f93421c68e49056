"""EduScribe: turn course materials into study notes at scale, on Dramatiq + Redis.

>>> from eduscribe_sdk import Client
>>> with Client() as client:                      # embedded Redis + in-process workers
...     job = client.submit_text("Photosynthesis converts light into chemical energy ...")
...     print(job.wait().output_data["markdown"])
"""

import logging
import sys

from .client import Client, JobHandle
from .config import Settings
from .creation import JobSpec
from .dag import topological_order
from .errors import (
    ConfigError,
    DependencyCycleError,
    EduscribeError,
    InvalidInputError,
    InvalidTransitionError,
    JobCancelled,
    JobFailed,
    JobNotFoundError,
    JobTimeout,
    PermanentError,
    PriorityNotAllowedError,
    ProcessingError,
    RedisUnavailableError,
    TransientError,
    UnknownDependencyError,
    UnsupportedOperationError,
)
from .models import JobEvent, JobRecord, JobStatus, JobType, Priority, Tier
from .validation import MAX_TEXT_CHARS

__version__ = "0.1.0"

__all__ = [
    "MAX_TEXT_CHARS",
    "Client",
    "ConfigError",
    "DependencyCycleError",
    "EduscribeError",
    "InvalidInputError",
    "InvalidTransitionError",
    "JobCancelled",
    "JobEvent",
    "JobFailed",
    "JobHandle",
    "JobNotFoundError",
    "JobRecord",
    "JobSpec",
    "JobStatus",
    "JobTimeout",
    "JobType",
    "PermanentError",
    "Priority",
    "PriorityNotAllowedError",
    "ProcessingError",
    "RedisUnavailableError",
    "Settings",
    "Tier",
    "TransientError",
    "UnknownDependencyError",
    "UnsupportedOperationError",
    "__version__",
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
