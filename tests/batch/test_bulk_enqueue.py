"""10,000 CSV rows validated and enqueued in one bulk step, and resumed without creating any.

How long it takes, against one job at a time and RQ (target: 1 s on 2 idle cores), is a
benchmark figure: ``python3 -m benchmarks.run --only bulk`` (benchmarks/bench_bulk_enqueue.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from batch import runner
from eduscribe_sdk import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_bulk_enqueue import write_course

ROWS = 10_000


def test_ten_thousand_rows_bulk_enqueue(redis_url: str, tmp_path: Path) -> None:
    csv_path = write_course(tmp_path / "big.csv", ROWS)
    with Client(redis_url, user_id="bench", workers=0) as client:
        plan = runner.plan_batch(client, csv_path, user_id="bench")
        result = runner.enqueue(client, plan)
        assert len(result.created) == ROWS
        assert client._store.count(batch_id=plan.batch_id) == ROWS
        # Chains of ten: the first row of each chain is queued, the rest wait.
        assert client._store.count(status="queued") == ROWS // 10
        assert client._store.count(status="waiting") == ROWS - ROWS // 10
        # Resuming the same CSV finds every job and creates none.
        again = runner.enqueue(client, runner.plan_batch(client, csv_path, user_id="bench"))
        assert again.created == [] and len(again.pending) == ROWS
        assert client._store.count(batch_id=plan.batch_id) == ROWS
