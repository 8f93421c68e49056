"""Reading and checking a course CSV. Pure: no Redis, no click.

:func:`read_course` decodes and parses the file and checks everything that needs only the
file itself (header, ids, types, paths, JSON, dependencies, cycles). It never stops at the
first problem: every :class:`Problem` carries its CSV line number, so one run of
``eduscribe-batch validate`` lists them all. Checks that need the SDK (input validation
through ``Client.prepare_job``, the user's tier) are added by :mod:`batch.runner`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from eduscribe_sdk import (
    MAX_TEXT_CHARS,
    DependencyCycleError,
    InvalidInputError,
    JobType,
    Priority,
    topological_order,
)

__all__ = [
    "COLUMNS",
    "TYPE_ALIASES",
    "BatchInvalidError",
    "CourseCsv",
    "Problem",
    "Row",
    "content_hashes",
    "read_course",
    "type_alias",
]

COLUMNS = ("id", "type", "source", "title", "priority", "depends_on", "language", "quiz", "prompt", "options")
REQUIRED = ("id", "type")
TYPE_ALIASES: Mapping[str, JobType] = {
    "text": JobType.TEXT_NOTES,
    "file": JobType.FILE_NOTES,
    "video": JobType.VIDEO_NOTES,
    "youtube": JobType.YOUTUBE_NOTES,
    "summary": JobType.COURSE_SUMMARY,
}
# Ids name the output files (<id>.md), so they must be safe file names everywhere.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: An options cell: options are a handful of short keys; more is a mistake or an attack.
MAX_OPTIONS_CHARS = 64 * 1024
MAX_OPTIONS_DEPTH = 8
#: Linux refuses longer paths anyway, with an error that names no row.
MAX_SOURCE_CHARS = 4096
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
# One encoder for every row hash (json.dumps with options builds a new one per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


_SCALARS = frozenset({str, int, bool, type(None)})


def _has_float(value: Any) -> bool:
    # Exact type checks first: a row hash walks every value of its payload, and isinstance
    # chains over thousands of rows cost more than the hashing itself.
    kind = type(value)
    if kind in _SCALARS:
        return False
    values: Iterable[Any]
    if kind is dict or isinstance(value, dict):
        values = value.values()
    elif kind is list or kind is tuple or isinstance(value, list | tuple):
        values = value
    else:
        return isinstance(value, float)
    for v in values:  # noqa: SIM110 (a loop: any() builds a generator per container, as costly again)
        if type(v) not in _SCALARS and _has_float(v):
            return True
    return False


def _canonical(payload: dict[str, Any]) -> bytes:
    """The bytes of ``_CANONICAL.encode(payload)``, which row hashes (hence resumable job ids)
    are pinned to. orjson writes them ~5x faster, and its output is byte for byte the same
    when it is printable ASCII without ``\\u`` escapes and the payload has no float (the two
    format floats and non-ASCII text differently); anything else goes through json."""
    if not _has_float(payload):
        try:
            raw = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # orjson.JSONEncodeError: big integers, non-str keys, other types
            raw = b""
        if raw and raw.isascii() and b"\\u" not in raw and b"\x7f" not in raw:
            return raw
    return _CANONICAL.encode(payload).encode()


def type_alias(job_type: JobType) -> str:
    """The CSV ``type`` spelling of a job type (``file`` for ``file_notes``)."""
    return next(alias for alias, kind in TYPE_ALIASES.items() if kind is job_type)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the CSV; ``line`` is 1-based (0: the file as a whole)."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class BatchInvalidError(InvalidInputError):
    """The CSV has problems; ``problems`` lists every one of them, by line."""

    def __init__(self, path: Path | str, problems: Iterable[Problem]) -> None:
        self.path = Path(path)
        self.problems = sorted(problems, key=lambda p: (p.line, p.field or ""))
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{self.path}: {count} problem{'s' if count != 1 else ''}\n{lines}")


@dataclass(frozen=True, slots=True)
class Row:
    """One valid CSV row, ready to become a job (``input_data`` still goes through the SDK)."""

    line: int
    id: str
    job_type: JobType
    input_data: dict[str, Any]
    title: str | None = None
    priority: Priority | None = None
    depends_on: tuple[str, ...] = ()
    source_path: Path | None = None


@dataclass
class CourseCsv:
    """A parsed CSV: the rows that passed every check here, and every problem found."""

    path: Path
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent


def _decode(raw: bytes, name: str) -> tuple[str | None, Problem | None]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Problem(0, None, f"{name} is UTF-16 encoded; save it as UTF-8 (with or without BOM)")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, Problem(
            line,
            None,
            f"{name} is not UTF-8 (byte 0x{raw[exc.start]:02x} cannot be decoded); "
            "save it as UTF-8 (with or without BOM)",
        )


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; a quoted cell may span several lines."""
    # csv's default cell limit (128 KiB) is below what a text job accepts; the SDK's own
    # limit then reports an over-long cell with its line number.
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_TEXT_CHARS))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def read_course(path: Path | str, *, allow_outside: bool = False) -> CourseCsv:
    """Parse and check ``path``; problems are collected in the result, never raised."""
    course = CourseCsv(Path(path).expanduser().absolute())
    problems = course.problems
    try:
        raw = course.path.read_bytes()
    except OSError as exc:
        problems.append(Problem(0, None, f"cannot read {course.path}: {exc.strerror or exc}"))
        return course
    text, problem = _decode(raw, course.path.name)
    if text is None:
        assert problem is not None
        problems.append(problem)
        return course
    try:
        records = list(_records(text))
    except csv.Error as exc:
        problems.append(Problem(0, None, f"not a valid CSV file: {exc}"))
        return course
    records = [(line, cells) for line, cells in records if "".join(cells).strip()]
    if not records:
        problems.append(Problem(1, None, "the file is empty; the first line must be a header"))
        return course
    header_line, header = records[0]
    columns = _check_header(header_line, header, problems)
    if columns is None:
        return course

    base = course.folder.resolve()
    first_line: dict[str, int] = {}
    raw_deps: dict[str, tuple[int, list[str]]] = {}
    parsed: list[Row] = []
    width = len(columns)
    for line, cells in records[1:]:
        if len(cells) != width:
            if len(cells) > width:
                message = f"has {len(cells)} cells; the header has {width} columns"
                problems.append(Problem(line, None, message))
                continue
            cells = [*cells, *[""] * (width - len(cells))]
        values = dict(zip(columns, cells, strict=True))
        row_problems: list[Problem] = []
        deps = _split_deps(values.get("depends_on", ""))
        row = _parse_row(line, values, deps, base, allow_outside, row_problems)
        row_id = values.get("id", "").strip()
        if row_id and _ID.match(row_id):
            if row_id in first_line:
                row_problems.append(
                    Problem(line, "id", f"duplicate id {row_id!r} (first used on line {first_line[row_id]})")
                )
            else:
                first_line[row_id] = line
                raw_deps[row_id] = (line, deps)
        problems += row_problems
        if row is not None and not row_problems:
            parsed.append(row)

    for row_id, (line, deps) in raw_deps.items():
        unknown = [d for d in deps if d not in first_line]
        if row_id in deps:
            problems.append(Problem(line, "depends_on", f"{row_id!r} depends on itself"))
        if unknown:
            problems.append(Problem(line, "depends_on", f"unknown id(s): {', '.join(unknown)}"))
    cyclic = _report_cycles({r: [d for d in deps if d != r] for r, (_, deps) in raw_deps.items()}, first_line)
    problems += cyclic
    blocked = {p.line for p in problems}
    course.rows = [row for row in parsed if row.line not in blocked]
    return course


def _check_header(line: int, header: Sequence[str], problems: list[Problem]) -> list[str] | None:
    columns = [name.strip().lower() for name in header]
    seen: set[str] = set()
    for index, name in enumerate(columns, start=1):
        if not name:
            problems.append(Problem(line, None, f"column {index} has no name"))
        elif name not in COLUMNS:
            problems.append(Problem(line, None, f"unknown column {name!r} (allowed: {', '.join(COLUMNS)})"))
        elif name in seen:
            problems.append(Problem(line, None, f"column {name!r} appears twice"))
        seen.add(name)
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        problems.append(Problem(line, None, f"missing required column(s): {', '.join(missing)}"))
        return None
    # Unknown or unnamed columns: still check the rows, so that every problem shows at once.
    return columns


def _split_deps(raw: str) -> list[str]:
    if not raw:
        return []
    return list(dict.fromkeys(d.strip() for d in raw.split(";") if d.strip()))


def _parse_row(
    line: int,
    values: Mapping[str, str],
    deps: Sequence[str],
    base: Path,
    allow_outside: bool,
    problems: list[Problem],
) -> Row | None:
    row_id = values.get("id", "").strip()
    if not row_id:
        problems.append(Problem(line, "id", "is required"))
    elif not _ID.match(row_id):
        problems.append(
            Problem(
                line,
                "id",
                f"{row_id!r} may contain only letters, digits, '.', '_' and '-', start with a letter "
                "or digit and have at most 100 characters (it names the output files)",
            )
        )
    job_type = _parse_type(line, values.get("type", ""), problems)
    options = _parse_options(line, values, problems)
    priority: Priority | None = None
    if raw_priority := values.get("priority", "").strip().lower():
        try:
            priority = Priority(raw_priority)
        except ValueError:
            names = ", ".join(p.value for p in Priority)
            problems.append(Problem(line, "priority", f"unknown priority {raw_priority!r} (one of {names})"))
    title = values.get("title", "").strip() or None
    if job_type is None:
        return None
    source = values.get("source", "")
    input_data: dict[str, Any] = {"options": options}
    source_path: Path | None = None
    if job_type is JobType.TEXT_NOTES:
        input_data["content"] = source
    elif job_type in (JobType.FILE_NOTES, JobType.VIDEO_NOTES):
        source_path = _resolve_source(line, source.strip(), base, allow_outside, problems)
        input_data["path"] = str(source_path) if source_path else ""
    elif job_type is JobType.YOUTUBE_NOTES:
        input_data["youtubeUrl"] = source.strip()
    elif source.strip():
        problems.append(
            Problem(line, "source", "must be empty for a summary row (it merges its dependencies' notes)")
        )
    return Row(
        line=line,
        id=row_id,
        job_type=job_type,
        input_data=input_data,
        title=title,
        priority=priority,
        depends_on=tuple(deps),
        source_path=source_path,
    )


def _parse_type(line: int, raw: str, problems: list[Problem]) -> JobType | None:
    name = raw.strip().lower()
    if not name:
        problems.append(Problem(line, "type", "is required"))
        return None
    if name in TYPE_ALIASES:
        return TYPE_ALIASES[name]
    try:
        return JobType(name)
    except ValueError:
        names = ", ".join([*TYPE_ALIASES, *(t.value for t in JobType)])
        problems.append(Problem(line, "type", f"unknown type {raw.strip()!r} (one of {names})"))
        return None


def _parse_options(line: int, values: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if raw := values.get("options", "").strip():
        loaded = _load_options(line, raw, problems)
        if isinstance(loaded, dict):
            options.update(loaded)
        elif not any(p.line == line and p.field == "options" for p in problems):
            problems.append(Problem(line, "options", 'must be a JSON object, like {"subtitles": "srt"}'))
    # The dedicated columns win over the same keys in the options JSON.
    if language := values.get("language", "").strip():
        options["language"] = language
    if quiz := values.get("quiz", "").strip().lower():
        if quiz in _TRUE:
            options["generateQuiz"] = True
        elif quiz in _FALSE:
            options["generateQuiz"] = False
        else:
            problems.append(Problem(line, "quiz", f"must be true or false, got {quiz!r}"))
    if prompt := values.get("prompt", "").strip():
        options["prompt"] = prompt
    return options


def _load_options(line: int, raw: str, problems: list[Problem]) -> Any:
    """The options cell's JSON, or None after adding the problem with it."""
    if len(raw) > MAX_OPTIONS_CHARS:
        message = f"is {len(raw):,} characters; the limit is {MAX_OPTIONS_CHARS:,}"
        problems.append(Problem(line, "options", message))
        return None
    too_deep = f"is nested more than {MAX_OPTIONS_DEPTH} levels deep"
    try:
        loaded = json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.append(Problem(line, "options", f"not valid JSON: {exc.msg} (column {exc.colno})"))
        return None
    except RecursionError:  # json's decoder recurses per nesting level
        problems.append(Problem(line, "options", too_deep))
        return None
    if _depth(loaded) > MAX_OPTIONS_DEPTH:
        problems.append(Problem(line, "options", too_deep))
        return None
    return loaded


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion (the row hash recurses over it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
    return deepest


def _resolve_source(
    line: int, source: str, base: Path, allow_outside: bool, problems: list[Problem]
) -> Path | None:
    if not source:
        problems.append(Problem(line, "source", "a file path is required"))
        return None
    if len(source) > MAX_SOURCE_CHARS:
        message = f"is {len(source):,} characters; the limit is {MAX_SOURCE_CHARS:,}"
        problems.append(Problem(line, "source", message))
        return None
    candidate = Path(source).expanduser()
    try:
        # resolve() follows symlinks, so a link inside the folder pointing outside is refused too.
        resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symlink loop
        problems.append(Problem(line, "source", f"{source!r}: {_reason(exc)}"))
        return None
    if not allow_outside and not resolved.is_relative_to(base):
        problems.append(
            Problem(
                line,
                "source",
                f"{source!r} is outside the CSV's folder {base} (use --allow-outside to accept it)",
            )
        )
        return None
    if (problem := _not_regular(resolved)) is not None:
        problems.append(Problem(line, "source", f"{source!r}: {problem}"))
        return None
    return resolved


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _not_regular(path: Path) -> str | None:
    """Why ``path`` cannot be a source, found with stat alone: opening a FIFO waits for a
    writer for ever, and a device such as /dev/zero never ends. A missing file is left to
    the SDK, which says "file not found"."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return _reason(exc)
    if stat.S_ISREG(mode):
        return None
    kinds = {stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    kind = next((name for test, name in kinds.items() if test(mode)), "a device")
    return f"not a regular file ({kind})"


def _report_cycles(graph: dict[str, list[str]], first_line: Mapping[str, int]) -> list[Problem]:
    """Every independent cycle, each reported once on the line of its first row."""
    problems: list[Problem] = []
    remaining = {node: [d for d in deps if d in graph] for node, deps in graph.items()}
    while True:
        try:
            topological_order(remaining)
            return problems
        except DependencyCycleError as exc:
            cycle = exc.cycle
            line = min(first_line[node] for node in cycle)
            problems.append(Problem(line, "depends_on", f"dependency cycle: {' -> '.join(cycle)}"))
            for node in set(cycle):
                remaining.pop(node, None)
            remaining = {n: [d for d in deps if d in remaining] for n, deps in remaining.items()}


def _file_digest(path: Path, cache: dict[Path, str]) -> str:
    if path not in cache:
        digest = hashlib.sha256()
        try:
            # O_NONBLOCK: a regular file checked by read_course may have been swapped for a
            # FIFO since; opening that must not wait for a writer, and it is not hashed.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with open(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(f"not a regular file: {path}")
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"<unreadable>")
        cache[path] = digest.hexdigest()
    return cache[path]


def content_hashes(rows: Sequence[Row]) -> dict[str, str]:
    """A hash per row of its fields, its source file's bytes and its dependencies' hashes.

    A row whose material or whose dependencies changed gets a new hash, hence a new job.
    Every dependency must be among ``rows`` and the graph must have no cycle (as checked by
    :func:`read_course`); the order of ``rows`` does not matter.
    """
    by_id = {row.id: row for row in rows}
    hashes: dict[str, str] = {}
    files: dict[Path, str] = {}
    for row_id in topological_order({row.id: row.depends_on for row in rows}):
        row = by_id[row_id]
        payload = {
            "type": row.job_type.value,
            "title": row.title,
            "priority": row.priority.value if row.priority else None,
            "input": row.input_data,
            "file": _file_digest(row.source_path, files) if row.source_path else None,
            "deps": [[dep, hashes[dep]] for dep in row.depends_on],
        }
        hashes[row_id] = hashlib.sha256(_canonical(payload)).hexdigest()
    return hashes
