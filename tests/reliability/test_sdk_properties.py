"""Every public SDK call, driven with generated hostile arguments against a real server.

The property: whatever the arguments (None, bools, inf/nan, huge numbers, NUL and lone
surrogates in strings, 100,000-character strings, deep nesting, wrong containers), a call
either works or raises an ``EduscribeError`` subclass, and a call that raised wrote nothing:
no key appeared or vanished, no event was emitted, no tier changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduscribe_sdk import Client, EduscribeError, JobHandle, JobSpec, JobType, Settings, topological_order
from eduscribe_sdk._keys import Keys
from tests.conftest import RedisServer
from tests.core.jobs import plan

KNOWN = "known-job"
FINISHED = "finished-job"
_SPEC = JobSpec(job_type=JobType.TEXT_NOTES, input_data=plan(), user_id="prop")


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"k": [value]}
    return value


# Strings a caller should never get a raw error for: NUL, lone surrogates, control
# characters, huge, empty, blank, and a few that look valid.
nasty_text = st.sampled_from(
    [
        "",
        " ",
        "a\x00b",
        "\ud800",
        "x\udc80y",
        "\x1b[2J",
        "line\nbreak",
        "x" * 100_000,
        "$",
        "0-0",
        "99999999999999999999999-0",
        "bogus",
        "text_notes",
        "queued",
        "urgent",
        "premium",
        "en",
        "priority",
        KNOWN,
        FINISHED,
        "redis://127.0.0.1:1/0",
    ]
) | st.text(max_size=30)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, -1, 10**12, math.inf, -math.inf, math.nan, 0.5, 1e308])
    | st.floats()
    | nasty_text
    | st.binary(max_size=8)
)
hostile = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(nasty_text, inner, max_size=3)
        | st.sets(st.integers(), max_size=3)
    ),
    max_leaves=6,
) | st.sampled_from([_deep(200), object(), [None], {"content": None}, {KNOWN: [FINISHED]}])


def maybe(valid: Any) -> st.SearchStrategy[Any]:
    """A valid value half the time, so that each hostile argument also meets valid others."""
    return st.just(valid) | hostile


def _snapshot(r: redis.Redis) -> tuple[Any, ...]:
    keys = Keys()
    return (
        sorted(r.scan_iter(match=keys.pattern, count=1000)),
        r.xlen(keys.events),
        r.hgetall(keys.tiers),
        r.zcard(keys.index_all),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    s = RedisServer(tmp_path_factory.mktemp("props")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sdk(server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    base = replace(Settings.from_env({}), home=tmp_path_factory.mktemp("home"), socket_timeout_s=2.0)
    with Client(server.url, user_id="prop", workers=0, settings=base) as client:
        client.create_jobs([client.prepare_job("text_notes", plan(), id=KNOWN)])
        client.create_jobs([client.prepare_job("text_notes", plan(), id=FINISHED)])
        client.cancel(FINISHED)
        # The first progress table imports IPython, whose jedi raises the recursion limit:
        # done here, not inside a hypothesis test, which warns about it.
        client.progress_table([FINISHED]).stop()
        yield client


@pytest.fixture(scope="module")
def raw(server: RedisServer) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(server.url, decode_responses=True)
    yield r
    r.close()


def _watch(client: Client, *args: Any, **kwargs: Any) -> None:
    events = client.watch(*args, **kwargs)
    timeout = kwargs["timeout"]
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and 0 <= timeout <= 1:
        next(iter(events), None)  # ends within the timeout plus one blocking read


def _holds(raw: redis.Redis, call: Callable[[], object]) -> None:
    before = _snapshot(raw)
    try:
        result = call()
    except EduscribeError:
        assert _snapshot(raw) == before, "a call that raised wrote something"
        return
    if isinstance(result, Client):
        result.close()


PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# name -> (strategy of (args, kwargs), how to call it on the client)
CALLS: dict[str, tuple[Any, Callable[[Client, tuple[Any, ...], dict[str, Any]], object]]] = {
    "create_job": (
        st.tuples(
            st.tuples(hostile | st.just("text_notes"), hostile | st.just(plan())),
            st.fixed_dictionaries(
                {},
                optional={
                    "priority": hostile,
                    "estimated_duration_seconds": hostile,
                    "depends_on": hostile,
                    "title": hostile,
                    "max_retries": hostile,
                    "user_id": hostile,
                    "batch_id": hostile,
                },
            ),
        ),
        lambda c, a, k: c.create_job(*a, **k),
    ),
    "prepare_job": (
        st.tuples(
            st.tuples(st.just("text_notes"), hostile | st.just(plan())),
            st.fixed_dictionaries(
                {}, optional={"id": hostile, "depends_on": hostile, "max_retries": hostile}
            ),
        ),
        lambda c, a, k: c.prepare_job(*a, **k),
    ),
    "create_jobs": (
        st.tuples(
            st.tuples(hostile | st.builds(lambda v: [replace(_SPEC, id="new", max_retries=v)], hostile)),
            st.fixed_dictionaries({}, optional={"batch_metadata": hostile}),
        ),
        lambda c, a, k: c.create_jobs(*a, **k),
    ),
    "submit_text": (
        st.tuples(
            st.tuples(hostile),
            st.fixed_dictionaries(
                {},
                optional={"title": hostile, "language": hostile, "generate_quiz": hostile, "prompt": hostile},
            ),
        ),
        lambda c, a, k: c.submit_text(*a, **k),
    ),
    "submit_file": (
        st.tuples(st.tuples(hostile), st.fixed_dictionaries({}, optional={"password": hostile})),
        lambda c, a, k: c.submit_file(*a, **k),
    ),
    "submit_video": (
        st.tuples(st.tuples(hostile), st.fixed_dictionaries({}, optional={"subtitles": hostile})),
        lambda c, a, k: c.submit_video(*a, **k),
    ),
    "submit_youtube": (
        st.tuples(st.tuples(hostile), st.fixed_dictionaries({}, optional={"preferred_languages": hostile})),
        lambda c, a, k: c.submit_youtube(*a, **k),
    ),
    "upload": (
        st.tuples(
            st.tuples(hostile | st.just(b"%PDF-1.4 tiny")),
            st.fixed_dictionaries({}, optional={"filename": maybe("notes.pdf"), "content_type": hostile}),
        ),
        lambda c, a, k: c.upload(*a, **k),
    ),
    "get_job": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.get_job(*a)),
    "job": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.job(*a)),
    "get_jobs": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.get_jobs(*a)),
    "estimated_wait_seconds": (
        st.tuples(st.tuples(hostile), st.just({})),
        lambda c, a, k: c.estimated_wait_seconds(*a),
    ),
    "list_jobs": (
        st.tuples(
            st.tuples(maybe(None), maybe(1), maybe(10)),
            st.fixed_dictionaries({}, optional={"user_id": hostile, "batch_id": hostile}),
        ),
        lambda c, a, k: c.list_jobs(*a, **k),
    ),
    "cancel": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.cancel(*a)),
    "retry": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.retry(*a)),
    # Only finished or unknown jobs, so that a valid call returns at once.
    "wait": (
        st.tuples(st.tuples(maybe(FINISHED).filter(lambda v: v != KNOWN), maybe(1.0)), st.just({})),
        lambda c, a, k: c.wait(*a),
    ),
    "wait_all": (
        st.tuples(
            st.tuples(
                hostile.filter(lambda v: v != KNOWN and not (isinstance(v, list | tuple) and KNOWN in v))
            ),
            st.fixed_dictionaries({"timeout": hostile}, optional={"raise_on_failure": hostile}),
        ),
        lambda c, a, k: c.wait_all(*a, **k),
    ),
    # Arguments are checked when watch() is called; with a short timeout the test also reads
    # from the stream, where an unchecked event id would fail.
    "watch": (
        st.tuples(
            st.tuples(hostile),
            st.fixed_dictionaries(
                {"timeout": hostile | st.sampled_from([0, 0.1, 1])},
                optional={"since": hostile | st.sampled_from(["bogus", "1-x", "0", "$"])},
            ),
        ),
        lambda c, a, k: _watch(c, *a, **k),
    ),
    "cleanup": (
        st.tuples(st.tuples(hostile.filter(lambda v: v not in (0, False)) | st.just(1e6)), st.just({})),
        lambda c, a, k: c.cleanup(*a),
    ),
    "stats_frame": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.stats_frame(*a)),
    "jobs_frame": (
        st.tuples(
            st.just(()),
            st.fixed_dictionaries(
                {},
                optional={
                    "status": hostile,
                    "user_id": hostile,
                    "batch_id": hostile,
                    "limit": hostile,
                    "notes": hostile,
                },
            ),
        ),
        lambda c, a, k: c.jobs_frame(**k),
    ),
    "set_user_tier": (
        st.tuples(st.tuples(maybe("someone"), maybe("basic")), st.just({})),
        lambda c, a, k: c.set_user_tier(*a),
    ),
    "user_tier": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.user_tier(*a)),
    "batch_metadata": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: c.batch_metadata(*a)),
    "progress_table": (
        st.tuples(st.tuples(hostile.filter(lambda v: v is not None)), st.just({})),
        lambda c, a, k: c.progress_table(*a).stop(),
    ),
    "handle.wait": (
        st.tuples(st.tuples(hostile), st.just({})),
        lambda c, a, k: JobHandle(c, c.get_job(FINISHED)).wait(*a),
    ),
    "topological_order": (st.tuples(st.tuples(hostile), st.just({})), lambda c, a, k: topological_order(*a)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_only_eduscribe_errors_escape_and_a_refused_call_writes_nothing(
    name: str, sdk: Client, raw: redis.Redis
) -> None:
    strategy, call = CALLS[name]

    @PROPERTY
    @given(arguments=strategy)
    def check(arguments: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        args, kwargs = arguments
        _holds(raw, lambda: call(sdk, args, kwargs))

    check()


@PROPERTY
@given(
    url=st.none() | hostile.filter(lambda v: v is not None),
    user_id=hostile,
    workers=st.sampled_from([None, 0, True, -1, 1.5, "2", 10**9, [1], math.nan]),
    prefix=hostile.filter(lambda v: v != "eduscribe"),
)
def test_client_construction(
    url: Any, user_id: Any, workers: Any, prefix: Any, server: RedisServer, raw: redis.Redis
) -> None:
    # With no URL the client would start an embedded server: give it the test server.
    _holds(raw, lambda: Client(url or server.url, user_id=user_id, workers=workers, prefix=prefix))
