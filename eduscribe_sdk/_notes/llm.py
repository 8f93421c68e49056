"""The LLM note generator, for any OpenAI-compatible Chat Completions server.

Long inputs are split into token-bounded chunks (map: notes per chunk), then the chunk notes are
merged (reduce) in groups until one note remains. The model answers in JSON mode; every answer is
validated, and the Markdown is rendered by us, never taken from the model.

Errors: rate limits (429), timeouts (408 too), conflicts (409), connection errors and 5xx become
``TransientError`` (with the server's ``retry-after-ms`` or ``Retry-After``); a refusal or an
invalid answer is retried once, then ``PermanentError``; 401, 403, 404 (an unknown model) and
other 4xx are ``PermanentError`` at once, with the server's reason. Messages never contain the
API key.

Too long: an answer cut off at the model's output limit (``finish_reason: "length"``) is never
used, and neither is a request the server refuses as longer than the model's context (400
``context_length_exceeded``). The part is split in two and each half is asked for (a merge
merges half as many notes at a time); a part that cannot be split any further fails the job
with a ``PermanentError`` that says which limit was hit.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from .._config import Settings
from ..errors import PermanentError, TransientError
from .language import detect_language, normalize_language
from .source import NoteSource

__all__ = ["count_tokens", "generate_llm", "merge_llm", "split_chunks"]

#: Per request; module-level so tests (and operators) can shorten it.
REQUEST_TIMEOUT_S = 120.0
#: Input tokens per map call: small enough for every current model's context with room for the
#: answer, large enough that a lecture is one call.
CHUNK_TOKENS = 6000
#: Chunk notes merged per reduce call.
REDUCE_FANIN = 8
_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


@lru_cache(maxsize=1)
def _encoding() -> Any:
    """tiktoken's cl100k_base if its BPE file is already cached, else None.

    ``tiktoken.get_encoding`` downloads the file on first use; a worker without internet would
    hang or fail there, so we only load it when tiktoken's cache already holds it.
    """
    try:
        import tiktoken
    except ImportError:
        return None
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    cached = os.path.join(cache_dir, hashlib.sha1(_CL100K_URL.encode()).hexdigest())
    if not os.path.exists(cached):
        return None
    try:
        return tiktoken.get_encoding("cl100k_base")
    except Exception:
        return None


def count_tokens(text: str) -> int:
    encoding = _encoding()
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    # No BPE file offline: chars/3 over-estimates English (~4 chars/token) and roughly matches
    # German, code and accented text, so chunks stay within budget (conservative by design).
    return math.ceil(len(text) / 3)


def split_chunks(text: str, max_tokens: int) -> list[str]:
    """Paragraph-aligned chunks of at most ``max_tokens`` (sentences, then words, when needed)."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if count_tokens(para) <= max_tokens:
            pieces.append(para)
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            if count_tokens(sentence) <= max_tokens:
                pieces.append(sentence)
                continue
            words = sentence.split()
            step = max(1, max_tokens // 2)  # a word is at most ~2 tokens on the estimate above
            pieces += [" ".join(words[k : k + step]) for k in range(0, len(words), step)]
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for piece in pieces:
        cost = count_tokens(piece) + 1
        if current and used + cost > max_tokens:
            chunks.append("\n\n".join(current))
            current, used = [], 0
        current.append(piece)
        used += cost
    if current:
        chunks.append("\n\n".join(current))
    return chunks


_SCHEMA = (
    '{"title": str, "summary": str (one paragraph), "key_points": [str, ...] (5-10), '
    '"glossary": [{"term": str, "definition": str}, ...] (key terms of the text)'
)
_QUIZ_SCHEMA = (
    ', "quiz": [{"question": str, "choices": [str, str, str, str], '
    '"answer": str (one of the choices)}, ...] (3-5)'
)


def _system(language: str, quiz: bool, prompt: str | None) -> str:
    schema = _SCHEMA + (_QUIZ_SCHEMA if quiz else "") + "}"
    text = (
        "You write study notes for students from course material. Answer with one JSON object of "
        f"this shape: {schema}. Write every field in the language with ISO 639-1 code "
        f"'{language}'. Use only facts from the material; glossary terms must appear in it."
    )
    if prompt:
        text += f"\nThe instructor asks: {prompt.strip()}"
    return text


def _context(prior_notes: Sequence[Mapping[str, Any]]) -> str:
    if not prior_notes:
        return ""
    lines = ["This material builds on earlier notes; do not repeat their definitions:"]
    for note in prior_notes:
        summary = " ".join(str(note.get("summary") or "").split())[:600]
        lines.append(f"- {note.get('title') or note.get('id')}: {summary}")
    return "\n".join(lines) + "\n\n"


def _retry_after(error: Any) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _scrub(message: str, settings: Settings) -> str:
    if settings.openai_api_key:
        message = message.replace(settings.openai_api_key, "***")
    # servers echo keys partially masked ("sk-abc***xyz"); drop anything key-shaped
    return re.sub(r"\bsk-[A-Za-z0-9_\-*]{2,}", "sk-***", message)


class _Invalid(Exception):
    """The model's answer is unusable (refusal, not JSON, wrong fields); worth one more try."""


class _TooLong(Exception):
    """The request or its answer does not fit the model's limits: asking again with the same
    input cannot help, a shorter input may."""


def _server_reason(error: Any, settings: Settings) -> str:
    """The server's own explanation (the error body's message), key-scrubbed and bounded."""
    body = getattr(error, "body", None)
    reason = body.get("message") if isinstance(body, dict) else None
    return _scrub(str(reason or getattr(error, "message", "") or ""), settings)[:300]


def _validate(data: Any, *, quiz: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Invalid("the answer is not a JSON object")
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise _Invalid("'summary' is missing or not a string")
    points = data.get("key_points")
    if (
        not isinstance(points, list)
        or not points
        or not all(isinstance(p, str) and p.strip() for p in points)
    ):
        raise _Invalid("'key_points' must be a non-empty list of strings")
    glossary = data.get("glossary", [])
    if not isinstance(glossary, list) or not all(
        isinstance(g, dict) and isinstance(g.get("term"), str) and isinstance(g.get("definition"), str)
        for g in glossary
    ):
        raise _Invalid("'glossary' must be a list of {term, definition}")
    title = data.get("title")
    out: dict[str, Any] = {
        "title": title.strip() if isinstance(title, str) and title.strip() else None,
        "summary": " ".join(summary.split()),
        "key_points": [" ".join(p.split()) for p in points],
        "glossary": [{"term": g["term"].strip(), "definition": g["definition"].strip()} for g in glossary],
    }
    if quiz:
        items = data.get("quiz")
        if not isinstance(items, list):
            raise _Invalid("'quiz' must be a list")
        checked = []
        for q in items:
            if not (
                isinstance(q, dict)
                and isinstance(q.get("question"), str)
                and isinstance(q.get("choices"), list)
                and len(q["choices"]) >= 2
                and all(isinstance(c, str) for c in q["choices"])
                and q.get("answer") in q["choices"]
            ):
                raise _Invalid("every quiz item needs a question, choices and an answer among them")
            checked.append({"question": q["question"], "choices": list(q["choices"]), "answer": q["answer"]})
        out["quiz"] = checked
    return out


class _Client:
    def __init__(self, settings: Settings) -> None:
        import openai

        self._openai = openai
        self._settings = settings
        self._client = openai.OpenAI(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=REQUEST_TIMEOUT_S,
            max_retries=0,  # the job queue retries with back-off; retrying here too multiplies waits
        )

    def _call(self, system: str, user: str) -> str:
        openai = self._openai
        try:
            completion = self._client.chat.completions.create(
                model=self._settings.llm_model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={"type": "json_object"},
                temperature=0.2,
            )
        # ``from None`` everywhere: the original exception holds the request, Authorization
        # header included, and chained tracebacks end up in job records.
        except openai.RateLimitError as e:
            raise TransientError(
                "the LLM server is rate limiting (429)", retry_after=_retry_after(e)
            ) from None
        except openai.APITimeoutError:
            raise TransientError(f"the LLM server did not answer within {REQUEST_TIMEOUT_S:g} s") from None
        except openai.APIConnectionError:
            raise TransientError("could not connect to the LLM server") from None
        except openai.InternalServerError as e:
            raise TransientError(
                f"the LLM server failed ({e.status_code})", retry_after=_retry_after(e)
            ) from None
        except openai.AuthenticationError as e:
            raise PermanentError(
                f"the LLM server rejected the API key ({e.status_code}); check OPENAI_API_KEY"
            ) from None
        except openai.APIStatusError as e:
            reason = _server_reason(e, self._settings)
            if e.status_code in (408, 409):
                raise TransientError(
                    f"the LLM server asked to retry ({e.status_code}): {reason}", retry_after=_retry_after(e)
                ) from None
            if e.status_code == 400 and getattr(e, "code", None) == "context_length_exceeded":
                raise _TooLong(f"the input is longer than the model's context (400): {reason}") from None
            hint = ""
            if e.status_code == 404:
                hint = f" (check EDUSCRIBE_LLM_MODEL, now {self._settings.llm_model!r}, and OPENAI_BASE_URL)"
            elif e.status_code == 403:
                hint = " (OPENAI_API_KEY's project or region may lack access)"
            raise PermanentError(
                f"the LLM server rejected the request ({e.status_code}): {reason}{hint}"
            ) from None
        if not completion.choices:
            raise _Invalid("the answer has no choices")
        choice = completion.choices[0]
        if getattr(choice.message, "refusal", None):
            raise _Invalid(f"the model refused: {str(choice.message.refusal)[:200]}")
        if choice.finish_reason == "length":
            # Often still parseable (a closed JSON object missing its last fields): never used.
            raise _TooLong("the answer was cut off at the model's output limit (finish_reason 'length')")
        return choice.message.content or ""

    def notes(self, system: str, user: str, *, quiz: bool) -> dict[str, Any]:
        """One validated answer; an unusable one is asked for once more."""
        problem = ""
        for _attempt in range(2):
            try:
                content = self._call(system, user)
                try:
                    data = json.loads(content)
                except json.JSONDecodeError:
                    raise _Invalid("the answer is not valid JSON") from None
                return _validate(data, quiz=quiz)
            except _Invalid as e:
                problem = str(e)
        raise PermanentError(f"the LLM gave no usable notes after a retry: {problem}")


def _halves(chunk: str) -> list[str]:
    """``chunk`` split in two (or a few) shorter parts; one part when it cannot be split."""
    return split_chunks(chunk, max(1, count_tokens(chunk) // 2))


def _too_long(problem: _TooLong) -> PermanentError:
    return PermanentError(f"{problem} and the part cannot be split any further")


def _merge_group(
    client: _Client,
    group: list[dict[str, Any]],
    make_user: Callable[[list[dict[str, Any]]], str],
    system: str,
    quiz: bool,
) -> list[dict[str, Any]]:
    """One merged note for ``group``, or (answer cut off) one per half of it: fewer notes
    than the group had whenever it had more than two, so the reduce still ends."""
    try:
        return [client.notes(system, make_user(group), quiz=quiz)]
    except _TooLong as problem:
        if len(group) <= 2:
            raise _too_long(problem) from None
        half = len(group) // 2
        try:
            return [
                client.notes(system, make_user(part), quiz=quiz) if len(part) > 1 else part[0]
                for part in (group[:half], group[half:])
            ]
        except _TooLong as again:
            raise _too_long(again) from None


def _language(requested: str | None, text: str) -> str:
    return normalize_language(requested) or detect_language(text)


def _reduce(
    client: _Client,
    notes: list[dict[str, Any]],
    *,
    language: str,
    quiz: bool,
    prompt: str | None,
    title: str | None,
    context: str,
    progress: Callable[[float], None],
    start: float,
) -> dict[str, Any]:
    rounds = max(1, math.ceil(math.log(max(2, len(notes)), REDUCE_FANIN)))
    done = 0

    def user(group: list[dict[str, Any]]) -> str:
        return (
            context
            + (f"Title of the material: {title}\n" if title else "")
            + "Merge these partial notes of consecutive parts of one text into one set of notes "
            "(no repetition; keep the most important points). Partial notes as JSON:\n"
            + json.dumps(group, ensure_ascii=False)
        )

    while len(notes) > 1:
        merged = []
        for k in range(0, len(notes), REDUCE_FANIN):
            group = notes[k : k + REDUCE_FANIN]
            if len(group) == 1:
                merged.append(group[0])
                continue
            merged += _merge_group(client, group, user, _system(language, quiz, prompt), quiz)
        notes = merged
        done += 1
        progress(start + (100 - start) * min(1.0, done / rounds) * 0.95)
    return notes[0]


def generate_llm(
    source: NoteSource,
    *,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
    chunk_tokens: int | None = None,
) -> dict[str, Any]:
    """Note fields (title, summary, key_points, glossary, quiz if asked, language) from the LLM."""
    report = progress or (lambda _p: None)
    text = source.text.strip()
    if not text:
        raise PermanentError("there is no text to take notes from")
    language = _language(source.language, text)
    client = _Client(settings)
    chunks = split_chunks(text, chunk_tokens or CHUNK_TOKENS)
    context = _context(source.prior_notes)
    system = _system(language, source.generate_quiz, source.prompt)
    title_line = f"Title of the material: {source.title}\n" if source.title else ""
    report(2)
    partial: list[dict[str, Any]] = []
    map_share = 85.0 if len(chunks) > 1 else 95.0
    k, shown = 0, 2.0
    while k < len(chunks):
        part = f" (part {k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        user = f"{context}{title_line}Course material{part}:\n\n{chunks[k]}"
        try:
            partial.append(client.notes(system, user, quiz=source.generate_quiz))
        except _TooLong as problem:
            # Too long for the model's context or its answer: the halves take its place.
            halves = _halves(chunks[k])
            if len(halves) < 2:
                raise _too_long(problem) from None
            chunks[k : k + 1] = halves
            map_share = 85.0
            continue
        k += 1
        # A split adds parts: the share done may shrink, the progress shown never does.
        shown = max(shown, 2 + map_share * k / len(chunks))
        report(shown)
    note = _reduce(
        client,
        partial,
        language=language,
        quiz=source.generate_quiz,
        prompt=source.prompt,
        title=source.title,
        context=context,
        progress=report,
        start=2 + map_share,
    )
    note["title"] = (source.title or "").strip() or note.get("title") or "Notes"
    note["language"] = language
    return note


def merge_llm(
    notes: Sequence[Mapping[str, Any]],
    *,
    title: str | None,
    language: str | None,
    generate_quiz: bool,
    prompt: str | None,
    settings: Settings,
) -> dict[str, Any]:
    """A course-level note from lecture notes with one reduce call."""
    lang = normalize_language(language) or _majority_language(notes)
    client = _Client(settings)
    slim = [
        {k: n.get(k) for k in ("title", "summary", "key_points", "glossary") if n.get(k) is not None}
        for n in notes
    ]
    user = (
        (f"Course title: {title}\n" if title else "")
        + "Write course-level notes that summarise these lectures' notes (given as JSON, in course "
        "order):\n" + json.dumps(slim, ensure_ascii=False)
    )
    try:
        note = client.notes(_system(lang, generate_quiz, prompt), user, quiz=generate_quiz)
    except _TooLong as problem:
        # One call by design (the course's notes together); more lectures than one answer
        # can hold is a course to split, not something to retry.
        raise PermanentError(f"{problem}; the course has too many lectures for one summary") from None
    note["title"] = (title or "").strip() or note.get("title") or "Course summary"
    note["language"] = lang
    return note


def _majority_language(notes: Sequence[Mapping[str, Any]]) -> str:
    codes = [normalize_language(str(n.get("language") or "")) for n in notes]
    found = [c for c in codes if c]
    if found:
        return max(sorted(set(found)), key=found.count)
    return detect_language(" ".join(str(n.get("summary") or "") for n in notes))
