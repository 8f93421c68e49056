"""Property-based fuzzing of the whole API from its own ``/openapi.json`` (schemathesis):
whatever a client sends, the server answers without a 5xx, every refusal is the one JSON
error shape, and every success matches the documented response model.

Against the idle server (no job slots, a Redis of its own, emptied per operation): jobs the
fuzzer creates never run, worker controls reach no worker. Bounded: a few examples per
operation, loopback only.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from tests.server.conftest import Api

EXAMPLES = 25


@pytest.fixture
def fuzz_schema(idle: Api) -> Any:
    return schemathesis.openapi.from_url(f"{idle.url}/openapi.json")


# Not fuzzed: the event stream never ends (tests/server/test_events.py covers it), and
# /readyz answers 503 on purpose on a server with no worker.
schema = schemathesis.pytest.from_fixture("fuzz_schema").exclude(path=["/api/events", "/readyz"])


def _error_shape(body: Any) -> None:
    assert isinstance(body, dict) and body.get("success") is False and set(body) == {"success", "error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) <= {"code", "message", "field"}, body
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), body
    assert "Traceback" not in error["message"], body


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_never_fails_and_always_answers_in_shape(case: Any, idle: Api) -> None:
    response = case.call(headers=idle.as_(idle.admin), timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text)
    if response.status_code >= 400:
        _error_shape(response.json())
    else:
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        except FailureGroup as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{case.method} {case.path}: {exc}") from None
