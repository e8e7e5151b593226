"""RtpPortPool on a fake reactor: pairs bound ahead, refilled after a take, never a crash
when the range is full, and every socket closed."""

from __future__ import annotations

import random
from typing import Any

import pytest
from twisted.internet.error import CannotListenError

from tui_phone.rtp.portpool import RtpPortPool, open_session
from tui_phone.rtp.session import RtpSession, RtpSessionError
from tui_phone.testing.fakereactor import FakeReactor, FakeUdpPort

HOST = "127.0.0.1"


class Ports(FakeReactor):
    """A fake reactor that refuses a port already bound, like the kernel."""

    def listenUDP(self, port: int, protocol: Any, interface: str = "",
                  maxPacketSize: int = 8192) -> FakeUdpPort:
        if any(p.listening and p.getHost().port == port for p in self.udp_ports):
            raise CannotListenError(interface, port, OSError(98, "Address already in use"))  # type: ignore[no-untyped-call]
        return super().listenUDP(port, protocol, interface, maxPacketSize)

    def bound(self) -> list[int]:
        return sorted(p.getHost().port for p in self.udp_ports if p.listening)


def pool(reactor: Ports, port_range: tuple[int, int] = (20000, 20100),
         size: int = 2) -> RtpPortPool[RtpSession]:
    rng = random.Random(7)
    return RtpPortPool(reactor, lambda: open_session(reactor, HOST, port_range, rng=rng),
                       size=size)


def pair(session: RtpSession) -> tuple[int, int]:
    assert session.local_rtp is not None and session.local_rtcp is not None
    return session.local_rtp[1], session.local_rtcp[1]


def test_fill_binds_even_odd_pairs_in_the_range() -> None:
    reactor = Ports()
    ports = pool(reactor, (20000, 20100), size=3)
    ports.fill()
    assert len(ports) == 3 and len(reactor.bound()) == 6
    for session in [ports.take() for _ in range(3)]:
        rtp, rtcp = pair(session)
        assert rtp % 2 == 0 and rtcp == rtp + 1 and 20000 <= rtp and rtcp <= 20100


def test_take_binds_nothing_and_refill_soon_refills_on_the_next_turn() -> None:
    reactor = Ports()
    ports = pool(reactor)
    ports.fill()
    ports.refill_soon()
    assert not reactor.getDelayedCalls()  # full: nothing to do
    before = reactor.bound()
    taken = ports.take()
    assert reactor.bound() == before  # the INVITE path binds no socket
    assert pair(taken)[0] in before and len(ports) == 1
    assert not reactor.getDelayedCalls()  # not even a timer on that path
    ports.take()
    ports.refill_soon()
    ports.refill_soon()
    assert len(reactor.getDelayedCalls()) == 1  # one refill, at once
    reactor.advance(0)
    assert len(ports) == 2 and len(reactor.bound()) == 8


def test_an_empty_pool_opens_a_session_on_the_spot() -> None:
    reactor = Ports()
    ports = pool(reactor)  # never filled
    rtp, rtcp = pair(ports.take())
    assert reactor.bound() == [rtp, rtcp]


def test_a_full_range_refuses_with_an_error_not_a_crash() -> None:
    reactor = Ports()
    ports = pool(reactor, (20000, 20001))  # room for one pair
    ports.fill()
    assert len(ports) == 1  # the second pair did not fit: no error
    first = ports.take()
    ports.refill_soon()
    reactor.advance(0)  # the refill finds the range full and gives up quietly
    assert len(ports) == 0
    with pytest.raises(RtpSessionError, match="no free RTP port pair"):
        ports.take()
    first.close()  # the call ends: its pair is free again
    assert reactor.bound() == []
    assert pair(ports.take()) == (20000, 20001)


def test_the_sessions_sockets_close_when_the_call_ends_and_at_pool_close() -> None:
    reactor = Ports()
    ports = pool(reactor)
    ports.fill()
    taken = ports.take()
    rtp, rtcp = pair(taken)
    taken.close()
    assert rtp not in reactor.bound() and rtcp not in reactor.bound()
    ports.refill_soon()
    closed = ports.close()
    assert reactor.bound() == [] and len(ports) == 0
    assert closed.called
    assert not reactor.getDelayedCalls()  # the pending refill was cancelled
    with pytest.raises(RtpSessionError, match="closed"):
        ports.take()


def test_size_zero_binds_only_on_demand() -> None:
    reactor = Ports()
    ports = pool(reactor, size=0)
    ports.fill()
    assert reactor.bound() == []
    ports.take()
    ports.refill_soon()
    assert len(reactor.bound()) == 2 and not reactor.getDelayedCalls()
    with pytest.raises(ValueError, match="negative"):
        pool(reactor, size=-1)
