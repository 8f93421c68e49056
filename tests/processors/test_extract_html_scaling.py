"""The HTML extractor's work grows linearly with the document, however deeply it nests.

Counted, not timed: the number of Python function calls (``sys.setprofile``) for a document
and for one four times as deep. Linear work gives a ratio near 4, quadratic near 16. (The
time of a 1.1 MB page is in ``benchmarks/bench_html.py``.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from eduscribe_sdk._processors.extract.html import html_to_text


def _nested(open_tag: str, close_tag: str, inner: str = "word ") -> Callable[[int], str]:
    return lambda n: f"<html><body>{(open_tag + inner) * n}{close_tag * n}</body></html>"


SHAPES = {
    "div": _nested("<div>", "</div>"),
    "list items": _nested("<ul><li>", "</li></ul>"),
    "spans": _nested("<span>", "</span>"),
    "table cells": _nested("<table><tr><td>", "</td></tr></table>"),
    "sections with headings": _nested("<section><h2>Part</h2>", "</section>"),
    "blockquotes": _nested("<blockquote>", "</blockquote>"),
    "navigation": _nested('<div role="navigation">', "</div>"),
    "hidden headings": _nested("<h3><span hidden>x</span>", "</h3>"),
}


def _calls(markup: str) -> int:
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event in {"call", "c_call"}:
            count += 1

    sys.setprofile(profile)
    try:
        html_to_text(markup)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_is_linear_in_nesting_depth(shape: str) -> None:
    make = SHAPES[shape]
    html_to_text(make(10))  # imports and caches out of the count
    small, large = _calls(make(250)), _calls(make(1000))
    assert large / small < 6, f"{shape}: {small} calls at depth 250, {large} at depth 1,000"


def test_deep_nesting_keeps_its_text() -> None:
    text, _ = html_to_text(SHAPES["list items"](3000))
    assert text.count("word") == 3000
