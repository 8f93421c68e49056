"""The batch runner is a client of the public SDK: it imports top-level names only."""

from __future__ import annotations

import ast
from pathlib import Path

import eduscribe_sdk

BATCH = Path(__file__).resolve().parents[2] / "batch"


def sdk_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import from the eduscribe_sdk package in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eduscribe_sdk"):
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.startswith("eduscribe_sdk")]
    return found


def test_batch_imports_only_public_top_level_names() -> None:
    files = sorted(BATCH.rglob("*.py"))
    assert files
    for path in files:
        for module, name in sdk_imports(path):
            where = f"{path.relative_to(BATCH.parent)} imports {module}.{name}"
            assert module == "eduscribe_sdk", where
            assert name in eduscribe_sdk.__all__, where


def test_the_client_has_no_public_store() -> None:
    assert not hasattr(eduscribe_sdk.Client, "store")
