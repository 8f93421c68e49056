"""Validate and normalise a job's ``input_data`` before anything is stored or enqueued.

Pure and cheap: no heavy imports, no network. Content checks that need the file's bytes
(is this really a PDF?) happen in the processors and fail the job permanently.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ._models import JobStatus, JobType, Priority
from .errors import InvalidInputError

if TYPE_CHECKING:
    from ._creation import JobSpec

__all__ = [
    "MAX_DEPENDENCIES",
    "MAX_ID_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_PATH_CHARS",
    "MAX_PROMPT_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "check_count",
    "check_event_id",
    "check_flag",
    "check_id",
    "check_id_list",
    "check_local_file",
    "check_seconds",
    "check_spec",
    "check_string",
    "check_timeout",
    "normalize_input",
    "parse_job_type",
    "parse_status",
    "parse_youtube_id",
]

MAX_TEXT_CHARS = 2_000_000
MAX_PROMPT_CHARS = 4_000
MAX_TITLE_CHARS = 300
#: Job, user and batch ids: they become parts of Redis keys and of log lines.
MAX_ID_CHARS = 200
#: A file path (Linux allows 4,096 bytes; a longer one can only fail later, less clearly).
MAX_PATH_CHARS = 4_096
MAX_URL_CHARS = 2_048
MAX_DEPENDENCIES = 10_000
MAX_RETRIES = 100
#: Nesting of a job's input JSON: options are flat, so anything deeper is not ours.
MAX_JSON_DEPTH = 8
#: An estimate beyond ten years is a mistake, not a plan.
MAX_ESTIMATE_SECONDS = 10 * 365 * 86_400

_COMMON_OPTIONS = {"language", "generateQuiz", "prompt"}
_OPTIONS: dict[JobType, set[str]] = {
    JobType.TEXT_NOTES: _COMMON_OPTIONS,
    JobType.FILE_NOTES: _COMMON_OPTIONS | {"password"},
    JobType.VIDEO_NOTES: _COMMON_OPTIONS | {"subtitles"},
    JobType.YOUTUBE_NOTES: _COMMON_OPTIONS | {"preferredLanguages", "subtitles"},
    JobType.COURSE_SUMMARY: _COMMON_OPTIONS,
}
_TOP_LEVEL: dict[JobType, set[str]] = {
    JobType.TEXT_NOTES: {"content"},
    JobType.FILE_NOTES: {"path", "uploadId"},
    JobType.VIDEO_NOTES: {"path", "uploadId"},
    JobType.YOUTUBE_NOTES: {"youtubeUrl", "videoId"},
    JobType.COURSE_SUMMARY: set(),
}
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_LANGUAGE = re.compile(r"^(auto|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_PATH_PREFIXES = ("shorts", "embed", "live", "v", "e")


def parse_job_type(value: object) -> JobType:
    if isinstance(value, JobType):
        return value
    try:
        return JobType(str(value))
    except ValueError:
        names = ", ".join(t.value for t in JobType)
        raise InvalidInputError(f"unknown job type {value!r} (one of {names})", field="job_type") from None


def parse_status(value: object, *, field: str = "status") -> JobStatus:
    """A :class:`JobStatus` from its name; anything else is bad input naming ``field``."""
    if isinstance(value, JobStatus):
        return value
    try:
        return JobStatus(str(value))
    except ValueError:
        names = ", ".join(s.value for s in JobStatus)
        raise InvalidInputError(f"unknown status {value!r} (one of {names})", field=field) from None


def parse_youtube_id(value: str) -> str:
    """The 11-character video id from any common YouTube URL form or a bare id."""
    if not isinstance(value, str):
        raise InvalidInputError(f"must be a string, got {type(value).__name__}", field="youtubeUrl")
    text = value.strip()
    if _VIDEO_ID.match(text):
        return text
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise InvalidInputError(f"not a YouTube video URL or id: {value!r}", field="youtubeUrl") from None
    if parts.scheme.lower() not in ("http", "https"):
        host = ""  # ftp://www.youtube.com/... or javascript://... is not a video link
    segments = [s for s in parts.path.split("/") if s]
    found: str | None = None
    if host in {"youtu.be", "www.youtu.be"} and segments:
        found = segments[0]
    elif host in _YOUTUBE_HOSTS:
        if segments[:1] == ["watch"] or not segments:
            found = next(iter(parse_qs(parts.query).get("v", [])), None)
        elif len(segments) >= 2 and segments[0] in _PATH_PREFIXES:
            found = segments[1]
    if found and _VIDEO_ID.match(found):
        return found
    raise InvalidInputError(f"not a YouTube video URL or id: {value!r}", field="youtubeUrl")


def check_string(value: object, field: str, *, limit: int, allow_empty: bool = False) -> str:
    """A ``str`` of at most ``limit`` characters, valid Unicode (no lone surrogate: it could
    never be encoded as UTF-8 for Redis) and without NUL (C libraries, paths and terminals cut
    a string there)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"must be a string, got {type(value).__name__}", field=field)
    if not allow_empty and not value.strip():
        raise InvalidInputError("must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInputError(f"is {len(value):,} characters; the limit is {limit:,}", field=field)
    if "\x00" in value:
        raise InvalidInputError(f"contains a NUL character at position {value.index(chr(0)):,}", field=field)
    if value.isascii():  # the common case, and no surrogate can be in it
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"contains a lone surrogate {value[exc.start]!a} at position {exc.start:,}; "
            "text must be valid Unicode",
            field=field,
        ) from None
    return value


def check_id(value: object, field: str) -> str:
    """A job, user or batch id: a non-empty string without control characters, at most
    :data:`MAX_ID_CHARS` long."""
    # Fast path (bulk creates check ids of every job): isprintable() is False for NUL,
    # control characters and lone surrogates alike.
    if type(value) is str and 0 < len(value) <= MAX_ID_CHARS and value.isprintable() and not value.isspace():
        return value
    text = check_string(value, field, limit=MAX_ID_CHARS)
    if not text.isprintable():
        bad = next(c for c in text if not c.isprintable())
        raise InvalidInputError(f"contains the control character {bad!a}", field=field)
    return text


def check_count(value: object, field: str, *, low: int = 0, high: int = MAX_RETRIES) -> int:
    """A whole number from ``low`` to ``high``; a bool is refused although Python counts it as
    an int (``True`` would be stored as the text "True", which no reader can parse)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"must be a whole number from {low} to {high}, got {value!r}", field=field)
    return value


def check_seconds(
    value: object, field: str, *, high: float = MAX_ESTIMATE_SECONDS, unit: str = "seconds"
) -> float:
    """A finite, non-negative number of seconds (or ``unit``): not a bool, NaN or infinity."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        message = f"must be a number of {unit} from 0 to {high:,.0f}, got {value!r}"
        raise InvalidInputError(message, field=field)
    return float(value)


def check_ids(value: object, field: str) -> tuple[str, ...]:
    """A list (or tuple) of ids, duplicates dropped, order kept."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InvalidInputError(f"must be a list of job ids, got {type(value).__name__}", field=field)
    ids = list(value)
    if len(ids) > MAX_DEPENDENCIES:
        raise InvalidInputError(f"has {len(ids):,} ids; the limit is {MAX_DEPENDENCIES:,}", field=field)
    return tuple(dict.fromkeys(check_id(item, field) for item in ids))


def check_id_list(value: object, field: str) -> list[str]:
    """Ids to look up, in order and with repeats kept (one answer per id asked)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InvalidInputError(f"must be a list of job ids, got {type(value).__name__}", field=field)
    return [check_id(item, field) for item in value]


def check_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"must be True or False, got {value!r}", field=field)
    return value


def check_timeout(value: object, field: str = "timeout") -> float | None:
    """None (no limit) or a finite number of seconds >= 0."""
    return None if value is None else check_seconds(value, field)


_STREAM_ID = re.compile(r"\$|[0-9]{1,20}(-[0-9]{1,20})?")


def check_event_id(value: object, field: str = "since") -> str:
    """``"$"`` (from now on) or an event id such as ``"1733580000000-0"``."""
    if (
        not isinstance(value, str)
        or not _STREAM_ID.fullmatch(value)
        or any(int(part) >= 2**64 for part in value.split("-") if part != "$")
    ):
        message = f"must be '$' or an event id like '1733580000000-0', got {value!r}"
        raise InvalidInputError(message, field=field)
    return value


def check_json(value: object, field: str, *, depth: int = 0) -> None:
    """A JSON document of plain types (no NaN, no bool-as-number surprises), nested at most
    :data:`MAX_JSON_DEPTH` deep, with valid strings; walked iteratively would be faster, but
    inputs are small apart from their one text."""
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(f"is nested more than {MAX_JSON_DEPTH} levels deep", field=field)
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"must be a finite number, got {value!r}", field=field)
    elif isinstance(value, str):
        check_string(value, field, limit=MAX_TEXT_CHARS, allow_empty=True)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_string(key, field, limit=MAX_ID_CHARS, allow_empty=True)
            check_json(item, f"{field}.{key}", depth=depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            check_json(item, field, depth=depth + 1)
    else:
        raise InvalidInputError(f"{type(value).__name__} is not a JSON type", field=field)


def check_spec(spec: JobSpec) -> None:
    """Every field of a job about to be written; :func:`~eduscribe_sdk._creation.create_jobs`
    checks each spec, so a spec built by hand (not by ``Client.prepare_job``) cannot write a
    record that a reader or a worker would fail to parse."""
    if not isinstance(spec.job_type, JobType):
        raise InvalidInputError(f"must be a JobType, got {spec.job_type!r}", field="job_type")
    if spec.id:
        check_id(spec.id, "id")
    check_id(spec.user_id, "user_id")
    if spec.priority is not None and not isinstance(spec.priority, Priority):
        raise InvalidInputError(f"must be a Priority, got {spec.priority!r}", field="priority")
    check_count(spec.max_retries, "max_retries")
    if spec.estimated_duration_seconds is not None:
        check_seconds(spec.estimated_duration_seconds, "estimated_duration_seconds")
    if spec.title is not None:
        check_string(spec.title, "title", limit=MAX_TITLE_CHARS, allow_empty=True)
    if spec.batch_id:
        check_id(spec.batch_id, "batch_id")
    check_ids(spec.depends_on, "depends_on")
    if not isinstance(spec.input_data, Mapping):
        raise InvalidInputError("must be an object (a dict)", field="input_data")
    check_json(spec.input_data, "input_data")


def _check_options(job_type: JobType, raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInputError("must be an object", field="options")
    unknown = set(raw) - _OPTIONS[job_type]
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[job_type]))
        raise InvalidInputError(
            f"unknown option(s) {', '.join(sorted(map(str, unknown)))} (allowed: {allowed})",
            field="options",
        )
    options: dict[str, Any] = {}
    if (language := raw.get("language")) is not None:
        if not isinstance(language, str) or not _LANGUAGE.match(language.strip()):
            raise InvalidInputError(
                f"must be a language code like 'en' or 'de', or 'auto'; got {language!r}",
                field="options.language",
            )
        options["language"] = language.strip()
    if (quiz := raw.get("generateQuiz")) is not None:
        if not isinstance(quiz, bool):
            raise InvalidInputError("must be true or false", field="options.generateQuiz")
        options["generateQuiz"] = quiz
    if (prompt := raw.get("prompt")) is not None:
        options["prompt"] = check_string(prompt, "options.prompt", limit=MAX_PROMPT_CHARS)
    if (password := raw.get("password")) is not None:
        options["password"] = check_string(password, "options.password", limit=1024, allow_empty=True)
    if (subtitles := raw.get("subtitles")) is not None:
        if subtitles is True:
            subtitles = "srt"
        if subtitles is not False and subtitles not in ("srt", "vtt"):
            raise InvalidInputError("must be 'srt', 'vtt', true or false", field="options.subtitles")
        if subtitles:
            options["subtitles"] = subtitles
    if (preferred := raw.get("preferredLanguages")) is not None:
        if isinstance(preferred, str):
            preferred = [p.strip() for p in preferred.split(",") if p.strip()]
        if (
            not isinstance(preferred, list)
            or len(preferred) > 20
            or not all(isinstance(p, str) and _LANGUAGE.match(p) for p in preferred)
        ):
            raise InvalidInputError(
                "must be a list of language codes like ['en', 'de']",
                field="options.preferredLanguages",
            )
        options["preferredLanguages"] = list(preferred)
    return options


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def check_local_file(
    value: object, *, max_bytes: int, roots: Sequence[Path] = (), field: str = "path"
) -> Path:
    """The real path of a local input file, checked without opening it.

    Symlinks are resolved first, and ``roots`` (``EDUSCRIBE_FILE_ROOTS``, real paths) are
    checked against the result; the kind of file comes from ``os.stat``, so a FIFO or a
    device is refused before anything opens it (opening a FIFO would block forever).
    """
    if not isinstance(value, str | Path) or not str(value).strip():
        raise InvalidInputError("must be a file path", field=field)
    if "\0" in str(value):
        raise InvalidInputError("a file path cannot contain NUL", field=field)
    path = Path(value).expanduser()
    try:
        real = Path(os.path.realpath(path))
    except ValueError:  # a lone surrogate: no file system can encode the name
        raise InvalidInputError(f"not a valid file path: {str(path)!r}", field=field) from None
    # Roots first: outside them, whether a file exists is none of the caller's business.
    if roots and not any(real == root or root in real.parents for root in roots):
        raise InvalidInputError(
            f"{path} is outside the folders EDUSCRIBE_FILE_ROOTS allows ({':'.join(map(str, roots))})",
            field=field,
        )
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise InvalidInputError(f"file not found: {path}", field=field) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from None
    except ValueError:
        raise InvalidInputError(f"not a valid file path: {str(path)!r}", field=field) from None
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise InvalidInputError(f"not a regular file ({kind}): {path}", field=field)
    if info.st_size == 0:
        raise InvalidInputError(f"file is empty: {path}", field=field)
    if info.st_size > max_bytes:
        raise InvalidInputError(
            f"file is {info.st_size / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB: {path}",
            field=field,
        )
    return real


def _check_upload_id(value: object) -> str:
    if not isinstance(value, str) or not _UPLOAD_ID.fullmatch(value):
        raise InvalidInputError("must be an upload id from Client.upload", field="uploadId")
    return value


def normalize_input(
    job_type: JobType | str,
    input_data: object,
    *,
    max_file_bytes: int = 200 * 1024 * 1024,
    file_roots: Sequence[Path] = (),
) -> dict[str, Any]:
    """Validated, normalised input; raises :class:`InvalidInputError` naming the field.

    A file or video input names a local ``path`` (checked here, read and stored when the
    job is created) or an ``uploadId`` from ``Client.upload``.
    """
    kind = parse_job_type(job_type)
    if input_data is None:
        input_data = {}
    if not isinstance(input_data, Mapping):
        raise InvalidInputError("must be an object (a dict)", field="input_data")
    unknown = set(input_data) - _TOP_LEVEL[kind] - {"options"}
    if unknown:
        allowed = ", ".join(sorted(_TOP_LEVEL[kind] | {"options"}))
        raise InvalidInputError(
            f"unknown field(s) {', '.join(sorted(map(str, unknown)))} for {kind.value} (allowed: {allowed})",
            field="input_data",
        )
    result: dict[str, Any] = {}
    if kind is JobType.TEXT_NOTES:
        result["content"] = check_string(input_data.get("content"), "content", limit=MAX_TEXT_CHARS)
    elif kind in (JobType.FILE_NOTES, JobType.VIDEO_NOTES):
        if "uploadId" in input_data:
            if "path" in input_data:
                raise InvalidInputError("give a path or an uploadId, not both", field="uploadId")
            result["uploadId"] = _check_upload_id(input_data["uploadId"])
        else:
            path = input_data.get("path")
            if isinstance(path, str | Path):
                # Before the file system sees it: a name too long is OSError, not "not found".
                check_string(str(path), "path", limit=MAX_PATH_CHARS)
            result["path"] = str(check_local_file(path, max_bytes=max_file_bytes, roots=file_roots))
    elif kind is JobType.YOUTUBE_NOTES:
        url, video_id = input_data.get("youtubeUrl"), input_data.get("videoId")
        if url is None and video_id is None:
            raise InvalidInputError("youtubeUrl or videoId is required", field="youtubeUrl")
        raw = check_string(
            url if url is not None else video_id,
            "youtubeUrl" if url is not None else "videoId",
            limit=MAX_URL_CHARS,
        )
        result["videoId"] = parse_youtube_id(raw)
        if url is not None:
            result["youtubeUrl"] = raw.strip()
    result["options"] = _check_options(kind, input_data.get("options"))
    return result


def normalize_title(title: object) -> str | None:
    if title is None:
        return None
    text = check_string(title, "title", limit=MAX_TITLE_CHARS, allow_empty=True).strip()
    return text or None
