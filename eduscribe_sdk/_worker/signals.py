"""A SIGTERM to the worker's whole process group must stop it gracefully, not kill it.

``dramatiq`` runs a parent process that forwards SIGTERM to its worker child, and the child
treats a *second* SIGTERM as "exit now". systemd (``KillMode=control-group``), ``docker stop``
with an init and ``kill -- -PGID`` send SIGTERM to every process of the group: the child gets
one from the kernel and a second, a millisecond later, forwarded by its parent, and exits
without handing its running jobs back; they then wait for the heartbeat timeout and another
worker. :func:`absorb_group_sigterm` makes the child ignore a repeat that arrives within
:data:`REPEAT_WINDOW_S` of the first, so the worker stops the ordinary way: running jobs are
put back in line at once. A SIGTERM sent again later still means "exit now".
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

__all__ = ["REPEAT_WINDOW_S", "absorb_group_sigterm", "stop_this_process"]

logger = logging.getLogger("eduscribe.worker")

#: A SIGTERM this soon after the first is the parent forwarding the same group-wide signal.
REPEAT_WINDOW_S = 2.0


def absorb_group_sigterm() -> bool:
    """Wrap dramatiq's worker-process SIGTERM handler; True if it was there to wrap.

    Only inside ``dramatiq``'s worker process (its handler is installed before it imports
    the broker module) and only from the main thread, where handlers can be set.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous) or getattr(previous, "__module__", "") != "dramatiq.cli":
        return False
    first: float | None = None

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal first
        now = time.monotonic()
        if first is not None and now - first < REPEAT_WINDOW_S:
            logger.info("ignoring a repeated SIGTERM (the same group-wide signal, forwarded)")
            return
        first = first if first is not None else now
        previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)
    return True


def stop_this_process() -> None:
    """Stop this ``dramatiq`` worker process the way a SIGTERM does (``Client.restart_workers``).

    dramatiq's graceful path: its workers stop, the heartbeat deregisters the worker, the
    process exits with 0. dramatiq's main process then stops its other worker processes and
    exits too; a supervisor (systemd ``Restart=always``, Docker's restart policy, Kubernetes)
    starts it again. The handler runs in the main thread, whichever thread sends the signal.
    """
    logger.info("stopping this worker process (pid %d) for a restart", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
