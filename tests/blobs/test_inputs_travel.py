"""File inputs travel with the job: the worker reads the bytes stored at creation.

Defects reproduced here (issue 12, item 3): the worker opened whatever the client's path
pointed to when it ran (a file swapped for a symlink after creation put another file's
lines into the notes), and a worker on another machine could not read the path at all.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from eduscribe_sdk import Client, JobStatus, Settings

LECTURE = (
    "Photosynthesis converts light energy into chemical energy. "
    "Chlorophyll absorbs light in the chloroplasts of plant cells. "
    "The Calvin cycle fixes carbon dioxide into sugars.\n"
)
SECRET = "root:$6$SECRETHASHLINE:19000:0:99999:7:::\n"


def _notes_text(record: object) -> str:
    return repr(getattr(record, "output_data", None))


def test_a_symlink_swapped_in_after_creation_changes_nothing(
    redis_url: str, fast_settings: Settings, tmp_path: Path
) -> None:
    # Given a file job created while no worker runs
    lecture = tmp_path / "course" / "lecture.txt"
    lecture.parent.mkdir()
    lecture.write_text(LECTURE)
    secret = tmp_path / "shadow"
    secret.write_text(SECRET * 20)
    with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client:
        job = client.submit_file(lecture)
        # When the checked file is swapped for a symlink to a secret before a worker runs it
        lecture.unlink()
        lecture.symlink_to(secret)
        with Client(redis_url, user_id="worker", workers=1, settings=fast_settings):
            record = client.wait_all([job.id], timeout=60)[0]
    # Then the worker read the bytes stored at creation, not the secret
    assert record.status is JobStatus.COMPLETED, record.error_message
    assert "SECRETHASHLINE" not in _notes_text(record)
    assert "Photosynthesis" in _notes_text(record) or "photosynthesis" in _notes_text(record).lower()


def test_a_worker_elsewhere_reads_a_file_the_client_has_since_deleted(
    redis_url: str, fast_settings: Settings, tmp_path: Path
) -> None:
    # Given a shared blob folder, and a worker with another home and working directory
    shared = tmp_path / "shared-blobs"
    client_settings = replace(fast_settings, home=tmp_path / "laptop", blob_url=str(shared))
    worker_settings = replace(fast_settings, home=tmp_path / "server", blob_url=shared.as_uri())
    lecture = tmp_path / "laptop-files" / "lecture.txt"
    lecture.parent.mkdir()
    lecture.write_text(LECTURE)
    with Client(redis_url, user_id="tester", workers=0, settings=client_settings) as client:
        job = client.submit_file(lecture)
        # When the client's file is gone before the worker runs (it is on another machine)
        lecture.unlink()
        os.rmdir(lecture.parent)
        with Client(redis_url, user_id="worker", workers=1, settings=worker_settings):
            record = client.wait_all([job.id], timeout=60)[0]
    # Then the job ran from the stored copy
    assert record.status is JobStatus.COMPLETED, record.error_message
    assert "photosynthesis" in _notes_text(record).lower()
    assert record.input_data["filename"] == "lecture.txt"
    assert "path" not in record.input_data


def test_the_sdk_imports_no_storage_library_until_s3_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, eduscribe_sdk, eduscribe_sdk._validation, eduscribe_sdk._inputs, eduscribe_sdk._blobs;"
        "heavy = {'boto3', 'botocore', 's3transfer', 'moto'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
