"""OCR of scanned pages with the Tesseract command-line program.

Tesseract is run directly (``tesseract stdin stdout``) rather than through
``pytesseract.image_to_string`` because the child needs ``OMP_THREAD_LIMIT=1``: with
OpenMP's default thread count Tesseract 5 is about five times slower on a 2-core worker
(4.0 s vs 0.75 s for one 660x990 page, measured), and a worker already runs several jobs
at once. pytesseract offers no per-call environment, and setting the variable in our own
process would also throttle other OpenMP users (faster-whisper) in the same worker.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from ...errors import PermanentError

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "OCR_TIMEOUT_S",
    "installed_languages",
    "ocr_image",
    "tesseract_command",
    "tesseract_language",
]

OCR_TIMEOUT_S = 180.0
#: Tesseract's accuracy peaks around 300 dpi; larger scans only cost time.
TARGET_DPI = 300
#: Scans below this are upscaled to ``UPSCALE_DPI``: tiny glyphs are Tesseract's most common
#: failure. Measured on the 110 dpi Vicksburg scan: native 92 % word recall at 0.9 s/page,
#: 2x upscaled 96 % at 1.9 s/page; so only really coarse scans pay for upscaling.
MIN_DPI = 100
UPSCALE_DPI = 200

#: ISO 639-1 → Tesseract traineddata names (ISO 639-2/T plus Tesseract's own script variants).
_TESSERACT_CODES = {
    "ar": "ara", "bg": "bul", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu", "el": "ell",
    "en": "eng", "es": "spa", "et": "est", "fa": "fas", "fi": "fin", "fr": "fra", "he": "heb",
    "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "ko": "kor",
    "lt": "lit", "lv": "lav", "nb": "nor", "nl": "nld", "nn": "nor", "no": "nor", "pl": "pol",
    "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv", "sr": "srp", "sv": "swe",
    "th": "tha", "tr": "tur", "uk": "ukr", "vi": "vie", "zh": "chi_sim",
}  # fmt: skip


def tesseract_command() -> str | None:
    """The Tesseract executable, or None when it is not installed."""
    return shutil.which("tesseract")


@functools.lru_cache(maxsize=8)
def installed_languages(command: str) -> frozenset[str]:
    try:
        result = subprocess.run(
            [command, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # The first line is a heading ("List of available languages in ...").
    lines = (result.stdout or result.stderr).splitlines()[1:]
    return frozenset(line.strip() for line in lines if line.strip())


def tesseract_language(hint: str | None, available: frozenset[str]) -> str:
    """The traineddata to use for a language hint; English when the hint is absent or not installed."""
    if hint and hint != "auto":
        primary = hint.split("-")[0].lower()
        code = _TESSERACT_CODES.get(primary, primary)
        if code in available:
            return code
    return "eng" if "eng" in available or not available else sorted(available - {"osd"})[0]


def prepare_image(image: Image, *, width_inches: float | None) -> Image:
    """Greyscale, at most ~300 dpi and at least ~200 dpi for the page width it is drawn across."""
    from PIL import Image as PILImage

    if image.mode not in ("L", "1"):
        image = image.convert("L")
    if width_inches and width_inches > 0:
        dpi = image.width / width_inches
        target = TARGET_DPI if dpi > TARGET_DPI * 1.2 else UPSCALE_DPI if dpi < MIN_DPI else None
        if target is not None:
            scale = target / dpi
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            if size[0] * size[1] <= 60_000_000:
                image = image.convert("L").resize(size, PILImage.Resampling.LANCZOS)
    return image


def ocr_image(image: Image, *, command: str, language: str, timeout: float = OCR_TIMEOUT_S) -> str:
    """Text of one image. Raises :class:`PermanentError` if Tesseract fails on it."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        result = subprocess.run(
            [command, "stdin", "stdout", "-l", language, "--psm", "3"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PermanentError(f"OCR took longer than {timeout:g} s") from exc
    except OSError as exc:
        raise PermanentError(f"could not run Tesseract ({exc.strerror or exc})") from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PermanentError(f"Tesseract failed: {detail[-1] if detail else f'exit {result.returncode}'}")
    return result.stdout.decode("utf-8", "replace")
