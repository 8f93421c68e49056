"""Readable text from HTML: the article, not the scripts, menus and cookie banners."""

from __future__ import annotations

from collections.abc import Iterator
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
    """(text as light Markdown, document title) of an HTML document.

    Linear in the size of the document, however deeply it nests: lxml parses (in C), its
    events build a plain tree (BeautifulSoup's own tree building is quadratic in the nesting
    depth), and every node is then visited once by loops with their own stacks: no recursion,
    no text of a subtree that a later step reads again, no re-indenting of nested list items
    at every level.
    """
    from bs4.dammit import UnicodeDammit
    from lxml import etree  # type: ignore[import-untyped]  # no stubs; one call

    if isinstance(markup, bytes):
        # BeautifulSoup's detection (declared charset, then UTF-8, then Windows-1252).
        markup = UnicodeDammit(markup, is_html=True).unicode_markup or ""
    # lxml's parser events build a small tree of our own: its own tree (like any libxml2
    # tree) stops at 2,048 levels and silently drops the rest of the page.
    builder = _TreeBuilder()
    parser = etree.HTMLParser(encoding="utf-8", target=builder)
    parser.feed(markup.encode("utf-8", "surrogatepass"))
    document = parser.close()
    title_tag = builder.title
    title = " ".join(_text(title_tag, " ").split()) if title_tag is not None else ""
    first = _first_kept(document, ("main", "article", "h1"))
    root = first["main"] if first["main"] is not None else first["article"]
    if root is None:
        root = builder.body
    lines: list[str] = []
    _walk(root if root is not None else document, lines)
    text = "\n".join(lines)
    if not title and first["h1"] is not None:
        title = " ".join(_text(first["h1"], " ").split())
    return text, title or None


class _Element:
    """An element of the page: lower-case name, attributes, and content (text and elements)."""

    __slots__ = ("attrs", "content", "name")

    def __init__(self, name: str, attrs: dict[str, str]) -> None:
        self.name = name
        self.attrs = attrs
        self.content: list[str | _Element] = []

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrs.get(key, default)


class _TreeBuilder:
    """An lxml parser target: elements and text only (comments and instructions dropped)."""

    def __init__(self) -> None:
        self.root = _Element("#document", {})
        self.open = [self.root]
        self.title: _Element | None = None
        self.body: _Element | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        element = _Element(str(tag).lower(), dict(attrib))
        self.open[-1].content.append(element)
        self.open.append(element)
        if element.name == "title" and self.title is None:
            self.title = element
        elif element.name == "body" and self.body is None:
            self.body = element

    def end(self, tag: str) -> None:
        if len(self.open) > 1:
            self.open.pop()

    def data(self, text: str) -> None:
        self.open[-1].content.append(text)

    def close(self) -> _Element:
        return self.root


def _dropped(element: Any) -> bool:
    """Scripts, navigation and chrome landmarks, hidden elements: not the page's text."""
    name = _name(element)
    if name in _DROP or name == "head":
        return True
    return str(element.get("role", "")).lower() in _DROP_ROLES or element.get("hidden") is not None


def _name(element: _Element) -> str:
    return element.name


def _pieces(element: _Element) -> Iterator[str | _Element]:
    """The element's content in document order."""
    return iter(element.content)


def _first_kept(document: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The first element of each name outside dropped elements, in one pass over the tree."""
    found: dict[str, Any] = dict.fromkeys(names)
    stack: list[Iterator[str | _Element]] = [iter(document.content)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif isinstance(child, _Element) and not _dropped(child):
            name = child.name
            if name in found and found[name] is None:
                found[name] = child
            stack.append(iter(child.content))
    return found


def _text(element: Any, separator: str) -> str:
    """The text of ``element``'s subtree without dropped elements' text."""
    parts: list[str] = []
    stack = [_pieces(element)]
    while stack:
        piece = next(stack[-1], None)
        if piece is None:
            stack.pop()
        elif isinstance(piece, str):
            parts.append(piece)
        elif not _dropped(piece):
            stack.append(_pieces(piece))
    return separator.join(parts)


class _Frame:
    """One open element of the walk: its remaining content and the lines it writes to."""

    __slots__ = ("inline", "li_start", "name", "out", "parent_out", "pieces")

    def __init__(self, element: Any, name: str, out: list[str], parent_out: list[str] | None = None) -> None:
        self.pieces = _pieces(element)
        self.name = name
        self.out = out
        #: For the outermost list item: the lines its item goes to (its own ``out`` is the item).
        self.parent_out = parent_out
        #: For a list item inside another: where its lines start in the shared item.
        self.li_start = len(out)
        self.inline: list[str] = []

    def flush(self) -> None:
        text = " ".join("".join(self.inline).split())
        if text:
            self.out.append(text)
        self.inline.clear()


def _walk(root: Any, lines: list[str]) -> None:
    """Append the root's text to ``lines`` with block structure kept as line breaks."""
    stack = [_Frame(root, "", lines)]
    in_item = 0  # list items open on the stack
    while stack:
        frame = stack[-1]
        child = next(frame.pieces, None)
        if child is None:
            frame.flush()
            stack.pop()
            if frame.name == "li":
                in_item -= 1
                _close_item(frame)
            elif frame.name in {"p", "table", "ul", "ol", "blockquote"}:
                frame.out.append("")
            continue
        if isinstance(child, str):
            frame.inline.append(child)
            continue
        if _dropped(child):
            continue
        name = child.name
        if name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            frame.flush()
            heading = " ".join(_text(child, " ").split())
            if heading:
                frame.out.extend(["", f"{'#' * int(name[1])} {heading}", ""])
        elif name == "li":
            frame.flush()
            # A nested item writes into the outermost item's lines, which are indented once
            # when that item closes: the result is the same as indenting at every level.
            stack.append(_Frame(child, "li", frame.out) if in_item else _Frame(child, "li", [], frame.out))
            in_item += 1
        elif name in {"td", "th"}:
            frame.inline.append(" " + " ".join(_text(child, " ").split()) + " |")
        elif name == "tr":
            frame.flush()
            cells = [
                " ".join(_text(c, " ").split())
                for c in child.content
                if isinstance(c, _Element) and c.name in {"td", "th"} and not _dropped(c)
            ]
            if any(cells):
                frame.out.append("| " + " | ".join(cells) + " |")
        elif name == "pre":
            frame.flush()
            frame.out.extend(["", _text(child, "").strip("\n"), ""])
        elif name in _BLOCKS:
            frame.flush()
            if name == "p":
                frame.out.append("")
            stack.append(_Frame(child, name, frame.out))
        else:
            frame.inline.append(_text(child, ""))


def _close_item(frame: _Frame) -> None:
    """A list item's lines as ``- first`` and indented continuation lines."""
    if frame.parent_out is None:  # nested: mark its first line; the outermost item indents
        if len(frame.out) > frame.li_start:
            frame.out[frame.li_start] = f"- {frame.out[frame.li_start].strip()}"
        return
    item = frame.out
    if item:
        frame.parent_out.append(f"- {item[0].strip()}")
        frame.parent_out.extend(f"  {line.strip()}" for line in item[1:] if line.strip())


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
