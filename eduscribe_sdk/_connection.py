"""Connecting to Redis: the one place that turns a URL into a client, for the SDK, the
workers and the CLI alike.

Two kinds of URL:

* ``redis://``, ``rediss://``, ``unix://``: one server, as redis-py reads them.
* ``redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]``: the primary of
  ``service_name`` as the listed Sentinels name it (redis-py's ``Sentinel.master_for``). After
  a failover the next connection goes to the new primary; a command that reaches a demoted
  one fails (redis-py drops the connection), and the caller sees :class:`RedisUnavailableError`
  like for any outage. The password is the data servers'; the Sentinels are asked without one.

:func:`unavailable` says which redis-py errors mean "no writable primary right now" (down,
loading, read-only replica, primary down, not enough replicas): the store raises
``RedisUnavailableError`` for all of them, and workers wait them out (``outage.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel, SentinelConnectionPool

from ._config import Settings, mask_url
from .errors import ConfigError, InvalidInputError

__all__ = ["SENTINEL_SCHEME", "SentinelUrl", "connect", "describe", "parse_sentinel_url", "unavailable"]

SENTINEL_SCHEME = "redis+sentinel"
_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]"
#: Error replies that mean the server cannot take writes now, though it may soon.
_UNAVAILABLE_REPLIES = ("READONLY", "MASTERDOWN", "LOADING", "NOREPLICAS", "TRYAGAIN")


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """A parsed ``redis+sentinel://`` URL."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    password: str | None = None


def _bad(url: str, problem: str) -> ConfigError:
    return ConfigError(f"{problem} in {mask_url(url)} (expected {_FORM})", setting="EDUSCRIBE_REDIS_URL")


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Parse a ``redis+sentinel://`` URL; :class:`ConfigError` names what is wrong with it."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != SENTINEL_SCHEME:
        raise _bad(url, "not a redis+sentinel URL")
    netloc, _, path = rest.partition("/")
    netloc = netloc.split("?")[0]
    password: str | None = None
    if "@" in netloc:
        auth, _, netloc = netloc.rpartition("@")
        password = unquote(auth.partition(":")[2]) or None
    sentinels = []
    for item in netloc.split(","):
        host, colon, port = item.strip().rpartition(":")
        if not item.strip():
            raise _bad(url, "an empty Sentinel address")
        if not colon or not host:
            raise _bad(url, f"Sentinel address {item.strip()!r} has no port")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _bad(url, f"Sentinel port {port!r} is not a port number")
        sentinels.append((host.strip("[]"), int(port)))
    parts = [unquote(p) for p in path.split("?")[0].split("/")]
    if not parts[0]:
        raise _bad(url, "no service name")
    if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise _bad(url, f"database {'/'.join(parts[1:])!r} is not a number")
    db = int(parts[1]) if len(parts) == 2 else 0
    return SentinelUrl(tuple(sentinels), parts[0], db, password)


def connect(url: str, *, settings: Settings | None = None) -> redis.Redis:
    """A Redis client with timeouts, so an unreachable server fails fast instead of hanging."""
    timeout = (settings or Settings()).socket_timeout_s
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if urlsplit(url).scheme.lower() == SENTINEL_SCHEME:
        parsed = parse_sentinel_url(url)
        sentinel = Sentinel(list(parsed.sentinels), sentinel_kwargs=dict(options), **options)
        client: redis.Redis = sentinel.master_for(
            parsed.service_name,
            db=parsed.db,
            password=parsed.password,
            decode_responses=True,
            health_check_interval=30,
            **options,
        )
        return client
    try:
        return redis.Redis.from_url(
            url, decode_responses=True, health_check_interval=30, retry_on_timeout=False, **options
        )
    except ValueError as exc:
        raise InvalidInputError(f"not a Redis URL: {mask_url(url)} ({exc})", field="redis_url") from None


def describe(client: redis.Redis) -> str:
    """Where ``client`` connects, for messages (no password)."""
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        hosts = []
        for node in pool.sentinel_manager.sentinels:
            node_kwargs = node.connection_pool.connection_kwargs
            hosts.append(f"{node_kwargs.get('host')}:{node_kwargs.get('port')}")
        return (
            f"{SENTINEL_SCHEME}://{','.join(hosts)}/{pool.service_name}/{pool.connection_kwargs.get('db', 0)}"
        )
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    scheme = "rediss" if "ssl" in str(pool.connection_class).lower() else "redis"
    return f"{scheme}://{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means no writable Redis answers now (down, failing over, loading)."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | redis.ReadOnlyError):
        return True
    if isinstance(exc, redis.ResponseError):
        return str(exc).lstrip().startswith(_UNAVAILABLE_REPLIES)
    return False
