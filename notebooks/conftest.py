"""Runs each notebook (``pytest --nbval-lax notebooks/``) in embedded mode in a fresh home.

Kernels inherit this process's environment when they start, so ``EDUSCRIBE_HOME`` is pointed
at a new temporary folder just before each notebook's kernel starts, and any
``EDUSCRIBE_REDIS_URL`` is removed: the notebooks must work with nothing set up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SAVED = {name: os.environ.get(name) for name in ("EDUSCRIBE_HOME", "EDUSCRIBE_REDIS_URL")}
_HOMES: list[Path] = []
_current: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    # The kernel runs this interpreter (with the SDK installed), whatever kernelspec
    # named "python3" the machine happens to have.
    if hasattr(config.option, "current_env"):
        config.option.current_env = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    notebook = Path(str(item.path))
    if notebook.suffix != ".ipynb" or (_current and _current[-1] == notebook):
        return
    _current.append(notebook)
    home = Path(tempfile.mkdtemp(prefix=f"eduscribe-{notebook.stem}-"))
    _HOMES.append(home)
    os.environ["EDUSCRIBE_HOME"] = str(home)
    os.environ.pop("EDUSCRIBE_REDIS_URL", None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for home in _HOMES:
        _stop_embedded_redis(home)
        shutil.rmtree(home, ignore_errors=True)


def _stop_embedded_redis(home: Path) -> None:
    """A notebook that failed before ``client.close()`` leaves its embedded Redis running."""
    url_file = home / "redis.url"
    if not url_file.is_file():
        return
    import redis

    server = redis.Redis.from_url(url_file.read_text().strip(), socket_timeout=5)
    with contextlib.suppress(redis.RedisError):
        server.shutdown(nosave=True)
