"""RtpSession on a fake reactor: ports, pacing, latching, counters, RTCP, SRTP.

No sockets: :class:`Network` binds fake UDP ports on a
``MemoryReactorClock`` and carries datagrams between them when told to, so
every timer is driven by advancing the clock.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from twisted.internet.error import CannotListenError

from tui_phone.rtp.dtmf import DtmfDigit
from tui_phone.rtp.jitterbuffer import JitterBuffer
from tui_phone.rtp.packet import RtpPacket
from tui_phone.rtp.rtcp import (
    RtcpGoodbye,
    RtcpReceiverReport,
    RtcpSenderReport,
    RtcpSourceDescription,
    parse_compound,
)
from tui_phone.rtp.rtcp_timer import COMPENSATION
from tui_phone.rtp.session import PACING_EARLY_WAKE, RtpSession, RtpSessionError
from tui_phone.rtp.srtp import (
    AES_CM_128_HMAC_SHA1_32,
    SrtpContext,
    make_crypto_attribute,
)
from tui_phone.testing.fakereactor import FakeReactor, FakeUdpPort


pytestmark = pytest.mark.usefixtures("tick_implementation")  # (conftest.py: on the C tick and in Python)


HOST = "127.0.0.1"
T0 = 1_700_000_000.0
PTIME = 0.02
FAR = (HOST, 7000)  # where a peer is signalled; nothing is bound there


class Network(FakeReactor):
    """Fake reactor whose bound ports can be busy, with a datagram pump."""

    def __init__(self) -> None:
        super().__init__()
        self.busy: set[int] = set()
        self._delivered: dict[int, int] = {}  # id(port) -> datagrams carried so far
        self.advance(T0)

    def listenUDP(self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192) -> FakeUdpPort:
        if port in self.busy or any(p.listening and p.getHost().port == port for p in self.udp_ports):
            raise CannotListenError(interface, port, OSError(98, "Address already in use"))  # type: ignore[no-untyped-call]
        return super().listenUDP(port, protocol, interface, maxPacketSize)

    def port(self, number: int) -> FakeUdpPort:
        return next(p for p in self.udp_ports if p.listening and p.getHost().port == number)

    def deliver(self) -> int:
        """Carry the datagrams written since the last call to the ports they are for.

        ``port.sent`` keeps every datagram, for the tests to inspect.
        """
        moved = 0
        for port in list(self.udp_ports):
            start = self._delivered.get(id(port), 0)
            sent = port.sent[start:]
            self._delivered[id(port)] = start + len(sent)
            source = (HOST, port.getHost().port)
            for data, address in sent:
                targets = [p for p in self.udp_ports if p.listening and p.getHost().port == address[1]]
                for target in targets:
                    target.receive(data, source)
                    moved += 1
        return moved

    def run_for(self, seconds: float, step: float = PTIME) -> None:
        for _ in range(round(seconds / step)):
            self.advance(step)
            self.deliver()


class SeqNearWrap(random.Random):
    """A seeded RNG whose 16-bit draws (the first sequence number) are 65530."""

    def getrandbits(self, k: int) -> int:
        return 65530 if k == 16 else super().getrandbits(k)


def _session(net: Network, seed: int = 1, **kwargs: Any) -> RtpSession:
    session = RtpSession(net, rng=random.Random(seed), **kwargs)
    session.open(HOST, (20000, 20100))
    session.configure_receive([0], 8000, telephone_event_pt=101, codec_name="PCMU")
    return session


def _frames() -> Any:
    count = 0

    def source() -> bytes:
        nonlocal count
        count += 1
        return count.to_bytes(2, "big") * 80

    return source


def _sent_rtp(net: Network, session: RtpSession) -> list[RtpPacket]:
    assert session.local_rtp is not None
    return [RtpPacket.parse(data) for data, _ in net.port(session.local_rtp[1]).sent]


def _pair(net: Network, **kwargs: Any) -> tuple[RtpSession, RtpSession]:
    alice, bob = _session(net, 1, **kwargs), _session(net, 2, **kwargs)
    assert alice.local_rtp is not None and bob.local_rtp is not None
    alice.set_remote(bob.local_rtp)
    bob.set_remote(alice.local_rtp)
    return alice, bob


# -- ports --------------------------------------------------------------------------


def test_open_binds_an_even_port_and_the_next_odd_one() -> None:
    net = Network()
    session = RtpSession(net, rng=random.Random(3))
    rtp, rtcp = session.open(HOST, (20000, 30000))
    assert rtp % 2 == 0 and rtcp == rtp + 1 and 20000 <= rtp < 30000
    assert session.local_rtp == (HOST, rtp) and session.local_rtcp == (HOST, rtcp)


def test_open_skips_ports_in_use() -> None:
    net = Network()
    net.busy = {20000, 20003}  # 20000 taken; 20002 free but its RTCP port 20003 taken
    session = RtpSession(net, rng=random.Random(3))
    assert session.open(HOST, (20000, 20005)) == (20004, 20005)
    assert not net.port(20004).getHost().port % 2
    assert all(p.getHost().port != 20002 for p in net.udp_ports if p.listening)  # released


def test_open_fails_when_every_pair_is_taken() -> None:
    net = Network()
    net.busy = {20000, 20002}
    session = RtpSession(net, rng=random.Random(3))
    with pytest.raises(RtpSessionError) as error:
        session.open(HOST, (20000, 20003))
    assert str(error.value) == "no free RTP port pair on 127.0.0.1 in 20000-20003 after 2 attempts"


def test_open_refuses_an_empty_range() -> None:
    with pytest.raises(RtpSessionError, match=r"^port range 20001-20001 holds no even/odd port pair$"):
        RtpSession(Network(), rng=random.Random(1)).open(HOST, (20001, 20001))


def test_rtcp_mux_binds_one_port() -> None:
    net = Network()
    session = RtpSession(net, rng=random.Random(3), rtcp_mux=True)
    rtp, rtcp = session.open(HOST, (20000, 20010))
    assert rtp == rtcp and rtp % 2 == 0
    assert len([p for p in net.udp_ports if p.listening]) == 1


def test_open_twice_is_an_error() -> None:
    session = _session(Network())
    with pytest.raises(RtpSessionError, match=r"^RTP session is already open$"):
        session.open()


# -- pacing ---------------------------------------------------------------------------


def test_one_packet_per_ptime_with_timestamps_from_the_sample_count() -> None:
    net = Network()
    session = _session(net)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(1.0)
    packets = _sent_rtp(net, session)
    assert len(packets) == 51  # t = 0, 0.02, ..., 1.0
    first = packets[0]
    assert [p.timestamp - first.timestamp for p in packets] == [160 * k for k in range(51)]
    assert [(p.sequence_number - first.sequence_number) % 65536 for p in packets] == list(range(51))
    assert {p.ssrc for p in packets} == {session.ssrc}
    assert all(address == FAR for _, address in net.port(session.local_rtp[1]).sent)  # type: ignore[index]


def test_late_loop_catches_up_at_once() -> None:
    net = Network()
    session = _session(net)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    net.advance(0.1)  # the reactor was blocked for five ptimes
    packets = _sent_rtp(net, session)
    assert len(packets) == 6  # frame 0, then frames 1-5 in one go
    assert [p.timestamp - packets[0].timestamp for p in packets] == [0, 160, 320, 480, 640, 800]
    sent = session.stats().sent
    assert sent is not None and (sent.late_ticks, sent.frames_caught_up) == (1, 4)


def test_timer_is_set_for_the_due_time_not_a_ptime_after_a_late_tick() -> None:
    net = Network()
    session = _session(net)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    for late in (0.007, 0.019, 0.0):  # each tick fires late, never by a whole ptime
        (call,) = [c for c in net.getDelayedCalls() if c.func == session._tick]
        due = call.getTime()
        net.advance(due - net.seconds() + late)
    (call,) = [c for c in net.getDelayedCalls() if c.func == session._tick]
    assert call.getTime() == pytest.approx(T0 + 4 * PTIME, abs=1e-5)  # no lateness piled up
    assert len(_sent_rtp(net, session)) == 4


def test_stopping_from_the_frame_source_ends_the_loop() -> None:
    net = Network()
    session = _session(net)
    session.set_remote(FAR)
    frames = _frames()

    def source() -> bytes:
        frame = frames()
        if len(_sent_rtp(net, session)) == 2:
            session.stop_sending()
        return frame

    session.start_sending(source, 0, 8000, 160, 20)
    net.run_for(0.2)
    assert not session.sending
    assert all(c.func != session._tick for c in net.getDelayedCalls())
    assert len(_sent_rtp(net, session)) == 3


def test_a_failing_frame_source_stops_the_stream_and_raises() -> None:
    """As LoopingCall did: the error reaches the tick's caller (the pacer logs it), and no timer is left."""
    net = Network()
    session = _session(net)
    session.set_remote(("127.0.0.1", 40000))
    frames = _frames()

    def source() -> bytes:
        if len(_sent_rtp(net, session)) == 2:
            raise RuntimeError("capture device gone")
        return frames()

    session.start_sending(source, 0, 8000, 160, 20)
    with pytest.raises(RuntimeError, match="^capture device gone$"):
        net.run_for(0.2)
    assert not session.sending
    assert all(c.func != session._tick for c in net.getDelayedCalls())
    assert len(_sent_rtp(net, session)) == 2


class FakeAsyncioLoop:
    """What the pacer uses of an asyncio loop: its clock and call_at."""

    def __init__(self) -> None:
        self.now = 50.0
        self.calls: list[tuple[float, Any, tuple[Any, ...]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any, *args: Any) -> Any:
        self.calls.append((when, callback, args))
        return self


def test_on_the_asyncio_reactor_the_timer_wakes_early_on_the_loop_clock() -> None:
    net = Network()
    loop = FakeAsyncioLoop()
    net._asyncioEventloop = loop  # type: ignore[attr-defined]
    session = _session(net)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    (when, wake, args) = loop.calls.pop()
    assert when == pytest.approx(50.0 + PTIME - PACING_EARLY_WAKE)  # loop time, not reactor time
    loop.now = 50.0 + PTIME + 0.0004  # woke late: nothing left to sleep
    wake(*args)
    (when, wake, args) = loop.calls.pop()
    assert when == pytest.approx(50.0 + 2 * PTIME - PACING_EARLY_WAKE)
    assert len(_sent_rtp(net, session)) == 2
    loop.now = when  # woke early, as asked: the frame goes out as if on time
    wake(*args)
    assert len(_sent_rtp(net, session)) == 3
    (when, _, _) = loop.calls.pop()
    assert when == pytest.approx(50.0 + 3 * PTIME - PACING_EARLY_WAKE)


def test_long_stall_skips_beyond_the_catch_up_bound() -> None:
    net = Network()
    session = _session(net, max_catch_up=5)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    net.advance(1.0)  # 50 frames due at once
    packets = _sent_rtp(net, session)
    assert len(packets) == 1 + 6
    late = packets[1:]
    assert [(p.sequence_number - packets[0].sequence_number) % 65536 for p in late] == [1, 2, 3, 4, 5, 6]
    assert [(p.timestamp - packets[0].timestamp) // 160 for p in late] == [45, 46, 47, 48, 49, 50]
    assert late[0].marker
    sent = session.stats().sent
    assert sent is not None and sent.frames_skipped == 44


def test_sequence_number_wraps() -> None:
    net = Network()
    session = RtpSession(net, rng=SeqNearWrap(1))
    session.open(HOST, (20000, 20100))
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.2)
    assert [p.sequence_number for p in _sent_rtp(net, session)] == [
        65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3, 4,
    ]


def test_restart_keeps_numbering_and_lets_the_timestamp_cover_the_pause() -> None:
    net = Network()
    session = _session(net)
    session.set_remote(FAR)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.1)
    session.stop_sending()
    assert not session.sending
    net.run_for(1.0)
    session.start_sending(_frames(), 0, 8000, 160, 20)
    packets = _sent_rtp(net, session)
    before, after = packets[-2], packets[-1]
    assert (after.sequence_number - before.sequence_number) % 65536 == 1
    assert after.timestamp - before.timestamp == 8000  # sent 1 s apart: 8000 samples


@pytest.mark.parametrize(
    ("prepare", "call", "message"),
    [
        (lambda s: None, lambda s: s.start_sending(_frames(), 0, 8000, 160, 20),
         "no remote address: call set_remote first"),
        (lambda s: s.set_remote(FAR), lambda s: s.start_sending(_frames(), 0, 8000, 160, 30),
         "ptime 30 ms does not match 160 samples at 8000 Hz"),
        (lambda s: s.set_remote(FAR), lambda s: s.send_dtmf("1"),
         "cannot send DTMF: the session is not sending"),
        (lambda s: (s.set_remote(FAR), s.start_sending(_frames(), 0, 8000, 160)), lambda s: s.send_dtmf("1"),
         "cannot send DTMF: no telephone-event payload type was negotiated"),
    ],
)
def test_misuse_is_reported(prepare: Any, call: Any, message: str) -> None:
    session = _session(Network())
    prepare(session)
    with pytest.raises(RtpSessionError) as error:
        call(session)
    assert str(error.value) == message


def test_sending_needs_an_open_session() -> None:
    session = RtpSession(Network(), rng=random.Random(1))
    with pytest.raises(RtpSessionError, match=r"^RTP session is not open$"):
        session.start_sending(_frames(), 0, 8000, 160)


# -- receiving, latching, counters ------------------------------------------------------


def test_frames_and_statistics_both_ways() -> None:
    net = Network()
    alice, bob = _pair(net)
    got: list[tuple[bytes, int]] = []
    bob.on_frame(lambda payload, packet: got.append((payload, packet.ssrc)))
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(2.0)
    # 101 packets sent; RFC 3550 A.1 probation keeps the first one out.
    assert len(got) == 100 and {ssrc for _, ssrc in got} == {alice.ssrc}
    stats = bob.stats()
    assert stats.received.packets_received == 100 and stats.received.discarded == 1
    assert stats.received.packets_lost == 0
    assert stats.remote_ssrc == alice.ssrc
    assert not stats.latched and not stats.remote_mismatch
    assert stats.sent is not None and stats.sent.packets_sent == 101
    assert stats.quality is not None and stats.quality.mos > 4.0


def test_latches_to_where_the_peer_really_sends_from() -> None:
    net = Network()
    alice, bob = _pair(net)
    bob.set_remote(FAR)  # Bob's SDP view of Alice is wrong (a NAT in between)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.1)
    assert {address for _, address in net.port(bob.local_rtp[1]).sent} == {FAR}  # type: ignore[index]
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    received: list[int] = []
    alice.on_frame(lambda payload, packet: received.append(packet.sequence_number))
    net.run_for(0.5)
    stats = bob.stats()
    assert stats.latched and stats.latch_count == 1 and stats.remote_mismatch
    assert stats.signalled_remote == FAR and stats.remote == alice.local_rtp
    assert len(received) >= 20  # Bob's packets now reach Alice


def test_garbage_and_strangers_are_counted_and_ignored() -> None:
    net = Network()
    alice, bob = _pair(net)
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.2)
    frames: list[bytes] = []
    bob.on_frame(lambda payload, packet: frames.append(payload))
    port = net.port(bob.local_rtp[1])  # type: ignore[index]
    intruder = (HOST, 9999)
    port.receive(b"\x00" * 40, intruder)  # version 0
    port.receive(b"\x80\x00", intruder)  # too short
    port.receive(bytes.fromhex("a000000100000000deadbeef"), intruder)  # padding bit, nothing after
    port.receive(bytes(RtpPacket(0, 1, 160, 0x5151, b"x" * 160)), intruder)  # another SSRC
    port.receive(bytes(RtpPacket(8, 1, 160, alice.ssrc, b"x" * 160)), intruder)  # PCMA not negotiated
    stats = bob.stats()
    assert (stats.garbage, stats.strangers) == (3, 2)
    assert frames == [] and not stats.latched
    assert stats.remote == alice.local_rtp


def test_dtmf_goes_out_with_the_telephone_event_type_and_comes_back_as_digits() -> None:
    net = Network()
    alice, bob = _pair(net)
    digits: list[DtmfDigit] = []
    bob.on_dtmf(digits.append)
    alice.start_sending(_frames(), 0, 8000, 160, 20, telephone_event_pt=101)
    net.run_for(0.2)
    alice.send_dtmf("1#", duration_ms=100)
    net.run_for(1.0)
    assert [d.digit for d in digits] == ["1", "#"]
    assert all(d.ended_by == "end" and d.duration_ms == 100 for d in digits)
    assert bob.stats().dtmf_received == 2
    assert bob.stats().received.packets_lost == 0  # events share the sequence numbers
    _check_packets_heard(bob)


def test_a_dtmf_event_whose_end_was_lost_is_reported_after_the_timeout() -> None:
    net = Network()
    alice, bob = _pair(net)
    digits: list[DtmfDigit] = []
    bob.on_dtmf(digits.append)
    port = net.port(bob.local_rtp[1])  # type: ignore[index]
    deliver = port.receive

    def lose_the_end(data: bytes, addr: tuple[str, int]) -> None:
        packet = RtpPacket.parse(data)
        if not (packet.payload_type == 101 and packet.payload[1] & 0x80):  # RFC 4733 2.3: the E bit
            deliver(data, addr)

    port.receive = lose_the_end  # type: ignore[method-assign]
    alice.start_sending(_frames(), 0, 8000, 160, 20, telephone_event_pt=101)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.2)
    alice.send_dtmf("7", duration_ms=100)
    net.run_for(0.3)
    assert digits == []
    alice.stop_sending()  # nothing more arrives: bob's own ticks notice the timeout
    net.run_for(0.6)
    assert digits == []  # not yet: 1 s after the last event packet
    net.run_for(0.6)
    assert [(d.digit, d.ended_by) for d in digits] == [("7", "timeout")]
    net.run_for(1.0)
    assert len(digits) == 1


def _pair_with_jitter_buffer(net: Network) -> tuple[RtpSession, RtpSession, JitterBuffer]:
    """alice sends to bob, whose received audio goes into a jitter buffer."""
    buffer = JitterBuffer(8000, 160)
    alice, bob = _session(net, 1), _session(net, 2, jitter_buffer=buffer)
    alice.set_remote(bob.local_rtp)  # type: ignore[arg-type]
    bob.set_remote(alice.local_rtp)  # type: ignore[arg-type]
    return alice, bob, buffer


def test_jitter_buffer_gets_the_audio() -> None:
    net = Network()
    alice, bob, buffer = _pair_with_jitter_buffer(net)
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.5)
    stats = bob.stats()
    assert stats.jitter_buffer is not None and stats.jitter_buffer.received == 25  # 26 - probation


def test_dtmf_events_do_not_count_as_lost_audio_in_the_jitter_buffer() -> None:
    net = Network()
    alice, bob, buffer = _pair_with_jitter_buffer(net)
    alice.start_sending(_frames(), 0, 8000, 160, 20, telephone_event_pt=101)

    def play_for(seconds: float) -> None:  # what the media layer does every ptime
        for _ in range(round(seconds / 0.02)):
            net.run_for(0.02)
            buffer.pop(net.seconds())

    play_for(0.3)
    alice.send_dtmf("5", duration_ms=100)
    play_for(1.0)
    stats = bob.stats().jitter_buffer
    assert stats is not None
    assert stats.non_audio >= 5  # start, updates and three end packets (RFC 4733 2.5.1.4)
    assert stats.lost == 0


# -- RTCP -----------------------------------------------------------------------------------


def test_rtcp_reports_at_randomized_intervals() -> None:
    net = Network()
    alice, bob = _pair(net, rtcp_minimum=5.0)
    rtcp_port = net.port(alice.local_rtcp[1])  # type: ignore[index]
    times: list[float] = []
    reports: list[list[Any]] = []
    original = rtcp_port.write

    def spy(packet: bytes, addr: Any = None) -> None:
        times.append(net.seconds() - T0)
        reports.append(parse_compound(packet))
        original(packet, addr)

    rtcp_port.write = spy  # type: ignore[method-assign]
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(60.0, step=0.02)
    assert 0.5 * 2.5 / COMPENSATION <= times[0] <= 1.5 * 2.5 / COMPENSATION
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 9
    assert all(0.5 * 2.5 / COMPENSATION - 0.02 <= gap <= 1.5 * 5.0 / COMPENSATION + 0.02 for gap in gaps)
    for packets in reports:
        assert isinstance(packets[0], RtcpSenderReport)  # Alice sends RTP all along
        assert isinstance(packets[1], RtcpSourceDescription)
    assert reports[-1][0].reports[0].ssrc == bob.ssrc
    stats = alice.stats()
    assert stats.rtcp_sent == len(times)
    assert stats.rtt_ms is not None and stats.rtt_ms < 25.0  # the pump delivers within a step
    assert stats.remote_cname == bob.cname.encode()
    assert stats.remote_report is not None and stats.remote_report.cumulative_lost == 0


def test_receiver_only_sends_receiver_reports() -> None:
    net = Network()
    alice, bob = _pair(net, rtcp_minimum=1.0)
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    rtcp_port = net.port(bob.local_rtcp[1])  # type: ignore[index]
    net.run_for(5.0)
    reports = [parse_compound(data)[0] for data, _ in rtcp_port.sent]
    assert len(reports) >= 2 and all(isinstance(r, RtcpReceiverReport) for r in reports)
    assert alice.stats().rtcp_received == bob.stats().rtcp_sent == len(reports)
    assert alice.stats().rtt_ms is not None
    _check_packets_heard(alice)


def test_close_sends_bye_and_unbinds() -> None:
    net = Network()
    alice, bob = _pair(net)
    reasons: list[bytes | None] = []
    bob.on_bye(reasons.append)
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(0.5)
    rtcp_port = net.port(alice.local_rtcp[1])  # type: ignore[index]
    rtp_port = net.port(alice.local_rtp[1])  # type: ignore[index]
    finished: list[Any] = []
    before = len(rtp_port.sent)
    alice.close(b"hangup").addCallback(finished.append)
    data, address = rtcp_port.sent[-1]
    packets = parse_compound(data)
    assert isinstance(packets[0], RtcpSenderReport) and isinstance(packets[-1], RtcpGoodbye)
    assert packets[-1].reason == b"hangup" and address == bob.local_rtcp
    net.deliver()
    assert reasons == [b"hangup"]
    assert finished and not rtcp_port.listening and not rtp_port.listening
    assert not alice.sending
    net.run_for(1.0)
    assert len(rtp_port.sent) == before  # nothing more after close
    assert alice.stats().rtcp_sent >= 1


def test_rtcp_mux_shares_the_port() -> None:
    net = Network()
    alice, bob = _pair(net, rtcp_mux=True, rtcp_minimum=1.0)
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    net.run_for(4.0)
    for session in (alice, bob):
        stats = session.stats()
        assert stats.rtcp_received >= 1 and stats.garbage == 0 and stats.strangers == 0
        assert stats.local_rtcp == stats.local_rtp
        assert stats.rtt_ms is not None


def test_rtcp_receiver_report_parses_back() -> None:
    net = Network()
    _alice, bob = _pair(net, rtcp_minimum=1.0)
    port = net.port(bob.local_rtcp[1])  # type: ignore[index]
    net.advance(3.0)
    (data, _), *_ = port.sent
    first = parse_compound(data)[0]
    assert isinstance(first, RtcpReceiverReport) and first.ssrc == bob.ssrc


# -- SRTP on both ends -----------------------------------------------------------------------


def test_srtp_both_ends() -> None:
    net = Network()
    rng = random.Random(9)
    alice_key = make_crypto_attribute(1, AES_CM_128_HMAC_SHA1_32, rng.randbytes)
    bob_key = make_crypto_attribute(1, AES_CM_128_HMAC_SHA1_32, rng.randbytes)
    alice, bob = _pair(net, rtcp_minimum=1.0)
    alice.set_srtp(SrtpContext(alice_key, bob_key))
    bob.set_srtp(SrtpContext(bob_key, alice_key))
    payloads: list[bytes] = []
    bob.on_frame(lambda payload, packet: payloads.append(payload))
    alice.start_sending(_frames(), 0, 8000, 160, 20)
    bob.start_sending(_frames(), 0, 8000, 160, 20)
    wire = net.port(alice.local_rtp[1])  # type: ignore[index]
    net.advance(0.0)
    assert all(len(data) == 12 + 160 + 4 for data, _ in wire.sent)  # 32-bit tag
    net.run_for(3.0)
    assert payloads[:2] == [(2).to_bytes(2, "big") * 80, (3).to_bytes(2, "big") * 80]  # 1: probation
    for session in (alice, bob):
        stats = session.stats()
        assert stats.srtp and stats.srtp_auth_failures == 0 and stats.garbage == 0
        assert stats.rtcp_received >= 1 and stats.rtt_ms is not None
    # Plain RTP from the peer's address no longer gets in; a replay neither.
    port = net.port(bob.local_rtp[1])  # type: ignore[index]
    port.receive(bytes(RtpPacket(0, 1, 160, alice.ssrc, b"x" * 160)), alice.local_rtp)  # type: ignore[arg-type]
    assert bob.stats().srtp_auth_failures == 1
    net.advance(PTIME)
    protected, _ = wire.sent[-1]
    net.deliver()
    port.receive(protected, alice.local_rtp)  # type: ignore[arg-type]
    assert bob.stats().srtp_replays == 1


def _check_packets_heard(session: RtpSession) -> None:
    """packets_heard() is the sum of the four counters of stats() it stands for."""
    stats = session.stats()
    expected = (stats.received.packets_received + stats.received.discarded
                + stats.rtcp_received + stats.dtmf_received)
    assert session.packets_heard() == expected > 0
