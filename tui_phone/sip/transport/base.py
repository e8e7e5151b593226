"""What the transport edge's parts share: errors, the message log record, TLS settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import SipError
from ..routing import is_ipv6, normalize_host

logger = logging.getLogger("tui_phone.sip.transport")

# RFC 5626 4.4.1: a ping is a double CRLF, the pong a single CRLF.
PING = b"\r\n\r\n"
PONG = b"\r\n"
# RFC 5626 4.4.1: "If a pong is not received within 10 seconds", the flow failed.
PONG_TIMEOUT = 10.0
# How long an outgoing TCP/TLS connect may take before it is given up.
CONNECT_TIMEOUT = 10.0

Direction = Literal["sent", "received"]


class TransportError(SipError):
    """A message could not be sent (or a listener not opened); ``str()`` says why."""


class NoListenerError(TransportError):
    """There is no listener of the transport (or address family) the send needs."""


class ConnectionFailedError(TransportError):
    """A connection could not be opened: refused, timed out, name not resolved."""


class TlsVerificationError(ConnectionFailedError):
    """The TLS server's certificate was not accepted; the message names the reason."""


class ConnectionClosedError(TransportError):
    """The connection closed before the message could be written."""


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """One SIP message that crossed the wire, for the UI's SIP ladder.

    ``local`` and ``remote`` are ``(host, port)`` with bare hosts; ``timestamp``
    is ``reactor.seconds()``; ``data`` are the bytes as sent or received;
    ``connection`` is the stream connection id (None for UDP).
    """

    direction: Direction
    transport: str
    local: tuple[str, int]
    remote: tuple[str, int]
    timestamp: float
    data: bytes
    connection: int | None = None


@dataclass(frozen=True, slots=True)
class Listener:
    """An open listening socket: transport, bound (host, port) and the Twisted port."""

    transport: str
    host: str
    port: int
    listening_port: Any

    @property
    def ipv6(self) -> bool:
        """True for a listener on an IPv6 address."""
        return is_ipv6(self.host)


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A stream connection as the UI and tests see it (keep-alive counters included)."""

    connection_id: int
    transport: str
    local: tuple[str, int]
    remote: tuple[str, int]
    outgoing: bool
    ready: bool
    pings_sent: int = 0
    pongs_received: int = 0


@dataclass(frozen=True, slots=True)
class TlsClientConfig:
    """How outgoing TLS connections check the server (one per account).

    ``verify`` is on by default; turning it off accepts any certificate (a
    warning is logged on every such connection). ``ca_file`` is a PEM file of
    trusted CA certificates; None means the platform's trust store.
    ``server_name`` is the name the certificate must carry; None means the
    target host (a host name, or an IP address checked against the
    certificate's IP SANs).
    """

    verify: bool = True
    ca_file: str | Path | None = None
    server_name: str | None = None


class KeepAliveHandle:
    """A running keep-alive; ``stop()`` ends it (calling it twice is harmless)."""

    def __init__(self, stop: Callable[[], None], description: str) -> None:
        self._stop: Callable[[], None] | None = stop
        self.description = description

    @property
    def active(self) -> bool:
        """True until ``stop()`` was called (or the transport layer stopped)."""
        return self._stop is not None

    def stop(self) -> None:
        """Stop sending keep-alives."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"<KeepAliveHandle {self.description} {state}>"


def address_of(address: Any) -> tuple[str, int]:
    """``(bare host, port)`` of a Twisted IPv4Address/IPv6Address."""
    return normalize_host(address.host), int(address.port)
