"""The public surface: one sorted, complete ``__all__`` and one exception tree."""

from __future__ import annotations

import inspect

import eduscribe_sdk
from eduscribe_sdk import errors


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in (RUF022): constants, then classes, then the rest."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    names = eduscribe_sdk.__all__
    assert names == sorted(names, key=isort_style)
    public = {
        name
        for name, value in vars(eduscribe_sdk).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public <= set(names) | {"annotations"}
    for name in names:
        assert hasattr(eduscribe_sdk, name), name


def test_every_error_derives_from_the_root_and_is_exported() -> None:
    classes = [v for v in vars(errors).values() if inspect.isclass(v) and issubclass(v, Exception)]
    assert classes
    for cls in classes:
        assert issubclass(cls, errors.EduscribeError), cls
        assert getattr(eduscribe_sdk, cls.__name__) is cls
        assert cls.__name__ in errors.__doc__  # drawn in the tree


def test_bad_input_is_also_a_value_error() -> None:
    assert issubclass(errors.InvalidInputError, ValueError)
    assert issubclass(errors.JobTimeout, TimeoutError)
    assert issubclass(errors.RedisUnavailableError, ConnectionError)
    assert issubclass(errors.JobNotFoundError, LookupError)


PUBLIC_MODULES = {"actors", "errors", "notebook", "plots", "testing"}


def test_implementation_modules_are_private() -> None:
    """httpx style: a module or package without a leading underscore is public API."""
    import pkgutil

    names = {info.name for info in pkgutil.iter_modules(eduscribe_sdk.__path__)}
    assert {n for n in names if not n.startswith("_")} == PUBLIC_MODULES
    for name in PUBLIC_MODULES:
        assert f"``{name}``" in (eduscribe_sdk.__doc__ or ""), name


def test_a_custom_processor_needs_only_public_names() -> None:
    def shout(input_data: dict[str, object], ctx: eduscribe_sdk.JobContext) -> dict[str, object]:
        ctx.progress(50)
        return {"summary": str(input_data["content"]).upper()}

    processor: eduscribe_sdk.Processor = shout
    assert processor({"content": "hi"}, eduscribe_sdk.LocalContext("job-1")) == {"summary": "HI"}
