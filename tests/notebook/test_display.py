"""Records, job handles and queue stats display as HTML in a real IPython shell.

The data classes have no ``_repr_html_``: ``import eduscribe_sdk`` registers their HTML with
the display formatter of an IPython shell that already runs (a Jupyter kernel). Each case runs
in a fresh interpreter, because the registration happens at import time and a shell changes
process-wide state (``__main__``, builtins) that must not leak into the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from eduscribe_sdk import JobStatus
from eduscribe_sdk._render import job_card_html
from tests.conftest import RedisServer

from .test_progress_model import record

REPO = Path(__file__).resolve().parents[2]

# The order of a Jupyter kernel: the shell exists before the SDK is imported.
IN_A_SHELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
import eduscribe_sdk
loaded = sorted(m for m in ("ipywidgets", "pandas") if m in sys.modules)

from eduscribe_sdk import Client, JobStatus
from eduscribe_sdk._render import job_card_html
from tests.notebook.test_progress_model import record

def shown(obj):
    data, _ = shell.display_formatter.format(obj)
    return {"html": data.get("text/html"), "plain": data.get("text/plain")}

out = {"loaded_by_import": loaded}
out["record"] = shown(record("job-1", JobStatus.FAILED, title="A & B", error_message="no <audio>"))
with Client(sys.argv[1], user_id="tester", workers=0) as client:
    handle = client.submit_text("Cells divide by mitosis. " * 20, title="A & B")
    out["handle"] = {**shown(handle), "card": job_card_html(handle.record), "repr": repr(handle)}
    stats = client.stats()
    out["stats"] = {**shown(stats), "frame_html": stats.frame.to_html(), "repr": repr(stats)}
print(json.dumps(out))
"""


def run_python(code: str, tmp_path: Path, *args: str) -> Any:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "IPYTHONDIR": str(tmp_path / "ipython"),  # the shell's history database goes here
        "EDUSCRIBE_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def in_a_shell(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    redis.Redis.from_url(redis_server.url).flushall()
    return run_python(IN_A_SHELL, tmp_path_factory.mktemp("shell"), redis_server.url)


def test_a_record_displays_as_its_job_card(in_a_shell: Any) -> None:
    failed = record("job-1", JobStatus.FAILED, title="A & B", error_message="no <audio>")
    shown = in_a_shell["record"]
    assert shown["html"] == job_card_html(failed)
    assert 'class="eduscribe-card"' in shown["html"] and "A &amp; B" in shown["html"]
    assert shown["plain"] == repr(failed)  # the text form is the dataclass repr, as before


def test_a_job_handle_displays_as_the_card_of_its_record(in_a_shell: Any) -> None:
    shown = in_a_shell["handle"]
    assert shown["html"] == shown["card"]
    assert 'class="eduscribe-card"' in shown["html"] and "A &amp; B" in shown["html"]
    assert shown["plain"] == shown["repr"]


def test_queue_stats_display_as_their_frame(in_a_shell: Any) -> None:
    shown = in_a_shell["stats"]
    assert shown["html"] == shown["frame_html"]
    assert shown["plain"] == shown["repr"]


def test_registering_the_display_loads_neither_widgets_nor_pandas(in_a_shell: Any) -> None:
    assert in_a_shell["loaded_by_import"] == []


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", []),
        # IPython imported but no shell running (a script using IPython.display): no cards.
        ("import IPython", ["IPython"]),
    ],
)
def test_a_plain_import_loads_no_display_code(tmp_path: Path, before: str, expected: list[str]) -> None:
    watched = ("IPython", "ipywidgets", "eduscribe_sdk.notebook", "eduscribe_sdk._render")
    code = f"{before}\nimport json, sys\nimport eduscribe_sdk\n"
    code += f"print(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    assert run_python(code, tmp_path) == expected
