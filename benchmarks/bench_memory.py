"""Redis memory per finished job record, with and without notes.

N jobs go through the real scripts (create → fetch → start → complete) on an emptied
database, once with the no-op output and once with typical notes (the offline generator's
notes of a shared lecture text, about 5 KB of JSON). Reported per job:

* the job hash alone (``MEMORY USAGE`` of every ``job:{id}``, averaged);
* everything the job adds to Redis (``used_memory`` delta / N), minus the event stream,
  which is capped (``event_stream_maxlen``, 100,000 entries) and so does not grow with the
  number of stored jobs; its share is listed separately.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from ._report import Row
from ._servers import REPO, RedisServer, flush
from .bench_queue import DB

WORKER = "bench-memory"
NOTES_SOURCE = REPO.parent / "shared" / "data" / "text" / "ghc_compiler_lecture_notes.md"
# A file_notes-like input: jobs carry their input, so its size is part of every record.
INPUT = {"path": "/srv/course/lecture-01.pdf", "options": {"language": "en"}}


def typical_notes() -> dict[str, Any]:
    from eduscribe_sdk._processors.base import LocalContext
    from eduscribe_sdk._processors.text import process_text

    text = NOTES_SOURCE.read_text(encoding="utf-8") if NOTES_SOURCE.is_file() else "Stacks and queues. " * 400
    return process_text({"content": text, "options": {}}, LocalContext())


def _used(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def _finished_jobs(client: Any, n: int, output: dict[str, Any], tag: str) -> list[str]:
    from eduscribe_sdk._creation import JobSpec
    from eduscribe_sdk._models import JobType

    store = client._store
    ids = [f"{tag}-{i:06d}" for i in range(n)]
    store.create_jobs(
        [
            JobSpec(
                job_type=JobType.FILE_NOTES,
                input_data=INPUT,
                user_id=f"user{i % 10}",
                id=job_id,
                title=f"Lecture {i}",
            )
            for i, job_id in enumerate(ids)
        ]
    )
    taken = [job_id for job_id, *_ in store.fetch(WORKER, n)]
    library, prefix, payload = store._library, store.keys.prefix, json.dumps(output)
    pipe = store.redis.pipeline(transaction=False)
    for job_id in taken:
        pipe.execute_command("FCALL", library.function("start"), 1, prefix, job_id, WORKER, 60_000)
        pipe.execute_command(
            "FCALL", library.function("settle"), 1, prefix, WORKER, "complete", job_id, 1, payload, "", ""
        )
    pipe.execute()
    return ids


def measure(client: Any, n: int, output: dict[str, Any], tag: str) -> dict[str, float]:
    store = client._store
    raw: redis.Redis = store.redis
    flush(store.url)
    # A first job creates the fixed-size structures (counters, samples lists, worker entry),
    # which every later job shares.
    _finished_jobs(client, 10, output, f"{tag}-warm")
    before, events_before = _used(raw), raw.memory_usage(store.keys.events) or 0
    ids = _finished_jobs(client, n, output, tag)
    after, events_after = _used(raw), raw.memory_usage(store.keys.events) or 0
    pipe = raw.pipeline(transaction=False)
    for job_id in ids:
        pipe.memory_usage(store.keys.job(job_id), samples=0)
    hashes = sum(int(v or 0) for v in pipe.execute())
    events = events_after - events_before
    return {
        "jobs": n,
        "output_bytes": len(json.dumps(output)),
        "job_hash_bytes": hashes / n,
        "total_bytes": (after - before - events) / n,
        "events_bytes": events / n,
    }


def run(server: RedisServer, *, jobs: int = 2000) -> dict[str, Any]:
    from eduscribe_sdk import Client, Settings

    url = server.url(DB["eduscribe"])
    flush(url)
    with Client(url, user_id="bench", workers=0, settings=Settings()) as client:
        measured = {
            "no notes": measure(client, jobs, {"summary": ""}, "plain"),
            "with notes": measure(client, jobs, typical_notes(), "notes"),
        }
        flush(url)
    rows: list[Row] = []
    for case, m in measured.items():
        rows.append(
            Row(
                "memory",
                f"job hash, {case} ({m['output_bytes']:,.0f} B output)",
                m["job_hash_bytes"],
                "B/job",
            )
        )
        rows.append(
            Row(
                "memory",
                f"record + indexes + stats, {case}",
                m["total_bytes"],
                "B/job",
                note=f"+ {m['events_bytes']:,.0f} B/job of events (stream capped)",
            )
        )
    return {"rows": [row.to_dict() for row in rows], "measured": measured}
