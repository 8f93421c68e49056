"""Loopback only: the test process may not reach any other host.

Installed for the whole session by ``tests/conftest.py``. A name other than a loopback one
fails to resolve (``socket.gaierror``, as on a machine without DNS) and a connection to an
address off the machine fails (``OSError``, network unreachable), so a test that would
download a model, look a video up or call an API fails, or takes its offline path, instead
of depending on the machine it runs on. Each blocked attempt is also recorded, for tests
that must show nothing was tried (``network_attempts`` fixture): code that turns a network
error into its own error would otherwise hide the attempt.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

#: Every blocked attempt, as "resolve <host>" or "connect <address>", since the last clear.
ATTEMPTS: list[str] = []

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host: object) -> bool:
    if host in (None, "", b""):
        return True  # a wildcard (binding a server), not a destination
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a host name: resolving it would ask DNS
    return address.is_loopback or address.is_unspecified


def install() -> Callable[[], None]:
    """Guard this process's sockets; returns the function that removes the guard."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            ATTEMPTS.append(f"resolve {host}")
            blocked = f"{host}: name lookups off loopback are blocked in tests"
            raise socket.gaierror(socket.EAI_NONAME, blocked)
        return real_getaddrinfo(host, *args, **kwargs)

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # Unix sockets and socket pairs stay on the machine
        host = address[0] if isinstance(address, tuple) else address
        if _is_loopback(host):
            return True
        ATTEMPTS.append(f"connect {address}")
        return False

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            raise OSError(errno.ENETUNREACH, f"connecting to {address} is blocked in tests (loopback only)")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            return errno.ENETUNREACH
        return real_connect_ex(sock, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]

    def uninstall() -> None:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]

    return uninstall
