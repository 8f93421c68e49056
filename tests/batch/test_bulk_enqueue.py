"""10,000 CSV rows validated and enqueued in one bulk step, side by side with one job at a time."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from batch import runner
from eduscribe_sdk import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_bulk_enqueue import format_table, one_at_a_time, write_course

ROWS = 10_000
# The target is 1 s on 2 idle cores; shared CI machines get headroom.
LIMIT_S = 4.0


def test_ten_thousand_rows_bulk_enqueue(redis_url: str, tmp_path: Path) -> None:
    csv_path = write_course(tmp_path / "big.csv", ROWS)
    with Client(redis_url, user_id="bench", workers=0) as client:
        began = time.perf_counter()
        plan = runner.plan_batch(client, csv_path, user_id="bench")
        result = runner.enqueue(client, plan)
        bulk_s = time.perf_counter() - began
        assert len(result.created) == ROWS
        assert client._store.count(batch_id=plan.batch_id) == ROWS
        # Chains of ten: the first row of each chain is queued, the rest wait.
        assert client._store.count(status="queued") == ROWS // 10
        assert client._store.count(status="waiting") == ROWS - ROWS // 10
        # Resuming the same CSV finds every job and creates none.
        began = time.perf_counter()
        again = runner.enqueue(client, runner.plan_batch(client, csv_path, user_id="bench"))
        resume_s = time.perf_counter() - began
        assert again.created == [] and len(again.pending) == ROWS
    single_s, count = one_at_a_time(redis_url, csv_path)
    assert count == ROWS
    table = format_table(
        [("batch path (validate + bulk)", bulk_s, ROWS), ("one job at a time", single_s, count)], ROWS
    )
    print(f"\n{table}\nresume (plan + look-up, nothing created): {resume_s:.3f} s")
    assert bulk_s < LIMIT_S
    assert bulk_s < single_s
