"""Validate and normalise a job's ``input_data`` before anything is stored or enqueued.

Pure and cheap: no heavy imports, no network. Content checks that need the file's bytes
(is this really a PDF?) happen in the processors and fail the job permanently.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._models import JobStatus, JobType
from .errors import InvalidInputError

__all__ = [
    "MAX_PROMPT_CHARS",
    "MAX_TEXT_CHARS",
    "check_local_file",
    "normalize_input",
    "parse_job_type",
    "parse_status",
    "parse_youtube_id",
]

MAX_TEXT_CHARS = 2_000_000
MAX_PROMPT_CHARS = 4_000
MAX_TITLE_CHARS = 300

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


def _check_text(value: object, field: str, *, limit: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"must be a string, got {type(value).__name__}", field=field)
    if not allow_empty and not value.strip():
        raise InvalidInputError("must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInputError(f"is {len(value):,} characters; the limit is {limit:,}", field=field)
    return value


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
        options["prompt"] = _check_text(prompt, "options.prompt", limit=MAX_PROMPT_CHARS)
    if (password := raw.get("password")) is not None:
        options["password"] = _check_text(password, "options.password", limit=1024, allow_empty=True)
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
        if not isinstance(preferred, list) or not all(
            isinstance(p, str) and _LANGUAGE.match(p) for p in preferred
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
        result["content"] = _check_text(input_data.get("content"), "content", limit=MAX_TEXT_CHARS)
    elif kind in (JobType.FILE_NOTES, JobType.VIDEO_NOTES):
        if "uploadId" in input_data:
            if "path" in input_data:
                raise InvalidInputError("give a path or an uploadId, not both", field="uploadId")
            result["uploadId"] = _check_upload_id(input_data["uploadId"])
        else:
            path = input_data.get("path")
            result["path"] = str(check_local_file(path, max_bytes=max_file_bytes, roots=file_roots))
    elif kind is JobType.YOUTUBE_NOTES:
        url, video_id = input_data.get("youtubeUrl"), input_data.get("videoId")
        if url is None and video_id is None:
            raise InvalidInputError("youtubeUrl or videoId is required", field="youtubeUrl")
        raw = url if url is not None else video_id
        if not isinstance(raw, str):
            raise InvalidInputError("must be a string", field="youtubeUrl" if url is not None else "videoId")
        result["videoId"] = parse_youtube_id(raw)
        if url is not None:
            result["youtubeUrl"] = url.strip()
    result["options"] = _check_options(kind, input_data.get("options"))
    return result


def normalize_title(title: object) -> str | None:
    if title is None:
        return None
    text = _check_text(title, "title", limit=MAX_TITLE_CHARS, allow_empty=True).strip()
    return text or None
