"""Redis URLs (``eduscribe_sdk/_connection.py``): the Sentinel form, and which errors mean
"Redis unavailable, try later". No server needed."""

from __future__ import annotations

import pytest
import redis
from redis.sentinel import MasterNotFoundError

from eduscribe_sdk import ConfigError
from eduscribe_sdk._config import mask_url
from eduscribe_sdk._connection import SentinelUrl, connect, describe, parse_sentinel_url, unavailable


def test_a_sentinel_url_names_its_sentinels_service_db_and_password() -> None:
    assert parse_sentinel_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-b:26380/jobs/2"
    ) == SentinelUrl((("10.0.0.1", 26379), ("sentinel-b", 26380)), "jobs", 2, "s@cret")
    assert parse_sentinel_url("redis+sentinel://h:26379/jobs") == SentinelUrl(
        (("h", 26379),), "jobs", 0, None
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://h:26379", "no service name"),
        ("redis+sentinel://h:26379/", "no service name"),
        ("redis+sentinel://h/jobs", "'h' has no port"),
        ("redis+sentinel://h:port/jobs", "'port' is not a port number"),
        ("redis+sentinel://h:70000/jobs", "'70000' is not a port number"),
        ("redis+sentinel://h:1,,g:2/jobs", "an empty Sentinel address"),
        ("redis+sentinel://h:1/jobs/zero", "database 'zero' is not a number"),
        ("redis+sentinel://h:1/jobs/0/extra", "database '0/extra' is not a number"),
    ],
)
def test_a_malformed_sentinel_url_is_a_config_error_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        connect(url)
    assert caught.value.setting == "EDUSCRIBE_REDIS_URL"
    assert "redis+sentinel://[:password@]host:port" in str(caught.value)


def test_a_sentinel_url_password_is_masked_and_the_hosts_kept() -> None:
    assert mask_url("redis+sentinel://:pw@a:1,b:2/jobs/0") == "redis+sentinel://:***@a:1,b:2/jobs/0"
    with pytest.raises(ConfigError) as caught:
        connect("redis+sentinel://:pw@a:1,b:2")
    assert "pw" not in str(caught.value)


def test_a_sentinel_client_describes_itself_without_its_password() -> None:
    client = connect("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/jobs/3")  # connects lazily
    assert describe(client) == "redis+sentinel://127.0.0.1:1,127.0.0.1:2/jobs/3"


@pytest.mark.parametrize(
    "exc",
    [
        redis.ConnectionError("refused"),
        redis.TimeoutError("timed out"),
        redis.ReadOnlyError("You can't write against a read only replica."),
        redis.BusyLoadingError("Redis is loading the dataset in memory"),
        MasterNotFoundError("No master found for 'jobs'"),
        redis.ResponseError(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
        ),
        redis.ResponseError("NOREPLICAS Not enough good replicas to write."),
    ],
)
def test_errors_that_mean_try_later_are_unavailable(exc: Exception) -> None:
    assert unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [redis.ResponseError("NOTFOUND job-1"), redis.ResponseError("WRONGTYPE Operation"), redis.DataError("x")],
)
def test_other_errors_are_not(exc: Exception) -> None:
    assert not unavailable(exc)
