"""The blob store: workers elsewhere, stored once, cleanup, leases, roots, non-regular files.

Real components only: the suite's Redis, a folder store, moto's S3 server on loopback
(``conftest.py``), and ``dramatiq eduscribe_sdk.actors`` subprocesses with their own HOME.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from eduscribe_sdk import (
    Client,
    ConfigError,
    InvalidInputError,
    JobStatus,
    PriorityNotAllowedError,
    Settings,
    StorageError,
)
from eduscribe_sdk._blobs import blob_store
from tests.blobs.conftest import S3_ENV, s3_keys

LECTURE = (
    "Photosynthesis converts light energy into chemical energy. "
    "Chlorophyll absorbs light in the chloroplasts of plant cells.\n"
)


def blob_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("??/*") if p.is_file())


def wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def lecture(tmp_path: Path) -> Path:
    path = tmp_path / "files" / "lecture.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(LECTURE)
    return path


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_a_worker_on_another_machine_reads_the_stored_input(
    backend: str,
    redis_url: str,
    fast_settings: Settings,
    tmp_path: Path,
    lecture: Path,
    elsewhere_worker: Callable[..., subprocess.Popen[bytes]],
    request: pytest.FixtureRequest,
) -> None:
    # Given a client and a worker that share only Redis and the blob store
    blob_url = request.getfixturevalue("s3_url") if backend == "s3" else (tmp_path / "shared").as_uri()
    settings = replace(fast_settings, home=tmp_path / "laptop", blob_url=blob_url)
    with Client(redis_url, user_id="tester", workers=0, settings=settings) as client:
        job = client.submit_file(lecture)
        # When the client's file is gone and a worker with another HOME and cwd runs the job
        lecture.unlink()
        elsewhere_worker(redis_url, blob_url, **(S3_ENV if backend == "s3" else {}))
        record = client.wait_all([job.id], timeout=120)[0]
    # Then it completed from the stored bytes
    assert record.status is JobStatus.COMPLETED, record.error_message
    assert "photosynthesis" in repr(record.output_data).lower()
    assert record.output_data and record.output_data["source"]["file"] == "lecture.txt"
    if backend == "s3":
        assert s3_keys(blob_url) == [f"inputs/{record.input_data['blob']}"]


def test_the_same_file_twice_is_stored_once(bare_client: Client, lecture: Path, tmp_path: Path) -> None:
    # Given one file, and a copy of it under another name
    copy = tmp_path / "files" / "copy.txt"
    copy.write_bytes(lecture.read_bytes())
    first = bare_client.submit_file(lecture)
    root = Path(bare_client.settings.blob_location)
    (stored,) = blob_files(root)
    inode = stored.stat().st_ino
    # When both are submitted again
    second = bare_client.submit_file(lecture)
    # Then one blob holds them all, untouched by the later submissions (checked after each:
    # a freed inode number comes back), and no staging is left
    assert blob_files(root) == [stored] and stored.stat().st_ino == inode
    third = bare_client.submit_file(copy)
    assert blob_files(root) == [stored] and stored.stat().st_ino == inode
    assert first.record.input_data["blob"] == second.record.input_data["blob"] == stored.name
    assert third.record.input_data["filename"] == "copy.txt"
    assert list((root / ".staging").iterdir()) == []


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_cleanup_deletes_unreferenced_blobs_and_keeps_referenced_ones(
    backend: str,
    redis_url: str,
    fast_settings: Settings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    blob_url = request.getfixturevalue("s3_url") if backend == "s3" else str(tmp_path / "blobs")
    settings = replace(fast_settings, blob_url=blob_url)
    files = tmp_path / "files"
    files.mkdir()
    for name in ("gone.txt", "kept.txt", "shared.txt"):
        (files / name).write_text(f"{name}: {LECTURE}")
    with Client(redis_url, user_id="tester", workers=0, settings=settings) as client:
        store = blob_store(settings)
        # Given a finished job alone on its blob, a waiting job, and a blob two jobs share
        gone = client.submit_file(files / "gone.txt")
        kept = client.submit_file(files / "kept.txt")
        shared_done = client.submit_file(files / "shared.txt")
        shared_open = client.submit_file(files / "shared.txt")
        for handle in (gone, shared_done):
            client.cancel(handle.id)
        # When cleanup removes the finished jobs
        assert client.cleanup(older_than_days=0) == 2
        # Then only the blob no job needs is deleted
        blob = {h.id: h.record.input_data["blob"] for h in (gone, kept, shared_open)}
        assert not store.has(blob[gone.id])
        assert store.has(blob[kept.id]) and store.has(blob[shared_open.id])
        # And once the last jobs go, their blobs go too
        client.cancel(kept.id)
        client.cancel(shared_open.id)
        client.cleanup(older_than_days=0)
        assert not store.has(blob[kept.id]) and not store.has(blob[shared_open.id])
        if backend == "s3":
            assert s3_keys(blob_url) == []
        assert client._store.blob_candidates() == []
        # And nothing of the bookkeeping is left in Redis
        assert [k for k in client._store.all_keys() if ":blob" in k or ":upload" in k] == []


def test_a_blob_stored_for_a_job_not_yet_created_survives_cleanup(
    redis_url: str, fast_settings: Settings, lecture: Path
) -> None:
    with (
        Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client,
        Client(redis_url, user_id="janitor", workers=0, settings=fast_settings) as janitor,
    ):
        store = blob_store(fast_settings)
        spec = client.prepare_job("file_notes", {"path": str(lecture)})
        # Given a client that has stored the blob and not yet created its job
        with client._inputs.stored([spec]) as stored:
            digest = stored[0].input_data["blob"]
            assert store.has(digest)
            # When a cleanup runs in between
            janitor.cleanup(older_than_days=0)
            # Then the blob is still there, and the job is created on it
            assert store.has(digest)
            ((job_id, _, _),) = client._store.create_jobs(stored)
        janitor.cleanup(older_than_days=0)
        assert store.has(digest)
        with Client(redis_url, user_id="worker", workers=1, settings=fast_settings):
            record = client.wait_all([job_id], timeout=60)[0]
        assert record.status is JobStatus.COMPLETED, record.error_message


def test_creating_and_cleaning_up_at_once_never_loses_a_needed_blob(
    redis_url: str, fast_settings: Settings, lecture: Path
) -> None:
    # Given clients that keep creating jobs on one file, cancel half of them at once, and a
    # cleanup that keeps deleting what is unreferenced, all in parallel
    store = blob_store(fast_settings)
    kept: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def creator(cancel: bool) -> None:
        try:
            with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client:
                for _ in range(25):
                    handle = client.submit_file(lecture)
                    if cancel:
                        client.cancel(handle.id)
                    else:
                        kept.append(handle.id)
        except BaseException as exc:
            errors.append(exc)

    def janitor() -> None:
        with Client(redis_url, user_id="janitor", workers=0, settings=fast_settings) as client:
            while not stop.is_set():
                client.cleanup(older_than_days=0)

    threads = [threading.Thread(target=creator, args=(n % 2 == 0,)) for n in range(4)]
    cleaner = threading.Thread(target=janitor)
    cleaner.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    stop.set()
    cleaner.join(timeout=60)
    # Then every job that still exists has its blob
    assert not errors, errors
    with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client:
        records = client.get_jobs(kept)
    digests = {r.input_data["blob"] for r in records if r is not None}
    assert len(kept) == 50 and len(digests) == 1
    assert all(store.has(d) for d in digests)


def test_reading_is_limited_to_the_file_roots(
    redis_url: str, fast_settings: Settings, tmp_path: Path, lecture: Path
) -> None:
    allowed = tmp_path / "courses"
    allowed.mkdir()
    inside = allowed / "lecture.txt"
    inside.write_text(LECTURE)
    (allowed / "escape.txt").symlink_to(lecture)
    settings = Settings.from_env({"EDUSCRIBE_FILE_ROOTS": f"{allowed}:/nonexistent/other"})
    assert settings.file_roots == (allowed.resolve(), Path("/nonexistent/other"))
    settings = replace(fast_settings, file_roots=settings.file_roots)
    with Client(redis_url, user_id="tester", workers=0, settings=settings) as client:
        assert client.submit_file(inside).status is JobStatus.QUEUED
        escapes = (allowed / "escape.txt", allowed / ".." / "files" / "lecture.txt")
        outside = ("/etc/passwd", "/etc/no-such-file", lecture, *escapes)
        for refused in outside:
            with pytest.raises(InvalidInputError, match="outside the folders EDUSCRIBE_FILE_ROOTS") as info:
                client.submit_file(refused)
            assert info.value.field == "path"
            with pytest.raises(InvalidInputError, match="EDUSCRIBE_FILE_ROOTS"):
                client.upload(refused)
        assert len(client.list_jobs()) == 1


def _within(seconds: float, call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a thread; fail the test (instead of hanging) if it blocks."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    return outcome[0]


def test_non_regular_files_are_refused_without_opening_them(bare_client: Client, tmp_path: Path) -> None:
    fifo = tmp_path / "lecture.pdf"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    for path, kind in ((fifo, "FIFO"), (folder, "directory"), (Path("/dev/zero"), "character device")):
        for call in (lambda: bare_client.submit_file(path), lambda: bare_client.upload(path)):
            error = _within(10, call)
            assert isinstance(error, InvalidInputError), error
            assert kind in str(error) and str(path) in str(error)
    # A name no file system can encode is bad input too, not a UnicodeEncodeError
    for call in (lambda: bare_client.submit_file("\ud800.pdf"), lambda: bare_client.upload("\ud800.pdf")):
        with pytest.raises(InvalidInputError, match="not a valid file path"):
            call()
    assert bare_client.list_jobs() == []


def test_an_upload_is_a_file_input_for_later_jobs(
    redis_url: str, fast_settings: Settings, tmp_path: Path, lecture: Path
) -> None:
    with Client(redis_url, user_id="tester", workers=1, settings=fast_settings) as client:
        from_bytes = client.upload(LECTURE.encode(), filename="week1.txt")
        from_path = client.upload(lecture, content_type="text/markdown")
        jobs = [client.create_job("file_notes", {"uploadId": u}) for u in (from_bytes, from_path)]
        records = client.wait_all([j.id for j in jobs], timeout=60)
        assert [r.status for r in records] == [JobStatus.COMPLETED] * 2
        assert [r.input_data["filename"] for r in records] == ["week1.txt", "lecture.txt"]
        assert [r.input_data["contentType"] for r in records] == ["text/plain", "text/markdown"]
        for bad_type in ("text/plain\r\nX-Evil: 1", "text/plain\n", "plain"):
            with pytest.raises(InvalidInputError) as info:
                client.upload(b"x", filename="x.txt", content_type=bad_type)
            assert info.value.field == "content_type"
        with pytest.raises(InvalidInputError) as info:
            client.create_job("file_notes", {"uploadId": from_bytes + "\n"})
        assert info.value.field == "uploadId"
        with pytest.raises(InvalidInputError) as info:
            client.create_job("file_notes", {"uploadId": "0" * 32})
        assert info.value.field == "uploadId"
        # Another user's upload is no upload for this one
        with pytest.raises(InvalidInputError, match="no upload") as info:
            client.create_job("file_notes", {"uploadId": from_bytes}, user_id="someone-else")
        assert info.value.field == "uploadId"
        with pytest.raises(InvalidInputError):
            client.upload(b"", filename="empty.txt")
    # Uploads unused for the TTL go with cleanup; a job made from one keeps its blob
    expiring = replace(fast_settings, upload_ttl_hours=0)
    with Client(redis_url, user_id="tester", workers=0, settings=expiring) as client:
        unused = client.upload(b"never used " + LECTURE.encode(), filename="unused.txt")
        unused_blob = client._inputs.upload_info(unused)["blob"]
        client.cleanup(older_than_days=1)
        store = blob_store(expiring)
        assert client._inputs.upload_info(unused) == {} and not store.has(unused_blob)
        assert store.has(records[0].input_data["blob"])
        with pytest.raises(InvalidInputError, match="no upload"):
            client.create_job("file_notes", {"uploadId": from_bytes})


def test_a_failed_store_leaves_nothing_behind_and_keeps_its_error(
    redis_url: str, fast_settings: Settings, tmp_path: Path, s3_url: str, lecture: Path
) -> None:
    # Over the size limit: refused while reading, no staging file left
    small = replace(fast_settings, max_file_bytes=10)
    with (
        Client(redis_url, user_id="tester", workers=0, settings=small) as client,
        pytest.raises(InvalidInputError, match="limit"),
    ):
        client.submit_file(lecture)
    # Bytes over the limit: refused while staging them, the staging file removed
    with (
        Client(redis_url, user_id="tester", workers=0, settings=small) as client,
        pytest.raises(InvalidInputError, match="over the limit"),
    ):
        client.upload(b"x" * 11, filename="big.txt")
    staging = Path(small.blob_location) / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    # A store that refuses the write (no such bucket): a StorageError naming the store
    missing = s3_url.replace("s3://eduscribe-", "s3://no-such-bucket-", 1)
    broken = replace(fast_settings, blob_url=missing)
    with Client(redis_url, user_id="tester", workers=0, settings=broken) as client:
        with pytest.raises(StorageError, match=r"^lecture\.txt: .*no-such-bucket"):
            client.submit_file(lecture)
        with pytest.raises(StorageError, match="no-such-bucket"):
            client.upload(lecture)
        assert client.list_jobs() == []
    # A blob URL that cannot work is a ConfigError naming the variable
    for url in ("ftp://host/x", "s3://bucket/p?endpoint_url=not a url", "s3://bucket/p?colour=blue", "blobs"):
        bad = replace(fast_settings, blob_url=url)
        with (
            Client(redis_url, user_id="tester", workers=0, settings=bad) as client,
            pytest.raises(ConfigError) as info,
        ):
            client.submit_file(lecture)
        assert info.value.setting == "EDUSCRIBE_BLOB_URL"


def test_a_damaged_or_missing_blob_fails_the_job_permanently(
    redis_url: str, fast_settings: Settings, tmp_path: Path, lecture: Path
) -> None:
    other = tmp_path / "files" / "other.txt"
    other.write_text("Other: " + LECTURE)
    with Client(redis_url, user_id="tester", workers=0, settings=fast_settings) as client:
        damaged, missing = client.submit_file(lecture), client.submit_file(other)
        root = Path(fast_settings.blob_location)
        blob = root / damaged.record.input_data["blob"][:2] / damaged.record.input_data["blob"]
        blob.write_text("root:$6$SWAPPED:19000:0:99999:7:::\n")
        digest = missing.record.input_data["blob"]
        (root / digest[:2] / digest).unlink()
        with Client(redis_url, user_id="worker", workers=1, settings=fast_settings):
            records = client.wait_all([damaged.id, missing.id], timeout=60)
    assert [r.status for r in records] == [JobStatus.FAILED] * 2
    assert records[0].error_message and "lecture.txt: the stored input" in records[0].error_message
    assert "damaged" in records[0].error_message and records[0].retry_count == 0
    assert records[1].error_message and "other.txt: the stored input is gone" in records[1].error_message


def test_a_refused_creation_leaves_nothing_behind(bare_client: Client, lecture: Path, tmp_path: Path) -> None:
    store = blob_store(bare_client.settings)
    root = Path(bare_client.settings.blob_location)
    keys_before = set(bare_client._store.all_keys())
    # Given a file job the store refuses after the file was stored (priority above the tier)
    with pytest.raises(PriorityNotAllowedError):
        bare_client.submit_file(lecture, priority="urgent")
    # Then neither the blob nor any bookkeeping is left
    assert blob_files(root) == []
    assert set(bare_client._store.all_keys()) == keys_before
    # And a refused job on a blob another job holds leaves that blob alone
    kept = bare_client.submit_file(lecture)
    with pytest.raises(PriorityNotAllowedError):
        bare_client.submit_file(lecture, priority="urgent")
    assert store.has(kept.record.input_data["blob"])
    assert bare_client._store.blob_candidates() == []


def test_file_names_that_are_not_utf8_become_text(bare_client: Client, tmp_path: Path) -> None:
    # Given a file whose name holds a byte that is not UTF-8 (Linux allows any bytes)
    raw = os.fsencode(tmp_path) + b"/lecture-\xff.txt"
    with open(raw, "wb") as handle:
        handle.write(LECTURE.encode())
    # When it is submitted, and uploaded under a name with a lone surrogate
    job = bare_client.submit_file(os.fsdecode(raw))
    upload = bare_client.upload(LECTURE.encode(), filename="notes-\ud800.txt")
    # Then both are stored with the offending part replaced
    assert job.record.input_data["filename"] == "lecture-\ufffd.txt"
    assert bare_client._inputs.upload_info(upload)["filename"].startswith("notes-\ufffd")
