"""The stats snapshot a wait estimate reads stays O(1) in the number of jobs."""

from __future__ import annotations

from eduscribe_sdk import Client


def test_a_wait_estimate_reads_no_job_ids(bare_client: Client) -> None:
    # Found by benchmarks/bench_http.py: `GET /api/jobs/{id}` of a queued job asks for an
    # estimate, whose snapshot asked for "0 recent jobs" as ZREVRANGE 0 -1: every job id.
    jobs = [bare_client.create_job("text_notes", {"content": "some text " * 20}) for _ in range(5)]
    store = bare_client._store
    assert store.stats_snapshot(recent=0)["recent"] == []
    recent = store.stats_snapshot(recent=2)["recent"]
    assert len(recent) == 2 and set(recent) <= {job.id for job in jobs}


def _function_calls(client: Client) -> int:
    stats = client._store.redis.info("commandstats")
    return int(stats.get("cmdstat_fcall", {}).get("calls", 0))


def test_a_wait_estimate_may_reuse_recent_queue_figures(bare_client: Client) -> None:
    record = bare_client.create_job("text_notes", {"content": "some text " * 20}).record
    bare_client.estimated_wait_seconds(record, max_age=60)
    before = _function_calls(bare_client)
    for _ in range(3):
        bare_client.estimated_wait_seconds(record, max_age=60)
    assert _function_calls(bare_client) == before  # the figures of the first call, reused
    bare_client.estimated_wait_seconds(record)
    assert _function_calls(bare_client) == before + 1  # by default always fresh


def test_max_age_is_checked(bare_client: Client) -> None:
    import pytest

    from eduscribe_sdk import InvalidInputError

    record = bare_client.create_job("text_notes", {"content": "some text " * 20}).record
    for bad in (-1, float("nan"), True, "1"):
        with pytest.raises(InvalidInputError, match="max_age"):
            bare_client.estimated_wait_seconds(record, max_age=bad)  # type: ignore[arg-type]
