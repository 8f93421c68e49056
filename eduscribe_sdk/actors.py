"""Entry point for ``dramatiq eduscribe_sdk.actors``.

Importing this module builds a worker's broker, with its middleware and actors, through
:func:`eduscribe_sdk._worker.build_broker` and makes it dramatiq's global broker, the one the
``dramatiq`` command runs. Redis: ``EDUSCRIBE_REDIS_URL``, or else the URL an embedded
server on this machine wrote to ``EDUSCRIBE_HOME/redis.url``.
Worker settings: ``WORKER_MAX_CONCURRENT_JOBS`` job slots per process (dramatiq's
``--threads`` is an upper bound), ``WORKER_RETRY_DELAY``, ``WORKER_ID``.
Stop it with SIGTERM, to the parent or to the whole process group: running jobs go back in
line at once. ``Client.restart_workers()`` makes it exit (code 0) once it holds no job, for
its supervisor to start it again.
"""

from __future__ import annotations

import dramatiq

from ._config import Settings
from ._embedded import resolve_url
from ._store import Store, connect
from ._worker import build_broker
from ._worker.signals import absorb_group_sigterm, stop_this_process

settings = Settings.from_env()
_url = resolve_url(settings)
if _url is None:
    raise SystemExit(
        "eduscribe_sdk.actors: no Redis to work for. Set EDUSCRIBE_REDIS_URL, or start the "
        f"embedded server first (Client() writes its URL to {settings.redis_url_file})."
    )
broker = build_broker(Store(connect(_url, settings=settings), settings=settings), settings)
dramatiq.set_broker(broker)
# A SIGTERM to the whole process group (systemd's default) reaches dramatiq's worker process
# twice; the repeat must not turn a graceful stop, which hands jobs back, into an exit.
if absorb_group_sigterm():
    # Only in dramatiq's worker process: there a SIGTERM is its graceful stop, and the exit
    # is dramatiq's (and then its supervisor's) to follow with a fresh process.
    broker.runtime.on_restart = stop_this_process
