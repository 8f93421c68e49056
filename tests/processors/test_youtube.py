"""youtube_notes against YouTube's real responses, recorded by youtube-transcript-api.

The recordings live in ``shared_data/youtube`` (see its README); they are replayed with
``responses`` exactly as upstream does: three URLs matched without their query strings. Any
other URL is refused by ``responses``, so nothing here can reach the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from eduscribe_sdk._config import Settings
from eduscribe_sdk._processors import youtube
from eduscribe_sdk._processors.youtube import (
    BLOCKED_RETRY_AFTER_S,
    HTTP_TIMEOUT_S,
    TranscriptSegment,
    VideoTranscript,
    fetch_transcript,
    make_http_session,
    transcript_languages,
)
from eduscribe_sdk.errors import JobCancelled, PermanentError, TransientError

WATCH = "https://www.youtube.com/watch"
PLAYER = "https://www.youtube.com/youtubei/v1/player"
TIMEDTEXT = "https://www.youtube.com/api/timedtext"
VIDEO = "GJLlxj_dtq8"  # the video of the default recordings
WW1_VIDEO = "F1xioXWb8CY"
# As YouTube (and upstream's tests) send it: with text/plain, requests decodes the UTF-8 body
# as Latin-1 and the bot check's curly apostrophe no longer matches (VideoUnplayable instead).
JSON = "application/json"

Asset = Callable[[str], bytes]

_CACHE: dict[Path, bytes] = {}


@pytest.fixture(scope="session")
def asset(shared_data: Path) -> Asset:
    def load(name: str) -> bytes:
        path = shared_data / "youtube" / name
        if path not in _CACHE:
            _CACHE[path] = path.read_bytes()
        return _CACHE[path]

    return load


@pytest.fixture
def yt(asset: Asset) -> Iterator[responses.RequestsMock]:
    """The upstream set-up: a working watch page, player answer and transcript."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(WATCH, body=asset("youtube.html.static"))
        rsps.post(PLAYER, body=asset("youtube.innertube.json.static"), content_type=JSON)
        rsps.get(TIMEDTEXT, body=asset("transcript.xml.static"))
        yield rsps


def player_json(asset: Asset, name: str, edit: Callable[[list[dict[str, Any]]], None]) -> str:
    """A recorded player answer with its caption tracks edited (for cases YouTube rarely shows)."""
    data = json.loads(asset(name))
    edit(data["captions"]["playerCaptionsTracklistRenderer"]["captionTracks"])
    return json.dumps(data)


def set_player(rsps: responses.RequestsMock, body: bytes | str) -> None:
    rsps.replace(responses.POST, PLAYER, body=body, content_type=JSON)


def fetch(video_id: str = VIDEO, languages: list[str] | None = None, **kwargs: Any) -> VideoTranscript:
    kwargs.setdefault("settings", Settings())
    return fetch_transcript(video_id, languages=languages or ["en"], **kwargs)


def timedtext_calls(rsps: responses.RequestsMock) -> list[str]:
    return [str(call.request.url) for call in rsps.calls if str(call.request.url).startswith(TIMEDTEXT)]


EXPECTED_SEGMENTS = (
    TranscriptSegment(start=0.0, end=1.54, text="Hey, this is just a test"),
    TranscriptSegment(start=1.54, end=5.7, text="this is not the original transcript"),
    TranscriptSegment(start=5.7, end=8.939, text="just something shorter, I made up for testing"),
)


# --- choosing a transcript ------------------------------------------------------------------


def test_manual_english_transcript_with_timestamps_and_markup_stripped(yt: responses.RequestsMock) -> None:
    result = fetch()

    assert result.segments == EXPECTED_SEGMENTS  # the empty <text> is gone, <i> stripped
    assert (result.language_code, result.language, result.kind) == ("en", "English", "manual")
    assert result.text.startswith("Hey, this is just a test this is not the original")
    assert [call.request.method for call in yt.calls] == ["GET", "POST", "GET"]
    [url] = timedtext_calls(yt)
    assert "v=GJLlxj_dtq8" in url and "tlang" not in url and "kind=asr" not in url


def test_first_preferred_language_wins(yt: responses.RequestsMock) -> None:
    result = fetch(languages=["de", "en"])
    assert (result.language_code, result.kind) == ("de", "manual")
    assert "lang=de" in timedtext_calls(yt)[0]


def test_manual_transcript_in_a_later_language_beats_a_generated_one(
    yt: responses.RequestsMock, asset: Asset
) -> None:
    def only_generated_german(tracks: list[dict[str, Any]]) -> None:
        tracks[:] = [t for t in tracks if t["languageCode"] != "de"]
        tracks.append({**tracks[2], "languageCode": "de", "kind": "asr"})  # copy of en manual

    set_player(yt, player_json(asset, "youtube.innertube.json.static", only_generated_german))
    result = fetch(languages=["de", "en"])
    assert (result.language_code, result.kind) == ("en", "manual")


def test_language_fallback_on_a_video_with_only_english(yt: responses.RequestsMock, asset: Asset) -> None:
    set_player(yt, asset("youtube_ww1_nl_en.innertube.json.static"))
    result = fetch(WW1_VIDEO, languages=["nl", "en"])
    assert (result.video_id, result.language_code, result.kind) == (WW1_VIDEO, "en", "manual")
    assert "v=F1xioXWb8CY" in timedtext_calls(yt)[0]


def test_generated_transcript_when_no_manual_one(yt: responses.RequestsMock, asset: Asset) -> None:
    def drop_manual_english(tracks: list[dict[str, Any]]) -> None:
        tracks[:] = [t for t in tracks if not (t["languageCode"] == "en" and t.get("kind") != "asr")]

    set_player(yt, player_json(asset, "youtube.innertube.json.static", drop_manual_english))
    result = fetch()
    assert (result.language_code, result.kind) == ("en", "generated")
    assert "kind=asr" in timedtext_calls(yt)[0]


def test_regional_track_beats_translation(yt: responses.RequestsMock, asset: Asset) -> None:
    def british_only(tracks: list[dict[str, Any]]) -> None:
        for track in tracks:
            if track["languageCode"] == "en":
                track["languageCode"] = "en-GB"

    set_player(yt, player_json(asset, "youtube.innertube.json.static", british_only))
    result = fetch()
    assert (result.language_code, result.kind) == ("en-GB", "manual")


def test_translation_when_no_track_in_the_language(yt: responses.RequestsMock) -> None:
    # French is not among the 9 tracks but in translationLanguages: the first translatable
    # track (zh, manual) is translated by YouTube (tlang=fr on the timedtext request).
    result = fetch(languages=["fr"])
    assert (result.language_code, result.language, result.kind) == ("fr", "French", "translated")
    [url] = timedtext_calls(yt)
    assert "tlang=fr" in url and "lang=zh" in url
    assert result.segments == EXPECTED_SEGMENTS  # the recording serves one body for every track


def test_translation_on_the_fallback_recording(yt: responses.RequestsMock, asset: Asset) -> None:
    set_player(yt, asset("youtube_ww1_nl_en.innertube.json.static"))
    result = fetch(WW1_VIDEO, languages=["nl"])
    assert (result.language_code, result.kind) == ("nl", "translated")
    assert "tlang=nl" in timedtext_calls(yt)[0]


def test_translation_uses_the_first_offered_preferred_language(yt: responses.RequestsMock) -> None:
    result = fetch(languages=["sw", "it"])  # Swahili is not offered, Italian is
    assert (result.language_code, result.kind) == ("it", "translated")


def test_no_transcript_names_wanted_and_available_languages(yt: responses.RequestsMock) -> None:
    with pytest.raises(PermanentError) as info:
        fetch(languages=["sw", "yo"])
    message = str(info.value)
    assert "no transcript in sw, yo" in message and VIDEO in message
    assert message.endswith("es (manual), en (generated)")
    assert "available: zh (manual), cs (manual), en (manual), de (manual)" in message
    assert timedtext_calls(yt) == []


def test_auto_picks_the_spoken_language(yt: responses.RequestsMock) -> None:
    # zh is listed first, but the speech-recognition track says the video speaks English.
    result = fetch(languages=["sw"], any_language=True)
    assert (result.language_code, result.kind) == ("en", "manual")


def test_po_token_track_falls_back_to_the_next_one(yt: responses.RequestsMock, asset: Asset) -> None:
    set_player(yt, asset("youtube_po_token_required.innertube.json.static"))
    result = fetch()
    assert (result.language_code, result.kind) == ("en", "generated")
    assert all("exp=xpe" not in url for url in timedtext_calls(yt))


def test_po_token_on_every_matching_track_is_permanent(yt: responses.RequestsMock, asset: Asset) -> None:
    def all_need_token(tracks: list[dict[str, Any]]) -> None:
        for track in tracks:
            track["baseUrl"] += "&exp=xpe"

    set_player(yt, player_json(asset, "youtube.innertube.json.static", all_need_token))
    with pytest.raises(PermanentError, match=f"{VIDEO}: YouTube requires a PO token"):
        fetch()
    assert timedtext_calls(yt) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, (["en"], False)),
        ({"language": "de"}, (["de"], False)),
        ({"language": "de", "preferredLanguages": ["fr", "en", "fr"]}, (["fr", "en"], False)),
        ({"language": "auto"}, ([], True)),
        ({"language": "auto", "preferredLanguages": ["nl"]}, (["nl"], True)),
        ({"preferredLanguages": []}, (["en"], False)),
    ],
)
def test_transcript_languages(options: dict[str, Any], expected: tuple[list[str], bool]) -> None:
    assert transcript_languages(options) == expected


# --- errors ---------------------------------------------------------------------------------

ERROR_ASSETS = [
    # (url, method, replacement asset, expected error, words in its message)
    (WATCH, responses.GET, "youtube_consent_page.html.static", PermanentError, "cookie-consent"),
    (WATCH, responses.GET, "youtube_consent_page_invalid.html.static", PermanentError, "cookie-consent"),
    (WATCH, responses.GET, "youtube_too_many_requests.html.static", TransientError, "rate-limits"),
    (PLAYER, responses.POST, "youtube_request_blocked.innertube.json.static", TransientError, "bot-checks"),
    (
        PLAYER,
        responses.POST,
        "youtube_video_unavailable.innertube.json.static",
        PermanentError,
        "unavailable",
    ),
    (
        PLAYER,
        responses.POST,
        "youtube_age_restricted.innertube.json.static",
        PermanentError,
        "age-restricted",
    ),
    (PLAYER, responses.POST, "youtube_unplayable.innertube.json.static", PermanentError, "Custom Reason"),
    (
        PLAYER,
        responses.POST,
        "youtube_transcripts_disabled.innertube.json.static",
        PermanentError,
        "disabled",
    ),
    (
        PLAYER,
        responses.POST,
        "youtube_transcripts_disabled2.innertube.json.static",
        PermanentError,
        "disabled",
    ),
]


@pytest.mark.parametrize(("url", "method", "name", "error", "words"), ERROR_ASSETS)
def test_recorded_error_pages(
    yt: responses.RequestsMock,
    asset: Asset,
    url: str,
    method: str,
    name: str,
    error: type[Exception],
    words: str,
) -> None:
    yt.replace(method, url, body=asset(name), content_type=JSON if url == PLAYER else "text/html")
    with pytest.raises(error) as info:
        fetch()
    assert VIDEO in str(info.value) and words in str(info.value)
    assert type(info.value) is error  # no subclass smuggling a library exception through
    assert info.value.__cause__ is not None  # the library's exception is kept for the logs


def test_ip_block_asks_for_a_long_back_off(yt: responses.RequestsMock, asset: Asset) -> None:
    yt.replace(responses.GET, WATCH, body=asset("youtube_too_many_requests.html.static"))
    with pytest.raises(TransientError) as info:
        fetch()
    assert info.value.retry_after == BLOCKED_RETRY_AFTER_S
    assert "EDUSCRIBE_YOUTUBE_PROXY" in str(info.value)


def test_invalid_video_id(yt: responses.RequestsMock, asset: Asset) -> None:
    set_player(yt, asset("youtube_video_unavailable.innertube.json.static"))
    with pytest.raises(PermanentError, match="not a valid video id"):
        fetch("https://www.youtube.com/watch?v=GJLlxj_dtq8")


@pytest.mark.parametrize(
    ("url", "method", "status", "error"),
    [
        (WATCH, responses.GET, 429, TransientError),
        (TIMEDTEXT, responses.GET, 429, TransientError),
        (PLAYER, responses.POST, 500, TransientError),
        (PLAYER, responses.POST, 503, TransientError),
        (TIMEDTEXT, responses.GET, 502, TransientError),
        (WATCH, responses.GET, 403, TransientError),
        (PLAYER, responses.POST, 404, PermanentError),
        (PLAYER, responses.POST, 400, PermanentError),
    ],
)
def test_http_status(
    yt: responses.RequestsMock, url: str, method: str, status: int, error: type[Exception]
) -> None:
    yt.replace(method, url, status=status, body="")
    with pytest.raises(error) as info:
        fetch()
    assert type(info.value) is error and VIDEO in str(info.value)


@pytest.mark.parametrize(
    ("url", "method", "exception", "words"),
    [
        (WATCH, responses.GET, requests.ConnectionError("connection reset"), "could not connect"),
        (PLAYER, responses.POST, requests.ConnectTimeout("connect timed out"), "timed out"),
        (TIMEDTEXT, responses.GET, requests.ReadTimeout("read timed out"), "timed out"),
        (TIMEDTEXT, responses.GET, requests.exceptions.ChunkedEncodingError("broken"), "broke off"),
    ],
)
def test_network_errors_are_transient(
    yt: responses.RequestsMock, url: str, method: str, exception: Exception, words: str
) -> None:
    yt.replace(method, url, body=exception)
    with pytest.raises(TransientError, match=words) as info:
        fetch()
    assert info.value.__cause__ is exception


@pytest.mark.parametrize(
    ("url", "method", "body"),
    [
        (PLAYER, responses.POST, "{not json"),
        (TIMEDTEXT, responses.GET, ""),
        (TIMEDTEXT, responses.GET, "<tr"),
    ],
)
def test_garbled_responses_are_transient(
    yt: responses.RequestsMock, url: str, method: str, body: str
) -> None:
    yt.replace(method, url, body=body)
    with pytest.raises(TransientError, match="unreadable response"):
        fetch()


def test_unregistered_url_is_refused_not_fetched(yt: responses.RequestsMock) -> None:
    yt.remove(responses.GET, TIMEDTEXT)
    with pytest.raises(TransientError) as info:
        fetch()
    # responses refused it (a ConnectionError), so no real network was touched.
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert "Connection refused by Responses" in str(info.value.__cause__)


def test_library_classes_without_a_recording() -> None:
    import youtube_transcript_api as yta

    settings = Settings()
    cases: list[tuple[Exception, type[Exception]]] = [
        (yta.YouTubeDataUnparsable(VIDEO), TransientError),
        (yta.NotTranslatable(VIDEO), PermanentError),
        (yta.TranslationLanguageNotAvailable(VIDEO), PermanentError),
        (yta.NoTranscriptFound(VIDEO, ["en"], object()), PermanentError),
        (yta.CookieError(), PermanentError),
        (requests.exceptions.InvalidURL("bad"), PermanentError),
        (KeyError("captionTracks"), PermanentError),
    ]
    for exception, expected in cases:
        mapped = youtube._map_error(exception, VIDEO, settings)
        assert type(mapped) is expected, exception
        assert VIDEO in str(mapped)


# --- cancellation, timeout and proxy --------------------------------------------------------


def test_progress_after_listing_and_cancellation_propagates(yt: responses.RequestsMock) -> None:
    reports: list[float] = []
    fetch(progress=reports.append)
    assert reports == [10]

    def cancelled(percent: float) -> None:
        raise JobCancelled("job local was cancelled")

    with pytest.raises(JobCancelled):
        fetch(progress=cancelled)


def test_every_request_has_a_timeout(yt: responses.RequestsMock) -> None:
    fetch()
    assert yt.calls
    for call in yt.calls:
        assert call.request.req_kwargs["timeout"] == HTTP_TIMEOUT_S  # type: ignore[attr-defined]


def test_session_keeps_an_explicit_timeout() -> None:
    with responses.RequestsMock() as rsps, make_http_session() as session:
        rsps.get("https://example.test/a")
        session.get("https://example.test/a", timeout=1.5)
        session.get("https://example.test/a")
        timeouts = [c.request.req_kwargs["timeout"] for c in rsps.calls]  # type: ignore[attr-defined]
    assert timeouts == [1.5, HTTP_TIMEOUT_S]


PROXY = "http://scribe:s3cret@proxy.internal:3128"


def test_configured_proxy_is_used_for_every_request(yt: responses.RequestsMock) -> None:
    fetch(settings=Settings(youtube_proxy=PROXY))
    assert len(yt.calls) == 3
    for call in yt.calls:
        assert call.request.req_kwargs["proxies"] == {"http": PROXY, "https": PROXY}  # type: ignore[attr-defined]


def test_no_proxy_configured_means_none_passed(
    yt: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    fetch()
    for call in yt.calls:
        assert not call.request.req_kwargs["proxies"]  # type: ignore[attr-defined]


def test_proxy_failure_is_transient_and_hides_the_password(yt: responses.RequestsMock) -> None:
    yt.replace(responses.GET, WATCH, body=requests.exceptions.ProxyError(f"cannot reach {PROXY}"))
    with pytest.raises(TransientError) as info:
        fetch(settings=Settings(youtube_proxy=PROXY))
    assert "via proxy http://scribe:***@proxy.internal:3128" in str(info.value)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("proxy", ["socks5://proxy.internal:1080", "proxy.internal:3128", "http://"])
def test_unusable_proxy_setting_is_permanent_and_sends_nothing(
    yt: responses.RequestsMock, proxy: str
) -> None:
    with pytest.raises(PermanentError, match="EDUSCRIBE_YOUTUBE_PROXY"):
        fetch(settings=Settings(youtube_proxy=proxy))
    assert len(yt.calls) == 0


# --- the processor --------------------------------------------------------------------------


class FakeNotes:
    """Stands in for eduscribe_sdk._notes, to check what the processor hands it and keeps."""

    def __init__(self) -> None:
        self.sources: list[Any] = []

    def generate_notes(
        self, source: Any, *, settings: Settings, progress: Callable[[float], None] | None = None
    ) -> dict[str, Any]:
        self.sources.append(source)
        for percent in (0, 40, 100):
            if progress is not None:
                progress(percent)
        return {"title": source.title, "summary": "s", "markdown": "old", "language": source.language}

    def render_markdown(self, output: dict[str, Any]) -> str:
        return "rendered: " + ", ".join(sorted(output))


@pytest.fixture
def fake_notes(monkeypatch: pytest.MonkeyPatch) -> FakeNotes:
    import eduscribe_sdk._notes as notes
    from eduscribe_sdk._notes.source import NoteSource

    fake = FakeNotes()
    monkeypatch.setattr(notes, "NoteSource", NoteSource, raising=False)
    monkeypatch.setattr(notes, "generate_notes", fake.generate_notes, raising=False)
    monkeypatch.setattr(notes, "render_markdown", fake.render_markdown, raising=False)
    return fake


def test_processor_hands_the_transcript_to_the_note_generator(
    yt: responses.RequestsMock, fake_notes: FakeNotes
) -> None:
    from eduscribe_sdk._processors import LocalContext, get_processor

    prior = ({"id": "intro", "title": "Intro", "summary": "before"},)
    ctx = LocalContext(dependencies=prior)
    options = {"generateQuiz": True, "prompt": "focus on specs"}
    output = get_processor("youtube_notes")({"videoId": VIDEO, "options": options}, ctx)

    [source] = fake_notes.sources
    assert source.kind == "transcript" and source.title == f"YouTube video {VIDEO}"
    assert source.text == " ".join(s.text for s in EXPECTED_SEGMENTS)
    assert (source.language, source.generate_quiz, source.prompt) == ("en", True, "focus on specs")
    assert source.prior_notes == prior
    assert output["transcript"] == [s.to_dict() for s in EXPECTED_SEGMENTS]
    assert output["transcript"][1] == {
        "start": 1.54,
        "end": 5.7,
        "text": "this is not the original transcript",
    }
    assert (output["video_id"], output["transcript_language"], output["transcript_kind"]) == (
        VIDEO,
        "en",
        "manual",
    )
    assert "subtitles" not in output
    # markdown is rendered last, from the output including the transcript
    assert output["markdown"] == "rendered: " + ", ".join(sorted(output))
    assert [p for p, _ in ctx.reports] == [10, 50, 50, 70, 100, 100]


def test_processor_title_url_languages_and_subtitles(
    yt: responses.RequestsMock, asset: Asset, fake_notes: FakeNotes
) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    set_player(yt, asset("youtube_ww1_nl_en.innertube.json.static"))
    ctx = LocalContext(title="The Great War")
    data = {
        "youtubeUrl": f"https://youtu.be/{WW1_VIDEO}?t=3",
        "options": {"preferredLanguages": ["nl"], "subtitles": "vtt"},
    }
    output = process_youtube(data, ctx)
    assert fake_notes.sources[0].title == "The Great War"
    assert (output["video_id"], output["transcript_language"], output["transcript_kind"]) == (
        WW1_VIDEO,
        "nl",
        "translated",
    )
    assert fake_notes.sources[0].language == "nl"
    assert output["subtitles"].startswith("WEBVTT")
    assert "00:00:01.540 --> 00:00:05.700" in output["subtitles"]


def test_processor_srt_subtitles(yt: responses.RequestsMock, fake_notes: FakeNotes) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    output = process_youtube({"videoId": VIDEO, "options": {"subtitles": "srt"}}, LocalContext())
    assert output["subtitles"].startswith("1\n00:00:00,000 --> 00:00:01,540\nHey, this is just a test")


@pytest.mark.parametrize("cancel_at", [10, 50, 60])
def test_processor_lets_cancellation_through(
    yt: responses.RequestsMock, fake_notes: FakeNotes, cancel_at: float
) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    ctx = LocalContext(cancel_after=cancel_at)
    with pytest.raises(JobCancelled):
        process_youtube({"videoId": VIDEO, "options": {}}, ctx)
    assert len(fake_notes.sources) == (1 if cancel_at > 50 else 0)
    if cancel_at == 10:
        assert timedtext_calls(yt) == []  # cancelled before the transcript was downloaded


def test_processor_maps_errors(yt: responses.RequestsMock, asset: Asset, fake_notes: FakeNotes) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    set_player(yt, asset("youtube_transcripts_disabled.innertube.json.static"))
    with pytest.raises(PermanentError, match="subtitles are disabled"):
        process_youtube({"videoId": VIDEO, "options": {}}, LocalContext())
    assert fake_notes.sources == []


def test_processor_refuses_a_transcript_without_text(
    yt: responses.RequestsMock, fake_notes: FakeNotes
) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    empty = '<?xml version="1.0" encoding="utf-8" ?><transcript><text start="0" dur="1"> </text></transcript>'
    yt.replace(responses.GET, TIMEDTEXT, body=empty)
    with pytest.raises(PermanentError, match="has no text"):
        process_youtube({"videoId": VIDEO, "options": {}}, LocalContext())


def test_processor_refuses_a_corrupt_record_permanently(fake_notes: FakeNotes) -> None:
    from eduscribe_sdk._processors import LocalContext
    from eduscribe_sdk._processors.youtube import process_youtube

    corrupt: list[dict[str, Any]] = [
        {"options": {}},
        {"videoId": "short"},
        {"youtubeUrl": "https://evil.com/watch?v=GJLlxj_dtq8"},
    ]
    for data in corrupt:
        with pytest.raises(PermanentError):
            process_youtube(data, LocalContext())


def test_processor_end_to_end_with_the_offline_note_generator(yt: responses.RequestsMock) -> None:
    from eduscribe_sdk._processors import LocalContext, get_processor

    ctx = LocalContext(title="Surface Go review", settings=Settings())  # no API key: offline
    data = {"videoId": VIDEO, "options": {"generateQuiz": True, "subtitles": "srt"}}
    output = get_processor("youtube_notes")(data, ctx)

    for field in ("title", "summary", "key_points", "glossary", "quiz", "markdown", "language", "word_count"):
        assert field in output, field
    assert output["generator"] == "offline"
    assert output["title"] == "Surface Go review"
    assert output["transcript"] == [s.to_dict() for s in EXPECTED_SEGMENTS]
    assert output["transcript_kind"] == "manual" and output["video_id"] == VIDEO
    assert output["subtitles"].startswith("1\n00:00:00,000 --> 00:00:01,540")
    # markdown was re-rendered after the transcript was added
    assert "Hey, this is just a test" in output["markdown"]
    percents = [p for p, _ in ctx.reports]
    assert percents[:2] == [10, 50] and percents[-1] == 100
    assert percents == sorted(percents) and all(0 <= p <= 100 for p in percents)
    json.dumps(output)  # stored as JSON in the job record


def test_an_offline_worker_fails_at_once_instead_of_retrying_for_minutes() -> None:
    """A failed name lookup is permanent (the test suite blocks lookups off loopback, see
    tests/netguard.py; .invalid never resolves anyway, RFC 6761)."""
    import requests

    from eduscribe_sdk._config import Settings
    from eduscribe_sdk._processors.youtube import _map_error
    from eduscribe_sdk.errors import PermanentError

    try:
        requests.get("http://www.youtube.invalid/watch", timeout=5)
    except requests.ConnectionError as exc:
        error = _map_error(exc, "dQw4w9WgXcQ", Settings())
    else:  # pragma: no cover
        raise AssertionError("a .invalid host resolved")
    assert isinstance(error, PermanentError)
    assert "no internet access" in str(error)
