"""Which processors a worker runs in a child process: all but those marked ``isolated = False``."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from eduscribe_sdk import Client
from eduscribe_sdk._config import Settings
from eduscribe_sdk._models import JobType
from eduscribe_sdk._processors import is_isolated


@pytest.mark.parametrize(("target", "in_worker_process"), [("isolated", False), ("in_thread", True)])
def test_a_plugged_in_processor_runs_in_a_child_unless_marked_otherwise(
    redis_url: str, fast_settings: Settings, target: str, in_worker_process: bool
) -> None:
    settings = replace(fast_settings, processor_overrides={"text_notes": f"tests.core.pid_jobs:{target}"})
    with Client(redis_url, user_id="tester", workers=1, settings=settings) as client:
        job = client.create_job("text_notes", {"content": "Where does this run?"})
        record = client.wait(job.id, timeout=60)
    assert record.output_data is not None
    assert (record.output_data["pid"] == os.getpid()) is in_worker_process


def test_every_built_in_processor_is_isolated() -> None:
    assert all(is_isolated(job_type) for job_type in JobType)
