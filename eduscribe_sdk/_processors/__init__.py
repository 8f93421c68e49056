"""One processor per job type: plain functions ``(input_data, ctx) -> output_data``.

Looked up lazily so that importing the SDK (or a worker that never sees a video) does not
import faster-whisper, PyAV or pypdf.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import cast

from .._models import JobType
from .base import JobContext, LocalContext, Processor

__all__ = ["JobContext", "LocalContext", "Processor", "get_processor"]

_PROCESSORS: dict[JobType, str] = {
    JobType.TEXT_NOTES: "eduscribe_sdk._processors.text:process_text",
    JobType.FILE_NOTES: "eduscribe_sdk._processors.documents:process_file",
    JobType.VIDEO_NOTES: "eduscribe_sdk._processors.media:process_video",
    JobType.YOUTUBE_NOTES: "eduscribe_sdk._processors.youtube:process_youtube",
    JobType.COURSE_SUMMARY: "eduscribe_sdk._processors.summary:process_summary",
}


def get_processor(job_type: JobType | str, overrides: Mapping[str, str] | None = None) -> Processor:
    kind = JobType(job_type)
    return _resolve((overrides or {}).get(kind.value) or _PROCESSORS[kind])


@functools.cache
def _resolve(target: str) -> Processor:
    # Every job asks for its processor: import and look it up once per target.
    module_name, _, attribute = target.partition(":")
    return cast(Processor, getattr(importlib.import_module(module_name), attribute))
