"""JSON bodies have a ceiling: a body over it is a 413 in the error shape, whether its size is
announced (Content-Length) or streamed in chunks, and nothing is created."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from eduscribe_server.limits import MAX_JSON_BYTES
from tests.server.conftest import Api, assert_error

JSON = {"Content-Type": "application/json"}


def _oversized() -> bytes:
    filler = "x" * (MAX_JSON_BYTES + 1)
    return ('{"jobType": "text_notes", "inputData": {"content": "' + filler + '"}}').encode()


def test_an_announced_oversized_body_is_refused_unread(idle: Api) -> None:
    response = idle.http.post("/api/jobs", content=_oversized(), headers={**idle.as_(idle.alice), **JSON})
    assert_error(response, 413, "too_large")
    assert idle.client.count_jobs() == 0


def test_a_streamed_oversized_body_is_refused_while_read(idle: Api) -> None:
    body = _oversized()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    try:
        response = idle.http.post("/api/jobs", content=chunks(), headers={**idle.as_(idle.alice), **JSON})
    except httpx.WriteError:
        return  # the server answered and closed before the client finished sending: refused too
    assert_error(response, 413, "too_large")
    assert idle.client.count_jobs() == 0


def test_the_largest_legitimate_text_fits(idle: Api) -> None:
    # The SDK's own limit answers (422 naming the field), not the body ceiling.
    from eduscribe_sdk import MAX_TEXT_CHARS

    content = "Photosynthesis. " * (MAX_TEXT_CHARS // 16 + 1)
    job = {"jobType": "text_notes", "inputData": {"content": content}}
    response = idle.http.post("/api/jobs", json=job, headers=idle.as_(idle.alice))
    assert_error(response, 422, "invalid_input")
    assert response.json()["error"]["field"] == "inputData.content"
