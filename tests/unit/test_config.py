"""Settings that cannot work raise ConfigError naming the variable or field (still a ValueError)."""

from __future__ import annotations

import pytest

from eduscribe_sdk import ConfigError, Settings


def test_a_variable_that_is_not_a_whole_number_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"WORKER_MAX_CONCURRENT_JOBS": "three"})
    assert info.value.setting == "WORKER_MAX_CONCURRENT_JOBS"
    assert "'three'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_variable_below_its_minimum_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"EDUSCRIBE_MAX_FILE_MB": "0"})
    assert info.value.setting == "EDUSCRIBE_MAX_FILE_MB"
    assert "at least 1" in str(info.value)


def test_a_malformed_processor_override_names_EDUSCRIBE_PROCESSORS() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"EDUSCRIBE_PROCESSORS": "text_notes=tests.core.jobs:scripted,file_notes"})
    assert info.value.setting == "EDUSCRIBE_PROCESSORS"
    assert "'file_notes'" in str(info.value)


def test_an_override_that_is_not_a_field_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({}, worker_thread=2)
    assert info.value.setting == "worker_thread"
    assert Settings.from_env({}, worker_threads=2).worker_threads == 2
