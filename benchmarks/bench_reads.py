"""Scale of reads: the cost of the SDK's read calls at 10k, 100k and 1,000,000 stored jobs.

The store is filled with real records through the store's own scripts: jobs are created in
atomic chunks (``Store.create_jobs``), then most of them are taken through fetch → start →
complete with a small output, pipelined so that a million jobs fit in a few minutes. The
rest stay queued, so the queue position is asked of a job in the middle of a deep queue.
The levels are cumulative: the same store grows from one level to the next.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from ._report import Row
from ._servers import RedisServer, flush
from .bench_queue import DB

COMPLETED_SHARE = 0.9
USERS = 100
BATCH_SIZE = 1000
FILL_CHUNK = 5000
WORKER = "bench-filler"
OUTPUT = {"title": "Notes", "summary": "A short summary.", "key_points": ["one", "two"], "word_count": 120}


def fill(client: Any, start: int, stop: int) -> None:
    """Create jobs ``start..stop-1`` and complete ``COMPLETED_SHARE`` of them."""
    import json

    from eduscribe_sdk._creation import JobSpec
    from eduscribe_sdk._models import JobType

    store = client._store
    # The store's library functions, pipelined: one round trip per few thousand transitions
    # instead of one each. The same functions (and so the same records) as a real worker's.
    library, prefix = store._library, store.keys.prefix
    output = json.dumps(OUTPUT)
    for begin in range(start, stop, FILL_CHUNK):
        end = min(stop, begin + FILL_CHUNK)
        store.create_jobs(
            [
                JobSpec(
                    job_type=JobType.TEXT_NOTES,
                    input_data={"content": f"Lecture {i}: stacks and queues.", "options": {}},
                    user_id=f"user{i % USERS}",
                    id=f"job-{i:07d}",
                    batch_id=f"batch-{i // BATCH_SIZE}",
                )
                for i in range(begin, end)
            ]
        )
        to_complete = int((end - begin) * COMPLETED_SHARE)
        taken = [job_id for job_id, *_ in store.fetch(WORKER, to_complete)]
        pipe = store.redis.pipeline(transaction=False)
        for job_id in taken:
            pipe.execute_command("FCALL", library.function("start"), 1, prefix, job_id, WORKER, 60_000)
        pipe.execute()
        pipe = store.redis.pipeline(transaction=False)
        for job_id in taken:
            pipe.execute_command(
                "FCALL", library.function("settle"), 1, prefix, WORKER, "complete", job_id, 1, output, "", ""
            )
        pipe.execute()


def _time(call: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``call`` in ms (after one untimed call)."""
    call()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure_level(client: Any, repeat: int) -> dict[str, float]:
    from eduscribe_sdk._models import JobStatus

    queued = client._store.count(status=JobStatus.QUEUED)
    middle = client._store.list_ids(status=JobStatus.QUEUED, offset=queued // 2, limit=1)[0]

    def position() -> None:
        assert client.get_job(middle).queue_position is not None

    return {
        "stats": _time(client.stats, repeat),
        "queue_position": _time(position, repeat),
        "list_jobs_page1": _time(lambda: client.list_jobs(page=1), repeat),
        "jobs_frame_1000": _time(lambda: client.jobs_frame(limit=1000), max(3, repeat // 5)),
        "stats_frame": _time(client.stats_frame, max(3, repeat // 5)),
        "workers": _time(client.workers, repeat),
        "queued": queued,
    }


def run(
    server: RedisServer, *, levels: tuple[int, ...] = (10_000, 100_000, 1_000_000), repeat: int = 25
) -> dict[str, Any]:
    from eduscribe_sdk import Client, Settings

    url = server.url(DB["eduscribe"])
    flush(url)
    measured: dict[int, dict[str, float]] = {}
    fill_seconds: dict[int, float] = {}
    with Client(url, user_id="bench", workers=0, settings=Settings()) as client:
        done = 0
        for level in sorted(levels):
            began = time.perf_counter()
            fill(client, done, level)
            fill_seconds[level] = time.perf_counter() - began
            done = level
            measured[level] = measure_level(client, repeat)
        memory = int(client._store.redis.info("memory")["used_memory"])
    # Freed now, outside any timing, so that the next section starts on an empty server.
    flush(url)
    rows: list[Row] = []
    smallest, largest = min(measured), max(measured)
    targets = {"stats": 20.0, "queue_position": 20.0}
    labels = {
        "stats": "stats()",
        "queue_position": "queue_position (get_job)",
        "list_jobs_page1": "list_jobs page 1",
        "jobs_frame_1000": "jobs_frame(limit=1000)",
        "stats_frame": "stats_frame()",
        "workers": "workers()",
    }
    for key, label in labels.items():
        for level in sorted(measured):
            value = measured[level][key]
            goal = targets.get(key) if level == largest else None
            rows.append(
                Row(
                    "reads",
                    f"{label} at {level:,} jobs",
                    value,
                    "ms",
                    baseline=f"same call at {smallest:,}" if level != smallest else "",
                    baseline_value=measured[smallest][key] if level != smallest else None,
                    # Growth of the cost with the store: ~1.0 means it does not grow.
                    ratio=value / measured[smallest][key] if level != smallest else None,
                    target=f"< {goal:g} ms" if goal else "",
                    met=(value < goal) if goal else None,
                )
            )
    return {
        "rows": [row.to_dict() for row in rows],
        "measured": {str(k): v for k, v in measured.items()},
        "fill_seconds": {str(k): v for k, v in fill_seconds.items()},
        "used_memory_bytes": memory,
    }
