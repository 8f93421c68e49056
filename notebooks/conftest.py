"""Runs each notebook (``pytest --nbval-lax notebooks/``) in embedded mode in a fresh home.

Kernels inherit this process's environment when they start, so ``EDUSCRIBE_HOME`` is pointed
at a new temporary folder just before each notebook's kernel starts, and any
``EDUSCRIBE_REDIS_URL`` is removed: the notebooks must work with nothing set up.

Kernels reach no host but this one: ``IPYTHONDIR`` points at a profile whose startup file
installs ``tests/netguard.py`` in the kernel (lookups and connections off loopback fail), so a
YouTube job fails the way it does offline on every machine, and the figures the notebooks
check do not depend on the network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SAVED = {name: os.environ.get(name) for name in ("EDUSCRIBE_HOME", "EDUSCRIBE_REDIS_URL", "IPYTHONDIR")}
_NETGUARD = Path(__file__).resolve().parents[1] / "tests" / "netguard.py"
_STARTUP = f"""# Written by notebooks/conftest.py: loopback only in this kernel.
import importlib.util as _util

_spec = _util.spec_from_file_location("_eduscribe_netguard", {str(_NETGUARD)!r})
_guard = _util.module_from_spec(_spec)
_spec.loader.exec_module(_guard)
_guard.install()
del _util, _spec, _guard
"""
_HOMES: list[Path] = []
_current: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    # The kernel runs this interpreter (with the SDK installed), whatever kernelspec
    # named "python3" the machine happens to have.
    if hasattr(config.option, "current_env"):
        config.option.current_env = True
    ipython_dir = Path(tempfile.mkdtemp(prefix="eduscribe-ipython-"))
    _HOMES.append(ipython_dir)
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-loopback-only.py").write_text(_STARTUP)
    os.environ["IPYTHONDIR"] = str(ipython_dir)


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
