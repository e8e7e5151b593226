"""The transport layer: UDP, TCP and TLS listeners and connections (RFC 3261 18).

:class:`TransportLayer` is the thin Twisted edge under the transaction layer.
It receives bytes, turns them into messages with the pure core (parse,
frame, stamp the Via with :func:`~tui_phone.sip.routing.stamp_via`), and
sends what it is given to a :class:`~tui_phone.sip.routing.Target`. It never
decides where a message goes; :mod:`tui_phone.sip.routing` does.

The reactor is a parameter: production runs Twisted on the asyncio loop
(``twisted.internet.asyncioreactor``), tests use a fake one or a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred, succeed
from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from ..errors import SipParseError
from ..message import SipRequest, SipResponse, parse_message
from ..routing import (
    RELIABLE_TRANSPORTS,
    TCP,
    TLS,
    TRANSPORTS,
    UDP,
    Source,
    Target,
    bare_host,
    format_host_port,
    ip_address,
    is_ipv6,
    may_need_stamp,
    normalize_host,
    stamp_via,
    udp_source,
)
from .base import (
    CONNECT_TIMEOUT,
    PING,
    PONG_TIMEOUT,
    ConnectionClosedError,
    ConnectionFailedError,
    ConnectionInfo,
    Direction,
    KeepAliveHandle,
    Listener,
    LoggedMessage,
    NoListenerError,
    TlsClientConfig,
    TlsVerificationError,
    TransportError,
    address_of,
    logger,
)
from .resolve import resolve_host
from .stream import (
    ConnectionKey,
    StreamClientFactory,
    StreamConnection,
    StreamServerFactory,
)
from .udp import UdpEndpoint

MessageHandler = Callable[[SipRequest | SipResponse, Source], None]
InvalidHandler = Callable[[bytes, SipParseError, Source], None]
LogHandler = Callable[[LoggedMessage], None]
# STUN messages start with 00 or 01 and carry this cookie (RFC 5389 6).
_STUN_COOKIE = b"\x21\x12\xa4\x42"
_IP_CACHE_SIZE = 1024  # hosts remembered by TransportLayer._ip before it starts afresh


def _tls() -> ModuleType:
    """The TLS helpers, imported on first use: UDP and TCP work without pyOpenSSL."""
    try:
        from . import tls
    except ImportError as error:
        raise TransportError(
            f"TLS needs pyOpenSSL and service_identity (pip install 'twisted[tls]'): {error}"
        ) from error
    return tls


@dataclass(slots=True)
class _PendingConnect:
    """An outgoing connection being opened, and the sends waiting for it."""

    name: str
    waiters: list[Deferred[StreamConnection]]
    connector: Any = None


class TransportLayer:
    """SIP over UDP, TCP and TLS on one reactor (RFC 3261 18, RFC 3581, RFC 5626 4.4).

    ``on_message(message, source)`` gets every well-formed message; requests
    arrive with ``received``/``rport`` already stamped into the top Via.
    ``on_invalid(data, error, source)`` gets every datagram or framed stream
    message that did not parse (the UA may answer it with
    :func:`~tui_phone.sip.routing.error_response_for`). ``on_log`` sees every
    SIP message sent and received. Keep-alives are not messages and are not
    logged there.

    ``tls_client`` is the default TLS client setting (verification on);
    ``send(..., tls=...)`` overrides it per account. ``incoming_keepalive``
    pings idle accepted connections (off by default).
    """

    def __init__(
        self,
        reactor: Any,
        on_message: MessageHandler,
        on_invalid: InvalidHandler | None = None,
        on_log: LogHandler | None = None,
        *,
        tls_client: TlsClientConfig | None = None,
        incoming_keepalive: float | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        pong_timeout: float = PONG_TIMEOUT,
    ) -> None:
        self.reactor = reactor
        self._on_message = on_message
        self._on_invalid = on_invalid
        self._on_log = on_log
        self._tls_client = tls_client if tls_client is not None else TlsClientConfig()
        self._incoming_keepalive = incoming_keepalive
        self._connect_timeout = connect_timeout
        self._pong_timeout = pong_timeout
        self._listeners: list[Listener] = []
        self._udp: dict[tuple[str, int], UdpEndpoint] = {}
        self._connections: dict[int, StreamConnection] = {}
        self._pending: dict[ConnectionKey, _PendingConnect] = {}
        self._stream_keepalives: dict[ConnectionKey, float] = {}
        self._keepalives: list[KeepAliveHandle] = []
        self._next_connection_id = 1
        self._stopped = False
        #: host text -> its normalized IP address, or None for a name (see _ip).
        self._ips: dict[str, str | None] = {}
        #: Offered every UDP datagram that is not a keep-alive, before it is logged
        #: or parsed: True when it took the datagram (the UA's answer at once).
        self.on_datagram: Callable[[bytes, Source], bool] | None = None

    @property
    def on_log(self) -> LogHandler | None:
        """What sees every SIP message sent and received (None: nobody, and no
        :class:`LoggedMessage` is made)."""
        return self._on_log

    @on_log.setter
    def on_log(self, callback: LogHandler | None) -> None:
        self._on_log = callback

    # -- listeners --------------------------------------------------------------
    def listen_udp(self, host: str, port: int) -> tuple[str, int]:
        """Listen for UDP on ``host:port`` (0 = any free port); returns the bound address."""
        endpoint = UdpEndpoint(self)
        listening = self.reactor.listenUDP(port, endpoint, interface=bare_host(host))
        address = self._add_listener(UDP, listening)
        endpoint.local = address
        raw = getattr(listening, "socket", None)
        endpoint.sendto = getattr(raw, "sendto", None)
        loop = getattr(self.reactor, "_asyncioEventloop", None)
        if raw is not None and loop is not None and hasattr(loop, "add_reader"):
            endpoint.read_directly(loop, listening)
        self._udp[address] = endpoint
        return address

    def listen_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Accept TCP connections on ``host:port``; returns the bound address."""
        factory = StreamServerFactory(self, TCP, self._pong_timeout)
        listening = self.reactor.listenTCP(port, factory, interface=bare_host(host))
        return self._add_listener(TCP, listening)

    def listen_tls(self, host: str, port: int, cert: Any, key: Any) -> tuple[str, int]:
        """Accept TLS connections on ``host:port`` with the PEM ``cert`` and ``key`` files."""
        factory = _tls().wrap_server(StreamServerFactory(self, TLS, self._pong_timeout), cert, key)
        listening = self.reactor.listenTCP(port, factory, interface=bare_host(host))
        return self._add_listener(TLS, listening)

    def _add_listener(self, transport: str, listening: Any) -> tuple[str, int]:
        host, port = address_of(listening.getHost())
        self._listeners.append(Listener(transport, host, port, listening))
        logger.info("listening on %s %s", transport, format_host_port(host, port))
        return host, port

    @property
    def listeners(self) -> list[Listener]:
        """Every open listener, in the order they were opened."""
        return list(self._listeners)

    def local_address(self, transport: str, *, ipv6: bool | None = None) -> tuple[str, int]:
        """The (host, port) to put in our Via sent-by for ``transport``.

        The first listener of that transport (and of that address family when
        ``ipv6`` is given). Raises :class:`NoListenerError` when there is none.
        """
        transport = transport.upper()
        for listener in self._listeners:
            if listener.transport == transport and (ipv6 is None or listener.ipv6 == ipv6):
                return listener.host, listener.port
        family = "" if ipv6 is None else (" on IPv6" if ipv6 else " on IPv4")
        raise NoListenerError(f"no {transport} listener{family}")

    # -- connections --------------------------------------------------------------
    def connections(self) -> list[ConnectionInfo]:
        """The open stream connections, oldest first."""
        return [
            ConnectionInfo(c.connection_id, c.transport_name, c.local, c.remote, c.outgoing,
                           c.is_ready, c.pings_sent, c.pongs_received)
            for c in self._connections.values()
        ]

    def close_connection(self, connection_id: int) -> Deferred[None]:
        """Close one stream connection; fires when it is closed (at once if unknown)."""
        connection = self._connections.get(connection_id)
        return connection.close() if connection is not None else succeed(None)

    # -- sending --------------------------------------------------------------------
    def send(
        self,
        message: SipRequest | SipResponse | bytes,
        destination: Target,
        *,
        tls: TlsClientConfig | None = None,
    ) -> Deferred[None]:
        """Send a message; the Deferred fires once it is handed to the socket.

        UDP goes out from a listener of the destination's address family (or
        from ``destination.local``). TCP/TLS use ``destination.connection``
        while it is open, else an open connection to the address (incoming or
        outgoing: RFC 3261 18 connection reuse), else a new connection; TLS
        verifies the server per ``tls`` (default: the layer's setting).
        Raises :class:`TransportError` at once for what is known before any
        I/O (unsupported transport, no UDP listener for an IP literal); the
        Deferred fails with :class:`ConnectionFailedError`,
        :class:`TlsVerificationError` or :class:`ConnectionClosedError`.
        """
        data = message if isinstance(message, bytes) else bytes(message)
        transport = destination.transport.upper()
        if transport not in TRANSPORTS:
            raise TransportError(f"unsupported transport {destination.transport!r}")
        if self._stopped:
            raise TransportError("the transport layer is stopped")
        host, port = bare_host(destination.host), destination.port
        if transport == UDP:
            ip = self._ip(host)
            if ip is not None:
                self._send_datagram(data, ip, port, destination.local)
                return succeed(None)
            local = destination.local

            def send_to(ip: str) -> None:
                self._send_datagram(data, ip, port, local)

            return self._resolve(host, UDP).addCallback(send_to)
        if destination.connection is not None:
            connection = self._connections.get(destination.connection)
            if connection is not None and connection.is_open:
                self._write(connection, data)
                return succeed(None)
        connecting = self._connect(transport, host, port, tls or self._tls_client)
        return connecting.addCallback(self._write, data)

    def send_now(self, message: SipRequest | SipResponse | bytes, destination: Target, *,
                 log: bool = True) -> bool:
        """Send at once if nothing has to wait (UDP to an IP address); True if sent.

        False: :meth:`send` is needed (a host name, a stream). Raises what
        :meth:`send` raises before any I/O. The UA's usual case, with no
        Deferred made for a send that is already done. ``log=False``: the
        caller logs it (see :meth:`log_answered`).
        """
        if self._stopped or destination.transport.upper() != UDP:
            return False
        ip = self._ip(bare_host(destination.host))
        if ip is None:
            return False
        data = message if isinstance(message, bytes) else bytes(message)
        self._send_datagram(data, ip, destination.port, destination.local, log=log)
        return True

    def log_answered(self, source: Source, request: bytes, response: bytes | None,
                     to: tuple[str, int]) -> None:
        """Log a datagram taken by :attr:`on_datagram`, then the ``response`` sent to
        ``to`` for it with ``send_now(..., log=False)`` (None: none was sent so)."""
        if self._on_log is not None:
            self._log("received", UDP, source.local, source.remote, request)
            if response is not None:
                self._log("sent", UDP, source.local, to, response)

    def _log(self, direction: Direction, transport: str, local: tuple[str, int],
             remote: tuple[str, int], data: bytes, connection: int | None = None) -> None:
        if self._on_log is None:
            return
        entry = LoggedMessage(direction, transport, local, remote, self.reactor.seconds(), data,
                              connection)
        try:
            self._on_log(entry)
        except Exception:  # noqa: BLE001 - a UI callback must not break the transport
            logger.exception("on_log failed")

    def _ip(self, host: str) -> str | None:
        """``host`` as a normalized IP address, None for a host name.

        :func:`~tui_phone.sip.routing.ip_address` parses with the ipaddress
        module; the few hosts a phone talks to are remembered, since every
        message sent and received needs this.
        """
        ips = self._ips
        try:
            return ips[host]
        except KeyError:
            pass
        address = ip_address(host)
        if len(ips) >= _IP_CACHE_SIZE:
            ips.clear()
        ips[host] = ip = None if address is None else str(address)
        return ip

    def _normalized(self, host: str) -> str:
        """:func:`~tui_phone.sip.routing.normalize_host`, remembered for IP addresses."""
        ip = self._ip(host)
        return ip if ip is not None else normalize_host(host)

    def _is_ipv6(self, host: str) -> bool:
        # A normalized IPv6 address has a colon, an IPv4 one (mapped ones too) has none.
        ip = self._ip(host)
        return ip is not None and ":" in ip

    def _udp_endpoint(self, ip: str, local: tuple[str, int] | None) -> tuple[tuple[str, int], UdpEndpoint]:
        if local is not None:
            key = (self._normalized(local[0]), local[1])
            if key in self._udp:
                return key, self._udp[key]
        ipv6 = self._is_ipv6(ip)
        for address, endpoint in self._udp.items():
            if self._is_ipv6(address[0]) == ipv6:
                return address, endpoint
        raise NoListenerError(f"no UDP listener on {'IPv6' if ipv6 else 'IPv4'} to send to {ip}")

    def _send_datagram(self, data: bytes, ip: str, port: int,
                       local: tuple[str, int] | None, *, log: bool = True) -> None:
        address, endpoint = self._udp_endpoint(ip, local)
        socket: Any = endpoint.transport
        try:
            sendto = endpoint.sendto
            if sendto is None:
                socket.write(data, (ip, port))
            else:
                try:
                    sendto(data, (ip, port))
                except OSError:
                    # Twisted's write knows what each error means (EINTR: again,
                    # EMSGSIZE: too long, ECONNREFUSED: ignored, a wrong family).
                    socket.write(data, (ip, port))
        except Exception as error:
            raise TransportError(
                f"cannot send {len(data)} bytes to UDP {format_host_port(ip, port)}: {error}"
            ) from error
        if log:
            self._log("sent", UDP, address, (ip, port), data)

    def _write(self, connection: StreamConnection, data: bytes) -> None:
        if not connection.is_open:
            raise ConnectionClosedError(
                f"{connection.transport_name} connection {connection.connection_id} to "
                f"{format_host_port(*connection.remote)} is closed"
            )
        connection.write(data)
        self._log("sent", connection.transport_name, connection.local, connection.remote, data,
                  connection.connection_id)

    def _resolve(self, host: str, transport: str) -> Deferred[str]:
        families = {is_ipv6(address[0]) for address in self._udp} if transport == UDP else None
        return resolve_host(self.reactor, host, transport, families)

    # -- stream connections ----------------------------------------------------------
    def _find_connection(self, key: ConnectionKey) -> StreamConnection | None:
        found = None
        for connection in self._connections.values():
            usable = connection.is_ready or not connection.outgoing
            if connection.is_open and connection.remote_key == key and usable:
                found = connection  # the newest wins
        return found

    def _connect(self, transport: str, host: str, port: int,
                 tls: TlsClientConfig) -> Deferred[StreamConnection]:
        resolved = self._resolve(host, transport)
        return resolved.addCallback(
            lambda ip: self._connection_to((transport, ip, port), host, tls)
        )

    def _connection_to(self, key: ConnectionKey, name: str,
                       tls: TlsClientConfig) -> StreamConnection | Deferred[StreamConnection]:
        existing = self._find_connection(key)
        if existing is not None:
            return existing
        waiter: Deferred[StreamConnection] = Deferred()
        pending = self._pending.get(key)
        if pending is not None:
            pending.waiters.append(waiter)
            return waiter
        transport, ip, port = key
        pending = self._pending[key] = _PendingConnect(tls.server_name or name, [waiter])
        factory: Any = StreamClientFactory(self, transport, key, self._pong_timeout)
        if transport == TLS:
            factory = _tls().wrap_client(factory, name, tls)
        pending.connector = self.reactor.connectTCP(ip, port, factory, timeout=self._connect_timeout)
        return waiter

    def _fail_pending(self, key: ConnectionKey, error: TransportError) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        for waiter in pending.waiters:
            waiter.errback(Failure(error))

    # StreamOwner: called by StreamConnection and its factories.
    def stream_connected(self, connection: StreamConnection) -> None:
        """Register a new connection and start its keep-alive if one is wanted."""
        connection.connection_id = self._next_connection_id
        self._next_connection_id += 1
        self._connections[connection.connection_id] = connection
        logger.info("%s connection %d %s %s", connection.transport_name,
                    connection.connection_id, "to" if connection.outgoing else "from",
                    format_host_port(*connection.remote))
        interval = self._stream_keepalives.get(connection.remote_key)
        if interval is None and not connection.outgoing:
            interval = self._incoming_keepalive
        if interval is not None:
            connection.set_keepalive(interval)

    def stream_ready(self, connection: StreamConnection) -> None:
        """An outgoing connection is usable: release the sends waiting for it."""
        if connection.outgoing and connection.key is not None:
            pending = self._pending.pop(connection.key, None)
            if pending is not None:
                for waiter in pending.waiters:
                    waiter.callback(connection)

    def stream_message(self, connection: StreamConnection,
                       message: SipRequest | SipResponse) -> None:
        """A message framed on a connection."""
        source = connection.source
        self._log("received", source.transport, source.local, source.remote, bytes(message),
                  source.connection)
        self._deliver(message, source)

    def stream_invalid(self, connection: StreamConnection, data: bytes,
                       error: SipParseError) -> None:
        """A framed message that did not parse."""
        source = connection.source
        self._log("received", source.transport, source.local, source.remote, data,
                  source.connection)
        self._invalid(data, error, source)

    def stream_lost(self, connection: StreamConnection, reason: Failure) -> None:
        """Forget a closed connection; fail the sends that waited for it."""
        self._connections.pop(connection.connection_id, None)
        logger.info("%s connection %d with %s closed: %s", connection.transport_name,
                    connection.connection_id, format_host_port(*connection.remote),
                    reason.getErrorMessage())
        if connection.outgoing and not connection.is_ready and connection.key is not None:
            self._fail_pending(connection.key, self._handshake_error(connection, reason))

    def _handshake_error(self, connection: StreamConnection, reason: Failure) -> TransportError:
        pending = self._pending.get(connection.key) if connection.key else None
        where = format_host_port(*connection.remote)
        if pending is not None and pending.name != connection.remote[0]:
            where = f"{pending.name} ({where})"
        verification, text = _tls().describe_tls_failure(reason)
        if verification:
            return TlsVerificationError(f"TLS verification of {where} failed: {text}")
        return ConnectionFailedError(f"TLS handshake with {where} failed: {text}")

    def stream_connect_failed(self, key: ConnectionKey, reason: Failure) -> None:
        """An outgoing connect failed: refused, timed out or unreachable."""
        transport, ip, port = key
        where = f"{transport} {format_host_port(ip, port)}"
        if reason.check(ConnectionRefusedError):
            error = ConnectionFailedError(f"connection refused by {where}")
        elif reason.check(TimeoutError):
            error = ConnectionFailedError(f"timed out connecting to {where}")
        else:
            error = ConnectionFailedError(f"cannot connect to {where}: {reason.getErrorMessage()}")
        self._fail_pending(key, error)

    # -- receiving ---------------------------------------------------------------------
    def _datagram_received(self, endpoint: UdpEndpoint, data: bytes,
                           addr: tuple[str, int]) -> None:
        local = endpoint.local
        source = udp_source((self._normalized(addr[0]), addr[1]), local)
        if data[:1] in b"\r\n" and not data.strip(b"\r\n"):  # (b"" is in any bytes)
            return  # a CRLF keep-alive from a peer's NAT binding refresh
        if data[:1] in (b"\x00", b"\x01") and data[4:8] == _STUN_COOKIE:
            logger.debug("ignoring a STUN message from %s", source.remote)
            return
        first = self.on_datagram
        if first is not None and first(data, source):
            return
        if self._on_log is not None:
            self._log("received", UDP, local, source.remote, data)
        try:
            message = parse_message(data, validate=True)
        except SipParseError as error:
            self._invalid(data, error, source)
            return
        self._deliver(message, source)

    def _deliver(self, message: SipRequest | SipResponse, source: Source) -> None:
        if isinstance(message, SipRequest) and may_need_stamp(message.via, source.remote[0]):
            stamp_via(message, source.remote[0], source.remote[1])
        try:
            self._on_message(message, source)
        except Exception:  # noqa: BLE001 - a bug above must not break the transport
            logger.exception("on_message failed for %r from %s", message, source)

    def _invalid(self, data: bytes, error: SipParseError, source: Source) -> None:
        logger.info("invalid message from %s %s: %s", source.transport,
                    format_host_port(*source.remote), error)
        if self._on_invalid is None:
            return
        try:
            self._on_invalid(data, error, source)
        except Exception:  # noqa: BLE001 - a bug above must not break the transport
            logger.exception("on_invalid failed for a message from %s", source)

    # -- keep-alives -------------------------------------------------------------------
    def start_udp_keepalive(self, target: Target, interval: float) -> KeepAliveHandle:
        """Send a CRLFCRLF datagram to ``target`` every ``interval`` seconds.

        Keeps a NAT binding (and the registrar's view of our flow) alive.
        RFC 5626 4.4.2 uses STUN on UDP; a CRLF datagram is what most phones
        send, needs no STUN server support from the registrar, and is ignored
        by any SIP element (RFC 3261 7.5 lets CRLFs precede a message).
        """
        if target.transport.upper() != UDP:
            raise TransportError(f"UDP keep-alive needs a UDP target, not {target.transport}")
        host = bare_host(target.host)

        def tick() -> None:
            resolved = self._resolve(host, UDP)
            resolved.addCallback(
                lambda ip: self._send_datagram(PING, ip, target.port, target.local, log=False)
            )
            resolved.addErrback(lambda failure: logger.warning(
                "UDP keep-alive to %s failed: %s", host, failure.getErrorMessage()))

        call = LoopingCall(tick)
        call.clock = self.reactor
        call.start(interval, now=False)

        def stop() -> None:
            if call.running:
                call.stop()

        return self._keepalive(stop, f"UDP {format_host_port(host, target.port)} every {interval}s")

    def _keepalive(self, stop: Callable[[], None], description: str) -> KeepAliveHandle:
        def stop_and_forget() -> None:
            stop()
            if handle in self._keepalives:
                self._keepalives.remove(handle)

        handle = KeepAliveHandle(stop_and_forget, description)
        self._keepalives.append(handle)
        return handle

    def start_stream_keepalive(self, target: Target, interval: float) -> KeepAliveHandle:
        """Ping connections to ``target`` after ``interval`` idle seconds (RFC 5626 4.4.1).

        Applies to the open connections to that address and to those opened
        later, until stopped. A connection whose pong does not come back
        within the pong timeout is closed (the flow failed).
        """
        transport = target.transport.upper()
        if transport not in RELIABLE_TRANSPORTS:
            raise TransportError(f"stream keep-alive needs a TCP or TLS target, not {transport}")
        keys: list[ConnectionKey] = []
        stopped = False

        def register(ip: str) -> None:
            if stopped:
                return
            key = (transport, ip, target.port)
            keys.append(key)
            self._stream_keepalives[key] = interval
            for connection in self._connections.values():
                if connection.remote_key == key:
                    connection.set_keepalive(interval)

        def stop() -> None:
            nonlocal stopped
            stopped = True
            for key in keys:
                self._stream_keepalives.pop(key, None)
                for connection in self._connections.values():
                    if connection.remote_key == key:
                        connection.set_keepalive(None)

        resolved = self._resolve(bare_host(target.host), transport)
        resolved.addCallback(register)
        resolved.addErrback(lambda failure: logger.warning(
            "stream keep-alive for %s not started: %s", target.host, failure.getErrorMessage()))
        where = format_host_port(bare_host(target.host), target.port)
        return self._keepalive(stop, f"{transport} {where} every {interval}s")

    # -- shutting down -----------------------------------------------------------------
    def stop(self) -> Deferred[None]:
        """Close every listener and connection and stop keep-alives; fires when done."""
        self._stopped = True
        for handle in list(self._keepalives):
            handle.stop()
        self._stream_keepalives.clear()
        for key, pending in list(self._pending.items()):
            self._fail_pending(key, ConnectionClosedError("the transport layer stopped"))
            if pending.connector is not None:
                pending.connector.disconnect()
        waits: list[Deferred[Any]] = [
            maybeDeferred(listener.listening_port.stopListening) for listener in self._listeners
        ]
        waits += [connection.close() for connection in list(self._connections.values())]
        self._listeners.clear()
        self._udp.clear()
        done = gatherResults(waits, consumeErrors=True)
        return done.addCallback(lambda _: None)
