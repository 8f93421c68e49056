"""``video_notes``: an audio or video file → transcript (+ subtitles) → study notes.

Progress: 0 to 80 % while transcribing (by audio position), 80 to 100 % while writing the notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._blobs import local_copy
from ..errors import PermanentError
from .base import JobContext, LocalContext
from .speech import Transcription, transcribe
from .subtitles import format_subtitles

__all__ = ["process_video"]

TRANSCRIBE_SHARE = 80.0


def process_video(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Notes for the audio or video file of a normalised input (its stored blob).

    Raises :class:`PermanentError` for files that are not media, have no audio track or
    contain no speech, and lets :class:`JobCancelled` from ``ctx.progress`` through.
    """
    with local_copy(input_data, ctx.settings, allow_path=isinstance(ctx, LocalContext)) as (path, filename):
        return _process(path, filename, input_data, ctx)


def _process(path: Path, filename: str, input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    options: Mapping[str, Any] = input_data.get("options") or {}
    requested = options.get("language")
    language = requested if isinstance(requested, str) and requested.lower() != "auto" else None

    ctx.progress(0, "reading media")
    transcription = transcribe(
        path,
        model=ctx.settings.whisper_model,
        language=language,
        progress=lambda fraction: ctx.progress(fraction * TRANSCRIBE_SHARE, "transcribing"),
    )
    if not transcription.segments:
        raise PermanentError(f"no speech found in {filename}")
    ctx.progress(TRANSCRIBE_SHARE, "writing notes")

    from .._notes import NoteSource, generate_notes, render_markdown

    source = NoteSource(
        kind="transcript",
        text=transcription.text,
        title=ctx.title or Path(filename).stem,
        language=language or transcription.language,
        generate_quiz=bool(options.get("generateQuiz", False)),
        prompt=options.get("prompt"),
        prior_notes=tuple(ctx.dependencies),
    )

    def notes_progress(percent: float) -> None:
        # The note generator reports 0..100 of its own step.
        share = max(0.0, min(100.0, percent)) / 100
        ctx.progress(TRANSCRIBE_SHARE + share * (100 - TRANSCRIBE_SHARE), "writing notes")

    output = generate_notes(source, settings=ctx.settings, progress=notes_progress)
    output.update(_media_fields(transcription, options.get("subtitles")))
    # Re-rendered so that the note carries the transcript (and subtitles) sections too.
    output["markdown"] = render_markdown(output)
    ctx.progress(100, "done")
    return output


def _media_fields(transcription: Transcription, subtitles: object) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "transcript": transcription.to_list(),
        "duration_seconds": transcription.duration,
    }
    if subtitles:
        fmt = "srt" if subtitles is True else str(subtitles).lower()
        try:
            fields["subtitles"] = format_subtitles(fields["transcript"], fmt)
        except ValueError as exc:
            raise PermanentError(f"options.subtitles: {exc}") from exc
        fields["subtitles_format"] = fmt
    return fields
