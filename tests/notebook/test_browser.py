"""The progress table as a person sees it: Voilà renders a notebook, headless Chromium shows it.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``voila`` and ``playwright`` pip
packages (Playwright drives the system Chromium; it never downloads a browser). The notebook
runs in embedded mode in a fresh ``EDUSCRIBE_HOME`` with no job slots, so the page first shows
every row queued; then this test starts a worker that joins the notebook's embedded Redis, and
the rows reach completed in the browser through the updates the table's thread pushes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from eduscribe_sdk import Client, Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("EDUSCRIBE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JOBS = 6
TEXT = (
    "Binary search trees keep keys in order: smaller keys to the left, larger keys to the right. "
    "A balanced tree of n keys has height about log n, so search, insert and delete are fast. "
) * 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path) -> None:
    cells = [
        "from eduscribe_sdk import Client\n"
        "client = Client(workers=0)  # the test starts the worker once the page shows the table\n"
        f"TEXT = {TEXT!r}\n"
        f"jobs = [client.submit_text(TEXT, title=f'Browser lesson {{i}}') for i in range({JOBS})]",
        "table = client.progress_table(jobs)\ntable",
    ]
    book = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": src,
            }
            for i, src in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(book, indent=1))


@pytest.fixture
def voila(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("voila", reason="pip install voila")
    notebook = tmp_path / "progress.ipynb"
    write_notebook(notebook)
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "EDUSCRIBE_REDIS_URL"}
    env["EDUSCRIBE_HOME"] = str(tmp_path / "home")
    log = (tmp_path / "voila.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            str(notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--token={token}",
            "--show_tracebacks=True",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/?token={token}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop(server, tmp_path / "home")
                log.close()
                pytest.fail("voila did not start:\n" + (tmp_path / "voila.log").read_text()[-3000:])
            time.sleep(0.2)
    try:
        yield url
    finally:
        stop(server, tmp_path / "home")
        log.close()


def stop(server: subprocess.Popen[bytes], home: Path) -> None:
    """End Voilà and its kernel, then the embedded Redis the kernel started (a daemon of its own)."""
    # The kernel is in the server's process group: end the group, not just the server.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    url_file = home / "redis.url"
    if url_file.is_file():
        embedded = redis.Redis.from_url(url_file.read_text().strip(), socket_timeout=5)
        with contextlib.suppress(redis.RedisError):
            embedded.shutdown(nosave=True)


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
def test_progress_table_reaches_completed_in_chromium(voila: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    worker: Client | None = None
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1300, "height": 700},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(voila, wait_until="domcontentloaded", timeout=120_000)
            # Given the rendered table
            page.wait_for_selector("table.eduscribe-progress tr.eduscribe-row", timeout=120_000)
            first = page.locator("tr.eduscribe-row").evaluate_all("rows => rows.map(r => r.dataset.status)")
            # When a worker joins the notebook's embedded Redis and runs the jobs
            settings = Settings.from_env({"EDUSCRIBE_HOME": str(tmp_path / "home")})
            worker = Client(settings=settings, workers=1)
            # Then every row reaches completed in the browser
            page.wait_for_function(
                f"""() => {{
                    const rows = document.querySelectorAll('tr.eduscribe-row');
                    return rows.length === {JOBS} &&
                        [...rows].every(r => r.dataset.status === 'completed');
                }}""",
                timeout=180_000,
            )
            page.wait_for_function(
                "() => (document.querySelector('.eduscribe-progress-table')?.innerText || '')"
                ".includes('all jobs finished')",
                timeout=30_000,
            )
            screenshot = tmp_path / "progress-table.png"
            page.screenshot(path=str(screenshot), full_page=True)
            text = page.locator(".eduscribe-progress-table").inner_text()
        finally:
            browser.close()
            if worker is not None:
                worker.close()
    assert screenshot.stat().st_size > 10_000
    assert f"{JOBS}/{JOBS} finished" in text
    assert text.count("✔ completed") >= JOBS
    for i in range(JOBS):
        assert f"Browser lesson {i}" in text
    assert "100%" in text
    # The page showed the table before any work was done: the rest arrived as pushed updates.
    assert first == ["queued"] * JOBS
    print(f"screenshot: {screenshot}; first statuses seen: {first}")
