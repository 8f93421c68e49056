"""Time and memory limits from the environment, and the errors that report them."""

from __future__ import annotations

import pickle

import pytest

from eduscribe_sdk import (
    ConfigError,
    JobMemoryLimitExceeded,
    JobTimeLimitExceeded,
    PermanentError,
    ProcessorCrashed,
    Settings,
    TransientError,
)


def test_time_limits_per_job_type_from_the_environment() -> None:
    settings = Settings.from_env({"EDUSCRIBE_TIME_LIMITS": "video_notes=3600, text_notes=30"})
    assert settings.time_limit_ms("video_notes") == 3_600_000
    assert settings.time_limit_ms("text_notes") == 30_000
    assert settings.time_limit_ms("file_notes") == 900_000  # the default stays


@pytest.mark.parametrize("raw", ["text_notes", "lecture=30", "text_notes=soon", "text_notes=0"])
def test_bad_time_limits_name_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"EDUSCRIBE_TIME_LIMITS": raw})
    assert info.value.setting == "EDUSCRIBE_TIME_LIMITS"


def test_memory_limit_from_the_environment() -> None:
    assert Settings.from_env({}).max_job_memory_mb == 4096
    assert Settings.from_env({"EDUSCRIBE_MAX_JOB_MEMORY_MB": "0"}).max_job_memory_mb == 0
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"EDUSCRIBE_MAX_JOB_MEMORY_MB": "lots"})
    assert info.value.setting == "EDUSCRIBE_MAX_JOB_MEMORY_MB"


@pytest.mark.parametrize(
    ("error", "kind", "attribute"),
    [
        (JobTimeLimitExceeded("time limit of 2 s exceeded", limit_s=2), PermanentError, "limit_s"),
        (JobMemoryLimitExceeded("needed more than 512 MB", limit_mb=512), PermanentError, "limit_mb"),
        (ProcessorCrashed("died (signal SIGSEGV)", exit_code=-11), TransientError, "exit_code"),
    ],
)
def test_limit_errors_cross_process_borders(error: Exception, kind: type, attribute: str) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and isinstance(copy, kind)
    assert str(copy) == str(error) and getattr(copy, attribute) == getattr(error, attribute)
