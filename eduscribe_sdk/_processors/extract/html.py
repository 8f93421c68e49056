"""Readable text from HTML: the article, not the scripts, menus and cookie banners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._common import ExtractedDocument, Progress, TextBuffer, clean_text, document_error

__all__ = ["extract_html", "html_to_text"]

_DROP = ("script", "style", "noscript", "template", "nav", "svg", "canvas", "iframe", "form", "button")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}
_BLOCKS = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre",
    "ul", "ol", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "address", "details",
    "summary", "hr", "br", "caption",
}  # fmt: skip


def html_to_text(markup: bytes | str) -> tuple[str, str | None]:
    """(text as light Markdown, document title) of an HTML document."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if title_tag is not None else ""
    for tag in soup(_DROP):
        tag.decompose()
    # Landmarks that are navigation or chrome, and hidden elements, are not the page's text.
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        if str(tag.get("role", "")).lower() in _DROP_ROLES or tag.has_attr("hidden"):
            tag.decompose()
    if soup.head is not None:
        soup.head.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    _walk(root, lines)
    text = "\n".join(lines)
    if not title:
        h1 = soup.find("h1")
        title = " ".join(h1.get_text(" ").split()) if h1 is not None else ""
    return text, title or None


def _walk(node: Any, lines: list[str], prefix: str = "") -> None:
    """Append the node's text to ``lines`` with block structure kept as line breaks."""
    from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction, Tag

    inline: list[str] = []

    def flush() -> None:
        text = " ".join("".join(inline).split())
        if text:
            lines.append(prefix + text)
        inline.clear()

    for child in node.children:
        if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            inline.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            flush()
            heading = " ".join(child.get_text(" ").split())
            if heading:
                lines.extend(["", f"{'#' * int(name[1])} {heading}", ""])
        elif name == "li":
            flush()
            item: list[str] = []
            _walk(child, item)
            if item:
                lines.append(f"{prefix}- {item[0].strip()}")
                lines.extend(f"{prefix}  {line.strip()}" for line in item[1:] if line.strip())
        elif name in {"td", "th"}:
            inline.append(" " + " ".join(child.get_text(" ").split()) + " |")
        elif name == "tr":
            flush()
            cells = [" ".join(c.get_text(" ").split()) for c in child.find_all(["td", "th"], recursive=False)]
            if any(cells):
                lines.append(prefix + "| " + " | ".join(cells) + " |")
        elif name == "pre":
            flush()
            lines.extend(["", child.get_text().strip("\n"), ""])
        elif name in _BLOCKS:
            flush()
            if name == "p":
                lines.append("")
            _walk(child, lines, prefix)
            if name in {"p", "table", "ul", "ol", "blockquote"}:
                lines.append("")
        else:
            inline.append(child.get_text())
    flush()


def extract_html(
    path: Path, data: bytes, *, progress: Progress | None = None, max_chars: int
) -> ExtractedDocument:
    errors: tuple[type[BaseException], ...] = (ValueError, TypeError, AttributeError, RecursionError)
    if progress:
        progress(0.0)
    try:
        raw_text, title = html_to_text(data)
    except errors as exc:
        raise document_error(path, f"the HTML could not be parsed ({type(exc).__name__})") from exc
    buffer = TextBuffer(max_chars)
    buffer.add(clean_text(raw_text))
    text = buffer.text()
    if progress:
        progress(100.0)
    if not text:
        raise document_error(path, "the HTML page contains no readable text")
    return ExtractedDocument(text=text, kind="html", title=title, truncated=buffer.truncated)
