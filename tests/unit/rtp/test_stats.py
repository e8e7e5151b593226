"""Tests of tui_phone.rtp.stats: RFC 3550 A.1, A.3, A.8 and 6.4.1.

Expected values are worked out by hand in the tests (or taken from the RFC's
own example) rather than by re-running the code under test. The last tests
compare the figures with what tshark reports for a capture built here.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.stats import (
    CUMULATIVE_LOST_MAX,
    CUMULATIVE_LOST_MIN,
    NTP_EPOCH_OFFSET,
    ReceiverStatistics,
    RtpStatsError,
    SenderStatistics,
    clamp_cumulative_lost,
    compute_rtt,
    compute_rtt_seconds,
    ntp_middle32,
    ntp_to_unix,
    unix_to_ntp,
    unix_to_ntp_middle32,
)

CLOCK = 8000
FRAME = 160  # 20 ms at 8 kHz


def feed(stats: ReceiverStatistics, seqs: list[int], *, t0: float = 0.0) -> list[bool]:
    """Feed packets with perfectly regular timing (20 ms, 160 samples)."""
    results = []
    for seq in seqs:
        results.append(stats.on_packet(seq % 65536, (seq * FRAME) % 2**32, t0 + seq * 0.02))
    return results


# -- A.1 source validation and sequence numbers ------------------------------


def test_first_packet_is_on_probation() -> None:
    stats = ReceiverStatistics(CLOCK)
    assert stats.on_packet(1000, 0, 0.0) is False
    assert not stats.valid
    assert stats.make_report_block_values(now=0.0) is None
    snap = stats.snapshot(0.0)
    assert (snap.valid, snap.packets_received, snap.packets_expected) == (False, 0, 0)
    assert stats.on_packet(1001, 160, 0.02) is True
    assert stats.valid
    # init_seq() on the second packet: the first one is not counted.
    assert (stats.base_seq, stats.received, stats.expected) == (1001, 1, 1)


def test_probation_restarts_on_a_gap() -> None:
    stats = ReceiverStatistics(CLOCK)
    assert feed(stats, [10, 12, 13]) == [False, False, True]
    assert stats.base_seq == 13
    assert stats.discarded == 2


def test_probation_across_the_wrap() -> None:
    # A.1's C compares seq == max_seq + 1 without wrapping; we wrap.
    stats = ReceiverStatistics(CLOCK)
    assert feed(stats, [65535, 65536]) == [False, True]
    assert stats.base_seq == 0


def test_sequence_wrap_counts_cycles() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, list(range(65530, 65536 + 6)))  # 65530 .. 65535, 0 .. 5
    assert stats.cycles == 65536
    assert stats.extended_max == 65536 + 5
    assert stats.expected == 11  # 65531 .. 65541
    assert stats.lost == 0
    values = stats.make_report_block_values(now=1.0)
    assert values is not None
    assert values.extended_highest == (1 << 16) | 5
    snap = stats.snapshot(1.0)
    assert (snap.cycles, snap.extended_highest_seq) == (1, 65541)


def test_two_wraps() -> None:
    stats = ReceiverStatistics(CLOCK)
    # Steps of 2000 (< MAX_DROPOUT) through two wraps.
    seqs = [0, 1] + list(range(2001, 2 * 65536 + 2010, 2000))
    feed(stats, seqs)
    assert stats.cycles == 2 * 65536
    assert stats.extended_max == seqs[-1]


def test_big_jump_then_sequential_packet_resyncs() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, list(range(100, 111)))
    assert stats.received == 10
    # A jump of more than MAX_DROPOUT is not believed at once ...
    assert stats.on_packet(20000, 0, 1.0) is False
    assert stats.max_seq == 110
    assert stats.bad_seq == 20001
    # ... but the next sequential packet re-syncs: the sender restarted.
    assert stats.on_packet(20001, 160, 1.02) is True
    assert (stats.base_seq, stats.max_seq, stats.received) == (20001, 20001, 1)
    assert stats.resyncs == 1
    assert stats.discarded == 2  # the probation packet and 20000
    assert stats.lost == 0


def test_single_stray_jump_is_discarded() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, list(range(100, 111)))
    assert stats.on_packet(40000, 0, 1.0) is False
    assert stats.on_packet(111, 111 * FRAME, 111 * 0.02) is True
    assert (stats.max_seq, stats.received, stats.resyncs) == (111, 11, 0)


def test_max_dropout_boundary() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [0, 1])
    assert stats.on_packet(1 + 2999, 0, 1.0) is True  # udelta 2999 < MAX_DROPOUT
    assert stats.lost == 2998
    assert stats.on_packet(3000 + 3000, 0, 1.1) is False  # udelta 3000: a jump


def test_misorder_boundary() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, list(range(0, 201)))
    # 99 behind the highest is misordered (accepted), 100 behind is a jump.
    assert stats.on_packet(200 - 99, 0, 5.0) is True
    assert stats.on_packet(200 - 100, 0, 5.1) is False


def test_duplicates() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [1, 2, 3, 4, 4, 2, 5])
    assert stats.duplicates == 2
    assert stats.reordered == 0
    # RFC 3550 6.4.1: duplicates count as received, so loss goes negative.
    assert stats.lost == -2
    snap = stats.snapshot(1.0)
    assert snap.packets_lost == -2
    assert snap.loss_percent == 0.0
    values = stats.make_report_block_values(now=1.0)
    assert values is not None
    assert (values.cumulative_lost, values.fraction_lost) == (-2, 0)


def test_reordering() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [1, 2, 4, 3, 5, 8, 6, 7, 9])
    assert stats.reordered == 3
    assert stats.duplicates == 0
    assert stats.lost == 0
    assert stats.extended_max == 9


def test_reordering_across_the_wrap() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [65533, 65534, 0, 65535, 1])
    assert stats.reordered == 1
    assert (stats.cycles, stats.lost, stats.expected) == (65536, 0, 4)


def test_late_window_counts_old_packets() -> None:
    stats = ReceiverStatistics(CLOCK, late_window=2)
    feed(stats, [1, 2, 4, 5, 6, 3, 7])  # 3 arrives 3 behind the highest (6)
    assert (stats.reordered, stats.late) == (1, 1)
    stats.on_late_packet()
    stats.on_late_packet(2)
    assert stats.snapshot(1.0).late == 4


def test_no_late_window_means_only_the_jitter_buffer_decides() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [1, 2, 4, 5, 6, 3])
    assert stats.late == 0


def test_new_ssrc_starts_over() -> None:
    stats = ReceiverStatistics(CLOCK)
    for seq in (1, 2, 3, 3):
        stats.on_packet(seq, seq * FRAME, seq * 0.02, ssrc=0xAAAA)
    assert stats.duplicates == 1
    stats.on_packet(500, 0, 1.0, ssrc=0xBBBB)
    assert (stats.valid, stats.duplicates, stats.ssrc) == (False, 0, 0xBBBB)


# -- A.3 loss ------------------------------------------------------------------


def test_fraction_lost_per_interval() -> None:
    stats = ReceiverStatistics(CLOCK)
    # Valid from seq 1; interval 1 covers 1..10 with 7 missing: 9 received.
    feed(stats, [0, 1, 2, 3, 4, 5, 6, 8, 9, 10])
    first = stats.make_report_block_values(now=1.0)
    assert first is not None
    assert (first.fraction_lost, first.cumulative_lost) == ((1 << 8) // 10, 1)  # 25
    # Interval 2: 11..30 expected (20), 4 missing.
    feed(stats, [s for s in range(11, 31) if s not in (12, 13, 20, 29)])
    second = stats.make_report_block_values(now=2.0)
    assert second is not None
    assert (second.fraction_lost, second.cumulative_lost) == (256 * 4 // 20, 5)  # 51
    # Interval 3: nothing new: expected_interval 0 -> fraction 0.
    third = stats.make_report_block_values(now=3.0)
    assert third is not None
    assert (third.fraction_lost, third.cumulative_lost) == (0, 5)
    # Interval 4: half lost.
    feed(stats, [32, 34])
    fourth = stats.make_report_block_values(now=4.0)
    assert fourth is not None
    assert fourth.fraction_lost == 128


def test_snapshot_does_not_close_the_interval() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [0, 1, 3])
    stats.snapshot(1.0)
    values = stats.make_report_block_values(now=1.0)
    assert values is not None
    assert values.fraction_lost == 256 // 3


def test_loss_percent() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [0] + [s for s in range(1, 201) if s % 50 != 25])  # 4 of 200 lost
    snap = stats.snapshot(5.0)
    assert (snap.packets_expected, snap.packets_received, snap.packets_lost) == (200, 196, 4)
    assert snap.loss_percent == pytest.approx(2.0)


def test_cumulative_lost_clamps_to_24_bits() -> None:
    assert clamp_cumulative_lost(0x7FFFFF) == 0x7FFFFF
    assert clamp_cumulative_lost(0x800000) == 0x7FFFFF == CUMULATIVE_LOST_MAX
    assert clamp_cumulative_lost(-0x800000) == -0x800000
    assert clamp_cumulative_lost(-0x800001) == -0x800000 == CUMULATIVE_LOST_MIN
    assert clamp_cumulative_lost(-5) == -5


def test_cumulative_lost_clamps_in_a_report() -> None:
    stats = ReceiverStatistics(CLOCK)
    stats.on_packet(0, 0, 0.0)
    stats.on_packet(1, 0, 0.0)
    seq, ext = 1, 1
    # Jumps of 2999 lose 2998 packets each, without tripping MAX_DROPOUT.
    while ext - stats.received <= CUMULATIVE_LOST_MAX:
        seq = (seq + 2999) % 65536
        ext += 2999
        stats.on_packet(seq, 0, 0.0)
    assert stats.lost > CUMULATIVE_LOST_MAX
    values = stats.make_report_block_values(now=0.0)
    assert values is not None
    assert values.cumulative_lost == CUMULATIVE_LOST_MAX
    assert values.extended_highest == ext % 2**32
    assert values.fraction_lost == 255  # 2998 of 2999 lost in most steps


@settings(derandomize=True, database=None)
@given(st.sets(st.integers(min_value=2, max_value=400), max_size=399))
def test_lost_counts_the_missing_sequence_numbers(missing: set[int]) -> None:
    stats = ReceiverStatistics(CLOCK)
    seqs = [s for s in range(0, 402) if s not in missing]
    feed(stats, seqs)
    # Valid from seq 1; the highest is 401; 1..401 is 401 expected.
    assert stats.lost == len(missing)
    assert stats.expected == 401


# -- A.8 jitter --------------------------------------------------------------


def test_constant_transit_gives_zero_jitter() -> None:
    stats = ReceiverStatistics(CLOCK)
    for k in range(100):
        stats.on_packet(k, 5000 + k * FRAME, 12.345 + k * 0.02)
    snap = stats.snapshot(20.0)
    assert snap.jitter == 0
    assert snap.jitter_ms == pytest.approx(0.0, abs=1e-9)
    assert snap.max_jitter_ms == pytest.approx(0.0, abs=1e-9)


def test_jitter_step_by_step() -> None:
    # Packets every 160 samples; arrivals at 0, 20, 45, 60, 80 ms.
    # Transit differences D in samples (8 per ms):
    #   p2: (20 - 0) ms - 20 ms = 0        J = 0
    #   p3: (45 - 20) - 20 = 5 ms = 40     J = 0 + (40 - 0)/16 = 2.5
    #   p4: (60 - 45) - 20 = -5 ms, |D|=40 J = 2.5 + (40 - 2.5)/16 = 4.84375
    #   p5: (80 - 60) - 20 = 0             J = 4.84375 - 4.84375/16 = 4.541015625
    arrivals_ms = [0, 20, 45, 60, 80]
    expected = [None, 0.0, 2.5, 4.84375, 4.541015625]
    stats = ReceiverStatistics(CLOCK)
    for k, (arrival, want) in enumerate(zip(arrivals_ms, expected, strict=True)):
        stats.on_packet(k, k * FRAME, arrival / 1000)
        if want is not None:
            assert stats.jitter == pytest.approx(want, abs=1e-9)
    snap = stats.snapshot(1.0)
    assert snap.jitter == 4  # truncated, as in a report block
    assert snap.jitter_ms == pytest.approx(4.541015625 / 8)
    assert snap.max_jitter_ms == pytest.approx(4.84375 / 8)
    assert snap.mean_jitter_ms == pytest.approx((0 + 2.5 + 4.84375 + 4.541015625) / 4 / 8)
    values = stats.make_report_block_values(now=1.0)
    assert values is not None and values.jitter == 4


def test_alternating_transit_converges_to_twice_the_swing() -> None:
    # Transit alternates +X, -X ms: every |D| is 2X, so J_n = 2X (1 - (15/16)^n).
    x_ms = 3.0
    stats = ReceiverStatistics(CLOCK)
    n_packets = 200
    for k in range(n_packets):
        offset = x_ms if k % 2 == 0 else -x_ms
        stats.on_packet(k, k * FRAME, (k * 20 + offset) / 1000)
    steps = n_packets - 1
    two_x_samples = 2 * x_ms * 8
    assert stats.jitter == pytest.approx(two_x_samples * (1 - (15 / 16) ** steps), rel=1e-9)
    assert stats.snapshot(9.0).jitter_ms == pytest.approx(2 * x_ms, rel=1e-4)


def test_jitter_across_the_timestamp_wrap() -> None:
    stats = ReceiverStatistics(CLOCK)
    start = 2**32 - 3 * FRAME
    for k in range(8):
        stats.on_packet(k, (start + k * FRAME) % 2**32, k * 0.02)
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)


def test_excluded_payload_types_leave_jitter_alone() -> None:
    stats = ReceiverStatistics(CLOCK, jitter_excluded_payload_types=frozenset({101}))
    for k in range(4):
        stats.on_packet(k, k * FRAME, k * 0.02, payload_type=0)
    # Telephone-events keep the event's start timestamp while time runs on.
    for k in range(4, 8):
        stats.on_packet(k, 4 * FRAME, k * 0.02, payload_type=101)
    for k in range(8, 12):
        stats.on_packet(k, k * FRAME, k * 0.02, payload_type=0)
    assert stats.jitter == pytest.approx(0.0, abs=1e-9)
    assert stats.received == 11


def test_duplicate_window_is_bounded() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, list(range(0, 5000)))
    assert stats._seen.bit_length() <= 128


# -- bitrate -----------------------------------------------------------------


def test_bitrate_over_the_window() -> None:
    stats = ReceiverStatistics(CLOCK, bitrate_window_s=2.0)
    assert stats.snapshot(0.0).bitrate_bps is None
    for k in range(250):  # 5 s of 160-byte payloads every 20 ms
        stats.on_packet(k, k * FRAME, k * 0.02, payload_size=160)
    assert stats.snapshot(4.98).bitrate_bps == pytest.approx(64000, rel=0.02)
    assert stats.snapshot(60.0).bitrate_bps == 0.0
    assert stats.snapshot(61.0).bitrate_bps == 0.0
    assert len(stats._payload_log) == 0


# -- NTP, LSR/DLSR, RTT (RFC 3550 4 and 6.4.1) ---------------------------------


def test_ntp_conversion() -> None:
    assert unix_to_ntp(0.0) == NTP_EPOCH_OFFSET << 32
    assert unix_to_ntp(1.5) == ((NTP_EPOCH_OFFSET + 1) << 32) | 0x80000000
    assert ntp_middle32(0x0123456789ABCDEF) == 0x456789AB
    assert unix_to_ntp_middle32(0.25) == ((NTP_EPOCH_OFFSET & 0xFFFF) << 16) | 0x4000
    assert ntp_to_unix(unix_to_ntp(1_700_000_000.125)) == pytest.approx(1_700_000_000.125, abs=1e-6)


def test_ntp_era_1() -> None:
    # 2036-02-07 06:28:16 UTC: NTP seconds wrap to 0.
    era1 = 2**32 - NTP_EPOCH_OFFSET
    assert unix_to_ntp(era1 + 0.5) == 0x80000000
    assert ntp_to_unix(0x80000000) == era1 + 0.5


def test_rtt_rfc_3550_example() -> None:
    # RFC 3550 6.4.1, Figure 2: A = 0xb710:8000, LSR = 0xb705:2000,
    # DLSR = 0x0005:4000 -> delay 0x0006:2000 = 6.125 s.
    assert compute_rtt(0xB7052000, 0x00054000, 0xB7108000) == 0x00062000
    assert compute_rtt_seconds(0xB7052000, 0x00054000, 0xB7108000) == 6.125


def test_rtt_across_the_middle32_wrap() -> None:
    # SR sent at 65535.5 s (of the 16-bit seconds), held 1 s by the peer,
    # its RR arrives at 1.5 s after the wrap: RTT = 2 s - 1 s = 1 s.
    assert compute_rtt(0xFFFF8000, 0x00010000, 0x00018000) == 0x00010000


def test_rtt_without_an_sr_or_from_a_bogus_report() -> None:
    assert compute_rtt(0, 0, 0x12345678) is None
    assert compute_rtt_seconds(0, 0, 0x12345678) is None
    # Rounding noise just below zero is 0; far below zero is nonsense.
    assert compute_rtt(0x10000, 0x100, 0x10000 + 0x100 - 3) == 0
    assert compute_rtt(0x10000, 0x20000, 0x10000) is None


def test_rtt_rejects_out_of_range_values() -> None:
    with pytest.raises(RtpStatsError, match=r"^DLSR out of 32-bit range: 4294967296$"):
        compute_rtt(1, 2**32, 0)


def test_lsr_and_dlsr_in_report_block() -> None:
    stats = ReceiverStatistics(CLOCK)
    feed(stats, [0, 1, 2])
    values = stats.make_report_block_values(now=1.0)
    assert values is not None and (values.lsr, values.dlsr) == (0, 0)
    stats.on_sender_report(0xB7052000, arrival_time=10.0)
    values = stats.make_report_block_values(now=12.5)
    assert values is not None
    assert (values.lsr, values.dlsr) == (0xB7052000, int(2.5 * 65536))


def test_round_trip_through_both_ends() -> None:
    # Our SR leaves at t=100 s, the peer holds it 0.25 s, the network takes
    # 30 ms each way: its RR arrives back at 100.31 s.
    sr_middle = unix_to_ntp_middle32(1_700_000_100.0)
    peer = ReceiverStatistics(CLOCK)
    feed(peer, [0, 1, 2])
    peer.on_sender_report(sr_middle, arrival_time=50.030)
    block = peer.make_report_block_values(now=50.280)
    assert block is not None
    rtt = compute_rtt_seconds(block.lsr, block.dlsr, unix_to_ntp_middle32(1_700_000_100.310))
    assert rtt == pytest.approx(0.060, abs=2 / 65536)


# -- sender side ---------------------------------------------------------------


def test_sender_info() -> None:
    sender = SenderStatistics(CLOCK)
    assert sender.sender_info(now=100.0) is None
    for k in range(50):
        sender.on_packet_sent(1000 + k * FRAME, 160, now=100.0 + k * 0.02)
    info = sender.sender_info(now=100.0 + 49 * 0.02 + 0.05)
    assert info is not None
    assert (info.packet_count, info.octet_count) == (50, 8000)
    assert info.rtp_timestamp == 1000 + 49 * FRAME + 400  # 50 ms at 8 kHz
    assert info.ntp_timestamp == unix_to_ntp(100.0 + 49 * 0.02 + 0.05)


def test_sender_info_wraps() -> None:
    sender = SenderStatistics(CLOCK)
    sender.on_packet_sent(2**32 - 100, 160, now=5.0)
    info = sender.sender_info(now=5.025)
    assert info is not None and info.rtp_timestamp == 100
    sender.reset()
    assert sender.sender_info(now=6.0) is None and sender.packet_count == 0


# -- errors --------------------------------------------------------------------


def test_error_messages() -> None:
    with pytest.raises(RtpStatsError, match=r"^clock rate must be positive, got 0$"):
        ReceiverStatistics(0)
    with pytest.raises(RtpStatsError, match=r"^late window must not be negative, got -1$"):
        ReceiverStatistics(CLOCK, late_window=-1)
    stats = ReceiverStatistics(CLOCK)
    with pytest.raises(RtpStatsError, match=r"^sequence number out of 16-bit range: 65536$"):
        stats.on_packet(65536, 0, 0.0)
    with pytest.raises(RtpStatsError, match=r"^RTP timestamp out of 32-bit range: -1$"):
        stats.on_packet(0, -1, 0.0)
    with pytest.raises(RtpStatsError, match=r"^late packet count must not be negative, got -2$"):
        stats.on_late_packet(-2)
    with pytest.raises(RtpStatsError, match=r"^payload size must not be negative, got -1$"):
        SenderStatistics(CLOCK).on_packet_sent(0, -1, now=0.0)
    assert issubclass(RtpStatsError, ValueError)


# -- against tshark ------------------------------------------------------------

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
SSRC = 0x11223344


def _ip_checksum(header: bytes) -> int:
    total = sum(int(word) for word in struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(seq: int, timestamp: int) -> bytes:
    """Ethernet + IPv4 + UDP + RTP (PCMU, 160 bytes of payload)."""
    rtp = struct.pack("!BBHII", 0x80, 0, seq, timestamp, SSRC) + b"\xff" * 160
    udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
        bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]),
    )
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    ethernet = bytes.fromhex("020000000002" "020000000001" "0800")
    return ethernet + ip + udp


def _write_pcap(path: Path, packets: list[tuple[int, bytes]]) -> None:
    """Classic pcap, microsecond timestamps, link type 1 (Ethernet)."""
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for time_us, data in packets:
            out.write(struct.pack("<IIII", time_us // 10**6, time_us % 10**6, len(data), len(data)))
            out.write(data)


def _tshark_stream(path: Path) -> dict[str, float]:
    assert TSHARK is not None
    result = subprocess.run(
        [TSHARK, "-n", "-r", str(path), "--enable-heuristic", "rtp_udp", "-q", "-z", "rtp,streams"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    line = next(line for line in result.stdout.splitlines() if f"0x{SSRC:08x}" in line.lower())
    # ... SSRC Payload Pkts Lost (pct%) minΔ meanΔ maxΔ minJ meanJ maxJ [X]
    match = re.search(
        r"\s(\d+)\s+(-?\d+) \((-?[\d.]+)%\)" + r"\s+(-?[\d.]+)" * 6, line
    )
    assert match, line
    fields = [float(g) for g in match.groups()]
    return {"packets": fields[0], "lost": fields[1], "mean_jitter": fields[7], "max_jitter": fields[8]}


def _compare(
    tmp_path: Path, capture: list[tuple[int, float]], seq0: int
) -> tuple[dict[str, float], ReceiverStatistics]:
    """Capture (index, arrival ms) pairs; write, run tshark, run ours."""
    base_us = 1_700_000_000 * 10**6
    packets = [
        (base_us + round(ms * 1000), _frame((seq0 + k) % 65536, (90000 + k * FRAME) % 2**32))
        for k, ms in capture
    ]
    path = tmp_path / "stream.pcap"
    _write_pcap(path, packets)
    stats = ReceiverStatistics(CLOCK)
    for (k, _), (time_us, _) in zip(capture, packets, strict=True):
        stats.on_packet((seq0 + k) % 65536, (90000 + k * FRAME) % 2**32, time_us / 1e6)
    return _tshark_stream(path), stats


# Per-packet offsets (ms) from the nominal 20 ms grid.
OFFSETS = [0, 3, -2, 5, 0, 7, 1, -3, 4, 2, 0, 6, -1, 3, 2, 0, 8, -2, 1, 0, 3, 1, -4, 2, 5, 0, 2, -1, 6, 0]


@needs_tshark
def test_agrees_with_tshark_on_loss_jitter_and_reordering(tmp_path: Path) -> None:
    capture: list[tuple[int, float]] = [
        (k, k * 20 + off) for k, off in enumerate(OFFSETS) if k != 5  # 5 lost
    ]
    i = [k for k, _ in capture].index(12)
    capture[i], capture[i + 1] = (13, 239.0), (12, 241.5)  # 13 overtakes 12
    ours, stats = _compare(tmp_path, capture, seq0=1000)
    snap = stats.snapshot(1.0)
    assert (snap.packets_lost, snap.reordered, snap.duplicates) == (1, 1, 0)
    assert ours["lost"] == snap.packets_lost
    assert ours["packets"] == snap.packets_received + 1  # tshark counts probation
    assert snap.max_jitter_ms == pytest.approx(ours["max_jitter"], abs=0.01)
    assert snap.mean_jitter_ms == pytest.approx(ours["mean_jitter"], abs=0.01)
    assert snap.max_jitter_ms > 1.0  # the comparison is not of two zeros


@needs_tshark
def test_agrees_with_tshark_across_a_sequence_wrap(tmp_path: Path) -> None:
    # 65520 .. 65535, 0 .. 13; seq 65530 and 4 lost.
    capture: list[tuple[int, float]] = [
        (k, k * 20 + off) for k, off in enumerate(OFFSETS) if k not in (10, 20)
    ]
    ours, stats = _compare(tmp_path, capture, seq0=65520)
    snap = stats.snapshot(1.0)
    assert (snap.cycles, snap.packets_lost) == (1, 2)
    assert ours["lost"] == snap.packets_lost
    assert snap.max_jitter_ms == pytest.approx(ours["max_jitter"], abs=0.01)
    assert snap.mean_jitter_ms == pytest.approx(ours["mean_jitter"], abs=0.01)
