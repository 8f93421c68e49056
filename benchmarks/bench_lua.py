"""Redis instructions per job, by phase, for the job store of one or more source trees.

    python3 -m benchmarks.bench_lua [--tree LABEL=PATH ...] [--jobs 1200]

Timings on a shared VM drift more than a change to the Lua code moves them, so this counts
instructions instead: the server (the same ``valkey-server`` binary for every tree) runs
under ``valgrind --tool=callgrind``, and ``callgrind_control`` zeroes and dumps its counters
around each phase of a fixed workload. Each tree's workload runs in its own process with
that tree first on ``sys.path`` (this checkout is ``current``), against its own emptied
server, using only the store API every version has. Repeatable to a fraction of a percent.

Phases, per job: create (one call per 1,000 jobs), fetch-and-claim three per call, progress
report, settle one per call, settle four per call, and a tiny job end to end (create one,
fetch-and-claim it, one progress report, complete it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from ._servers import REPO, free_port, redis_server_binary

PHASES = ("create", "fetch3", "progress", "settle1", "settle4", "tiny job")

# Runs in the tree's own interpreter process: reads a phase name per line, answers "done".
_WORKLOAD = r"""
import json, sys
import importlib, os
import eduscribe_sdk
from eduscribe_sdk import JobSpec, JobType
# By the files of this tree: an import that fails here would be served from the editable
# install's tree instead. Versions before the implementation modules went private: store.
private = os.path.exists(os.path.join(os.path.dirname(eduscribe_sdk.__file__), "_store.py"))
store_module = importlib.import_module("eduscribe_sdk._store" if private else "eduscribe_sdk.store")
Store, completion, connect = store_module.Store, store_module.completion, store_module.connect

url, n = sys.argv[1], int(sys.argv[2])
store = Store(connect(url))
store.stats_snapshot()  # scripts or functions loaded before counting
claims = []

def spec(i):
    return JobSpec(JobType.TEXT_NOTES, {"content": f"lecture {i}"}, "u", id=f"job-{i}")

def settle(batch):
    store.settle_many("w1", [completion(s.id, s.attempt, {"title": "t"}) for s in batch])

for line in sys.stdin:
    phase = line.strip()
    if phase == "create":
        store.create_jobs([spec(i) for i in range(n)])
    elif phase == "fetch3":
        while len(claims) < n:
            claims += store.fetch_and_claim("w1", 3)
    elif phase == "progress":
        for s in claims:
            store.report_progress(s.id, s.attempt, 50)
    elif phase == "settle1":
        for s in claims[: n // 2]:
            settle([s])
    elif phase == "settle4":
        rest = claims[n // 2 :]
        for i in range(0, len(rest), 4):
            settle(rest[i : i + 4])
    elif phase == "tiny job":
        for i in range(n, n + n // 4):
            store.create_jobs([spec(i)])
            (s,) = store.fetch_and_claim("w1", 1)
            store.report_progress(s.id, s.attempt, 50)
            settle([s])
    print("done", flush=True)
"""


def _jobs_in(phase: str, n: int) -> int:
    return {"settle1": n // 2, "settle4": n - n // 2, "tiny job": n // 4}.get(phase, n)


def _totals(dump: Path) -> int:
    text = dump.read_text(errors="replace")
    match = re.search(r"^(?:summary|totals):\s*(\d+)", text, flags=re.M)
    if match is None:
        raise RuntimeError(f"no totals in {dump}")
    return int(match.group(1))


class _Callgrind:
    """The server under callgrind; phase() counts the instructions of one phase."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=yes",
                f"--callgrind-out-file={workdir}/cg.%p",
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.close()

    def _control(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(self.process.pid)], check=True, capture_output=True)

    def count(self, run: Callable[[], None]) -> int:
        self._control("-z")
        before = set(self.workdir.glob("cg.*"))
        run()
        self._control("-d")
        (dump,) = set(self.workdir.glob("cg.*")) - before
        return _totals(dump)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _run_phase(child: subprocess.Popen[str], label: str, phase: str) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(phase + "\n")
    child.stdin.flush()
    if child.stdout.readline().strip() != "done":
        raise RuntimeError(f"{label}: the workload stopped in phase {phase}")


def measure(trees: dict[str, Path], jobs: int) -> dict[str, dict[str, float]]:
    """Instructions per job, per tree and phase."""
    results: dict[str, dict[str, float]] = {}
    for label, tree in trees.items():
        workdir = Path(tempfile.mkdtemp(prefix="bench-lua-"))
        server = _Callgrind(workdir)
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", _WORKLOAD, server.url, str(jobs)],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdin is not None and child.stdout is not None
            results[label] = {}
            for phase in PHASES:
                run = functools.partial(_run_phase, child, label, phase)
                results[label][phase] = server.count(run) / _jobs_in(phase, jobs)
            child.stdin.close()
            child.wait(timeout=60)
        finally:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(
        prog="python3 -m benchmarks.bench_lua", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--jobs", type=int, default=1200)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind and callgrind_control (Debian package valgrind)")
    trees = {"current": REPO}
    for item in args.tree:
        label, _, path = item.partition("=")
        trees[label] = Path(path).resolve()
    results = measure(trees, args.jobs)
    labels = list(results)
    print("instructions per job (thousands)")
    print(f"{'phase':<10}" + "".join(f"{label:>12}" for label in labels))
    for phase in PHASES:
        print(f"{phase:<10}" + "".join(f"{results[label][phase] / 1000:>12.0f}" for label in labels))
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
