"""Refuse non-loopback connections in Python subprocesses started by the tests.

The tests put this folder first on ``PYTHONPATH``; Python imports ``sitecustomize`` at
start-up, so a ``qa`` process spawned by a test cannot reach the network even if a
dependency tries to. The connect rule matches the in-process guard in
``tests/conftest.py``; host names other than ``localhost`` are not even looked up, so no
DNS query leaves the machine either.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # a Unix socket path
    host = str(address[0])
    return host in ("localhost", "::1", "0.0.0.0", "") or host.startswith("127.")


def _refuse(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
        raise ConnectionRefusedError(f"tests run offline: refused connection to {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    _refuse(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    _refuse(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "", "localhost") and not _is_numeric(str(name)):
        raise socket.gaierror(socket.EAI_NONAME, f"tests run offline: refused to look up {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _is_numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
