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
