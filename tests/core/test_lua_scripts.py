"""Script assembly: each script carries the shared definitions it uses, and only those."""

from __future__ import annotations

import re

import pytest

from eduscribe_sdk.lua_scripts import assemble
from eduscribe_sdk.store import _SCRIPTS, Store


def defined(script: str) -> set[str]:
    return set(re.findall(r"^local function (\w+)", script, flags=re.M))


def test_a_script_gets_what_it_calls_through_every_level_and_nothing_else() -> None:
    progress = defined(assemble("progress", events_maxlen=10, sample_cap=10))
    # progress.lua calls load/emit/now_s; emit needs stamp, stamp needs seconds, then micros.
    assert {"load", "emit", "now_s", "stamp", "seconds", "micros", "flush", "k_job", "k_events"} <= progress
    assert not progress & {"claim", "skip_descendants", "release_dependents", "k_inflight"}
    settle = defined(assemble("settle", events_maxlen=10, sample_cap=10))
    assert {"finish", "release_dependents", "skip_descendants", "put_back", "sample"} <= settle
    assert "claim" not in settle


def test_names_in_comments_and_strings_do_not_pull_definitions_in() -> None:
    # common.lua's comments mention claim() and samples; stats.lua needs neither.
    stats = defined(assemble("stats", events_maxlen=10, sample_cap=10))
    assert "claim" not in stats and "sample" not in stats


@pytest.mark.parametrize("name", _SCRIPTS)
def test_every_script_compiles_on_the_server(store: Store, name: str) -> None:
    """SCRIPT LOAD compiles: a definition cut by mistake would be a syntax-valid global
    access, so the core tests run every script too; this catches broken assembly early."""
    text = assemble(name, events_maxlen=10, sample_cap=10)
    assert re.fullmatch(r"[0-9a-f]{40}", store.redis.script_load(text))
