"""The one benchmark command.

    python3 -m benchmarks.run [--quick] [--only queue,bulk,...,notebook,http] [--json PATH]

Starts a private redis-server on a free port, runs the chosen sections against it (every
figure next to its baseline from the same run), prints one table with ratios and targets,
and saves everything as JSON under ``benchmarks/results/`` (or ``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._report import Row
from ._servers import REPO, RedisServer, redis_server

SECTIONS = ("queue", "bulk", "reads", "latency", "memory", "processors", "notebook", "http")
RESULTS = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Sizes:
    queue_jobs: int = 5000
    queue_rq_jobs: int = 2000
    queue_processes: tuple[int, ...] = (1, 2)
    queue_systems: tuple[str, ...] = ("eduscribe", "dramatiq", "celery", "rq")
    queue_rounds: int = 3
    bulk_rows: int = 10_000
    bulk_one_at_a_time: bool = True
    bulk_repeat: int = 5
    read_levels: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    read_repeat: int = 25
    idle_probes: int = 60
    busy_probes: int = 200
    latency_baselines: tuple[str, ...] = ("dramatiq", "celery")
    memory_jobs: int = 2000
    processors_quick: bool = False
    notebook_jobs: int = 1000
    #: The web service (bench_http): requests per phase and round, rounds, SSE streams/events.
    http_posts: int = 10_000
    http_gets: int = 30_000
    http_rounds: int = 3
    http_sse_streams: int = 500
    http_sse_events: int = 20
    extra: dict[str, Any] = field(default_factory=dict)
    #: Other versions of EduScribe whose workers the queue section also measures (--compare).
    compare_trees: dict[str, Path] = field(default_factory=dict)


FULL = Sizes()
QUICK = Sizes(
    queue_jobs=300,
    queue_rq_jobs=200,
    queue_processes=(1,),
    queue_rounds=1,
    bulk_rows=2000,
    bulk_one_at_a_time=False,
    bulk_repeat=1,
    read_levels=(10_000, 50_000),
    read_repeat=10,
    idle_probes=3,
    busy_probes=20,
    memory_jobs=500,
    processors_quick=True,
    http_posts=2000,
    http_gets=5000,
    http_rounds=1,
    http_sse_streams=100,
    http_sse_events=5,
)


def _bulk(server: RedisServer, sizes: Sizes) -> dict[str, Any]:
    """Calls the bulk-enqueue benchmark (its own module) and turns its results into rows."""
    try:
        from . import bench_bulk_enqueue

        results = bench_bulk_enqueue.run_benchmark(
            server.url(0), sizes.bulk_rows, include_slow=sizes.bulk_one_at_a_time, repeat=sizes.bulk_repeat
        )
    except (ImportError, AttributeError, TypeError) as exc:
        return _bulk_subprocess(sizes, f"{type(exc).__name__}: {exc}")
    by_name = {name: seconds for name, seconds, _ in results}
    batch_name = next(name for name in by_name if name.startswith("batch"))
    batch = by_name[batch_name]
    rows = [
        Row(
            "bulk",
            f"{sizes.bulk_rows:,} jobs with dependencies, {batch_name}",
            batch,
            "s",
            target="< 1 s" if sizes.bulk_rows >= 10_000 else "",
            met=(batch < 1.0) if sizes.bulk_rows >= 10_000 else None,
        )
    ]
    for name, seconds in by_name.items():
        if name == batch_name:
            continue
        goal = 2.0 if name == bench_bulk_enqueue.RQ_LIKE_FOR_LIKE else None
        r = seconds / batch if batch > 0 else None
        rows.append(
            Row(
                "bulk",
                f"  vs {name}",
                batch,
                "s",
                baseline=name,
                baseline_value=seconds,
                ratio=r,
                target=f">= {goal:g}x" if goal else "",
                met=(r >= goal) if goal and r is not None else None,
            )
        )
    return {
        "rows": [row.to_dict() for row in rows],
        "results": [{"variant": n, "seconds": s, "jobs": j} for n, s, j in results],
    }


def _bulk_subprocess(sizes: Sizes, why: str) -> dict[str, Any]:
    import subprocess

    script = REPO / "benchmarks" / "bench_bulk_enqueue.py"
    if not script.is_file():
        return {"rows": [], "skipped": "benchmarks/bench_bulk_enqueue.py does not exist yet"}
    done = subprocess.run(
        [sys.executable, str(script), "--rows", str(sizes.bulk_rows)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return {"rows": [], "skipped": f"not importable ({why}); its own output follows", "output": done.stdout}


def run_sections(
    server: RedisServer,
    sections: Sequence[str],
    sizes: Sizes,
    on_section: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Runs each section; one that fails is reported as such and the others still run."""
    from . import (
        bench_http,
        bench_latency,
        bench_memory,
        bench_notebook,
        bench_processors,
        bench_queue,
        bench_reads,
    )

    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "queue": lambda: bench_queue.run(
            server,
            jobs=sizes.queue_jobs,
            rq_jobs=sizes.queue_rq_jobs,
            process_counts=sizes.queue_processes,
            systems=sizes.queue_systems,
            rounds=sizes.queue_rounds,
            trees=sizes.compare_trees,
        ),
        "bulk": lambda: _bulk(server, sizes),
        "reads": lambda: bench_reads.run(server, levels=sizes.read_levels, repeat=sizes.read_repeat),
        "latency": lambda: bench_latency.run(
            server,
            idle_probes=sizes.idle_probes,
            busy_probes=sizes.busy_probes,
            baselines=sizes.latency_baselines,
        ),
        "memory": lambda: bench_memory.run(server, jobs=sizes.memory_jobs),
        "processors": lambda: bench_processors.run(quick=sizes.processors_quick),
        "notebook": lambda: bench_notebook.run(server, jobs=sizes.notebook_jobs),
        "http": lambda: bench_http.run(
            server,
            posts=sizes.http_posts,
            gets=sizes.http_gets,
            rounds=sizes.http_rounds,
            sse_streams=sizes.http_sse_streams,
            sse_events=sizes.http_sse_events,
        ),
    }
    out: dict[str, Any] = {}
    for section in sections:
        began = time.perf_counter()
        print(f"[{section}] running...", file=sys.stderr, flush=True)
        try:
            out[section] = runners[section]()
        except Exception as exc:
            traceback.print_exc()
            out[section] = {"rows": [], "skipped": f"failed: {type(exc).__name__}: {exc}"}
        out[section]["wall_seconds"] = time.perf_counter() - began
        if on_section is not None:
            on_section(out)
        print(f"[{section}] {out[section]['wall_seconds']:.0f} s", file=sys.stderr, flush=True)
    return out


def machine(server: RedisServer | None = None) -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 1024**3, 1)
    except (ValueError, OSError):
        memory_gb = None
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    if server is not None:
        info["redis_server"] = server.version()
    from importlib.metadata import PackageNotFoundError, version

    for package in ("dramatiq", "redis", "celery", "rq"):
        try:
            info[f"{package}_package"] = version(package)
        except PackageNotFoundError:
            info[f"{package}_package"] = None
    return info


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"
    return f"{text} {unit}".strip()


def format_table(report: dict[str, Any], *, markdown: bool = False) -> str:
    header = ["section", "measure", "EduScribe", "baseline", "ratio", "target", "met"]
    lines: list[list[str]] = []
    for section, result in report["sections"].items():
        if result.get("skipped"):
            lines.append([section, f"skipped: {result['skipped']}", "", "", "", "", ""])
        for row in result.get("rows", []):
            met = {True: "yes", False: "NO", None: ""}[row["met"]]
            base = ""
            if row["baseline"]:
                base = f"{row['baseline']}: {_fmt(row['baseline_value'], row['unit'])}"
            value = _fmt(row["value"], row["unit"])
            measure = row["metric"] + (f" ({row['note']})" if row["note"] else "")
            ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
            lines.append([section, measure, value, base, ratio, row["target"], met])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in lines]
        return "\n".join(out)
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)
    ]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*line) for line in lines]
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    parser.add_argument("--json", type=Path, help="where to save the results (default benchmarks/results/)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="queue section: also run the workers of the EduScribe source tree PATH (say a "
        "`git worktree` of an older commit) as eduscribe@LABEL, taking turns with the others",
    )
    parser.add_argument("--rounds", type=int, help="queue section: rounds of turns (default 3, quick 1)")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    sizes = QUICK if args.quick else FULL
    trees = {}
    for item in args.compare:
        label, sep, path = item.partition("=")
        tree = Path(path).expanduser().resolve()
        if not sep or not label or not (tree / "eduscribe_sdk").is_dir():
            parser.error(f"--compare {item}: expected LABEL=PATH to an EduScribe source tree")
        trees[label] = tree
    sizes = replace(sizes, compare_trees=trees, queue_rounds=args.rounds or sizes.queue_rounds)
    return execute(
        sections, sizes, json_path=args.json, markdown=args.markdown, mode="quick" if args.quick else "full"
    )


def execute(
    sections: Sequence[str],
    sizes: Sizes,
    *,
    json_path: Path | None,
    markdown: bool = False,
    mode: str = "custom",
) -> dict[str, Any]:
    began = time.perf_counter()
    with redis_server() as server:
        report: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": mode,
            "machine": machine(server),
            "sizes": {k: v for k, v in sizes.__dict__.items() if k != "extra"},
            "sections": run_sections(server, sections, sizes),
        }
    report["wall_seconds"] = time.perf_counter() - began
    print(format_table(report, markdown=markdown))
    print(
        f"\n{mode} run, {report['wall_seconds']:.0f} s on {report['machine']['cores']} cores", file=sys.stderr
    )
    if json_path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        json_path = RESULTS / f"{stamp}-{mode}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, default=str))
    print(f"results saved to {json_path}", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
