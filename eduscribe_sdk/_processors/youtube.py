"""``youtube_notes``: study notes from a YouTube video's transcript.

The transcript comes from youtube-transcript-api (no audio is downloaded). Every failure is
turned into :class:`~eduscribe_sdk.errors.TransientError` (the worker retries with back-off)
or :class:`~eduscribe_sdk.errors.PermanentError` (the job fails at once); no exception of
youtube-transcript-api or requests leaves this module.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .._config import Settings, mask_url
from .._validation import parse_youtube_id
from ..errors import InvalidInputError, PermanentError, ProcessingError, TransientError
from .base import JobContext
from .subtitles import Segment as TranscriptSegment

if TYPE_CHECKING:
    import requests

__all__ = [
    "BLOCKED_RETRY_AFTER_S",
    "HTTP_TIMEOUT_S",
    "TranscriptKind",
    "TranscriptSegment",
    "VideoTranscript",
    "fetch_transcript",
    "make_http_session",
    "process_youtube",
    "transcript_languages",
]

TranscriptKind = Literal["manual", "generated", "translated"]

#: (connect, read) seconds for every request to YouTube. The read timeout bounds each wait for
#: bytes, so a stalled connection fails the attempt (transiently) instead of pinning a worker
#: thread until the job's time limit.
HTTP_TIMEOUT_S: tuple[float, float] = (10.0, 30.0)

#: YouTube's IP blocks last minutes to hours; retrying after the worker's default 30 s only
#: burns attempts.
BLOCKED_RETRY_AFTER_S = 300.0

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class VideoTranscript:
    """The transcript chosen for a video, cleaned up, with its timestamps."""

    video_id: str
    segments: tuple[TranscriptSegment, ...]
    #: YouTube's code for the transcript's language (``en``, ``en-GB``, ``zh-Hant``…).
    language_code: str
    #: The language's display name as YouTube gives it (``English``…).
    language: str
    kind: TranscriptKind

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)


# --- selection ------------------------------------------------------------------------------


def transcript_languages(options: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The languages to look for, in order, and whether any language will do.

    ``preferredLanguages`` wins, then ``language``, then English. ``"auto"`` is not a YouTube
    language code: it means "the video's own language", so it only widens the search.
    """
    preferred = [str(code) for code in options.get("preferredLanguages") or ()]
    language = options.get("language")
    any_language = language == "auto" or "auto" in preferred
    languages = [code for code in preferred if code != "auto"]
    if not languages and isinstance(language, str) and language != "auto":
        languages = [language]
    if not languages and not any_language:
        languages = ["en"]
    return list(dict.fromkeys(languages)), any_language


def _base(code: str) -> str:
    return code.split("-", 1)[0].lower()


def _candidates(
    transcript_list: Any, languages: Sequence[str], any_language: bool
) -> list[tuple[Any, TranscriptKind]]:
    """Transcripts to try, best first, each with its kind.

    A list rather than one pick because a track can still fail on fetch (PoTokenRequired) while
    the next one works.
    """
    tracks: list[Any] = list(transcript_list)
    manual = [t for t in tracks if not t.is_generated]
    generated = [t for t in tracks if t.is_generated]
    found: list[tuple[Any, TranscriptKind]] = []

    def add(transcript: Any, kind: TranscriptKind) -> None:
        if all(transcript is not seen for seen, _ in found):
            found.append((transcript, kind))

    # Exact codes first: every preferred language as a manual track, then as a generated one.
    pools: tuple[tuple[list[Any], TranscriptKind], ...] = ((manual, "manual"), (generated, "generated"))
    for pool, kind in pools:
        for code in languages:
            for transcript in pool:
                if transcript.language_code == code:
                    add(transcript, kind)
    # YouTube often labels tracks by region ("en-GB"); the same language beats a translation.
    for pool, kind in pools:
        for code in languages:
            for transcript in pool:
                if _base(transcript.language_code) == _base(code):
                    add(transcript, kind)
    if any_language:
        # The speech-recognition track is in the language actually spoken, so it tells us
        # which manual track is the original rather than someone's translation.
        spoken = {_base(t.language_code) for t in generated}
        for transcript in manual:
            if _base(transcript.language_code) in spoken:
                add(transcript, "manual")
        for transcript in generated:
            add(transcript, "generated")
        for transcript in manual:
            add(transcript, "manual")
    for code in languages:
        for transcript in manual + generated:
            offered = {lang.language_code for lang in transcript.translation_languages}
            if transcript.is_translatable and code in offered:
                add(transcript.translate(code), "translated")
    return found


def _describe_available(transcript_list: Any) -> str:
    described = [
        f"{t.language_code} ({'generated' if t.is_generated else 'manual'})" for t in transcript_list
    ]
    return ", ".join(described) or "none"


# --- HTTP and error mapping -----------------------------------------------------------------


def make_http_session(timeout: tuple[float, float] = HTTP_TIMEOUT_S) -> requests.Session:
    """A ``requests.Session`` whose requests time out unless a caller sets its own timeout."""
    import requests

    class _TimeoutSession(requests.Session):
        # ``send`` rather than ``request``: redirects bypass ``request`` but not ``send``.
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().send(request, **kwargs)

    return _TimeoutSession()


def _proxy_config(settings: Settings) -> Any:
    proxy = settings.youtube_proxy
    if not proxy:
        return None
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # A configuration mistake: no retry can fix it, and the operator must see it now.
        raise PermanentError(
            f"EDUSCRIBE_YOUTUBE_PROXY must be an http:// or https:// proxy URL, got {mask_url(proxy)!r}"
        )
    from youtube_transcript_api.proxies import GenericProxyConfig

    return GenericProxyConfig(http_url=proxy, https_url=proxy)


def _http_status(exc: BaseException) -> int | None:
    # YouTubeRequestFailed keeps only the HTTPError's text, but it is raised while handling
    # that HTTPError, so the response is still reachable through __context__.
    response = getattr(exc.__context__, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return status
    match = re.match(r"\s*(\d{3})\b", str(getattr(exc, "reason", "")))
    return int(match.group(1)) if match else None


def _clean(text: str, settings: Settings) -> str:
    """An exception's text fit for a job record: one line, proxy password masked."""
    if settings.youtube_proxy:
        text = text.replace(settings.youtube_proxy, mask_url(settings.youtube_proxy))
    return _SPACE.sub(" ", text).strip()[:300]


def _name_lookup_failed(exc: BaseException) -> bool:
    """True when a connection failed because the host name could not be resolved."""
    import socket

    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or type(current).__name__ == "NameResolutionError":
            return True
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return False


def _map_error(exc: Exception, video_id: str, settings: Settings) -> ProcessingError:
    """The SDK error for an exception raised by youtube-transcript-api or requests."""
    from xml.etree.ElementTree import ParseError

    import requests
    import youtube_transcript_api as yta

    video = f"YouTube video {video_id}"
    proxy_hint = "" if settings.youtube_proxy else "; if it persists, set EDUSCRIBE_YOUTUBE_PROXY"
    name = type(exc).__name__

    # -- transient: the same request can succeed later ---------------------------------------
    if isinstance(exc, yta.RequestBlocked):  # includes IpBlocked (HTTP 429, recaptcha page)
        how = "rate-limits" if isinstance(exc, yta.IpBlocked) else "bot-checks"
        return TransientError(
            f"{video}: YouTube {how} requests from this worker's IP ({name}){proxy_hint}",
            retry_after=BLOCKED_RETRY_AFTER_S,
        )
    if isinstance(exc, yta.YouTubeRequestFailed):
        status = _http_status(exc)
        reason = _clean(exc.reason, settings)
        # 403 is how YouTube refuses a blocked client; 408/425 are timing; 5xx is its outage.
        if status is None or status >= 500 or status in (403, 408, 425, 429):
            return TransientError(f"{video}: request to YouTube failed: {reason}")
        return PermanentError(f"{video}: request to YouTube failed: {reason}")
    if isinstance(exc, yta.YouTubeDataUnparsable):
        # A watch page without the API key and without a captcha: usually an odd interstitial
        # that the next attempt does not get; the retry budget bounds the cost if it is not.
        return TransientError(f"{video}: YouTube returned a page that could not be read")
    if isinstance(exc, requests.ConnectionError) and not settings.youtube_proxy and _name_lookup_failed(exc):
        # No DNS at all means this worker is offline: retrying with back-off only delays the
        # answer by minutes (the shipped example course runs offline). `retry` once online.
        return PermanentError(
            f"{video}: cannot resolve YouTube's address: this worker has no internet access "
            "(retry the job once it is online, or set EDUSCRIBE_YOUTUBE_PROXY)"
        )
    if isinstance(exc, requests.Timeout | requests.ConnectionError):  # ProxyError, SSLError too
        via = f" via proxy {mask_url(settings.youtube_proxy)}" if settings.youtube_proxy else ""
        what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
        return TransientError(f"{video}: network error talking to YouTube{via}: {what} ({name})")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return TransientError(f"{video}: the connection to YouTube broke off mid-response ({name})")
    if isinstance(exc, requests.exceptions.JSONDecodeError | ParseError):
        # A truncated or empty body (YouTube sends empty captions when it throttles).
        return TransientError(f"{video}: YouTube sent an unreadable response ({name})")

    # -- permanent: about the video itself, or a set-up no retry fixes -----------------------
    if isinstance(exc, yta.TranscriptsDisabled):
        return PermanentError(f"{video}: subtitles are disabled for this video")
    if isinstance(exc, yta.InvalidVideoId):
        return PermanentError(f"{video}: not a valid video id")
    if isinstance(exc, yta.VideoUnavailable):
        return PermanentError(f"{video}: the video is unavailable (removed, private or never existed)")
    if isinstance(exc, yta.AgeRestricted):
        return PermanentError(f"{video}: the video is age-restricted; transcripts need a signed-in user")
    if isinstance(exc, yta.VideoUnplayable):
        details = "; ".join([exc.reason or "no reason given", *exc.sub_reasons])
        return PermanentError(f"{video}: the video is unplayable: {_clean(details, settings)}")
    if isinstance(exc, yta.NoTranscriptFound | yta.NotTranslatable | yta.TranslationLanguageNotAvailable):
        return PermanentError(f"{video}: no transcript in the requested languages ({name})")
    if isinstance(exc, yta.PoTokenRequired):
        # The track URL demands a proof-of-origin token that this library cannot produce; the
        # same URL comes back on every attempt, so waiting does not help.
        return PermanentError(f"{video}: YouTube requires a PO token for every matching transcript")
    if isinstance(exc, yta.FailedToCreateConsentCookie):
        # Permanent: the consent page depends on the worker's region and this library's parser,
        # not on time; back-off would only delay the failure by hours. Once an operator fixes
        # the set-up (a proxy outside the EU, a newer library) `retry` re-runs the job.
        return PermanentError(
            f"{video}: YouTube showed a cookie-consent page that could not be accepted "
            f"(EU region?){proxy_hint}, then retry the job"
        )
    if isinstance(exc, requests.RequestException):  # InvalidURL, InvalidProxyURL, MissingSchema…
        return PermanentError(f"{video}: request to YouTube could not be made: {_clean(str(exc), settings)}")
    # Anything else means this library version no longer understands YouTube's answer.
    return PermanentError(
        f"{video}: unexpected {name} from youtube-transcript-api: {_clean(str(exc), settings)}"
    )


class _Guard:
    """``with _Guard(...)``: library and network errors leave as Transient/PermanentError."""

    def __init__(self, video_id: str, settings: Settings) -> None:
        self._video_id = video_id
        self._settings = settings

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        # ProcessingError is ours (JobCancelled included) and KeyboardInterrupt & co. are not
        # errors of the fetch: both pass through untouched.
        if exc is None or isinstance(exc, ProcessingError) or not isinstance(exc, Exception):
            return
        raise _map_error(exc, self._video_id, self._settings) from exc


# --- fetching -------------------------------------------------------------------------------


def _segments(snippets: Any) -> Iterator[TranscriptSegment]:
    for snippet in snippets:
        # The library strips tags and unescapes once; YouTube sometimes escapes twice
        # ("&amp;#39;") and leaves stray markup, so clean again, then drop what is left empty.
        text = _SPACE.sub(" ", html.unescape(_TAG.sub("", str(snippet.text)))).strip()
        if text:
            start = float(snippet.start)
            yield TranscriptSegment(start=start, end=round(start + float(snippet.duration), 3), text=text)


def fetch_transcript(
    video_id: str,
    *,
    languages: Sequence[str],
    settings: Settings,
    any_language: bool = False,
    progress: Callable[[float], object] | None = None,
) -> VideoTranscript:
    """The best transcript of ``video_id``.

    Order: a manually created transcript in ``languages`` (in that order), then a generated
    one, then one in a regional variant of those languages, then (with ``any_language``) the
    video's own language, then a translation into the first of ``languages`` that YouTube
    offers. ``progress(10)`` is reported once the list of transcripts is known.

    Raises :class:`TransientError` or :class:`PermanentError`; nothing else.
    """
    import youtube_transcript_api as yta

    guard = _Guard(video_id, settings)
    proxy_config = _proxy_config(settings)
    with make_http_session() as session:
        with guard:
            api = yta.YouTubeTranscriptApi(proxy_config=proxy_config, http_client=session)
            transcript_list = api.list(video_id)
            candidates = _candidates(transcript_list, languages, any_language)
        if progress is not None:
            progress(10)
        if not candidates:
            with guard:
                available = _describe_available(transcript_list)
            wanted = ", ".join(languages) or "any language"
            raise PermanentError(
                f"YouTube video {video_id}: no transcript in {wanted}; available: {available}"
            )

        po_token_error: Exception | None = None
        for transcript, kind in candidates:
            with guard:
                try:
                    fetched = transcript.fetch()
                except yta.PoTokenRequired as exc:
                    # Checked before any request is made; another track often has no such demand.
                    po_token_error = exc
                    continue
                segments = tuple(_segments(fetched.snippets))
            return VideoTranscript(
                video_id=video_id,
                segments=segments,
                language_code=str(transcript.language_code),
                language=str(transcript.language),
                kind=kind,
            )
    assert po_token_error is not None
    raise _map_error(po_token_error, video_id, settings) from po_token_error


# --- the processor --------------------------------------------------------------------------


def _video_id(input_data: Mapping[str, Any]) -> str:
    raw = input_data.get("videoId") or input_data.get("youtubeUrl")
    if not isinstance(raw, str):
        raise PermanentError("youtube_notes input has neither videoId nor youtubeUrl")
    try:
        return parse_youtube_id(raw)
    except InvalidInputError as exc:
        # Input is validated when the job is created; reaching this means a hand-edited record.
        raise PermanentError(str(exc)) from exc


def process_youtube(input_data: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Notes from a YouTube video's transcript, plus the timed ``transcript`` itself.

    Progress: 10 once the video's transcripts are listed, 50 once one is fetched, then the
    note generator's progress scaled to 50-100.
    """
    from .._notes import NoteSource, generate_notes, render_markdown
    from .subtitles import format_subtitles

    video_id = _video_id(input_data)
    options: Mapping[str, Any] = input_data.get("options") or {}
    languages, any_language = transcript_languages(options)
    transcript = fetch_transcript(
        video_id, languages=languages, settings=ctx.settings, any_language=any_language, progress=ctx.progress
    )
    if not transcript.segments:
        raise PermanentError(
            f"YouTube video {video_id}: the {transcript.language_code} transcript has no text"
        )
    ctx.progress(50)

    def notes_progress(percent: float) -> None:
        ctx.progress(50 + max(0.0, min(100.0, percent)) / 2)

    source = NoteSource(
        kind="transcript",
        text=transcript.text,
        title=ctx.title or f"YouTube video {video_id}",
        # Note generators take ISO 639-1; YouTube's codes may carry a region or script.
        language=_base(transcript.language_code),
        generate_quiz=bool(options.get("generateQuiz", False)),
        prompt=options.get("prompt"),
        prior_notes=ctx.dependencies,
    )
    output = generate_notes(source, settings=ctx.settings, progress=notes_progress)
    output["transcript"] = [segment.to_dict() for segment in transcript.segments]
    output["video_id"] = video_id
    output["transcript_language"] = transcript.language_code
    output["transcript_kind"] = transcript.kind
    if subtitles := options.get("subtitles"):
        output["subtitles"] = format_subtitles(output["transcript"], str(subtitles))
    output["markdown"] = render_markdown(output)
    ctx.progress(100)
    return output
