"""The transport edge (tui_phone.sip.transport).

Two halves. The first drives :class:`TransportLayer` on a fake reactor (no
sockets, a clock advanced by hand): stamping, routing over connections,
connection reuse, framing in every chunk size, keep-alive timers. The second
runs real scenarios on loopback, each in its own interpreter because
Twisted's reactor cannot restart (tui_phone.testing.transport_scenarios):
UDP and TCP between two layers, IPv6, TLS with a test CA, sipp as a peer.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from tui_phone.sip import SipParseError, SipRequest, SipResponse, build_response
from tui_phone.sip.routing import Source, Target, response_target
from tui_phone.sip.transport import (
    ConnectionClosedError,
    ConnectionFailedError,
    LoggedMessage,
    NoListenerError,
    TlsClientConfig,
    TransportError,
    TransportLayer,
)
from tui_phone.sip.transport.base import PING, PONG
from tui_phone.sip.transport.tls import (
    client_tls_options,
    describe_tls_failure,
    server_tls_options,
)
from tui_phone.testing.certs import make_test_pki
from tui_phone.testing.fakereactor import FakeReactor, connect_stream
from tui_phone.testing.scenario_tools import run_scenario, sip_request


class Recorder:
    """The three callbacks of a layer, recorded."""

    def __init__(self) -> None:
        self.messages: list[tuple[SipRequest | SipResponse, Source]] = []
        self.invalid: list[tuple[bytes, SipParseError, Source]] = []
        self.log: list[LoggedMessage] = []

    def on_message(self, message: SipRequest | SipResponse, source: Source) -> None:
        self.messages.append((message, source))

    def on_invalid(self, data: bytes, error: SipParseError, source: Source) -> None:
        self.invalid.append((data, error, source))


def make_layer(**options: Any) -> tuple[FakeReactor, TransportLayer, Recorder]:
    reactor = FakeReactor()
    seen = Recorder()
    layer = TransportLayer(reactor, seen.on_message, seen.on_invalid, seen.log.append, **options)
    return reactor, layer, seen


def options(transport: str = "UDP", sent_by: str = "192.0.2.1:5070", *, rport: bool = True,
            call_id: str = "t-1") -> bytes:
    return sip_request("OPTIONS", "sip:bob@127.0.0.1",
                       f"SIP/2.0/{transport} {sent_by}{';rport' if rport else ''};branch=z9hG4bK-{call_id}",
                       call_id=call_id)


def failure_of(deferred: Any) -> BaseException:
    failures: list[Failure] = []
    deferred.addErrback(failures.append)
    assert failures, "the Deferred did not fail"
    return failures[0].value


def succeeded(deferred: Any) -> bool:
    results: list[Any] = []
    deferred.addBoth(results.append)
    return bool(results) and not isinstance(results[0], Failure)


# -- listeners and local addresses ---------------------------------------------------------


def test_listeners_and_local_address() -> None:
    _, layer, _ = make_layer()
    assert layer.listen_udp("127.0.0.1", 0) == ("127.0.0.1", 40001)
    assert layer.listen_udp("[::1]", 5062) == ("::1", 5062)
    assert layer.listen_tcp("127.0.0.1", 5060) == ("127.0.0.1", 5060)
    assert layer.local_address("udp") == ("127.0.0.1", 40001)
    assert layer.local_address("UDP", ipv6=True) == ("::1", 5062)
    assert layer.local_address("TCP") == ("127.0.0.1", 5060)
    assert [(l.transport, l.host, l.port) for l in layer.listeners] == [
        ("UDP", "127.0.0.1", 40001), ("UDP", "::1", 5062), ("TCP", "127.0.0.1", 5060)]
    with pytest.raises(NoListenerError, match=r"^no TLS listener$"):
        layer.local_address("TLS")
    with pytest.raises(NoListenerError, match=r"^no TCP listener on IPv6$"):
        layer.local_address("TCP", ipv6=True)


def test_tls_listener_wraps_the_stream_factory(tmp_path: Path) -> None:
    reactor, layer, _ = make_layer()
    pki = make_test_pki(tmp_path)
    assert layer.listen_tls("127.0.0.1", 5061, pki.server_cert, pki.server_key) == ("127.0.0.1", 5061)
    assert isinstance(reactor.tcp_ports[0].factory, TLSMemoryBIOFactory)


# -- UDP --------------------------------------------------------------------------------


def test_udp_request_is_stamped_logged_and_delivered() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    reactor.advance(12.5)
    data = options(sent_by="pc33.example.com:5070")
    reactor.udp_ports[0].receive(data, ("127.0.0.1", 61000))
    [(message, source)] = seen.messages
    assert source == Source("UDP", ("127.0.0.1", 61000), ("127.0.0.1", 5060), None)
    assert message.headers.get("Via") == (
        "SIP/2.0/UDP pc33.example.com:5070;rport=61000;branch=z9hG4bK-t-1;received=127.0.0.1")
    assert seen.log == [LoggedMessage("received", "UDP", ("127.0.0.1", 5060), ("127.0.0.1", 61000),
                                      12.5, data, None)]


@pytest.mark.parametrize(("sent_by", "rport", "stamped"), [
    ("127.0.0.1:5070", False, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-t-1"),  # as is
    ("127.0.0.1:5070", True,  # an empty rport is filled, and received added (RFC 3581 4)
     "SIP/2.0/UDP 127.0.0.1:5070;rport=61000;branch=z9hG4bK-t-1;received=127.0.0.1"),
    ("127.000.0.1:5070", False,  # another spelling of the address: parsed and compared
     "SIP/2.0/UDP 127.000.0.1:5070;branch=z9hG4bK-t-1;received=127.0.0.1"),
    ("127.0.0.2:5070", False, "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-t-1;received=127.0.0.1"),
])
def test_udp_request_from_its_sent_by_address(sent_by: str, rport: bool, stamped: str) -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    reactor.udp_ports[0].receive(options(sent_by=sent_by, rport=rport), ("127.0.0.1", 61000))
    [(message, _)] = seen.messages
    assert message.headers.get("Via") == stamped


def test_udp_response_is_delivered_unstamped() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    data = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK1\r\n"
            b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
            b"Call-ID: r\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    reactor.udp_ports[0].receive(data, ("127.0.0.1", 5070))
    [(message, _)] = seen.messages
    assert isinstance(message, SipResponse) and bytes(message) == data


def test_udp_invalid_datagram_goes_to_on_invalid() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    data = options().replace(b"Content-Length: 0", b"Content-Length: 99")
    reactor.udp_ports[0].receive(data, ("127.0.0.1", 5070))
    assert seen.messages == []
    [(raw, error, source)] = seen.invalid
    assert raw == data
    assert str(error) == "Content-Length 99 is larger than the body (0 bytes)"
    assert source.remote == ("127.0.0.1", 5070)
    assert [entry.direction for entry in seen.log] == ["received"]


def test_udp_keepalives_and_stun_are_ignored() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    for data in (b"\r\n\r\n", b"\r\n", b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12)):
        reactor.udp_ports[0].receive(data, ("127.0.0.1", 5070))
    assert (seen.messages, seen.invalid, seen.log) == ([], [], [])


def test_a_failing_callback_does_not_break_the_layer(caplog: pytest.LogCaptureFixture) -> None:
    reactor = FakeReactor()
    calls = []

    def explode(message: Any, source: Any) -> None:
        calls.append(message)
        raise RuntimeError("boom")

    layer = TransportLayer(reactor, explode)
    layer.listen_udp("127.0.0.1", 5060)
    with caplog.at_level(logging.ERROR, logger="tui_phone.sip.transport"):
        reactor.udp_ports[0].receive(options(), ("127.0.0.1", 5070))
        reactor.udp_ports[0].receive(options(call_id="t-2"), ("127.0.0.1", 5070))
    assert len(calls) == 2
    assert "on_message failed" in caplog.text


def test_udp_send_picks_the_listener_of_the_family() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    layer.listen_udp("::1", 5060)
    reactor.advance(3)
    assert succeeded(layer.send(b"v4", Target("UDP", "127.0.0.1", 5070)))
    assert succeeded(layer.send(b"v6", Target("UDP", "[::1]", 5070)))
    assert reactor.udp_ports[0].sent == [(b"v4", ("127.0.0.1", 5070))]
    assert reactor.udp_ports[1].sent == [(b"v6", ("::1", 5070))]
    assert seen.log[1] == LoggedMessage("sent", "UDP", ("::1", 5060), ("::1", 5070), 3.0, b"v6")


class _Socket:
    """The socket under a real UDP port: records sendto, or fails with ``error``."""

    def __init__(self, error: OSError | None = None) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []
        self.error = error

    def sendto(self, data: bytes, address: tuple[str, int]) -> int:
        if self.error is not None:
            raise self.error
        self.sent.append((data, address))
        return len(data)


@pytest.mark.parametrize("error", [None, InterruptedError(4, "EINTR")])
def test_udp_sends_on_the_socket_and_leaves_errors_to_twisted(error: OSError | None) -> None:
    reactor, layer, seen = make_layer()
    sock = _Socket(error)
    listen = reactor.listenUDP

    def listen_with_socket(*args: Any, **kwargs: Any) -> Any:
        port = listen(*args, **kwargs)
        port.socket = sock  # what twisted.internet.udp.Port has
        return port

    reactor.listenUDP = listen_with_socket  # type: ignore[method-assign]
    layer.listen_udp("127.0.0.1", 5060)
    assert succeeded(layer.send(b"x", Target("UDP", "127.0.0.1", 5070)))
    # Straight to the socket; after an error, once more through Twisted's write.
    written = reactor.udp_ports[0].sent
    assert (sock.sent, written) == (([], [(b"x", ("127.0.0.1", 5070))]) if error
                                    else ([(b"x", ("127.0.0.1", 5070))], []))
    assert [entry.data for entry in seen.log] == [b"x"]


def test_udp_send_from_the_requested_local_address() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    layer.listen_udp("127.0.0.1", 5080)
    layer.send(b"x", Target("UDP", "127.0.0.1", 5070, local=("127.0.0.1", 5080)))
    assert reactor.udp_ports[1].sent == [(b"x", ("127.0.0.1", 5070))]


def test_udp_send_resolves_host_names() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    assert succeeded(layer.send(b"x", Target("UDP", "localhost", 5070)))
    assert reactor.udp_ports[0].sent == [(b"x", ("127.0.0.1", 5070))]


def test_udp_send_without_a_listener_raises() -> None:
    _, layer, _ = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    with pytest.raises(NoListenerError, match=r"^no UDP listener on IPv6 to send to ::1$"):
        layer.send(b"x", Target("UDP", "::1", 5070))


def test_unsupported_transport_raises() -> None:
    _, layer, _ = make_layer()
    with pytest.raises(TransportError, match=r"^unsupported transport 'SCTP'$"):
        layer.send(b"x", Target("SCTP", "127.0.0.1", 5070))


def test_udp_response_goes_per_18_2_2() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    reactor.udp_ports[0].receive(options(sent_by="10.1.1.1:4540"), ("127.0.0.1", 9988))
    [(request, source)] = seen.messages
    response = build_response(request, 200, to_tag="x")
    layer.send(response, response_target(response.via, source))
    assert reactor.udp_ports[0].sent == [(bytes(response), ("127.0.0.1", 9988))]


# -- streams: framing, stamping, responses on the same connection ---------------------------


def accept(reactor: FakeReactor, remote: tuple[str, int] = ("127.0.0.1", 49152),
           index: int = 0) -> tuple[Any, Any]:
    port = reactor.tcp_ports[index]
    local = (port.address.host, port.address.port)
    return connect_stream(port.factory, local, remote)


TWO = options("TCP", call_id="s-1") + options("TCP", call_id="s-2")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 200, len(TWO)])
def test_stream_frames_every_chunk_size(size: int) -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, _ = accept(reactor)
    for i in range(0, len(TWO), size):
        connection.dataReceived(TWO[i:i + size])
    assert [m.call_id for m, _ in seen.messages] == ["s-1", "s-2"]
    message, source = seen.messages[0]
    assert source == Source("TCP", ("127.0.0.1", 49152), ("127.0.0.1", 5060), 1)
    assert message.via.received == "127.0.0.1" and message.via.rport == 49152
    assert [entry.data for entry in seen.log] == [options("TCP", call_id="s-1"),
                                                  options("TCP", call_id="s-2")]


def test_response_goes_back_on_the_request_connection() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, transport = accept(reactor)
    connection.dataReceived(options("TCP", sent_by="pc33.example.com:5070"))
    [(request, source)] = seen.messages
    response = build_response(request, 200, to_tag="x")
    target = response_target(response.via, source)
    assert target == Target("TCP", "127.0.0.1", 5070, 1)
    assert succeeded(layer.send(response, target))
    assert transport.value() == bytes(response)
    assert reactor.tcpClients == []
    assert seen.log[-1].direction == "sent" and seen.log[-1].connection == 1


def test_an_incoming_connection_is_reused_for_new_requests() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    _, transport = accept(reactor, ("127.0.0.1", 49152))
    assert succeeded(layer.send(b"OPTIONS", Target("TCP", "127.0.0.1", 49152)))
    assert transport.value() == b"OPTIONS"
    assert reactor.tcpClients == []


def test_ping_is_answered_with_a_pong() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, transport = accept(reactor)
    connection.dataReceived(b"\r\n")
    connection.dataReceived(b"\r\n")  # a ping split in two still gets its pong
    connection.dataReceived(PING)
    assert transport.value() == PONG + PONG
    assert connection.pings_received == 2
    assert seen.log == []


def test_framing_error_closes_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, transport = accept(reactor)
    with caplog.at_level(logging.WARNING, logger="tui_phone.sip.transport"):
        connection.dataReceived(options("TCP").replace(b"Content-Length: 0", b"Content-Length: -5"))
    assert transport.disconnecting
    assert str(connection.framing_error) == "invalid Content-Length '-5'"
    assert "framing lost: invalid Content-Length '-5'" in caplog.text
    connection.dataReceived(options("TCP"))  # ignored: the stream is out of sync
    assert seen.messages == [] and seen.invalid == []


def test_framed_invalid_message_goes_to_on_invalid_and_the_connection_stays() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, transport = accept(reactor)
    bad = options("TCP").replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1)
    connection.dataReceived(bad + options("TCP", call_id="ok"))
    [(data, error, source)] = seen.invalid
    assert data == bad and error.status == 505 and source.connection == 1
    assert [m.call_id for m, _ in seen.messages] == ["ok"]
    assert not transport.disconnecting


def test_closed_connection_is_forgotten_and_the_response_reconnects() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    connection, _ = accept(reactor)
    connection.dataReceived(options("TCP", sent_by="127.0.0.1:5070"))
    [(request, source)] = seen.messages
    connection.connectionLost(Failure(ConnectionClosedError("gone")))
    assert layer.connections() == []
    response = build_response(request, 200, to_tag="x")
    sending = layer.send(response, response_target(response.via, source))
    [(host, port, factory, timeout, _)] = reactor.tcpClients
    assert (host, port, timeout) == ("127.0.0.1", 5070, 10.0)
    _, transport = connect_stream(factory, ("127.0.0.1", 40000), ("127.0.0.1", 5070))
    assert succeeded(sending)
    assert transport.value() == bytes(response)
    assert [(c.connection_id, c.outgoing) for c in layer.connections()] == [(2, True)]


# -- outgoing connections ----------------------------------------------------------------


def test_sends_wait_for_one_shared_connect() -> None:
    reactor, layer, _ = make_layer()
    first = layer.send(b"one", Target("TCP", "127.0.0.1", 5070))
    second = layer.send(b"two", Target("TCP", "127.0.0.1", 5070))
    assert len(reactor.tcpClients) == 1
    factory = reactor.tcpClients[0][2]
    _, transport = connect_stream(factory, ("127.0.0.1", 40000), ("127.0.0.1", 5070))
    assert succeeded(first) and succeeded(second)
    assert transport.value() == b"onetwo"
    layer.send(b"three", Target("TCP", "127.0.0.1", 5070))
    assert len(reactor.tcpClients) == 1 and transport.value() == b"onetwothree"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (ConnectionRefusedError(), "connection refused by TCP 127.0.0.1:5999"),
        (TimeoutError(), "timed out connecting to TCP 127.0.0.1:5999"),
    ],
)
def test_connect_failures(reason: Exception, message: str) -> None:
    reactor, layer, _ = make_layer()
    sending = layer.send(b"x", Target("TCP", "127.0.0.1", 5999))
    factory = reactor.tcpClients[0][2]
    factory.clientConnectionFailed(None, Failure(reason))
    error = failure_of(sending)
    assert type(error) is ConnectionFailedError
    assert str(error) == message


def test_tls_connects_through_a_tls_wrapper(tmp_path: Path) -> None:
    reactor, layer, _ = make_layer()
    pki = make_test_pki(tmp_path)
    layer.send(b"x", Target("TLS", "localhost", 5061), tls=TlsClientConfig(ca_file=pki.ca_cert))
    [(host, port, factory, _, _)] = reactor.tcpClients
    assert (host, port) == ("127.0.0.1", 5061)
    assert isinstance(factory, TLSMemoryBIOFactory)


def test_tls_handshake_failure_fails_the_send() -> None:
    reactor, layer, _ = make_layer()
    sending = layer.send(b"x", Target("TLS", "127.0.0.1", 5061))
    factory = reactor.tcpClients[0][2].wrappedFactory
    outcome: list[Any] = []
    sending.addBoth(lambda result: outcome.append(result) or result)
    connection, _ = connect_stream(factory, ("127.0.0.1", 40000), ("127.0.0.1", 5061))
    assert outcome == []  # TLS: ready only after the handshake
    ssl_error = type("Error", (Exception,), {})([("SSL routines", "", "certificate verify failed")])
    connection.connectionLost(Failure(ssl_error))
    error = failure_of(sending)
    assert type(error).__name__ == "TlsVerificationError"
    assert str(error) == "TLS verification of 127.0.0.1:5061 failed: certificate verify failed"


def test_describe_tls_failure() -> None:
    verification = type("VerificationError", (Exception,), {})("x")
    verification.errors = ["DNSMismatch(mismatched_id=DNS_ID(hostname=b'a.example'))"]
    assert describe_tls_failure(Failure(verification)) == (
        True,
        ("the certificate does not name the server: "
         "DNSMismatch(mismatched_id=DNS_ID(hostname=b'a.example'))"),
    )
    other = type("Error", (Exception,), {})([("SSL routines", "", "wrong version number")])
    assert describe_tls_failure(Failure(other)) == (False, "wrong version number")
    assert describe_tls_failure(Failure(ConnectionRefusedError())) == (
        False, str(ConnectionRefusedError()))


# -- keep-alives ---------------------------------------------------------------------------


def open_outgoing(reactor: FakeReactor, layer: TransportLayer) -> tuple[Any, Any]:
    layer.send(b"REGISTER", Target("TCP", "127.0.0.1", 5070))
    factory = reactor.tcpClients[-1][2]
    return connect_stream(factory, ("127.0.0.1", 40000), ("127.0.0.1", 5070))


def test_stream_keepalive_pings_when_idle_and_expects_pongs() -> None:
    reactor, layer, _ = make_layer()
    connection, transport = open_outgoing(reactor, layer)
    handle = layer.start_stream_keepalive(Target("TCP", "127.0.0.1", 5070), 30)
    transport.clear()
    reactor.advance(29.9)
    assert transport.value() == b""
    reactor.advance(0.1)
    assert transport.value() == PING
    connection.dataReceived(PONG)
    reactor.advance(30)
    assert transport.value() == PING + PING and not transport.disconnected
    connection.dataReceived(PONG)
    # Traffic postpones the next ping: sent at t=70, so no ping before t=100.
    reactor.advance(10)
    layer.send(b"MESSAGE", Target("TCP", "127.0.0.1", 5070))
    reactor.advance(29)
    assert transport.value().endswith(b"MESSAGE")
    reactor.advance(1)
    assert transport.value().endswith(b"MESSAGE" + PING)
    handle.stop()
    reactor.advance(100)
    assert transport.value().endswith(b"MESSAGE" + PING)
    assert [(c.pings_sent, c.pongs_received) for c in layer.connections()] == [(3, 2)]


def test_missing_pong_closes_the_flow(caplog: pytest.LogCaptureFixture) -> None:
    reactor, layer, _ = make_layer(pong_timeout=10)
    _, transport = open_outgoing(reactor, layer)
    layer.start_stream_keepalive(Target("TCP", "127.0.0.1", 5070), 30)
    with caplog.at_level(logging.WARNING, logger="tui_phone.sip.transport"):
        reactor.advance(30)
        reactor.advance(9.9)
        assert not transport.disconnected
        reactor.advance(0.1)
    assert transport.disconnected
    assert "no keep-alive pong" in caplog.text


def test_keepalive_registered_before_the_connection_applies_to_it() -> None:
    reactor, layer, _ = make_layer()
    layer.start_stream_keepalive(Target("TCP", "127.0.0.1", 5070), 5)
    _, transport = open_outgoing(reactor, layer)
    transport.clear()
    reactor.advance(5)
    assert transport.value() == PING


def test_incoming_keepalive_is_off_by_default_and_configurable() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    _, transport = accept(reactor)
    reactor.advance(3600)
    assert transport.value() == b""
    reactor, layer, _ = make_layer(incoming_keepalive=20)
    layer.listen_tcp("127.0.0.1", 5060)
    _, transport = accept(reactor)
    reactor.advance(20)
    assert transport.value() == PING


def test_udp_keepalive_sends_crlf_datagrams_until_stopped() -> None:
    reactor, layer, seen = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    handle = layer.start_udp_keepalive(Target("UDP", "127.0.0.1", 5070), 15)
    reactor.advance(14)
    assert reactor.udp_ports[0].sent == []
    reactor.advance(1)
    reactor.advance(15)
    assert reactor.udp_ports[0].sent == [(PING, ("127.0.0.1", 5070))] * 2
    assert handle.active
    handle.stop()
    handle.stop()
    reactor.advance(60)
    assert len(reactor.udp_ports[0].sent) == 2 and not handle.active
    assert seen.log == []  # keep-alives are not SIP messages


def test_keepalive_targets_must_match_the_kind() -> None:
    _, layer, _ = make_layer()
    with pytest.raises(TransportError, match=r"^UDP keep-alive needs a UDP target, not TCP$"):
        layer.start_udp_keepalive(Target("TCP", "127.0.0.1", 5070), 15)
    with pytest.raises(TransportError, match=r"^stream keep-alive needs a TCP or TLS target, not UDP$"):
        layer.start_stream_keepalive(Target("UDP", "127.0.0.1", 5070), 15)


# -- stopping ------------------------------------------------------------------------------


def test_stop_closes_everything() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_udp("127.0.0.1", 5060)
    layer.listen_tcp("127.0.0.1", 5060)
    connection, transport = accept(reactor)
    pending = layer.send(b"x", Target("TCP", "127.0.0.1", 5999))
    keepalive = layer.start_udp_keepalive(Target("UDP", "127.0.0.1", 5070), 15)
    stream_keepalive = layer.start_stream_keepalive(Target("TCP", "127.0.0.1", 49152), 15)
    stopping = layer.stop()
    assert not stopping.called  # waits for the connection to close
    assert transport.disconnecting
    connection.connectionLost(Failure(ConnectionClosedError("closed")))
    assert succeeded(stopping)
    assert str(failure_of(pending)) == "the transport layer stopped"
    assert not keepalive.active and not stream_keepalive.active
    assert not any(p.listening for p in reactor.udp_ports + reactor.tcp_ports)
    assert layer.listeners == [] and layer.connections() == []
    with pytest.raises(TransportError, match=r"^the transport layer is stopped$"):
        layer.send(b"x", Target("UDP", "127.0.0.1", 5070))


def test_close_aborts_after_the_grace_period() -> None:
    reactor, layer, _ = make_layer()
    layer.listen_tcp("127.0.0.1", 5060)
    _, transport = accept(reactor)
    layer.close_connection(1)
    assert transport.disconnecting and not transport.disconnected
    reactor.advance(2)
    assert transport.disconnected


# -- TLS options and test certificates -------------------------------------------------


def test_tls_client_options(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pki = make_test_pki(tmp_path)
    verifying = client_tls_options("localhost", TlsClientConfig(ca_file=pki.ca_cert))
    assert type(verifying).__name__ == "ClientTLSOptions"
    assert verifying._hostname == "localhost"
    named = client_tls_options("127.0.0.1", TlsClientConfig(ca_file=pki.ca_cert, server_name="sip.example.com"))
    assert named._hostname == "sip.example.com"
    with caplog.at_level(logging.WARNING, logger="tui_phone.sip.transport"):
        unverified = client_tls_options("127.0.0.1", TlsClientConfig(verify=False))
    assert type(unverified).__name__ == "OpenSSLCertificateOptions" and not unverified.verify
    assert "TLS certificate verification is off for 127.0.0.1" in caplog.text
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(ValueError, match=r"^no PEM certificate in "):
        client_tls_options("localhost", TlsClientConfig(ca_file=empty))


def test_server_tls_options_and_test_pki(tmp_path: Path) -> None:
    from cryptography import x509

    pki = make_test_pki(tmp_path / "pki")
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    rogue = x509.load_pem_x509_certificate(pki.rogue_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    rogue.verify_directly_issued_by(rogue)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert server_tls_options(pki.server_cert, pki.server_key).certificate is not None


# -- real reactor on loopback (one interpreter per scenario) ---------------------------------


def _ipv6_loopback() -> bool:
    try:
        output = subprocess.run(["ip", "-6", "addr", "show", "lo"], capture_output=True,
                                text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "inet6 ::1/128" in output


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="::1 is not configured on lo")
needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")


@pytest.mark.parametrize("reactor", ["asyncio", "default"])
def test_real_udp_request_response_with_rport(reactor: str) -> None:
    result = run_scenario("udp_request_response", reactor=reactor)
    a_port = result["a"][1]
    assert result["stamped_via"] == (
        f"SIP/2.0/UDP localhost:9;rport={a_port};branch=z9hG4bK-udp-1;received=127.0.0.1")
    assert result["target"] == ["UDP", "127.0.0.1", a_port]
    assert result["response_status"] == 200
    assert result["response_via"] == result["stamped_via"]
    assert result["a_log"] == [["sent", "UDP", result["a"], result["b"]],
                               ["received", "UDP", result["a"], result["b"]]]
    assert result["log_bytes_match"]
    expected = "asyncioreactor" if reactor == "asyncio" else "reactor"
    assert expected in result["reactor"]


@needs_ipv6
def test_real_udp_over_ipv6() -> None:
    result = run_scenario("udp_request_response", {"host": "::1", "sent_by": "[::1]:9"})
    a_port = result["a"][1]
    assert result["a"][0] == result["b"][0] == "::1"
    assert result["stamped_via"] == (
        f"SIP/2.0/UDP [::1]:9;rport={a_port};branch=z9hG4bK-udp-1;received=::1")
    assert result["target"] == ["UDP", "::1", a_port]
    assert result["response_status"] == 200


def test_real_udp_keepalive() -> None:
    result = run_scenario("udp_keepalive")
    assert result["datagrams"][:3] == ["\r\n\r\n"] * 3
    assert result["after_stop"] == result["at_stop"] and not result["active"]


@pytest.mark.parametrize("reactor", ["asyncio", "default"])
def test_real_tcp_connection_reuse(reactor: str) -> None:
    result = run_scenario("tcp_reuse", reactor=reactor)
    first = result["first"]
    # The response travels back on the request's connection ...
    assert first["b_source_connection"] == first["target_connection"] == 1
    assert first["a_response_connection"] == 1 and first["status"] == 200
    # ... the next request reuses it, and so does a request the other way.
    assert result["second"] == {"b_source_connection": 1, "a_response_connection": 1}
    assert result["reverse"] == {"a_source_connection": 1, "method": "OPTIONS"}
    assert result["connections_before_close"] == {"a": [[1, True]], "b": [[1, False]]}
    # RFC 3261 18.2.2: once it is closed, B connects to A's sent-by.
    fallback = result["fallback"]
    assert fallback["target"] == ["TCP", "127.0.0.1", result["a_addr"][1], 1]
    assert fallback["a_connections"] == [[2, False, result["a_addr"]]]
    assert fallback["a_response_connection"] == 2 and fallback["status"] == 200
    assert result["after_stop"] == [0, 0]


def test_real_tcp_one_byte_writes() -> None:
    result = run_scenario("tcp_split")
    assert result["method"] == "OPTIONS" and result["call_id"] == "tcp-1"
    assert ";received=127.0.0.1" in result["stamped_via"]
    assert result["response"].startswith("SIP/2.0 200 OK\r\n")


def test_real_tcp_ping_pong_and_keepalive() -> None:
    result = run_scenario("tcp_ping")
    assert result["raw_pong"] == "\r\n"
    assert result["pongs_received"] >= 2 and result["pings_sent"] >= result["pongs_received"]


def test_real_tcp_framing_error_closes_the_connection() -> None:
    result = run_scenario("tcp_framing_error")
    assert result["invalid_reason"] == "SIP version 'SIP/3.0' is not supported"
    assert result["invalid_status"] == 505 and result["invalid_transport"] == "TCP"
    assert result["open_after_invalid"] == 1
    assert result["closed"] and result["messages"] == 0


def test_real_connection_refused() -> None:
    result = run_scenario("connect_refused")
    port = result["port"]
    assert result["TCP"] == ["ConnectionFailedError", f"connection refused by TCP 127.0.0.1:{port}"]
    assert result["TLS"] == ["ConnectionFailedError", f"connection refused by TLS 127.0.0.1:{port}"]


@pytest.mark.parametrize(
    "args",
    [{}, {"host": "localhost"}, pytest.param({"listen": "::1"}, marks=needs_ipv6)],
    ids=["ip", "hostname", "ipv6"],
)
def test_real_tls_with_the_test_ca(args: dict[str, str]) -> None:
    result = run_scenario("tls", args)
    assert result["source_transport"] == "TLS" and result["status"] == 200
    assert result["same_connection"]
    assert ";received=" in result["stamped_via"]


def test_real_tls_self_signed_certificate_is_refused() -> None:
    result = run_scenario("tls", {"cert": "rogue"})
    assert result["error_type"] == "TlsVerificationError"
    assert result["error_message"] == (
        f"TLS verification of 127.0.0.1:{result['b'][1]} failed: certificate verify failed")


def test_real_tls_name_mismatch_is_refused() -> None:
    result = run_scenario("tls", {"server_name": "sip.example.com"})
    assert result["error_type"] == "TlsVerificationError"
    assert result["error_message"].startswith(
        f"TLS verification of sip.example.com (127.0.0.1:{result['b'][1]}) failed: "
        "the certificate does not name the server: DNSMismatch")


def test_real_tls_without_verification_accepts_the_self_signed_certificate() -> None:
    result = run_scenario("tls", {"cert": "rogue", "verify": False})
    assert result["source_transport"] == "TLS" and result["status"] == 200


@needs_sipp
def test_sipp_builtin_uac_calls_the_tiny_uas() -> None:
    result = run_scenario("sipp_uac", {"scenario": "builtin"}, timeout=90)
    assert result["sipp_rc"] == 0, result["sipp_errors"]
    assert [m["method"] for m in result["seen"]] == ["INVITE", "ACK", "BYE"]
    sipp = ["127.0.0.1", result["sipp_port"]]
    assert all(m["source"] == sipp for m in result["seen"])
    assert [(s["status"], s["method"]) for s in result["sent"]] == [
        (180, "INVITE"), (200, "INVITE"), (200, "BYE")]
    assert all(s["target"] == ["UDP", *sipp] for s in result["sent"])
    assert result["send_errors"] == [] and result["invalid"] == []


@needs_sipp
def test_sipp_with_rport_and_a_wrong_sent_by_gets_its_responses() -> None:
    # sipp's Via says localhost:9;rport: only received+rport routing reaches it,
    # and sipp checks (ereg) that its 200 OK carries received=127.0.0.1 and rport.
    result = run_scenario("sipp_uac", {"scenario": "rport"}, timeout=90)
    assert result["sipp_rc"] == 0, result["sipp_errors"]
    port = result["sipp_port"]
    invite = result["seen"][0]
    assert invite["via"].startswith(f"SIP/2.0/UDP localhost:9;rport={port};branch=")
    assert invite["via"].endswith(";received=127.0.0.1")
    assert all(s["target"] == ["UDP", "127.0.0.1", port] for s in result["sent"])
