"""Time of the HTML extractor on deeply nested pages of about 1.1 MB (issue 12: one such page
pinned a worker slot for 15 minutes). ``python3 -m benchmarks.bench_html``

Not part of ``benchmarks.run``: a few seconds, printed as a table; the unit test that keeps the
extractor linear counts function calls instead (tests/processors/test_extract_html_scaling.py).
"""

from __future__ import annotations

import time

from eduscribe_sdk._processors.extract.html import html_to_text

TARGET_BYTES = 1_100_000

SHAPES = {
    "div": ("<div>", "</div>"),
    "li": ("<ul><li>", "</li></ul>"),
    "span": ("<span>", "</span>"),
    "td": ("<table><tr><td>", "</td></tr></table>"),
    "section+h2": ("<section><h2>Part</h2>", "</section>"),
}


def page(open_tag: str, close_tag: str) -> str:
    unit = len(open_tag) + len(close_tag) + len("word ")
    depth = TARGET_BYTES // unit
    return f"<html><body>{(open_tag + 'word ') * depth}{close_tag * depth}</body></html>"


def main() -> None:
    print(f"{'shape':<12} {'bytes':>10} {'seconds':>8}")
    for name, (open_tag, close_tag) in SHAPES.items():
        markup = page(open_tag, close_tag)
        began = time.perf_counter()
        html_to_text(markup)
        print(f"{name:<12} {len(markup):>10,} {time.perf_counter() - began:>8.2f}")


if __name__ == "__main__":
    main()
