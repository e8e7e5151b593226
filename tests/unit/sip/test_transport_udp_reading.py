"""On Twisted's asyncio reactor the SIP UDP socket is read by the asyncio loop
straight (UdpEndpoint.read_directly): datagrams arrive, several at once too,
and stopping the layer gives the descriptor back before the socket closes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.asyncioreactor import AsyncioSelectorReactor

from tui_phone.sip.message import SipRequest, SipResponse
from tui_phone.sip.routing import Source
from tui_phone.sip.transport import TransportLayer

OPTIONS = (b"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-%d\r\n"
           b"From: <sip:alice@127.0.0.1>;tag=a\r\nTo: <sip:bob@127.0.0.1>\r\n"
           b"Call-ID: read-%d@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
           b"Content-Length: 0\r\n\r\n")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run_until(loop: asyncio.AbstractEventLoop, done: Any, timeout: float = 5.0) -> None:
    async def wait() -> None:
        deadline = loop.time() + timeout
        while not done() and loop.time() < deadline:
            await asyncio.sleep(0.005)

    loop.run_until_complete(wait())


def test_datagrams_are_read_by_the_loop_and_reading_stops_with_the_layer(
        loop: asyncio.AbstractEventLoop) -> None:
    reactor = AsyncioSelectorReactor(loop)
    received: list[tuple[SipRequest | SipResponse, Source]] = []
    layer = TransportLayer(reactor, lambda message, source: received.append((message, source)))
    host, port = layer.listen_udp("127.0.0.1", 0)
    [listening] = [item.listening_port for item in layer.listeners]
    fd = listening.socket.fileno()
    assert listening not in reactor.getReaders()  # Twisted no longer reads it...
    assert fd in loop._selector.get_map()  # type: ignore[attr-defined]  # ...the loop does
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    try:
        for number in range(3):  # three in the socket before one wake-up
            peer.sendto(OPTIONS % (number, number), (host, port))
        run_until(loop, lambda: len(received) == 3)
        assert [m.call_id for m, _ in received] == [f"read-{n}@test" for n in range(3)]
        assert received[0][1].remote == peer.getsockname()
        stopped = layer.stop()
        run_until(loop, lambda: stopped.called)
        assert stopped.called
        assert fd not in loop._selector.get_map()  # type: ignore[attr-defined]
        assert not hasattr(listening, "socket")  # closed by the port, after we let go
    finally:
        peer.close()


def test_a_handler_that_fails_does_not_stop_the_reading(loop: asyncio.AbstractEventLoop) -> None:
    reactor = AsyncioSelectorReactor(loop)
    seen: list[str | None] = []

    def on_message(message: SipRequest | SipResponse, source: Source) -> None:
        seen.append(message.call_id)
        raise RuntimeError("a bug above the transport")

    layer = TransportLayer(reactor, on_message)
    host, port = layer.listen_udp("127.0.0.1", 0)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        peer.sendto(OPTIONS % (1, 1), (host, port))
        peer.sendto(b"\x00garbage", (host, port))
        peer.sendto(OPTIONS % (2, 2), (host, port))
        run_until(loop, lambda: len(seen) == 2)
        assert seen == ["read-1@test", "read-2@test"]
        stopped = layer.stop()
        run_until(loop, lambda: stopped.called)
    finally:
        peer.close()


def test_udp_source_is_the_dataclass_made_the_usual_way() -> None:
    from tui_phone.sip.routing import UDP, udp_source

    made = udp_source(("127.0.0.1", 5099), ("127.0.0.1", 5060))
    assert made == Source(UDP, ("127.0.0.1", 5099), ("127.0.0.1", 5060))
    assert hash(made) == hash(Source(UDP, ("127.0.0.1", 5099), ("127.0.0.1", 5060)))
    assert not made.reliable and made.connection is None
