"""The LLM generator against a real HTTP server on 127.0.0.1 replaying recorded-shape responses."""

from __future__ import annotations

import time

import pytest

from eduscribe_sdk._config import Settings
from eduscribe_sdk._notes import NoteSource, generate_notes, merge_course_notes
from eduscribe_sdk._notes import llm as llm_module
from eduscribe_sdk.errors import PermanentError, TransientError
from tests.fake_openai import API_KEY, DUCK, FakeOpenAI, Reply, server

__all__ = ["server"]  # the fixture, imported to be used here


def test_success_returns_validated_notes_and_renders_markdown(server: FakeOpenAI) -> None:
    server.replies = [Reply("notes_en.json")]
    seen: list[float] = []
    out = generate_notes(
        NoteSource(text=DUCK, title="Ducks 101", generate_quiz=True, prompt="Focus on feeding."),
        settings=server.settings(),
        progress=seen.append,
    )
    assert out["generator"] == "openai:gpt-4o-mini"
    assert out["title"] == "Ducks 101"  # the job's title wins over the model's
    assert out["language"] == "en"
    assert out["word_count"] == len(DUCK.split())
    assert out["key_points"][0] == "Ducks belong to the family Anatidae."
    assert {g["term"] for g in out["glossary"]} == {"Anatidae", "drake"}
    assert all(q["answer"] in q["choices"] for q in out["quiz"])
    assert out["markdown"].startswith("# Ducks 101\n")
    assert "## Quiz" in out["markdown"]
    assert seen and seen[-1] == 100
    assert seen == sorted(seen)
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]["content"]
    assert "JSON" in system and "'en'" in system and "Focus on feeding." in system and '"quiz"' in system
    assert DUCK in body["messages"][1]["content"]
    assert server.auth_headers == [f"Bearer {API_KEY}"]


def test_language_and_prior_notes_are_sent(server: FakeOpenAI) -> None:
    server.replies = [Reply("notes_en_no_quiz.json")]
    prior = [{"id": "l1", "title": "Birds intro", "summary": "Birds are feathered animals."}]
    out = generate_notes(NoteSource(text=DUCK, language="de", prior_notes=prior), settings=server.settings())
    assert out["language"] == "de"
    assert "quiz" not in out
    assert out["builds_on"] == [{"id": "l1", "title": "Birds intro"}]
    assert "Baut auf" in out["markdown"] and "Birds intro" in out["markdown"]
    body = server.requests[0]["body"]
    assert "'de'" in body["messages"][0]["content"]
    assert "Birds intro: Birds are feathered animals." in body["messages"][1]["content"]


def test_long_input_is_chunked_then_reduced(server: FakeOpenAI) -> None:
    paragraphs = [f"Paragraph {k}. " + DUCK for k in range(6)]
    text = "\n\n".join(paragraphs)
    chunks = llm_module.split_chunks(text, 150)
    assert len(chunks) >= 3
    server.replies = [Reply("map_part.json") for _ in chunks] + [Reply("reduce.json")]
    out = llm_module.generate_llm(NoteSource(text=text), settings=server.settings(), chunk_tokens=150)
    assert len(server.requests) == len(chunks) + 1
    maps, reduce_call = server.requests[:-1], server.requests[-1]
    for k, request in enumerate(maps):
        user = request["body"]["messages"][1]["content"]
        assert f"(part {k + 1} of {len(chunks)})" in user
    every_paragraph = "".join(r["body"]["messages"][1]["content"] for r in maps)
    assert all(p.split(".")[0] in every_paragraph for p in paragraphs)
    reduce_user = reduce_call["body"]["messages"][1]["content"]
    assert "Merge these partial notes" in reduce_user
    assert reduce_user.count("This part describes how ducks feed.") == len(chunks)
    assert out["title"] == "Ducks (merged)"


def test_rate_limit_is_transient_with_retry_after(server: FakeOpenAI) -> None:
    server.replies = [Reply("error_429.json", status=429, headers={"Retry-After": "20"})]
    with pytest.raises(TransientError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert info.value.retry_after == 20.0
    assert len(server.requests) == 1  # max_retries=0: the job queue does the retrying


def test_server_error_is_transient(server: FakeOpenAI) -> None:
    server.replies = [Reply("error_500.json", status=500)]
    with pytest.raises(TransientError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert "500" in str(info.value)
    assert info.value.retry_after is None


def test_timeout_is_transient(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm_module, "REQUEST_TIMEOUT_S", 0.3)
    server.replies = [Reply("notes_en.json", delay=10)]
    started = time.monotonic()
    with pytest.raises(TransientError, match="did not answer"):
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    # The answer would come after 10 s: the 0.3 s timeout cut the wait (a loose bound, not a
    # speed target)
    assert time.monotonic() - started < 8


def test_connection_refused_is_transient() -> None:
    settings = Settings(openai_api_key=API_KEY, openai_base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TransientError, match="connect"):
        generate_notes(NoteSource(text=DUCK), settings=settings)


def test_refusal_is_retried_once(server: FakeOpenAI) -> None:
    server.replies = [Reply("refusal.json"), Reply("notes_en.json")]
    out = generate_notes(NoteSource(text=DUCK, generate_quiz=True), settings=server.settings())
    assert len(server.requests) == 2
    assert out["summary"].startswith("Duck is the common name")


def test_invalid_json_twice_is_permanent(server: FakeOpenAI) -> None:
    server.replies = [Reply("invalid_json.json"), Reply("invalid_json.json"), Reply("notes_en.json")]
    with pytest.raises(PermanentError, match="not valid JSON"):
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert len(server.requests) == 2


def test_missing_fields_are_invalid_output(server: FakeOpenAI) -> None:
    server.replies = [Reply("missing_fields.json"), Reply("missing_fields.json")]
    with pytest.raises(PermanentError, match="summary"):
        generate_notes(NoteSource(text=DUCK), settings=server.settings())


def test_quiz_requested_but_missing_is_invalid(server: FakeOpenAI) -> None:
    server.replies = [Reply("notes_en_no_quiz.json"), Reply("notes_en.json")]
    out = generate_notes(NoteSource(text=DUCK, generate_quiz=True), settings=server.settings())
    assert len(server.requests) == 2
    assert out["quiz"]


def test_unauthorized_is_permanent_and_hides_the_key(server: FakeOpenAI) -> None:
    server.replies = [Reply("error_401.json", status=401)]
    with pytest.raises(PermanentError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    message = str(info.value)
    assert "401" in message and "OPENAI_API_KEY" in message
    assert API_KEY not in message and "sk-test" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_course_merge_uses_one_reduce_call(server: FakeOpenAI) -> None:
    server.replies = [Reply("notes_en_no_quiz.json")]
    lectures = [
        {
            "id": "a",
            "title": "Lecture A",
            "summary": "Ducks are birds.",
            "key_points": ["x"],
            "glossary": [],
            "language": "en",
            "word_count": 10,
        },
        {
            "id": "b",
            "title": "Lecture B",
            "summary": "Geese are birds.",
            "key_points": ["y"],
            "glossary": [],
            "language": "en",
            "word_count": 5,
        },
    ]
    out = merge_course_notes(
        lectures,
        title="Birds course",
        language=None,
        generate_quiz=False,
        prompt=None,
        settings=server.settings(),
    )
    assert len(server.requests) == 1
    assert "Lecture A" in server.requests[0]["body"]["messages"][1]["content"]
    assert out["sources"] == [{"id": "a", "title": "Lecture A"}, {"id": "b", "title": "Lecture B"}]
    assert out["generator"] == "openai:gpt-4o-mini" and out["word_count"] == 15
    assert out["title"] == "Birds course"


def test_token_count_without_bpe_file_is_conservative() -> None:
    text = "word " * 1000
    # whichever counter is active, it must not under-count English by much
    assert llm_module.count_tokens(text) >= 900


# --------------------------------------------------------------------------- too long


def test_a_cut_off_answer_is_never_used_its_input_is_asked_for_in_halves(server: FakeOpenAI) -> None:
    # Given a model whose first answer stopped at its output limit, though it still parses
    halves = llm_module.split_chunks(DUCK, llm_module.count_tokens(DUCK) // 2)
    assert len(halves) >= 2
    server.replies = [Reply("cut_off_parseable.json")]
    server.replies += [Reply("map_part.json") for _ in halves] + [Reply("reduce.json")]
    seen: list[float] = []
    # When notes are generated
    out = llm_module.generate_llm(NoteSource(text=DUCK), settings=server.settings(), progress=seen.append)
    # Then the cut-off answer was dropped: each half was asked for, then the halves merged
    users = [r["body"]["messages"][1]["content"] for r in server.requests]
    assert len(users) == 1 + len(halves) + 1
    assert DUCK in users[0]
    for k, (half, user) in enumerate(zip(halves, users[1:-1], strict=True)):
        assert user.endswith(half) and f"(part {k + 1} of {len(halves)})" in user
    assert "Merge these partial notes" in users[-1]
    assert out["title"] == "Ducks (merged)"
    assert seen == sorted(seen)


def test_a_cut_off_answer_for_a_part_that_cannot_be_split_fails_naming_the_limit(
    server: FakeOpenAI,
) -> None:
    server.replies = [Reply("cut_off.json"), Reply("notes_en.json")]
    with pytest.raises(
        PermanentError, match=r"cut off at the model's output limit \(finish_reason 'length'\)"
    ):
        generate_notes(NoteSource(text="Anatidae"), settings=server.settings())
    assert len(server.requests) == 1  # the same input would be cut off again: no retry


def test_an_input_longer_than_the_context_is_asked_for_in_halves(server: FakeOpenAI) -> None:
    halves = llm_module.split_chunks(DUCK, llm_module.count_tokens(DUCK) // 2)
    server.replies = [Reply("error_400_context_length.json", status=400)]
    server.replies += [Reply("map_part.json") for _ in halves] + [Reply("reduce.json")]
    out = llm_module.generate_llm(NoteSource(text=DUCK), settings=server.settings())
    assert len(server.requests) == 1 + len(halves) + 1
    assert out["title"] == "Ducks (merged)"


def test_an_unsplittable_input_longer_than_the_context_fails_with_the_servers_reason(
    server: FakeOpenAI,
) -> None:
    server.replies = [Reply("error_400_context_length.json", status=400)]
    with pytest.raises(PermanentError) as info:
        generate_notes(NoteSource(text="Anatidae"), settings=server.settings())
    message = str(info.value)
    assert "longer than the model's context (400)" in message
    assert "maximum context length is 128000 tokens" in message
    assert len(server.requests) == 1


def test_a_cut_off_merge_merges_half_as_many_notes_at_a_time(server: FakeOpenAI) -> None:
    text = "\n\n".join(f"Paragraph {k}. " + DUCK for k in range(6))
    n = len(llm_module.split_chunks(text, 150))
    first, second = n // 2, n - n // 2
    merges_of_halves = (first > 1) + (second > 1)
    server.replies = [Reply("map_part.json") for _ in range(n)] + [Reply("cut_off.json")]
    server.replies += [Reply("reduce.json") for _ in range(merges_of_halves + 1)]
    out = llm_module.generate_llm(NoteSource(text=text), settings=server.settings(), chunk_tokens=150)
    merges = [r["body"]["messages"][1]["content"] for r in server.requests[n:]]
    assert len(merges) == 1 + merges_of_halves + 1
    assert merges[0].count("This part describes how ducks feed.") == n  # the one cut off
    assert merges[1].count("This part describes how ducks feed.") == first
    assert out["title"] == "Ducks (merged)"


def test_a_cut_off_course_summary_fails_naming_the_limit(server: FakeOpenAI) -> None:
    server.replies = [Reply("cut_off_parseable.json")]
    lecture = {"id": "a", "title": "A", "summary": "Ducks.", "key_points": ["x"], "language": "en"}
    with pytest.raises(PermanentError, match=r"cut off.*too many lectures"):
        merge_course_notes(
            [lecture, {**lecture, "id": "b"}],
            title="Birds",
            language="en",
            generate_quiz=False,
            prompt=None,
            settings=server.settings(),
        )


# --------------------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize(
    ("recording", "status", "reason", "hint"),
    [
        ("error_403.json", 403, "Country, region, or territory not supported", "lack access"),
        (
            "error_404_model.json",
            404,
            "The model `gpt-4o-mini` does not exist or you do not have access to it.",
            "EDUSCRIBE_LLM_MODEL, now 'gpt-4o-mini'",
        ),
    ],
    ids=["403", "404-model"],
)
def test_a_refusal_is_permanent_at_once_with_the_servers_reason(
    server: FakeOpenAI, recording: str, status: int, reason: str, hint: str
) -> None:
    server.replies = [Reply(recording, status=status), Reply("notes_en.json")]
    with pytest.raises(PermanentError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    message = str(info.value)
    assert f"({status})" in message and reason in message and hint in message
    assert "{'" not in message  # the reason itself, not the error body's repr
    assert API_KEY not in message
    assert len(server.requests) == 1  # not retried


@pytest.mark.parametrize(
    ("recording", "status", "reason"),
    [("error_408.json", 408, "Request timed out."), ("error_409.json", 409, "conflicted with another")],
    ids=["408", "409"],
)
def test_a_timeout_or_conflict_answer_is_retryable(
    server: FakeOpenAI, recording: str, status: int, reason: str
) -> None:
    server.replies = [Reply(recording, status=status, headers={"retry-after-ms": "750"})]
    with pytest.raises(TransientError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert f"({status})" in str(info.value) and reason in str(info.value)
    assert info.value.retry_after == 0.75
    assert len(server.requests) == 1  # the job queue retries, with back-off


def test_retry_after_ms_is_preferred_to_retry_after(server: FakeOpenAI) -> None:
    headers = {"retry-after-ms": "1500", "Retry-After": "20"}
    server.replies = [Reply("error_429.json", status=429, headers=headers)]
    with pytest.raises(TransientError) as info:
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert info.value.retry_after == 1.5
