"""Live updates over real HTTP: Server-Sent Events and the WebSocket, against the server
subprocess (its two in-process job slots run the real text processor)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from eduscribe_sdk import Client, Settings
from eduscribe_server.hub import Hub, LiveEvent, event_key
from eduscribe_server.live import _stream
from tests.server.conftest import Api

TEXT = "Photosynthesis turns light into chemical energy. Chlorophyll absorbs red and blue light. " * 5
WAIT = 30.0


def create_job(api: Api, key: str, user: str) -> str:
    """A short text job of ``user``, created over HTTP (``POST /api/jobs``); in a tree without
    the REST routes yet, through the SDK with that user id (the same record in Redis)."""
    body = {"jobType": "text_notes", "inputData": {"content": TEXT}}
    response = api.http.post("/api/jobs", json=body, headers=api.as_(key))
    missing_route = response.json().get("error", {}).get("message") in ("Not Found", "Method Not Allowed")
    if response.status_code in (404, 405) and missing_route:
        return api.client.create_job("text_notes", {"content": TEXT}, user_id=user).id
    assert response.status_code == 201, response.text
    job_id: str = response.json()["jobId"]
    return job_id


@dataclass
class Sse:
    """An SSE client reading in a thread: ``events`` collects ``(id, event, data)``."""

    url: str
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    events: queue.Queue[tuple[str | None, str, dict[str, Any]]] = field(default_factory=queue.Queue)
    status: int | None = None
    body: str = ""
    response: httpx.Response | None = None

    def __post_init__(self) -> None:
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the stream did not open"

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=httpx.Timeout(5, read=None)) as http:
            try:
                with http.stream("GET", "/api/events", headers=self.headers, params=self.params) as response:
                    self.status = response.status_code
                    if response.status_code != 200:
                        self.body = response.read().decode()
                        self._ready.set()
                        return
                    self.response = response
                    self._ready.set()
                    self._read(response)
            except (httpx.HTTPError, RuntimeError):
                pass
            finally:
                self._ready.set()

    def _read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if not line:
                if "data" in fields:
                    self.events.put(
                        (fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
                    )
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    def next(self, timeout: float = WAIT) -> tuple[str | None, str, dict[str, Any]]:
        return self.events.get(timeout=timeout)

    def until(
        self, job_id: str, kind: str, timeout: float = WAIT
    ) -> list[tuple[str | None, str, dict[str, Any]]]:
        """Events up to and including ``job_id``'s ``kind`` event."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            item = self.next(max(0.01, deadline - time.monotonic()))
            seen.append(item)
            if item[2].get("jobId") == job_id and item[1] == kind:
                return seen

    def close(self) -> None:
        """Disconnect (closing the socket under the reading thread)."""
        self._stop.set()
        if self.response is not None:  # shutdown() wakes the thread blocked in recv()
            with contextlib.suppress(OSError, KeyError, AttributeError):
                stream = self.response.extensions["network_stream"]
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
        self._thread.join(5)


def sse(api: Api, key: str | None, **params: Any) -> Sse:
    return Sse(api.url, api.as_(key), params)


@pytest.fixture
def streams() -> Iterator[list[Sse]]:
    opened: list[Sse] = []
    yield opened
    for stream in opened:
        stream.close()


def test_sse_progress_and_completion_only_own_jobs(api: Api, streams: list[Sse]) -> None:
    alice, bob, admin = sse(api, api.alice), sse(api, api.bob), sse(api, api.admin)
    streams += [alice, bob, admin]
    job = create_job(api, api.alice, "alice")
    seen = alice.until(job, "completed")
    kinds = [kind for _, kind, data in seen if data.get("jobId") == job]
    assert kinds[0] == "created" and "started" in kinds and "progress" in kinds
    done = seen[-1]
    assert done[0] and done[2]["status"] == "completed" and done[2]["progress"] == 100
    ids = [event_id for event_id, _, _ in seen if event_id]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))) and len(set(ids)) == len(ids)
    # The admin sees the same events; bob sees nothing of alice's job.
    assert admin.until(job, "completed")[-1][0] == done[0]
    bob_job = create_job(api, api.bob, "bob")
    bob_seen = bob.until(bob_job, "completed")
    assert {data["jobId"] for _, _, data in bob_seen if "jobId" in data} == {bob_job}
    # Disconnected streams leave the hub (the server notices the closed sockets).
    for stream in (alice, bob, admin):
        stream.close()
    deadline = time.monotonic() + WAIT
    while subscribers(api) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert subscribers(api) == 0


def subscribers(api: Api) -> float:
    for line in api.http.get("/metrics").text.splitlines():
        if line.startswith("eduscribe_event_subscribers "):
            return float(line.split()[1])
    raise AssertionError("no eduscribe_event_subscribers in /metrics")


def test_job_filter_and_other_users_job_is_404(api: Api, streams: list[Sse]) -> None:
    first, second = create_job(api, api.alice, "alice"), create_job(api, api.alice, "alice")
    other = sse(api, api.bob, job=first)
    assert other.status == 404
    assert json.loads(other.body)["error"]["code"] == "not_found"
    assert sse(api, api.alice, job="no-such-job").status == 404
    malformed = sse(api, api.alice, job="x" * 1000)  # longer than any id may be
    assert malformed.status == 422 and json.loads(malformed.body)["error"]["field"] == "job"
    assert sse(api, None).status == 401
    # ?job= on its own: the named job only, resumed from the start of the stream.
    only = sse(api, api.alice, job=second, since="0-0")
    streams.append(only)
    seen = only.until(second, "completed")
    assert {data["jobId"] for _, _, data in seen} == {second}
    # The key as ?token= (EventSource cannot send headers).
    by_token = Sse(api.url, {}, {"token": api.alice, "job": f"{first},{second}", "since": "0-0"})
    streams.append(by_token)
    assert by_token.status == 200
    assert by_token.until(first, "completed")


def test_sse_resume_after_disconnect_loses_and_repeats_nothing(api: Api, streams: list[Sse]) -> None:
    stream = sse(api, api.alice)
    first = create_job(api, api.alice, "alice")
    before = stream.until(first, "completed")
    last_id = before[-1][0]
    assert last_id
    stream.close()
    # While disconnected: more jobs run to completion (and one of bob's, never to arrive).
    missed = [create_job(api, api.alice, "alice") for _ in range(3)]
    create_job(api, api.bob, "bob")
    deadline = time.monotonic() + WAIT
    while not all(api.client.get_job(j).finished for j in missed) and time.monotonic() < deadline:
        time.sleep(0.1)
    resumed = Sse(api.url, {**api.as_(api.alice), "Last-Event-ID": last_id})
    streams.append(resumed)
    late = create_job(api, api.alice, "alice")  # during or after the replay: must arrive once
    got = resumed.until(late, "completed")
    ids = [event_id for event_id, _, _ in got if event_id]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    # Exactly the stream's events of alice's jobs after last_id, in order (bob's left out).
    alices = {first, *missed, late}
    assert ids == [e.id for e in api.client.events(last_id, limit=1000) if e.job_id in alices]
    for job in missed:
        assert any(data.get("jobId") == job and kind == "completed" for _, kind, data in got)


def test_resume_from_an_expired_id_gets_reset(api: Api, streams: list[Sse]) -> None:
    create_job(api, api.alice, "alice")
    time.sleep(0.05)
    stream = sse(api, api.alice, since="1-0")
    streams.append(stream)
    _, kind, data = stream.next()
    assert kind == "reset" and data["reason"] == "expired"
    bad = sse(api, api.alice, since="yesterday")
    assert bad.status == 422 and json.loads(bad.body)["error"]["field"] == "since"


def _ws(api: Api, query: str = "") -> ClientConnection:
    return connect(api.url.replace("http", "ws") + "/api/ws" + query, open_timeout=10)


def _ws_until(ws: ClientConnection, job_id: str, kind: str) -> list[dict[str, Any]]:
    seen = []
    deadline = time.monotonic() + WAIT
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        seen.append(message)
        if message["data"].get("jobId") == job_id and message["event"] == kind:
            return seen


def test_websocket_events_auth_and_subscribe(api: Api) -> None:
    with _ws(api, f"?token={api.alice}") as alice, _ws(api) as bob:
        bob.send(json.dumps({"token": api.bob}))
        for ws in (alice, bob):  # subscribed: from here on no event is missed
            assert json.loads(ws.recv(timeout=WAIT)) == {
                "id": None,
                "event": "subscribed",
                "data": {"jobs": None},
            }
        job = create_job(api, api.alice, "alice")
        seen = _ws_until(alice, job, "completed")
        assert seen[0]["event"] == "created" and all(m["id"] for m in seen)
        bob_job = create_job(api, api.bob, "bob")
        assert {m["data"]["jobId"] for m in _ws_until(bob, bob_job, "completed")} == {bob_job}
        # subscribe narrows the stream; another user's job closes the socket with 4404.
        other = create_job(api, api.alice, "alice")
        alice.send(json.dumps({"subscribe": [other]}))
        bob.send(json.dumps({"subscribe": [other]}))
        with pytest.raises(ConnectionClosed):
            while True:
                bob.recv(timeout=5)
        assert bob.close_code == 4404
        assert any(m["data"].get("jobId") == other for m in _ws_until(alice, other, "completed"))
    with _ws(api, "?token=esk_wrong") as wrong:
        with pytest.raises(ConnectionClosed):
            wrong.recv(timeout=5)
        assert wrong.close_code == 4401


def test_websocket_resume_with_since(api: Api) -> None:
    job = create_job(api, api.alice, "alice")
    deadline = time.monotonic() + WAIT
    while not api.client.get_job(job).finished and time.monotonic() < deadline:
        time.sleep(0.1)
    with _ws(api) as ws:
        ws.send(json.dumps({"token": api.alice, "since": "0-0"}))
        assert json.loads(ws.recv(timeout=WAIT))["event"] == "subscribed"
        seen = _ws_until(ws, job, "completed")
    expected = [e.id for e in api.client.events("0-0", limit=1000) if e.job_id == job]
    assert [m["id"] for m in seen if m["id"]] == expected


# --- the hub on its own (in this process, on the test's Redis) ---------------------------------
@pytest.fixture
def quiet_client(redis_url: str, fast_settings: Settings) -> Iterator[Client]:
    """A client with no workers on a database of its own: the session's server has job slots
    taking jobs from the default one."""
    url = redis_url.rsplit("/", 1)[0] + "/8"
    redis.Redis.from_url(url).flushdb()
    with Client(url, user_id="tester", workers=0, settings=fast_settings) as client:
        yield client


def _run_hub(client: Client, body: Callable[[Hub], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        hub = Hub(client, **options)
        await hub.start()
        try:
            await asyncio.wait_for(body(hub), WAIT)
        finally:
            await hub.stop()

    asyncio.run(main())


async def _caught_up(hub: Hub, client: Client) -> None:
    target = event_key(await asyncio.to_thread(client.last_event_id))
    while event_key(hub.position) < target:
        await asyncio.sleep(0.01)


def test_slow_subscriber_gets_reset_and_stays_bounded(quiet_client: Client) -> None:
    async def body(hub: Hub) -> None:
        slow, fast = hub.subscribe(None, capacity=5), hub.subscribe(None)
        got: list[LiveEvent] = []

        async def read_fast() -> None:
            while (event := await fast.mailbox.get()) is not None:
                got.append(event)

        reader = asyncio.create_task(read_fast())
        handles = await asyncio.to_thread(
            lambda: [quiet_client.create_job("text_notes", {"content": TEXT}) for _ in range(40)]
        )
        await _caught_up(hub, quiet_client)
        await asyncio.sleep(0.05)
        assert len(slow.mailbox) <= 5 and slow.mailbox.resets >= 1
        first = await slow.mailbox.get()
        assert first is not None and first.kind == "reset" and first.data["reason"] == "behind"
        # The fast one got every event, in order, and no reset.
        assert [e.job_id for e in got if e.kind == "created"] == [h.id for h in handles]
        assert all(e.kind != "reset" for e in got)
        reader.cancel()

    _run_hub(quiet_client, body)


def test_position_events_for_a_users_queued_jobs(quiet_client: Client) -> None:
    async def body(hub: Hub) -> None:
        # One job queued while no stream is open (the hub then looks no owner up) ...
        early = await asyncio.to_thread(
            quiet_client.create_job, "text_notes", {"content": TEXT}, user_id="alice"
        )
        await _caught_up(hub, quiet_client)
        sub = hub.subscribe("alice")
        other = hub.subscribe("bob")
        jobs = [early.id] + [
            (
                await asyncio.to_thread(
                    quiet_client.create_job, "text_notes", {"content": TEXT}, user_id="alice"
                )
            ).id
            for _ in range(2)
        ]
        positions: dict[str, int] = {}
        while len(positions) < 3:
            event = await sub.mailbox.get()
            assert event is not None
            if event.kind == "position":
                assert event.id is None
                positions[event.data["jobId"]] = event.data["queuePosition"]
        assert [positions[j] for j in jobs] == [0, 1, 2]  # 0: next to run
        await asyncio.sleep(0.3)  # six ticks: an unchanged position is not sent again
        assert all(e.kind != "position" for e in list(sub.mailbox._items))
        await asyncio.to_thread(quiet_client.cancel, jobs[0])
        moved: dict[str, int] = {}
        while len(moved) < 2:
            event = await sub.mailbox.get()
            assert event is not None
            if event.kind == "position":
                moved[event.data["jobId"]] = event.data["queuePosition"]
        assert moved == {jobs[1]: 0, jobs[2]: 1}
        assert all(e.kind != "position" for e in list(other.mailbox._items))

    _run_hub(quiet_client, body, position_interval=0.05)


def test_replay_and_live_overlap_delivered_once(quiet_client: Client) -> None:
    """The race of a resume made certain: events both replayed from the stream and already
    queued by the hub (subscribed first, as the routes do) arrive once, in order."""

    def create() -> str:
        return quiet_client.create_job("text_notes", {"content": TEXT}, user_id="alice").id

    async def body(hub: Hub) -> None:
        since = await asyncio.to_thread(quiet_client.last_event_id)
        sub = hub.subscribe("alice")
        before = [await asyncio.to_thread(create) for _ in range(3)]
        await _caught_up(hub, quiet_client)
        assert len(sub.mailbox) == 3  # queued live, and also in the stream after `since`
        stream = _stream(hub, sub, since)
        got = [await anext(stream) for _ in range(3)]
        after = await asyncio.to_thread(create)
        got.append(await anext(stream))
        assert [e.job_id for e in got] == [*before, after]
        assert len({e.id for e in got}) == 4
        await stream.aclose()
        assert hub.subscribers == 0

    _run_hub(quiet_client, body)


def test_events_reach_exactly_their_owners_and_admins(quiet_client: Client) -> None:
    # The hub offers an event only to its owner's streams and admins' (an index by user):
    # each stream still gets exactly what it may see, and closed streams leave the index.
    async def body(hub: Hub) -> None:
        admin, alice, bob = hub.subscribe(None), hub.subscribe("alice"), hub.subscribe("bob")
        alice_later = hub.subscribe("alice")
        handle = await asyncio.to_thread(
            lambda: quiet_client.create_job("text_notes", {"content": TEXT}, user_id="alice")
        )
        await _caught_up(hub, quiet_client)
        await asyncio.sleep(0.05)
        for sub in (admin, alice, alice_later):
            event = await sub.mailbox.get()
            assert event is not None and event.job_id == handle.id and event.kind == "created"
        assert len(bob.mailbox) == 0
        for sub in (admin, alice, bob, alice_later):
            hub.unsubscribe(sub)
        assert hub.subscribers == 0 and not hub._by_user

    _run_hub(quiet_client, body)
