"""Processors that say which process ran them (for where a worker runs a processor)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from eduscribe_sdk import JobContext


def isolated(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    return {"markdown": "", "pid": os.getpid()}


def in_thread(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    return {"markdown": "", "pid": os.getpid()}


in_thread.isolated = False  # type: ignore[attr-defined]
