"""Analytics and job listings refuse bad arguments with the SDK's InvalidInputError (a ValueError)."""

from __future__ import annotations

import pytest

from eduscribe_sdk import Client, InvalidInputError, JobStatus


def test_stats_frame_by_must_name_priority_or_job_type(bare_client: Client) -> None:
    with pytest.raises(InvalidInputError) as info:
        bare_client.stats_frame(by=["priority", "user_id"])
    assert info.value.field == "by"
    assert isinstance(info.value, ValueError)
    assert list(bare_client.stats_frame(by="priority").columns[:2]) == ["priority", "total"]


def test_list_jobs_refuses_an_unknown_status_and_lists_the_valid_ones(bare_client: Client) -> None:
    with pytest.raises(InvalidInputError) as info:
        bare_client.list_jobs(status="bogus")
    assert info.value.field == "status"
    assert all(status.value in str(info.value) for status in JobStatus)
    assert bare_client.list_jobs(status="queued") == []


def test_jobs_frame_refuses_an_unknown_status(bare_client: Client) -> None:
    with pytest.raises(InvalidInputError) as info:
        bare_client.jobs_frame(status="bogus")
    assert info.value.field == "status"
