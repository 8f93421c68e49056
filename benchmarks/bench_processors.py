"""Processor speed on the shared course material (no queue: each processor called directly).

* the 117-page PDF → notes (``process_file``): seconds and pages/s; target < 10 s;
* every clip in ``data/audio`` → transcript and notes (``process_video``): real-time factor
  (processing seconds / audio seconds), target <= 0.15, with the speech model already
  loaded (its one-time load is reported apart);
* a 10,000-word text → offline notes (``process_text``), without and with a quiz: seconds,
  target < 1 s.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ._report import Row
from ._servers import REPO

SHARED = Path(os.environ.get("EDUSCRIBE_SHARED_DATA", REPO.parent / "shared" / "data"))
PDF = SHARED / "documents" / "pdf" / "large" / "geotopo_lecture_notes_de_117p.pdf"
AUDIO = SHARED / "audio"
TEXTS = SHARED / "text"
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus"}
#: Clips shorter than this are reported without the RTF target (see run()).
MIN_RTF_CLIP_S = 5.0
TEXT_WORDS = 10_000


def ten_thousand_words(words: int = TEXT_WORDS) -> str:
    """The shared texts, largest first, joined and cut at ``words`` words (repeated if short)."""
    sources = sorted(TEXTS.glob("*.*"), key=lambda p: p.stat().st_size, reverse=True)
    pool: list[str] = []
    for path in sources:
        pool += path.read_text(encoding="utf-8").split()
    if not pool:
        raise FileNotFoundError(f"no texts in {TEXTS}")
    while len(pool) < words:
        pool += pool
    return " ".join(pool[:words])


def pdf_notes() -> dict[str, Any]:
    from eduscribe_sdk._processors.base import LocalContext
    from eduscribe_sdk._processors.documents import process_file

    began = time.perf_counter()
    output = process_file({"path": str(PDF), "options": {}}, LocalContext())
    seconds = time.perf_counter() - began
    pages = int(output.get("source", {}).get("pages") or 0)
    return {
        "seconds": seconds,
        "pages": pages,
        "pages_per_s": pages / seconds,
        "ocr": output["source"].get("ocr"),
    }


def audio_rtf(clips: list[Path]) -> dict[str, Any]:
    from eduscribe_sdk._processors.base import LocalContext
    from eduscribe_sdk._processors.media import process_video
    from eduscribe_sdk._processors.speech import load_model, probe
    from eduscribe_sdk.errors import PermanentError

    began = time.perf_counter()
    load_model(None)
    load_s = time.perf_counter() - began
    results: dict[str, Any] = {}
    for clip in clips:
        duration = float(probe(clip).duration or 0.0)
        began = time.perf_counter()
        outcome = "ok"
        try:
            process_video({"path": str(clip), "options": {}}, LocalContext())
        except PermanentError as exc:
            # The silent clip has no speech: the processor refuses it, which is also work.
            outcome = f"refused: {exc}"
        seconds = time.perf_counter() - began
        results[clip.name] = {
            "audio_s": duration,
            "seconds": seconds,
            "rtf": seconds / duration if duration else None,
            "outcome": outcome,
        }
    return {"model_load_s": load_s, "clips": results}


def text_notes(*, quiz: bool = False) -> dict[str, Any]:
    from eduscribe_sdk._processors.base import LocalContext
    from eduscribe_sdk._processors.text import process_text

    text = ten_thousand_words()
    process_text({"content": "A warm-up sentence about stacks and queues.", "options": {}}, LocalContext())
    began = time.perf_counter()
    process_text({"content": text, "options": {"generateQuiz": quiz}}, LocalContext())
    return {"words": len(text.split()), "seconds": time.perf_counter() - began}


def run(*, quick: bool = False) -> dict[str, Any]:
    rows: list[Row] = []
    measured: dict[str, Any] = {}
    if not SHARED.is_dir():
        return {"rows": [], "skipped": f"shared data not found at {SHARED}"}

    for quiz in (False, True):
        text = text_notes(quiz=quiz)
        measured["text_quiz" if quiz else "text"] = text
        rows.append(
            Row(
                "processors",
                f"offline notes of a {text['words']:,}-word text" + (" with a quiz" if quiz else ""),
                text["seconds"],
                "s",
                target="< 1 s",
                met=text["seconds"] < 1.0,
            )
        )

    clips = sorted(p for p in AUDIO.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if quick:
        clips = [p for p in clips if p.stat().st_size < 300_000][:1]
    audio = audio_rtf(clips)
    measured["audio"] = audio
    rows.append(Row("processors", "speech model load (once per process)", audio["model_load_s"], "s"))
    for name, clip in audio["clips"].items():
        rtf = clip["rtf"]
        notes = ["no speech: refused"] if clip["outcome"] != "ok" else []
        # Whisper encodes a fixed 30 s window however short the clip (~0.3 s here), so the
        # real-time factor of a clip of a few seconds measures that fixed cost, not speed.
        judged = rtf is not None and clip["audio_s"] >= MIN_RTF_CLIP_S
        if not judged:
            notes.append(f"under {MIN_RTF_CLIP_S:g} s: one 30 s window's fixed cost")
        rows.append(
            Row(
                "processors",
                f"audio RTF {name} ({clip['audio_s']:.1f} s)",
                rtf,
                "x real time",
                target="<= 0.15" if judged else "",
                met=(rtf <= 0.15) if judged and rtf is not None else None,
                note="; ".join(notes),
            )
        )

    if not quick:
        pdf = pdf_notes()
        measured["pdf"] = pdf
        rows.append(
            Row(
                "processors",
                f"PDF {pdf['pages']} pages -> notes",
                pdf["seconds"],
                "s",
                target="< 10 s",
                met=pdf["seconds"] < 10.0,
                note=f"{pdf['pages_per_s']:.1f} pages/s",
            )
        )
    return {"rows": [row.to_dict() for row in rows], "measured": measured}
