"""Which module may know about display, read from the source with ``ast`` (imports anywhere,
including inside functions and methods, count).

Data classes and the progress state never import the renderer; HTML is written in one module;
pandas is imported only by ``_stats.py`` and ipywidgets/IPython only by ``notebook.py``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "eduscribe_sdk"

DISPLAY_MODULES = (
    "eduscribe_sdk._render",
    "eduscribe_sdk.notebook",
    "ipywidgets",
    "IPython",
    "markdown_it",
    "html",
)
# Opening or closing tags of the elements the renderer writes.
HTML_TAG = re.compile(r"</?(div|span|table|thead|tbody|tr|td|th|b|details|summary|h\d)[\s>]")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, *, typing_imports: bool) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if not typing_imports and _type_checking_only(child):
            continue
        yield child
        yield from _walk(child, typing_imports=typing_imports)


def _absolute(package: str, level: int, module: str | None) -> str:
    if not level:
        return module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{module}" if module else base


def imported(path: Path, *, typing_imports: bool = True) -> set[str]:
    """Absolute names of every module ``path`` imports, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(), package, typing_imports=typing_imports)


def imports_in(source: str, package: str, *, typing_imports: bool = True) -> set[str]:
    found: set[str] = set()
    for node in _walk(ast.parse(source), typing_imports=typing_imports):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(package, node.level, node.module)
            found.add(target)
            # `from . import _render` imports a module through its package.
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                text = str(first.value)
                level = len(text) - len(text.lstrip("."))
                found.add(_absolute(package, level, text.lstrip(".") or None))
    return found


def _is_or_inside(module: str, names: tuple[str, ...]) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("name", ["_models.py", "_progress.py"])
def test_data_and_progress_state_never_import_display_code(name: str) -> None:
    wrong = {m for m in imported(PACKAGE / name) if _is_or_inside(m, DISPLAY_MODULES)}
    assert not wrong, f"{name} imports {sorted(wrong)}"


@pytest.mark.parametrize(
    "lazy",
    [
        "from ._render import job_card_html",
        "from . import _render",
        "import eduscribe_sdk._render",
        "importlib.import_module('._render', __package__)",
    ],
)
def test_the_import_reader_sees_imports_inside_methods(lazy: str) -> None:
    # The guard above is only as good as this reader: a lazy import in a method must count.
    source = f"class Record:\n    def _repr_html_(self):\n        {lazy}\n"
    assert "eduscribe_sdk._render" in imports_in(source, "eduscribe_sdk")


def test_html_is_written_only_by_the_renderer() -> None:
    # _notes/markdown.py writes the notes' own Markdown, which folds long answers in <details>.
    allowed = {PACKAGE / "_render.py", PACKAGE / "_notes" / "markdown.py"}
    offenders = []
    for path in sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "_repr_html_":
                offenders.append(f"{module_name(path)}:{node.lineno} defines _repr_html_")
            if path in allowed:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and HTML_TAG.search(node.value):
                offenders.append(f"{module_name(path)}:{node.lineno} {node.value[:40]!r}")
    assert not offenders


@pytest.mark.parametrize(
    ("library", "owner"),
    [
        ("pandas", "eduscribe_sdk._stats"),
        ("ipywidgets", "eduscribe_sdk.notebook"),
        ("IPython", "eduscribe_sdk.notebook"),
    ],
)
def test_one_module_imports_each_display_or_analytics_library(library: str, owner: str) -> None:
    # Imports under `if TYPE_CHECKING:` are for annotations and never run.
    importers = {
        module_name(path)
        for path in sources()
        if any(_is_or_inside(m, (library,)) for m in imported(path, typing_imports=False))
    }
    assert importers == {owner}
