"""``POST /api/uploads``: stored for the caller, typed by content, bounded in size; then a
file job from the upload runs to the end."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator

import httpx

from tests.conftest import REPO
from tests.server.conftest import Api, ServerProcess, assert_error

MATERIALS = REPO / "batch" / "examples" / "materials"


def upload(
    api: Api, key: str, name: str, data: bytes, content_type: str = "application/octet-stream"
) -> httpx.Response:
    return api.http.post("/api/uploads", files={"file": (name, data, content_type)}, headers=api.as_(key))


def test_a_markdown_upload_becomes_notes(api: Api) -> None:
    data = (MATERIALS / "01-arrays-and-lists.md").read_bytes()
    # The client's claimed type is ignored: the content decides.
    response = upload(api, api.alice, "week1/arrays.md", data, "image/png")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"success", "uploadId", "filename", "size", "contentType"}
    assert (
        body["filename"] == "arrays.md"
        and body["size"] == len(data)
        and body["contentType"] == "text/markdown"
    )
    job = api.create(api.alice, {"jobType": "file_notes", "inputData": {"uploadId": body["uploadId"]}})
    done = api.wait(api.alice, job["jobId"])
    assert done["status"] == "completed", done
    assert "markdown" in done["output_data"]
    assert done["input_data"]["filename"] == "arrays.md" and "path" not in done["input_data"]


def test_a_pdf_upload_becomes_notes(api: Api) -> None:
    data = (MATERIALS / "03-hash-tables.pdf").read_bytes()
    body = upload(api, api.alice, "hash.pdf", data).json()
    assert body["contentType"] == "application/pdf"
    job = api.create(api.alice, {"jobType": "file_notes", "inputData": {"uploadId": body["uploadId"]}})
    assert api.wait(api.alice, job["jobId"])["status"] == "completed"


def test_types_are_sniffed_from_the_content(api: Api) -> None:
    mp3 = (MATERIALS / "04-search-trees.mp3").read_bytes()
    assert upload(api, api.alice, "lecture", mp3).json()["contentType"] == "audio/mpeg"
    assert (
        upload(api, api.alice, "notes.md", b"<!DOCTYPE html><p>hi</p>").json()["contentType"] == "text/html"
    )
    assert upload(api, api.alice, "x.pdf", b"plain words").json()["contentType"] == "text/plain"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.txt", "hello")
    for name, data, what in [
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "PNG"),
        ("notes.zip", archive.getvalue(), "ZIP"),
        ("tool.txt", b"\x7fELF\x02\x01\x01" + b"\0" * 100, "executable"),
        ("random.bin", bytes(range(256)) * 4, "binary"),
    ]:
        refused = assert_error(upload(api, api.alice, name, data), 415, "unsupported_type", "file")
        assert what in refused["error"]["message"]


def test_empty_missing_and_non_multipart_uploads_are_refused(api: Api) -> None:
    assert_error(upload(api, api.alice, "empty.txt", b""), 422, "invalid_input", "file")
    other_part = api.http.post(
        "/api/uploads", files={"document": ("a.txt", b"hi")}, headers=api.as_(api.alice)
    )
    assert_error(other_part, 422, "invalid_input", "file")
    no_file = api.http.post("/api/uploads", data={"file": "just text"}, headers=api.as_(api.alice))
    assert_error(no_file, 415, "unsupported_media_type")  # a form without a file is urlencoded
    as_json = api.http.post("/api/uploads", json={"file": "aGk="}, headers=api.as_(api.alice))
    assert_error(as_json, 415, "unsupported_media_type")
    broken = api.http.post(
        "/api/uploads",
        content=b"--xyz\r\nContent-Disposition: form-data; name=file\r\n\r\nhi",
        headers={**api.as_(api.alice), "Content-Type": "multipart/form-data"},
    )
    assert broken.status_code in (400, 422) and broken.json()["success"] is False


def test_another_users_upload_is_an_unknown_upload(api: Api) -> None:
    mine = upload(api, api.alice, "a.txt", b"alice's lecture notes").json()["uploadId"]
    before = api.client.count_jobs()
    refused = []
    for upload_id in (mine, "f" * 32):
        response = api.http.post(
            "/api/jobs",
            json={"jobType": "file_notes", "inputData": {"uploadId": upload_id}},
            headers=api.as_(api.bob),
        )
        refused.append(assert_error(response, 422, "invalid_input", "inputData.uploadId")["error"]["message"])
    assert refused[0].replace(mine, "ID") == refused[1].replace("f" * 32, "ID")
    assert api.client.count_jobs() == before


def test_uploads_over_the_limit_are_413_without_reading_them(
    api: Api, servers: Callable[..., ServerProcess]
) -> None:
    small = servers(api.redis_url, job_slots=0, env={"EDUSCRIBE_MAX_FILE_MB": "1"})
    with httpx.Client(base_url=small.url, timeout=30) as http:
        headers = api.as_(api.alice)
        fits = http.post("/api/uploads", files={"file": ("fits.txt", b"a" * (1024 * 1024))}, headers=headers)
        assert fits.status_code == 201, fits.text
        over = http.post(
            "/api/uploads", files={"file": ("big.txt", b"a" * (1024 * 1024 + 1))}, headers=headers
        )
        assert_error(over, 413, "too_large", "file")
        huge = http.post(
            "/api/uploads", files={"file": ("huge.txt", b"a" * (8 * 1024 * 1024))}, headers=headers
        )
        assert_error(huge, 413, "too_large", "file")

        sent = 0

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
            nonlocal sent
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n\r\n'
            for _ in range(1024):  # 64 MB
                sent += 65536
                yield b"a" * 65536
            yield b"\r\n--b--\r\n"

        streamed = http.post(
            "/api/uploads",
            content=chunked(),
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert_error(streamed, 413, "too_large", "file")
        # The server stopped reading past the limit: only what socket buffers took got out.
        assert sent < 32 * 1024 * 1024, sent
        assert http.get("/api/me", headers=headers).status_code == 200  # the server is fine
