"""The Lua function library: Redis runs the files as written, with no free globals, on every
server EduScribe supports, and several versions of it can share one server."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from eduscribe_sdk import Client, ConfigError, JobStatus, Settings
from eduscribe_sdk._library import FUNCTIONS, LUA_BUILTINS, build_library, call, library
from eduscribe_sdk._store import SAMPLE_CAP, Store, connect
from tests.conftest import RedisServer, system_redis_server
from tests.core.jobs import OVERRIDES, plan
from tests.core.lua_names import free_names


def source(name: str) -> str:
    return (resources.files("eduscribe_sdk") / "lua" / f"{name}.lua").read_text()


def as_dict(flat: list[Any]) -> dict[str, Any]:
    """A RESP2 map reply (a flat list of keys and values) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def body(text: str) -> str:
    """The library without its ``#!lua`` line (which only Redis reads)."""
    return text.split("\n", 1)[1]


def test_redis_runs_the_files_as_written_in_order() -> None:
    lib = library(events_maxlen=100, sample_cap=10)
    assert lib.text.startswith(f"#!lua name={lib.name}\n")
    positions = [lib.text.index(source(name)) for name in ("common", *FUNCTIONS)]
    assert positions == sorted(positions)


def test_no_function_uses_a_name_it_did_not_declare() -> None:
    names = free_names(body(library(events_maxlen=100, sample_cap=10).text))
    assert names <= LUA_BUILTINS, f"free globals: {sorted(names - LUA_BUILTINS)}"


def test_an_undeclared_or_misspelt_helper_is_found() -> None:
    text = body(library(events_maxlen=100, sample_cap=10).text)
    assert "claim" in free_names(text.replace("local function claim(", "function claim("))
    assert "now_s" in free_names(text.replace("local function now_s()", "local function now()"))
    assert "k_job" in free_names(text.replace("local function k_job(x)", "local function k_jobs(x)"))


def test_every_function_is_registered_under_the_versioned_name(store: Store) -> None:
    store.stats_snapshot()  # the first call loads the library
    (entry,) = [as_dict(e) for e in store.redis.function_list(library=store._library.name)]
    registered = {as_dict(function)["name"] for function in entry["functions"]}
    assert registered == {store._library.function(name) for name in FUNCTIONS}


def test_the_library_is_loaded_again_after_the_server_forgets_it(store: Store) -> None:
    """A restarted server without persistence (or FUNCTION FLUSH) has no functions."""
    store.create_jobs([])  # nothing to write: no call
    first = store.stats_snapshot()["total"]
    store.redis.execute_command("FUNCTION", "FLUSH")
    assert store.stats_snapshot()["total"] == first == 0


def test_two_versions_of_the_library_share_a_server(store: Store) -> None:
    """During an upgrade old and new workers call their own functions on the same server."""
    ours = store._library
    other = build_library(events_maxlen=7, sample_cap=SAMPLE_CAP)
    assert other.name != ours.name
    store.stats_snapshot()
    theirs = call(store.redis, other, "stats", store.keys.prefix, ["10000", "0"])
    assert call(store.redis, ours, "stats", store.keys.prefix, ["10000", "0"])[0] == theirs[0] == 0
    names = {as_dict(entry)["library_name"] for entry in store.redis.function_list()}
    assert {ours.name, other.name} <= names


def test_a_server_without_functions_is_a_clear_configuration_error(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "old", "--rename-command", "FCALL", "").start()
    try:
        store = Store(connect(server.url))
        with pytest.raises(ConfigError, match=r"Redis 7\.0 or newer"):
            store.stats_snapshot()
        store.redis.close()
    finally:
        server.stop()


def test_redis_7_0_runs_a_course(tmp_path: Path, fast_settings: Settings) -> None:
    """The documented minimum: the system's redis-server 7, not only the embedded Valkey."""
    binary = system_redis_server()
    if binary is None:
        pytest.skip("no redis-server 7 or newer on PATH (Debian's redis-server package)")
    server = RedisServer(tmp_path / "redis7", binary=binary).start()
    settings = replace(fast_settings, processor_overrides=OVERRIDES)
    try:
        with Client(server.url, user_id="r7", workers=2, settings=settings) as client:
            first = client.create_job("text_notes", plan(steps=2))
            second = client.create_job("text_notes", plan(), depends_on=[first.id])
            cancelled = client.create_job("text_notes", plan(sleep=30), depends_on=[second.id])
            client.cancel(cancelled.id)
            assert client.wait(second.id, timeout=60).status is JobStatus.COMPLETED
            assert client.get_job(cancelled.id).status is JobStatus.CANCELLED
            assert client.stats().totals["completed_jobs"] == 2
    finally:
        server.stop()
