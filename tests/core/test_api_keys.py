"""API keys: stored hashed, listed and revoked by id, checked with a rate limit in one call."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from eduscribe_sdk import AuthenticationError, Client, InvalidInputError, RateLimitExceeded


def test_a_key_is_stored_only_as_its_digest(bare_client: Client, redis_url: str) -> None:
    key, info = bare_client.api_keys.create("alice", name="laptop")
    assert key.startswith(f"esk_{info.id}_") and info.user_id == "alice" and not info.admin
    dump = redis.Redis.from_url(redis_url)
    stored = b"".join(k + b"".join(dump.hvals(k)) for k in dump.scan_iter(match="eduscribe:api*"))
    assert key.encode() not in stored and key.split("_", 2)[2].encode() not in stored
    granted = bare_client.api_keys.authenticate(key)
    assert (granted.id, granted.user_id, granted.admin, granted.name) == (info.id, "alice", False, "laptop")


def test_admin_keys_listing_and_revocation(bare_client: Client) -> None:
    alice, _ = bare_client.api_keys.create("alice")
    admin, admin_info = bare_client.api_keys.create("ops", admin=True)
    assert bare_client.api_keys.authenticate(admin).admin
    assert [k.user_id for k in bare_client.api_keys.list()] == ["alice", "ops"]
    assert [k.id for k in bare_client.api_keys.list("ops")] == [admin_info.id]
    assert bare_client.api_keys.revoke(admin_info.id) is True
    assert bare_client.api_keys.revoke(admin_info.id) is False
    with pytest.raises(AuthenticationError, match="unknown or revoked"):
        bare_client.api_keys.authenticate(admin)
    assert bare_client.api_keys.authenticate(alice).user_id == "alice"


@pytest.mark.parametrize("bad", [None, "", "Bearer x", "esk_nope", "esk_" + "a" * 300, 42])
def test_malformed_or_unknown_keys_are_refused(bare_client: Client, bad: object) -> None:
    with pytest.raises(AuthenticationError):
        bare_client.api_keys.authenticate(bad)  # type: ignore[arg-type]


def test_bad_arguments_name_their_field(bare_client: Client) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        bare_client.api_keys.create("")
    with pytest.raises(InvalidInputError, match="admin"):
        bare_client.api_keys.create("bob", admin="yes")  # type: ignore[arg-type]


def test_rate_limit_allows_the_burst_then_asks_to_wait(bare_client: Client) -> None:
    key, _ = bare_client.api_keys.create("alice")
    for _ in range(5):
        bare_client.api_keys.authenticate(key, per_second=2, burst=5)
    with pytest.raises(RateLimitExceeded) as refused:
        bare_client.api_keys.authenticate(key, per_second=2, burst=5)
    assert 0 < refused.value.retry_after_s <= 0.5
    time.sleep(refused.value.retry_after_s + 0.01)
    bare_client.api_keys.authenticate(key, per_second=2, burst=5)  # refilled
    other, _ = bare_client.api_keys.create("bob")
    bare_client.api_keys.authenticate(other, per_second=2, burst=5)  # limits are per key


def test_rate_limit_holds_under_concurrent_requests(bare_client: Client) -> None:
    # Eight threads race for a burst of 20 at a rate too slow to refill during the test:
    # exactly 20 requests may pass, however the checks interleave.
    key, _ = bare_client.api_keys.create("alice")
    passed, lock, start = [], threading.Lock(), threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(10):
            try:
                bare_client.api_keys.authenticate(key, per_second=0.01, burst=20)
            except RateLimitExceeded:
                continue
            with lock:
                passed.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(passed) == 20


def test_count_jobs_combines_filters(bare_client: Client) -> None:
    a = [bare_client.submit_text("Photosynthesis turns light into sugar.", user_id="u1") for _ in range(3)]
    bare_client.submit_text("Mitochondria make ATP for the cell.", user_id="u2")
    bare_client.cancel(a[0].id)
    assert bare_client.count_jobs() == 4
    assert bare_client.count_jobs(user_id="u1") == 3
    assert bare_client.count_jobs("queued", user_id="u1") == 2
    assert bare_client.count_jobs("cancelled") == 1
