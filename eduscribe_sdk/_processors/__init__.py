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

__all__ = ["JobContext", "LocalContext", "Processor", "get_processor", "is_isolated"]

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


def is_isolated(job_type: JobType | str, overrides: Mapping[str, str] | None = None) -> bool:
    """Whether a worker runs this job type's processor in a child process it can kill.

    Every built-in processor can block (documents, OCR, speech, YouTube, LLM calls), so all
    are isolated, and are not imported here. A plugged-in processor is isolated unless it
    says otherwise with a function attribute ``isolated = False``: for trivial work whose
    cost would be dominated by the hop to the child (about 0.15 ms a job); such a processor
    stops at its next progress report when cancelled, and no time or memory limit applies.
    """
    target = (overrides or {}).get(JobType(job_type).value)
    return target is None or bool(getattr(_resolve(target), "isolated", True))
