"""SIP over TCP and TLS: one Twisted protocol per connection (RFC 3261 18.3, RFC 5626 4.4.1).

:class:`StreamConnection` only moves bytes: it feeds them to the pure
:class:`~tui_phone.sip.framing.StreamFramer` and hands the events to its owner
(the :class:`~tui_phone.sip.transport.TransportLayer`). Keep-alives are
handled here because they never leave the connection: a ping (CRLFCRLF) is
answered with a pong (CRLF), and when keep-alives are switched on the
connection pings after ``interval`` seconds without sending anything and
drops the flow when no pong comes back within the pong timeout.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol as TypingProtocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IHandshakeListener
from twisted.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from ..errors import SipParseError
from ..framing import InvalidMessage, KeepAlivePing, KeepAlivePong, StreamFramer
from ..message import SipRequest, SipResponse
from ..routing import TCP, Source
from .base import PING, PONG, PONG_TIMEOUT, address_of, logger

# If a graceful close (TLS close_notify) has not finished after this long, abort.
CLOSE_GRACE = 2.0

ConnectionKey = tuple[str, str, int]


class StreamOwner(TypingProtocol):
    """What a :class:`StreamConnection` tells its owner (the transport layer)."""

    reactor: Any

    def stream_connected(self, connection: StreamConnection) -> None:
        """The TCP connection is up (TLS may still be handshaking)."""

    def stream_ready(self, connection: StreamConnection) -> None:
        """The connection can carry messages (TCP: connected; TLS: handshake done)."""

    def stream_message(
        self, connection: StreamConnection, message: SipRequest | SipResponse
    ) -> None:
        """A complete message arrived."""

    def stream_invalid(
        self, connection: StreamConnection, data: bytes, error: SipParseError
    ) -> None:
        """A message was framed but did not parse."""

    def stream_lost(self, connection: StreamConnection, reason: Failure) -> None:
        """The connection closed."""

    def stream_connect_failed(self, key: ConnectionKey, reason: Failure) -> None:
        """An outgoing connection could not be opened."""


@implementer(IHandshakeListener)
class StreamConnection(Protocol):
    """One TCP or TLS connection carrying SIP messages."""

    # A TCP transport, or TLSMemoryBIOProtocol; Any, as zope interfaces do not type-check.
    transport: Any

    def __init__(
        self,
        owner: StreamOwner,
        transport_name: str,
        *,
        outgoing: bool,
        key: ConnectionKey | None = None,
        pong_timeout: float = PONG_TIMEOUT,
    ) -> None:
        self.owner = owner
        self.transport_name = transport_name
        self.outgoing = outgoing
        # For outgoing connections: the (transport, ip, port) it was opened to.
        self.key = key
        self.connection_id = 0
        self.remote: tuple[str, int] = ("", 0)
        self.local: tuple[str, int] = ("", 0)
        self.is_open = False
        self.is_ready = False
        self.lost_reason: Failure | None = None
        self.framing_error: SipParseError | None = None
        self.pings_received = 0
        self.pongs_received = 0
        self.pings_sent = 0
        self._framer = StreamFramer()
        self._pong_timeout = pong_timeout
        self._keepalive_interval: float | None = None
        self._keepalive_call: IDelayedCall | None = None
        self._pong_call: IDelayedCall | None = None
        self._abort_call: IDelayedCall | None = None
        self._last_sent = 0.0
        self._closed: list[Deferred[None]] = []

    # -- identity ------------------------------------------------------------
    @property
    def source(self) -> Source:
        """The :class:`Source` of messages received on this connection."""
        return Source(self.transport_name, self.remote, self.local, self.connection_id)

    @property
    def remote_key(self) -> ConnectionKey:
        """``(transport, remote ip, remote port)``: what connection reuse matches on."""
        return (self.transport_name, self.remote[0], self.remote[1])

    def __repr__(self) -> str:
        direction = "to" if self.outgoing else "from"
        return f"<StreamConnection {self.connection_id} {self.transport_name} {direction} {self.remote}>"

    # -- Twisted callbacks -----------------------------------------------------
    def connectionMade(self) -> None:
        """Record the addresses and register with the owner."""
        self.remote = address_of(self.transport.getPeer())
        self.local = address_of(self.transport.getHost())
        self.is_open = True
        self._last_sent = self.owner.reactor.seconds()
        self.owner.stream_connected(self)
        if self.transport_name == TCP:
            self._set_ready()

    def handshakeCompleted(self) -> None:
        """TLS: the handshake (and, for clients, the certificate check) succeeded."""
        self._set_ready()

    def _set_ready(self) -> None:
        if not self.is_ready and self.is_open:
            self.is_ready = True
            self.owner.stream_ready(self)

    def dataReceived(self, data: bytes) -> None:
        """Frame the bytes (RFC 3261 18.3) and pass each event on."""
        if self.framing_error is not None:
            return  # the connection is closing; nothing more can be framed
        try:
            events = self._framer.feed(data)
        except SipParseError as error:
            # RFC 3261 18.3: without a usable Content-Length the stream cannot
            # be resynchronised; the only way out is to close the connection.
            self.framing_error = error
            logger.warning(
                "closing %s connection %d with %s: framing lost: %s",
                self.transport_name, self.connection_id, self.remote, error,
            )
            self.transport.loseConnection()
            return
        for event in events:
            if not self.is_open:
                return
            if isinstance(event, KeepAlivePong) or (
                isinstance(event, KeepAlivePing) and self._pong_call is not None
            ):
                # While we wait for a pong, any CRLF is that pong: the framer
                # reads a pong that follows an earlier pong as the second half
                # of a split ping (it cannot tell them apart).
                self.pongs_received += 1
                self._cancel("_pong_call")
            elif isinstance(event, KeepAlivePing):
                # RFC 5626 4.4.1: answer a ping with a pong.
                self.pings_received += 1
                self.transport.write(PONG)
            elif isinstance(event, InvalidMessage):
                self.owner.stream_invalid(self, event.data, event.error)
            else:
                self.owner.stream_message(self, event)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop timers, tell the owner, wake whoever waits for the close."""
        self.is_open = False
        self.lost_reason = reason
        for name in ("_keepalive_call", "_pong_call", "_abort_call"):
            self._cancel(name)
        self.owner.stream_lost(self, reason)
        waiters, self._closed = self._closed, []
        for waiter in waiters:
            waiter.callback(None)

    # -- used by the owner -----------------------------------------------------
    def write(self, data: bytes) -> None:
        """Send bytes (a whole message) on this connection."""
        self.transport.write(data)
        self._last_sent = self.owner.reactor.seconds()

    def close(self) -> Deferred[None]:
        """Close gracefully (aborting after a grace period); fires once closed."""
        done = self.when_closed()
        if self.is_open and self._abort_call is None:
            self.transport.loseConnection()
            self._abort_call = self.owner.reactor.callLater(CLOSE_GRACE, self._abort)
        return done

    def when_closed(self) -> Deferred[None]:
        """A Deferred that fires when the connection has closed."""
        waiter: Deferred[None] = Deferred()
        if self.is_open:
            self._closed.append(waiter)
        else:
            waiter.callback(None)
        return waiter

    def set_keepalive(self, interval: float | None) -> None:
        """Ping after ``interval`` idle seconds (RFC 5626 4.4.1); None switches it off."""
        self._keepalive_interval = interval
        self._cancel("_keepalive_call")
        if interval is None:
            self._cancel("_pong_call")
        elif self.is_open:
            self._keepalive_call = self.owner.reactor.callLater(interval, self._keepalive_due)

    # -- internals ---------------------------------------------------------------
    def _cancel(self, name: str) -> None:
        call = getattr(self, name)
        if call is not None:
            if call.active():
                call.cancel()
            setattr(self, name, None)

    def _abort(self) -> None:
        self._abort_call = None
        if self.is_open:
            self.transport.abortConnection()

    def _keepalive_due(self) -> None:
        self._keepalive_call = None
        interval = self._keepalive_interval
        if interval is None or not self.is_open:
            return
        reactor = self.owner.reactor
        idle = reactor.seconds() - self._last_sent
        if idle >= interval:
            self.write(PING)
            self.pings_sent += 1
            if self._pong_call is None:
                self._pong_call = reactor.callLater(self._pong_timeout, self._pong_missing)
            delay = interval
        else:
            delay = interval - idle
        self._keepalive_call = reactor.callLater(delay, self._keepalive_due)

    def _pong_missing(self) -> None:
        # RFC 5626 4.4.1: no pong within 10 s means the flow has failed.
        self._pong_call = None
        logger.warning(
            "no keep-alive pong on %s connection %d to %s within %.1f s: closing it",
            self.transport_name, self.connection_id, self.remote, self._pong_timeout,
        )
        self.transport.abortConnection()


class StreamServerFactory(Factory):
    """Builds a :class:`StreamConnection` for each accepted connection."""

    noisy = False

    def __init__(self, owner: StreamOwner, transport_name: str, pong_timeout: float) -> None:
        self.owner = owner
        self.transport_name = transport_name
        self.pong_timeout = pong_timeout

    def buildProtocol(self, addr: Any) -> StreamConnection:
        """A connection accepted on a listener."""
        return StreamConnection(
            self.owner, self.transport_name, outgoing=False, pong_timeout=self.pong_timeout
        )


class StreamClientFactory(ClientFactory):
    """Builds the :class:`StreamConnection` of one outgoing connection attempt."""

    noisy = False

    def __init__(
        self, owner: StreamOwner, transport_name: str, key: ConnectionKey, pong_timeout: float
    ) -> None:
        self.owner = owner
        self.transport_name = transport_name
        self.key = key
        self.pong_timeout = pong_timeout

    def buildProtocol(self, addr: Any) -> StreamConnection:
        """The connection this attempt opened."""
        return StreamConnection(
            self.owner, self.transport_name, outgoing=True, key=self.key,
            pong_timeout=self.pong_timeout,
        )

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """Refused, timed out, unreachable: the owner fails the waiting sends."""
        self.owner.stream_connect_failed(self.key, reason)
