"""RtcpReporter: our SR/RR + SDES (+ BYE), and what the peer's reports tell us."""

from __future__ import annotations

import pytest

from tui_phone.rtp.reporting import RtcpReporter, compound_sender_ssrc
from tui_phone.rtp.rtcp import (
    SDES_CNAME,
    RtcpGoodbye,
    RtcpReceiverReport,
    RtcpReportBlock,
    RtcpSenderReport,
    RtcpSourceDescription,
    parse_compound,
)
from tui_phone.rtp.stats import ReceiverStatistics, SenderStatistics

ALICE, BOB = 0xA11CE, 0xB0B
T0 = 1_700_000_000.0


def _reporter(ssrc: int, cname: bytes = b"alice@example.test") -> RtcpReporter:
    return RtcpReporter(ssrc, cname, ReceiverStatistics(8000), SenderStatistics(8000))


def _receive(reporter: RtcpReporter, ssrc: int, count: int, start: float = T0) -> None:
    for k in range(count):
        reporter.receiver.on_packet(k, k * 160, start + k * 0.02, ssrc=ssrc, payload_size=160)


def test_receiver_report_with_cname_when_nothing_was_sent() -> None:
    reporter = _reporter(ALICE)
    packets = parse_compound(bytes(reporter.build_report(T0)))
    assert [type(p) for p in packets] == [RtcpReceiverReport, RtcpSourceDescription]
    rr, sdes = packets
    assert isinstance(rr, RtcpReceiverReport) and rr.ssrc == ALICE and rr.reports == []
    assert isinstance(sdes, RtcpSourceDescription)
    assert sdes.chunks[0].ssrc == ALICE
    assert [(i.item_type, i.value) for i in sdes.chunks[0].items] == [(SDES_CNAME, b"alice@example.test")]


def test_sender_report_while_sending() -> None:
    reporter = _reporter(ALICE)
    for k in range(50):
        reporter.sender.on_packet_sent(1000 + k * 160, 160, T0 + k * 0.02)
    packets = parse_compound(bytes(reporter.build_report(T0 + 1.0)))
    sr = packets[0]
    assert isinstance(sr, RtcpSenderReport)
    assert (sr.ssrc, sr.packet_count, sr.octet_count) == (ALICE, 50, 8000)
    # The RTP timestamp is extrapolated to the report time (RFC 3550 6.4.1).
    assert sr.rtp_timestamp == 1000 + 49 * 160 + 160


def test_sr_then_rr_after_two_silent_intervals() -> None:
    # RFC 3550 6.4: SR if we sent since the last report or the one before.
    reporter = _reporter(ALICE)
    reporter.sender.on_packet_sent(0, 160, T0)
    kinds = [type(parse_compound(bytes(reporter.build_report(T0 + n)))[0]) for n in range(1, 4)]
    assert kinds == [RtcpSenderReport, RtcpSenderReport, RtcpReceiverReport]


def test_report_block_about_the_peer() -> None:
    reporter = _reporter(ALICE)
    _receive(reporter, BOB, 10)
    rr = parse_compound(bytes(reporter.build_report(T0 + 1.0)))[0]
    assert isinstance(rr, RtcpReceiverReport)
    (block,) = rr.reports
    assert block.ssrc == BOB
    assert block.highest_sequence == 9
    assert block.packets_lost == 0
    assert block.lsr == 0  # no SR from Bob yet


def test_no_block_before_probation_passed() -> None:
    reporter = _reporter(ALICE)
    _receive(reporter, BOB, 1)
    rr = parse_compound(bytes(reporter.build_report(T0)))[0]
    assert isinstance(rr, RtcpReceiverReport) and rr.reports == []


def test_round_trip_time_from_lsr_and_dlsr() -> None:
    alice, bob = _reporter(ALICE), _reporter(BOB, b"bob@example.test")
    alice.sender.on_packet_sent(0, 160, T0)
    _receive(bob, ALICE, 10)
    # Alice's SR takes 10 ms to Bob; Bob answers 500 ms later; 10 ms back.
    sr = alice.build_report(T0 + 1.0)
    bob.on_compound(sr.packets, T0 + 1.010)
    rr = bob.build_report(T0 + 1.510)
    received = alice.on_compound(rr.packets, T0 + 1.520)
    assert received.rtt == pytest.approx(0.020, abs=0.0005)
    assert alice.rtt == received.rtt
    assert alice.remote_report is not None
    assert received.cname == b"bob@example.test" and alice.remote_cname == b"bob@example.test"
    assert received.sender_ssrc == BOB and not received.sender_report and not received.bye


def test_blocks_about_other_sources_are_ignored() -> None:
    alice = _reporter(ALICE)
    rr = RtcpReceiverReport(BOB, [RtcpReportBlock(0x999, 10, 5, 100, 3, 0, 0)])
    received = alice.on_compound([rr], T0)
    assert received.rtt is None and alice.remote_report is None


def test_remote_report_values() -> None:
    alice = _reporter(ALICE)
    rr = RtcpReceiverReport(BOB, [RtcpReportBlock(ALICE, 64, 7, 1234, 80, 0, 0)])
    alice.on_compound([rr], T0)
    report = alice.remote_report
    assert report is not None
    assert (report.fraction_lost, report.cumulative_lost, report.highest_sequence, report.jitter) == (
        0.25, 7, 1234, 80,
    )


def test_bye_is_reported_with_its_reason() -> None:
    alice, bob = _reporter(ALICE), _reporter(BOB)
    received = alice.on_compound(bob.build_report(T0, bye=True, reason=b"hangup").packets, T0)
    assert received.bye and received.bye_reason == b"hangup"
    packets = parse_compound(bytes(bob.build_report(T0 + 1, bye=True)))
    assert isinstance(packets[-1], RtcpGoodbye) and packets[-1].sources == [BOB]


def test_compound_sender_ssrc() -> None:
    assert compound_sender_ssrc([]) is None
    assert compound_sender_ssrc([RtcpGoodbye([BOB])]) == BOB
    assert compound_sender_ssrc([RtcpReceiverReport(ALICE)]) == ALICE


def test_cname_length_is_limited() -> None:
    with pytest.raises(ValueError, match=r"^CNAME of 256 octets exceeds 255$"):
        _reporter(ALICE, b"x" * 256)
