"""Settings: the one place that reads the environment.

Every default is listed here (and in the README's "Configuration" table). Code below the
CLI edge receives a ``Settings`` object instead of reading ``os.environ``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError

__all__ = ["Settings", "mask_url"]

DEFAULT_TIME_LIMITS_S: Mapping[str, int] = {
    "text_notes": 300,
    "file_notes": 900,
    "video_notes": 3 * 3600,
    "youtube_notes": 900,
    "course_summary": 600,
}


def mask_url(url: str | None) -> str:
    """The URL with its password replaced by ``***``, fit for logs and error messages."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    # The hosts as written: a Sentinel URL lists several, which urlsplit's port cannot parse.
    netloc = f"{user}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"must be a whole number, got {raw!r}", setting=name) from None
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}, got {value}", setting=name)
    return value


def _overrides(raw: str) -> dict[str, str]:
    """``"text_notes=pkg.mod:func,file_notes=..."`` -> {job_type: "pkg.mod:func"}."""
    result = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        job_type, sep, target = item.partition("=")
        if not sep or ":" not in target:
            raise ConfigError(
                f"expected job_type=module:function, got {item!r}", setting="EDUSCRIBE_PROCESSORS"
            )
        result[job_type.strip()] = target.strip()
    return result


def _time_limits(raw: str) -> dict[str, int]:
    """``"video_notes=3600,text_notes=300"`` -> the defaults with those job types' limits (s)."""
    name = "EDUSCRIBE_TIME_LIMITS"
    limits = dict(DEFAULT_TIME_LIMITS_S)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        job_type, sep, seconds = (part.strip() for part in item.partition("="))
        if not sep or job_type not in DEFAULT_TIME_LIMITS_S:
            known = ", ".join(DEFAULT_TIME_LIMITS_S)
            raise ConfigError(
                f"expected job_type=seconds with a job type of {known}; got {item!r}", setting=name
            )
        try:
            value = int(seconds)
        except ValueError:
            raise ConfigError(
                f"{job_type}: seconds must be a whole number, got {seconds!r}", setting=name
            ) from None
        if value < 1:
            raise ConfigError(f"{job_type}: must be at least 1 s, got {value}", setting=name)
        limits[job_type] = value
    return limits


def _roots(raw: str) -> tuple[Path, ...]:
    """``"/srv/courses:/home/me/slides"`` -> their real paths (symlinks resolved once, here)."""
    roots = []
    for item in filter(None, (part.strip() for part in raw.split(":"))):
        root = Path(item).expanduser()
        if not root.is_absolute():
            raise ConfigError(f"{item!r} is not an absolute path", setting="EDUSCRIBE_FILE_ROOTS")
        roots.append(Path(os.path.realpath(root)))
    return tuple(roots)


def _auth_mode(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "on"):
        return True
    if value == "off":
        return False
    raise ConfigError(f"must be 'on' or 'off', got {raw!r}", setting="EDUSCRIBE_API_AUTH")


def _str(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration; build it with :meth:`from_env` or directly (keyword-only)."""

    redis_url: str | None = field(default=None, repr=False)
    home: Path = field(default_factory=lambda: Path.home() / ".eduscribe")
    worker_threads: int = 3
    retry_delay_ms: int = 30_000
    max_retry_delay_ms: int = 3_600_000
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    aging_seconds: int = 600
    heartbeat_interval_s: float = 2.0
    # A worker silent this long is dead and its jobs go back in line; it must stay far above
    # the heartbeat interval but well under the 30 s recovery promise.
    heartbeat_timeout_s: float = 10.0
    default_max_retries: int = 3
    socket_timeout_s: float = 5.0
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    whisper_model: str | None = None
    max_file_bytes: int = 200 * 1024 * 1024
    youtube_proxy: str | None = field(default=None, repr=False)
    time_limits_s: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TIME_LIMITS_S))
    #: Address space a job's processor process may use (RLIMIT_AS), in MB; 0 turns it off.
    max_job_memory_mb: int = 4096
    event_stream_maxlen: int = 100_000
    #: Where file and video inputs are stored (a folder path, ``file://`` or ``s3://`` URL);
    #: None: the folder ``home / "blobs"``.
    blob_url: str | None = field(default=None, repr=False)
    #: When set, the SDK reads local files only below these folders (real paths).
    file_roots: tuple[Path, ...] = ()
    upload_ttl_hours: int = 24
    #: job_type -> "module:function": run your own processor for a job type (an extension
    #: point for custom pipelines; the test suite uses it for controllable jobs).
    processor_overrides: Mapping[str, str] = field(default_factory=dict)
    #: How long a worker keeps retrying to record a finished job's outcome while Redis is
    #: unreachable (a restart, a failover) before giving up on it.
    outage_window_s: float = 60.0
    #: The web service: requests a second each API key may make on average (0: no limit),
    #: and how many at once.
    api_rate_limit_per_s: int = 50
    api_rate_burst: int = 100
    #: False only for a server on a laptop (``eduscribe-server --no-auth``): every request
    #: acts as one admin user and no key is asked for.
    api_auth: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default: the process environment), then ``overrides`` by field.

        Raises :class:`ConfigError` naming the variable or field that cannot work.
        """
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            # dataclasses.replace would raise a TypeError about __init__ instead.
            raise ConfigError("is not a Settings field", setting=unknown[0])
        env = os.environ if env is None else env
        home = _str(env, "EDUSCRIBE_HOME")
        settings = cls(
            redis_url=_str(env, "EDUSCRIBE_REDIS_URL"),
            home=Path(home).expanduser() if home else Path.home() / ".eduscribe",
            worker_threads=_int(env, "WORKER_MAX_CONCURRENT_JOBS", 3, minimum=1),
            retry_delay_ms=_int(env, "WORKER_RETRY_DELAY", 30_000),
            worker_id=_str(env, "WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}",
            aging_seconds=_int(env, "EDUSCRIBE_AGING_SECONDS", 600, minimum=1),
            openai_api_key=_str(env, "OPENAI_API_KEY"),
            openai_base_url=_str(env, "OPENAI_BASE_URL"),
            llm_model=_str(env, "EDUSCRIBE_LLM_MODEL") or "gpt-4o-mini",
            whisper_model=_str(env, "EDUSCRIBE_WHISPER_MODEL"),
            max_file_bytes=_int(env, "EDUSCRIBE_MAX_FILE_MB", 200, minimum=1) * 1024 * 1024,
            youtube_proxy=_str(env, "EDUSCRIBE_YOUTUBE_PROXY"),
            processor_overrides=_overrides(env.get("EDUSCRIBE_PROCESSORS", "")),
            outage_window_s=_int(env, "EDUSCRIBE_OUTAGE_WINDOW_SECONDS", 60, minimum=0),
            time_limits_s=_time_limits(env.get("EDUSCRIBE_TIME_LIMITS", "")),
            max_job_memory_mb=_int(env, "EDUSCRIBE_MAX_JOB_MEMORY_MB", 4096),
            blob_url=_str(env, "EDUSCRIBE_BLOB_URL"),
            file_roots=_roots(env.get("EDUSCRIBE_FILE_ROOTS", "")),
            upload_ttl_hours=_int(env, "EDUSCRIBE_UPLOAD_TTL_HOURS", 24, minimum=1),
            api_rate_limit_per_s=_int(env, "EDUSCRIBE_API_RATE_LIMIT", 50),
            api_rate_burst=_int(env, "EDUSCRIBE_API_RATE_BURST", 100, minimum=1),
            api_auth=_auth_mode(env.get("EDUSCRIBE_API_AUTH", "")),
        )
        return replace(settings, **overrides) if overrides else settings  # type: ignore[arg-type]

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None

    @property
    def blob_location(self) -> str:
        """Where file and video inputs are stored: ``blob_url``, or the folder in ``home``."""
        return self.blob_url or str(self.home / "blobs")

    @property
    def redis_url_file(self) -> Path:
        return self.home / "redis.url"

    def time_limit_ms(self, job_type: str) -> int:
        return int(self.time_limits_s.get(job_type, 600)) * 1000
