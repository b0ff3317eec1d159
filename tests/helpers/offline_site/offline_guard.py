"""The offline guard: refuse non-loopback connections and look-ups of public host names.

Used by the test session (``tests/conftest.py`` installs it for the whole session) and by
every Python subprocess the tests start (``sitecustomize`` beside this file installs it at
start-up), so one rule covers both.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def is_local(address: Any) -> bool:
    """Whether a socket address is on this machine (loopback or a Unix socket path)."""
    if isinstance(address, (str, bytes)):
        return True
    host = str(address[0])
    return host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _refuse(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address):
        raise ConnectionRefusedError(f"tests run offline: refused connection to {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    _refuse(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    _refuse(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not is_local((name, 0)) and not _is_ip_literal(str(name)):
        raise socket.gaierror(socket.EAI_NONAME, f"tests run offline: refused to resolve {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    """Put the guard in place."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo


def uninstall() -> None:
    """Restore the real socket functions."""
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo
