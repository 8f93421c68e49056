"""Script assembly: each script carries the shared definitions it uses, and only those."""

from __future__ import annotations

import re

import pytest

from eduscribe_sdk.lua_scripts import assemble, inline_keys
from eduscribe_sdk.store import _SCRIPTS, Store


def defined(script: str) -> set[str]:
    return set(re.findall(r"^local function (\w+)", script, flags=re.M))


def test_a_script_gets_what_it_calls_through_every_level_and_nothing_else() -> None:
    progress = defined(assemble("progress", events_maxlen=10, sample_cap=10))
    # progress.lua calls load/emit/now_s; emit needs stamp, stamp needs seconds, then micros.
    assert {"load", "emit", "now_s", "stamp", "seconds", "micros", "flush"} <= progress
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


def test_key_function_calls_are_written_out_and_strings_and_comments_kept() -> None:
    code = "x = k_job(k_dependents(id)) .. 'k_job(a)' -- k_events()\ny = k_events() z = k_index_user"
    assert inline_keys(code) == (
        'x = (P .. ":job:" .. ((P .. ":job:" .. (id) .. ":dependents"))) .. \'k_job(a)\' -- k_events()\n'
        'y = (P .. ":events") z = k_index_user'
    )
    # an argument with its own calls, parentheses and a string holding a parenthesis
    assert inline_keys("k_samples(f(a, (b)) .. ')')") == "(P .. \":stats:samples:\" .. (f(a, (b)) .. ')'))"


def test_only_key_functions_passed_as_values_stay_defined() -> None:
    create = defined(assemble("create", events_maxlen=10, sample_cap=10))
    # create.lua hands k_index_user/batch/status to a helper; every other key is written out
    passed = {"k_index_user", "k_index_batch", "k_index_status"}
    assert {name for name in create if name.startswith("k_")} == passed
    settle = assemble("settle", events_maxlen=10, sample_cap=10)
    assert not re.search(r"\bk_\w+\s*\(", settle)
