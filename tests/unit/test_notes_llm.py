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
    server.replies = [Reply("notes_en.json", delay=1.5)]
    started = time.monotonic()
    with pytest.raises(TransientError, match="did not answer"):
        generate_notes(NoteSource(text=DUCK), settings=server.settings())
    assert time.monotonic() - started < 1.4


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
