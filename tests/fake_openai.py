"""A real HTTP server on 127.0.0.1 that replays recorded OpenAI responses (tests/recordings/openai).

The LLM tests (unit and worker level) point ``Settings.openai_base_url`` at it; nothing
leaves the machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from eduscribe_sdk._config import Settings

RECORDINGS = Path(__file__).resolve().parent / "recordings" / "openai"
API_KEY = "sk-test-secret-key-0123456789"
DUCK = (
    "Duck is the common name for numerous species of waterfowl in the family Anatidae. "
    "Ducks are mostly aquatic birds, and may be found in both fresh water and sea water. "
    "A male duck is called a drake. Dabbling ducks feed on the surface of water."
)


@dataclass
class Reply:
    recording: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeOpenAI:
    url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        return Settings(
            openai_api_key=API_KEY, openai_base_url=self.url, llm_model="gpt-4o-mini", **overrides
        )


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    state = FakeOpenAI(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append({"path": self.path, "body": json.loads(body)})
            state.auth_headers.append(self.headers.get("Authorization", ""))
            if not state.replies:
                self.send_error(599, "no scripted reply left")
                return
            reply = state.replies.pop(0)
            if reply.delay:
                time.sleep(reply.delay)
            payload = (RECORDINGS / reply.recording).read_bytes()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-request-id", f"req_{len(state.requests):04d}")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
