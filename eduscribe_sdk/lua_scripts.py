"""Assembles the Lua scripts: key functions, shared helpers, then the script's own body.

Redis runs a script's whole text on every call, and each ``local function`` in it allocates a
closure: the shared helpers (``lua/common.lua``) and the generated key functions (keys.py)
cost more than many script bodies. So a script gets only the definitions it uses, followed
through their own uses, and calls of the key functions are written out as the concatenation
they return (``k_job(id)`` becomes ``(P .. ":job:" .. (id))``): a closure per key function
per call, and a Lua call per key built, were ~15 % of a call's fixed cost. A key function
passed as a value is still defined. The body runs as ``main()`` so that ``flush()``
(common.lua) writes the deferred changes however the body returns.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from .keys import LUA_KEY_NAMES, lua_key_expression, lua_prelude

__all__ = ["assemble"]

_TOKEN = re.compile(r"[A-Za-z_]\w*")
# A quoted string (kept) or a comment (dropped): names in comments are not uses. The scripts
# use no long brackets ([[...]]).
_STRING_OR_COMMENT = re.compile(r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|--[^\n]*""")
_DEFINES = re.compile(r"^local\s+(?:function\s+(\w+)|([\w\s,]+?)\s*=)")
_TRAILER = "\nend\nlocal result = main()\nflush()\nreturn result\n"


def _source(name: str) -> str:
    return (resources.files("eduscribe_sdk") / "lua" / f"{name}.lua").read_text()


def _definitions(text: str) -> list[tuple[set[str], str]]:
    """Top-level ``local`` definitions: the names each defines and its text (with the
    comment lines just above it, and any top-level statements that follow it)."""
    chunks: list[tuple[set[str], list[str]]] = []
    comments: list[str] = []
    for line in text.splitlines(keepends=True):
        match = _DEFINES.match(line)
        if match:
            names = {match.group(1)} if match.group(1) else {n.strip() for n in match.group(2).split(",")}
            chunks.append((names, [*comments, line]))
            comments = []
        elif line.startswith("--"):
            comments.append(line)
        elif chunks:
            chunks[-1][1].extend([*comments, line])
            comments = []
    return [(names, "".join(lines)) for names, lines in chunks]


def _names(code: str) -> set[str]:
    return set(_TOKEN.findall(_STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", code)))


def _used(definitions: list[tuple[set[str], str]], roots: str) -> list[str]:
    defined_by = {name: i for i, (names, _) in enumerate(definitions) for name in names}
    needed: set[int] = set()
    pending = _names(roots)
    while pending:
        i = defined_by.get(pending.pop())
        if i is not None and i not in needed:
            needed.add(i)
            pending |= _names(definitions[i][1])
    return [definitions[i][1] for i in sorted(needed)]


_KEY_CALL = re.compile(r"\bk_(\w+)\s*\(")


def _closing_paren(code: str, start: int) -> int:
    """The index of the ``)`` closing the ``(`` just before ``start``, skipping strings."""
    depth, i = 1, start
    while i < len(code):
        char = code[i]
        if char in "'\"":
            string = _STRING_OR_COMMENT.match(code, i)
            if string is None:
                raise ValueError(f"unterminated string in Lua code at {i}")
            i = string.end()
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in Lua code at {start}")


def inline_keys(code: str) -> str:
    """``code`` with every call of a key function replaced by the concatenation it returns;
    strings and comments are left as they are."""
    out: list[str] = []
    i = 0
    while i < len(code):
        skipped = _STRING_OR_COMMENT.search(code, i)
        call = _KEY_CALL.search(code, i)
        if call is None:
            out.append(code[i:])
            break
        if skipped is not None and skipped.start() <= call.start():
            out.append(code[i : skipped.end()])
            i = skipped.end()
            continue
        if call.group(1) not in LUA_KEY_NAMES:  # some other name that starts with k_
            out.append(code[i : call.end()])
            i = call.end()
            continue
        end = _closing_paren(code, call.end())
        argument = inline_keys(code[call.end() : end]).strip()
        expression = lua_key_expression(call.group(1), f"({argument})")
        out.append(code[i : call.start()] + f"({expression})")
        i = end + 1
    return "".join(out)


@functools.cache  # every Store assembles the same few texts; the files do not change
def assemble(name: str, *, events_maxlen: int, sample_cap: int) -> str:
    """The full text of script ``name`` (``lua/<name>.lua``), ready for SCRIPT LOAD."""
    shared = (
        lua_prelude()
        # As text: every XADD passes it, and Redis formats a Lua number with printf.
        + f"local EVENTS_MAXLEN = '{int(events_maxlen)}'\n"
        + f"local SAMPLE_CAP = {int(sample_cap)}\n"
        + inline_keys(_source("common"))
    )
    body = inline_keys(f"local function main()\n{_source(name)}{_TRAILER}")
    return "".join(_used(_definitions(shared), body)) + body
