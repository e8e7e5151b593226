"""tui_phone.rtp.ticker: the pacers, and the RTP socket read on the tick.

The poller runs on real UDP sockets on 127.0.0.1 (loopback delivers a
datagram during the sender's ``sendto``, so a drain right after it finds
it); the Twisted port around the socket is a small stand-in.  Every drain
test runs twice: on the C drainer (``_crecv.c``, which the test machine
builds) and on the Python loop it replaces, the reference.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from twisted.internet.task import Clock

from tui_phone.rtp import ticker
from tui_phone.rtp.ticker import (
    MAX_DATAGRAMS_PER_TICK,
    AsyncioPacer,
    DatagramPoller,
    ReactorPacer,
    pacer_for,
)

HOST = "127.0.0.1"


class StandInPort:
    """What the poller uses of a Twisted ``udp.Port``: its socket and reading switch."""

    def __init__(self, family: int = socket.AF_INET, host: str = HOST) -> None:
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        self.socket.bind((host, 0))
        self.socket.setblocking(False)
        self.connected = True
        self.reading = True

    def stopReading(self) -> None:  # noqa: N802 - Twisted's name
        self.reading = False

    def startReading(self) -> None:  # noqa: N802 - Twisted's name
        self.reading = True

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return host, port


@pytest.fixture(params=["c", "python"])
def implementation(request: pytest.FixtureRequest) -> str:
    if request.param == "c":
        assert ticker.Drainer is not None, "the C drainer is not built (tests/unit/rtp/test_speedups.py)"
    return str(request.param)


@pytest.fixture
def port() -> Iterator[StandInPort]:
    stand_in = StandInPort()
    yield stand_in
    stand_in.socket.close()


@pytest.fixture
def peer() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    yield sock
    sock.close()


Received = list[tuple[bytes, tuple[str, int], float | None]]
Attach = Callable[..., tuple[DatagramPoller, Received]]


@pytest.fixture
def attach(implementation: str) -> Attach:
    """Attach a poller to a port, reading in C or in Python as the test runs."""

    def attach(port: StandInPort, handler: Callable[..., None] | None = None) -> tuple[DatagramPoller, Received]:
        received: Received = []
        poller = DatagramPoller.attach(
            port, handler or (lambda data, source, at: received.append((data, source, at))), 2048)
        assert poller is not None
        if implementation == "python":
            poller._drainer = None
            poller.__dict__.pop("drain", None)  # the C drainer's, set on the poller
            poller.__dict__.pop("sendto", None)
        else:
            assert poller._drainer is not None
        return poller, received

    return attach


def test_attach_takes_reading_from_the_reactor_and_detach_gives_it_back(attach: Attach, port: StandInPort) -> None:
    poller, _ = attach(port)
    assert not port.reading and poller.polling
    poller.detach()
    assert port.reading and not poller.polling
    assert poller.drain() == 0


def test_detach_leaves_a_closed_port_alone(attach: Attach, port: StandInPort) -> None:
    poller, _ = attach(port)
    port.connected = False  # stopListening ran meanwhile
    poller.detach()
    assert not port.reading


def test_a_port_without_a_real_socket_is_not_polled() -> None:
    class Fake:
        socket = None

    assert DatagramPoller.attach(Fake(), lambda *args: None, 2048) is None


def test_drain_hands_over_every_waiting_datagram_with_its_kernel_arrival_time(
    attach: Attach, port: StandInPort, peer: socket.socket
) -> None:
    poller, received = attach(port)
    assert poller.drain() == 0
    before = time.time()
    for index in range(3):
        peer.sendto(bytes([index]) * 20, port.address)
    after = time.time()
    time.sleep(0.01)  # read later than they arrived: the arrival times must not move
    assert poller.drain() == 3
    assert [data for data, _, _ in received] == [bytes([k]) * 20 for k in range(3)]
    assert all(source == peer.getsockname() for _, source, _ in received)
    arrivals = [at for _, _, at in received]
    assert all(at is not None and before - 0.001 <= at <= after + 0.001 for at in arrivals)
    assert arrivals == sorted(arrivals)
    assert poller.drain() == 0


def test_drain_reads_at_most_a_bounded_number_per_tick(attach: Attach, port: StandInPort, peer: socket.socket) -> None:
    poller, received = attach(port)
    for _ in range(MAX_DATAGRAMS_PER_TICK + 5):
        peer.sendto(b"x", port.address)
    assert poller.drain() == MAX_DATAGRAMS_PER_TICK
    assert poller.drain() == 5
    assert len(received) == MAX_DATAGRAMS_PER_TICK + 5


def test_a_datagram_without_a_timestamp_hands_reading_back_to_the_reactor(
    attach: Attach, port: StandInPort, peer: socket.socket
) -> None:
    poller, received = attach(port)
    # As if the kernel gave no timestamp: switch the option off again.
    port.socket.setsockopt(socket.SOL_SOCKET, ticker._SO_TIMESTAMPNS, 0)  # type: ignore[arg-type]
    peer.sendto(b"one", port.address)
    peer.sendto(b"two", port.address)
    assert poller.drain() == 1
    assert received == [(b"one", peer.getsockname(), None)]
    assert port.reading and not poller.polling
    assert poller.drain() == 0  # the reactor reads "two"


def test_drain_stops_when_the_handler_stops_the_stream(attach: Attach, port: StandInPort, peer: socket.socket) -> None:
    got: list[bytes] = []

    def handler(data: bytes, source: tuple[str, int], at: float | None) -> None:
        got.append(data)
        poller.detach()  # as RtpSession.stop_sending does from a frame callback

    poller, _ = attach(port, handler)
    peer.sendto(b"one", port.address)
    peer.sendto(b"two", port.address)
    assert poller.drain() == 1
    assert got == [b"one"] and port.reading


def test_a_queued_socket_error_ends_the_drain_quietly(attach: Attach, port: StandInPort) -> None:
    poller, received = attach(port)
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind((HOST, 0))
    nobody = closed.getsockname()
    closed.close()
    port.socket.sendto(b"x", nobody)  # the ICMP port unreachable comes back as ECONNREFUSED
    time.sleep(0.01)
    assert poller.drain() == 0
    assert received == [] and poller.polling
    assert poller.drain() == 0  # the error was read once


@pytest.fixture
def port6() -> Iterator[StandInPort]:
    stand_in = StandInPort(socket.AF_INET6, "::1")
    yield stand_in
    stand_in.socket.close()


@pytest.fixture
def peer6() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::1", 0))
    yield sock
    sock.close()


def test_drain_gives_an_ipv6_source_as_host_and_port(attach: Attach, port6: StandInPort,
                                                     peer6: socket.socket) -> None:
    poller, received = attach(port6)
    peer6.sendto(b"six", port6.address)
    peer6.sendto(b"again", port6.address)
    assert poller.drain() == 2
    assert [(data, source) for data, source, _ in received] == [
        (b"six", ("::1", peer6.getsockname()[1])), (b"again", ("::1", peer6.getsockname()[1]))]
    assert all(at is not None for _, _, at in received)


def test_the_c_drainer_hands_over_what_the_python_loop_does(port: StandInPort, peer: socket.socket) -> None:
    """The same datagrams (sizes up to the bound, one longer: truncated) through both."""
    if ticker.Drainer is None:
        pytest.fail("the C drainer is not built (tests/unit/rtp/test_speedups.py)")
    results = []
    for use_c in (True, False):
        received: Received = []
        poller = DatagramPoller.attach(port, lambda data, source, at: received.append((data, source, at)), 2048)
        assert poller is not None
        if not use_c:
            poller._drainer = None
            del poller.drain  # (the C drainer's, set on the poller)
        for size in (0, 1, 12, 172, 2048, 3000):
            peer.sendto(bytes(range(256)) * (size // 256) + bytes(size % 256), port.address)
        assert poller.drain() == 6
        poller.detach()
        results.append([(data, source) for data, source, _ in received])
    assert results[0] == results[1]
    assert [len(data) for data, _ in results[0]] == [0, 1, 12, 172, 2048, 2048]


def test_sendto_sends_to_an_ip_literal_and_refuses_a_host_name(attach: Attach, port: StandInPort, peer: socket.socket) -> None:
    poller, _ = attach(port)
    poller.sendto(b"hello", peer.getsockname())
    assert peer.recvfrom(100) == (b"hello", port.address)
    with pytest.raises(OSError, match="'localhost' is not an IP address of the socket's family"):
        poller.sendto(b"hello", ("localhost", 9))
    with pytest.raises(OSError, match="'::1' is not an IP address"):
        poller.sendto(b"hello", ("::1", 9))
    with pytest.raises(OverflowError):
        poller.sendto(b"hello", (HOST, 70000))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((HOST, 0))
    try:  # the same destination again (kept), another one, back to the first, a bytes-like payload
        for target, data in ((peer, b"again"), (other, b"other"), (peer, bytearray(b"back"))):
            poller.sendto(data, target.getsockname())
            assert target.recvfrom(100) == (bytes(data), port.address)
    finally:
        other.close()


def test_sendto_over_ipv6(attach: Attach, port6: StandInPort, peer6: socket.socket) -> None:
    poller, _ = attach(port6)
    poller.sendto(b"six", ("::1", peer6.getsockname()[1]))
    assert peer6.recvfrom(100)[0] == b"six"
    with pytest.raises(OSError, match="'127.0.0.1' is not an IP address"):
        poller.sendto(b"four", (HOST, 9))


def test_reactor_pacer_sets_a_delayed_call_a_hair_before_the_due_time() -> None:
    clock = Clock()
    clock.advance(100.0)
    pacer = ReactorPacer(clock)
    fired: list[float] = []
    pacer.call_at(100.02, lambda: fired.append(pacer.now()))
    clock.advance(0.02)
    assert fired == [pytest.approx(100.02)]
    assert not ReactorPacer.polls


def test_pacer_for_picks_the_asyncio_loop_of_twisteds_asyncio_reactor() -> None:
    clock = Clock()
    assert isinstance(pacer_for(clock), ReactorPacer)
    clock._asyncioEventloop = object()  # type: ignore[attr-defined]
    assert isinstance(pacer_for(clock), AsyncioPacer)
    assert AsyncioPacer.polls  # (the pacer itself: test_session's asyncio reactor test)
