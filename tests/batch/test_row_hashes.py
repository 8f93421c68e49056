"""Row hashes are pinned bytes: the orjson fast path must write exactly what json wrote."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from batch.rows import _CANONICAL, _canonical

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits orjson refuses
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # any code point: non-ASCII, controls, DEL, quotes, backslashes
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)),  # the fast path
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_path_bytes_equal_jsons_for_any_payload(value: Any) -> None:
    payload = {"type": "text_notes", "title": "t", "priority": None, "input": value, "deps": []}
    assert _canonical(payload) == _CANONICAL.encode(payload).encode()


def test_plain_rows_take_the_fast_path_and_keep_their_bytes() -> None:
    payload = {"type": "text_notes", "title": "Week 1", "priority": None,
               "input": {"content": 'He said "hi"\n\tC:\\path/x'}, "deps": [["a", "0f"]]}  # fmt: skip
    assert _canonical(payload) == _CANONICAL.encode(payload).encode()
