"""The web service under load: one ``eduscribe-server`` process (uvicorn) on loopback.

* ``POST /api/jobs`` and ``GET /api/jobs/{id}`` at 50 concurrent clients: requests/s, p50
  and p99 latency (targets: >= 1,000 and >= 3,000 requests/s, p99 < 50 ms);
* the same operations through the SDK directly (``create_job`` / ``get_job`` from 50
  threads), so the HTTP layer's own cost is visible;
* SSE fan-out: 500 open ``/api/events`` streams, one job event at a time: the time from the
  event (its ``at``, stamped by Redis) to its arrival at each stream and at the last of the
  500, on the same machine clock (target: p50 < 20 ms).

The load generator is raw asyncio HTTP/1.1 with keep-alive (one connection per client): on
this 2-core machine it shares the CPU with the server and Redis, and a full HTTP client
library (httpx) costs more per request than the server under test. The server runs with no
rate limit (``EDUSCRIBE_API_RATE_LIMIT=0``) and no job slots, so POST measures enqueueing,
not processing. HTTP and SDK phases take turns for ``rounds`` rounds; rows give each one's
best round and the range.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ._report import Row, percentile
from ._servers import REPO, RedisServer, flush

__all__ = ["run"]

TEXT = "Photosynthesis turns light into chemical energy in the chloroplasts of plant cells. " * 4


# --- the server ---------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_process(redis_url: str, home: Path) -> Iterator[tuple[str, int]]:
    from eduscribe_sdk.testing import free_port

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EDUSCRIBE_", "WORKER_"))},
        "EDUSCRIBE_HOME": str(home),
        "EDUSCRIBE_API_RATE_LIMIT": "0",
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "eduscribe_server", "--redis", redis_url, "--port", str(port)]
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [*command, "--job-slots", "0"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(port, process)
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("eduscribe-server exited during startup")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("eduscribe-server did not start")


# --- a minimal keep-alive HTTP/1.1 client ------------------------------------------------------
class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, address: str) -> Connection:
        host, port = address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def _raw(method: str, path: str, host: str, key: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _load(
    address: str, clients: int, count: int, make: Callable[[int], bytes], expect: int, time_limit: float
) -> tuple[float, list[float], list[bytes]]:
    """``count`` requests (``make(i)``) over ``clients`` keep-alive connections; returns
    (requests/s, latencies in s, bodies)."""
    conns = [await Connection.open(address) for _ in range(clients)]
    latencies: list[float] = []
    bodies: list[bytes] = []
    next_i = 0
    stop_at = time.perf_counter() + time_limit

    async def client(conn: Connection) -> None:
        nonlocal next_i
        while next_i < count and time.perf_counter() < stop_at:
            i = next_i
            next_i += 1
            began = time.perf_counter()
            status, body = await conn.request(make(i))
            latencies.append(time.perf_counter() - began)
            if status != expect:
                raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
            bodies.append(body)

    began = time.perf_counter()
    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.perf_counter() - began
    for conn in conns:
        conn.close()
    return len(latencies) / elapsed, latencies, bodies


def _sdk_load(
    count: int, threads: int, call: Callable[[int], object], time_limit: float
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(count))
    stop_at = time.perf_counter() + time_limit

    def worker() -> None:
        mine: list[float] = []
        while time.perf_counter() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            began = time.perf_counter()
            call(i)
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    began = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(latencies) / (time.perf_counter() - began), latencies


# --- SSE fan-out ------------------------------------------------------------------------------
async def _fan_out(
    address: str, key: str, streams: int, events: int, trigger: Callable[[], None]
) -> dict[str, Any]:
    """Opens ``streams`` SSE streams, then triggers ``events`` job events one at a time;
    returns per-delivery latencies (event ``at`` -> arrival) and per-event spread."""
    host = address
    arrivals: dict[str, list[float]] = {}
    stamped: dict[str, float] = {}
    opened = 0
    all_open = asyncio.Event()

    async def stream() -> None:
        nonlocal opened
        conn = await Connection.open(address)
        conn.writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await conn.reader.readuntil(b"\r\n\r\n")
        opened += 1
        if opened == streams:
            all_open.set()
        buffer = b""
        try:
            while True:
                chunk = await conn.reader.read(65536)
                now = time.time()  # before any parsing: the arrival, not our processing
                if not chunk:
                    return
                # Chunked transfer, CRLF line ends: one event is one chunk, so its framing
                # lines fall between events, never inside a data line.
                buffer = (buffer + chunk).replace(b"\r\n", b"\n")
                while b"\n\n" in buffer:
                    block, _, buffer = buffer.partition(b"\n\n")
                    for line in block.split(b"\n"):
                        if line.startswith(b"data: {"):
                            data = json.loads(line[6:])
                            if data["kind"] != "created":  # position events come once a second
                                continue
                            arrivals.setdefault(data["jobId"], []).append(now)
                            stamped.setdefault(data["jobId"], datetime.fromisoformat(data["at"]).timestamp())
        finally:
            conn.close()

    tasks = [asyncio.create_task(stream()) for _ in range(streams)]
    await asyncio.wait_for(all_open.wait(), 60)
    await asyncio.sleep(0.5)
    open_streams = opened
    for _ in range(events):
        await asyncio.to_thread(trigger)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            len(arrivals) < _ + 1 or min(len(v) for v in arrivals.values()) < streams
        ):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    deliveries = [t - stamped[job] for job, times in arrivals.items() for t in times]
    to_all = [max(times) - stamped[job] for job, times in arrivals.items() if len(times) >= streams]
    return {
        "streams": open_streams,
        "events": len(arrivals),
        "deliveries": len(deliveries),
        "p50_ms": percentile(deliveries, 50) * 1000 if deliveries else None,
        "p99_ms": percentile(deliveries, 99) * 1000 if deliveries else None,
        "to_all_p50_ms": percentile(to_all, 50) * 1000 if to_all else None,
        "to_all_max_ms": max(to_all) * 1000 if to_all else None,
        "complete_events": len(to_all),
    }


# --- the phases ---------------------------------------------------------------------------------
def _stats(
    name: str, per_s: float, latencies: list[float], *, server_cpu: float | None = None
) -> dict[str, Any]:
    return {
        "server_cpu_ms_per_req": server_cpu / len(latencies) * 1000 if server_cpu is not None else None,
        "phase": name,
        "per_s": per_s,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "n": len(latencies),
    }


def _round(address: str, pid: int, key: str, client: Any, sizes: dict[str, Any]) -> list[dict[str, Any]]:
    clients, limit = sizes["clients"], sizes["time_limit"]
    body = json.dumps({"jobType": "text_notes", "inputData": {"content": TEXT}}).encode()
    post = _raw("POST", "/api/jobs", address, key, body)
    health = f"GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n".encode()
    out = []

    def http(name: str, count: int, make: Callable[[int], bytes], expect: int) -> list[bytes]:
        cpu = cpu_seconds(pid)
        per_s, lat, bodies = asyncio.run(_load(address, clients, count, make, expect, limit))
        out.append(_stats(name, per_s, lat, server_cpu=cpu_seconds(pid) - cpu))
        return bodies

    def sdk(name: str, count: int, call: Callable[[int], object]) -> None:
        per_s, lat = _sdk_load(count, clients, call, limit)
        out.append(_stats(name, per_s, lat))

    # The floor: a route that reads nothing (no key, no Redis), through the same stack.
    http("HTTP GET /healthz (no key, no Redis)", sizes["gets"], lambda i: health, 200)
    ids = [json.loads(b)["jobId"] for b in http("HTTP POST /api/jobs", sizes["posts"], lambda i: post, 201)]
    sdk("SDK create_job", sizes["posts"], lambda i: client.create_job("text_notes", {"content": TEXT}))
    gets = [_raw("GET", f"/api/jobs/{job_id}", address, key) for job_id in ids]
    http("HTTP GET /api/jobs/{id}", sizes["gets"], lambda i: gets[i % len(gets)], 200)
    sdk("SDK get_job", sizes["gets"], lambda i: client.get_job(ids[i % len(ids)]))
    # What the GET route calls underneath for a queued job: the record, then its wait estimate.
    sdk(
        "SDK get_job + estimated_wait",
        sizes["gets"],
        lambda i: client.estimated_wait_seconds(client.get_job(ids[i % len(ids)])),
    )
    return out


def run(
    server: RedisServer,
    *,
    posts: int = 10_000,
    gets: int = 30_000,
    clients: int = 50,
    rounds: int = 3,
    sse_streams: int = 500,
    sse_events: int = 20,
    time_limit: float = 15.0,
) -> dict[str, Any]:
    from eduscribe_sdk import Client

    url = server.url(3)
    flush(url)
    sizes = {"posts": posts, "gets": gets, "clients": clients, "time_limit": time_limit}
    with tempfile.TemporaryDirectory() as home, Client(url, user_id="bench", workers=0) as client:
        key, _ = client.api_keys.create("bench")
        with server_process(url, Path(home)) as (address, pid):
            runs = [phase for _ in range(rounds) for phase in _round(address, pid, key, client, sizes)]
            sse_cpu = cpu_seconds(pid)
            flush(url)
            key, _ = client.api_keys.create("bench")

            def trigger() -> None:
                client.create_job("text_notes", {"content": TEXT}, user_id="bench")

            fan = asyncio.run(_fan_out(address, key, sse_streams, sse_events, trigger))
            fan["server_cpu_s"] = cpu_seconds(pid) - sse_cpu
    flush(url)
    return {"runs": runs, "sse": fan, "rows": [row.to_dict() for row in _rows(runs, fan, clients)]}


def _rows(runs: list[dict[str, Any]], fan: dict[str, Any], clients: int) -> list[Row]:
    rows = []
    targets = {"HTTP POST /api/jobs": 1000.0, "HTTP GET /api/jobs/{id}": 3000.0}
    sdk_of = {"HTTP POST /api/jobs": "SDK create_job", "HTTP GET /api/jobs/{id}": "SDK get_job"}
    for phase, target in targets.items() if runs else ():
        mine = [r for r in runs if r["phase"] == phase]
        sdk = [r for r in runs if r["phase"] == sdk_of[phase]]
        best, sdk_best = max(mine, key=lambda r: r["per_s"]), max(sdk, key=lambda r: r["per_s"])
        low = min(r["per_s"] for r in mine)
        cpu = best["server_cpu_ms_per_req"]
        rows.append(
            Row(
                "http",
                f"{phase}, {clients} clients",
                best["per_s"],
                "req/s",
                baseline=f"{sdk_of[phase]} ({clients} threads)",
                baseline_value=sdk_best["per_s"],
                ratio=best["per_s"] / sdk_best["per_s"],
                target=f">= {target:,.0f}/s",
                met=best["per_s"] >= target,
                note=f"rounds {low:,.0f}-{best['per_s']:,.0f}/s; server CPU {cpu:.2f} ms/request",
            )
        )
        p99 = min(r["p99_ms"] for r in mine)
        rows.append(
            Row(
                "http",
                f"{phase} p99 latency",
                p99,
                "ms",
                baseline=f"{sdk_of[phase]} p99",
                baseline_value=min(r["p99_ms"] for r in sdk),
                target="< 50 ms",
                met=p99 < 50,
                note=f"p50 {best['p50_ms']:.1f} ms",
            )
        )
    p50 = fan["p50_ms"]
    if p50 is None:
        rows.append(Row("http", "SSE fan-out", None, "ms", note="no event arrived"))
        return rows
    to_all = (
        f"to all streams p50 {fan['to_all_p50_ms']:.1f} ms, max {fan['to_all_max_ms']:.1f} ms"
        if fan["to_all_p50_ms"] is not None
        else f"no event reached all {fan['streams']} streams within 5 s ({fan['deliveries']} deliveries)"
    )
    reached = f"{fan['complete_events']}/{fan['events']} events reached all"
    note = f"p99 {fan['p99_ms']:.1f} ms; {to_all}; {reached}"
    metric = f"SSE event -> client p50, {fan['streams']} streams"
    rows.append(Row("http", metric, p50, "ms", target="< 20 ms", met=p50 < 20, note=note))
    return rows


def main() -> None:
    import argparse

    from ._servers import redis_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a minute)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sse-only", action="store_true", help="only the SSE fan-out")
    args = parser.parse_args()
    sizes: dict[str, Any] = {"rounds": 0 if args.sse_only else args.rounds}
    if args.quick:
        sizes.update(posts=2000, gets=5000, rounds=1, sse_streams=100, sse_events=5)
    with redis_server() as server:
        result = run(server, **sizes)
    for r in result["runs"]:
        cpu = f"  server CPU {r['server_cpu_ms_per_req']:.2f} ms/req" if r["server_cpu_ms_per_req"] else ""
        latency = f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
        print(f"{r['phase']:<30} {r['per_s']:>8,.0f}/s  {latency}{cpu}")
    print(json.dumps(result["sse"], indent=1))
    for row in result["rows"]:
        print(f"{row['metric']:<48} {row['value'] or 0:>9,.1f} {row['unit']:<6} target {row['target']:<11} "
              f"met {row['met']}  {row['note']}")  # fmt: skip


if __name__ == "__main__":
    main()
