"""Every benchmark module runs end to end at tiny sizes, so the benchmark code cannot rot.

The figures are meaningless at these sizes; only the shape of the report is checked.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import run

pytestmark = pytest.mark.timeout(120)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_every_section_runs_at_tiny_sizes(tmp_path: Path) -> None:
    baselines = tuple(name for name in ("dramatiq", "celery", "rq") if name == "dramatiq" or _installed(name))
    sizes = replace(
        run.QUICK,
        queue_jobs=40,
        queue_rq_jobs=20,
        queue_processes=(1,),
        queue_systems=("eduscribe", *baselines),
        queue_rounds=2,
        bulk_rows=200,
        read_levels=(200, 600),
        read_repeat=2,
        idle_probes=1,
        busy_probes=2,
        latency_baselines=tuple(b for b in baselines if b != "rq"),
        memory_jobs=20,
        http_posts=100,
        http_gets=100,
        http_rounds=1,
        http_sse_streams=10,
        http_sse_events=2,
    )
    sections = [s for s in run.SECTIONS if s != "processors"]
    out = tmp_path / "report.json"
    report = run.execute(sections, sizes, json_path=out, mode="smoke")

    saved = json.loads(out.read_text())
    assert list(saved["sections"]) == sections
    for section in sections:
        result = saved["sections"][section]
        assert result.get("rows") or result.get("skipped"), section
    queue = {r["baseline"] for r in report["sections"]["queue"]["rows"] if r["baseline"]}
    assert queue == set(baselines)
    # Two rounds: every system ran twice, and each row reports the system's better run
    runs = report["sections"]["queue"]["runs"]
    assert sorted(r["system"] for r in runs) == sorted(["eduscribe", *baselines] * 2)
    best = {s: max(r["jobs_per_s"] for r in runs if r["system"] == s) for s in queue}
    rows = report["sections"]["queue"]["rows"]
    compared = [r for r in rows if r["baseline"] and r["unit"] == "jobs/s"]
    assert all(r["baseline_value"] == best[r["baseline"]] for r in compared)
    # Redis CPU per job: EduScribe's median against raw Dramatiq's, from the same runs
    (cpu,) = [r for r in rows if r["unit"] == "us" and r["baseline"] == "dramatiq"]
    dramatiq_cpu = sorted(r["redis_us_per_job"] for r in runs if r["system"] == "dramatiq")
    assert cpu["value"] > 0 and cpu["baseline_value"] == sum(dramatiq_cpu) / 2
    assert all(r["value"] and r["value"] > 0 for r in report["sections"]["reads"]["rows"])
    assert "DAG release" in run.format_table(report, markdown=True)
    # Every bulk variant stored every job (RQ counts its deferred jobs apart from its queue)
    assert {r["jobs"] for r in report["sections"]["bulk"]["results"]} == {200}
    # The web service section: HTTP and SDK phases, and the SSE fan-out reached every stream.
    http = report["sections"]["http"]
    if http.get("rows"):
        assert {r["phase"] for r in http["runs"]} >= {"HTTP POST /api/jobs", "SDK get_job"}
        assert http["sse"]["streams"] == 10 and http["sse"]["complete_events"] == 2
    if _installed("rq"):
        targets = [r for r in report["sections"]["bulk"]["rows"] if r["target"].startswith(">=")]
        assert [r["baseline"] for r in targets] == ["rq enqueue_many (same dependencies)"]


def test_processor_section_on_the_shared_material(shared_data: Path) -> None:
    from benchmarks import bench_processors

    result = bench_processors.run(quick=True)
    metrics = [row["metric"] for row in result["rows"]]
    assert any("10,000-word" in m for m in metrics)
    assert any(m.startswith("audio RTF") for m in metrics)
