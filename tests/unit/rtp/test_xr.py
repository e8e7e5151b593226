"""Tests of tui_phone.rtp.xr: RTCP Extended Reports (RFC 3611)."""

from __future__ import annotations

import contextlib
import itertools
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.rtp.errors import RtcpParseError, RtpBuildError, RtpParseError
from tui_phone.rtp.rtcp import (
    RtcpApplicationDefined,
    RtcpCompound,
    RtcpReceiverReport,
    ntp_middle32,
    parse_compound,
)
from tui_phone.rtp.xr import (
    JBA_ADAPTIVE,
    PLC_STANDARD,
    RTCP_XR,
    XR_STATISTICS_SUMMARY,
    XR_UNAVAILABLE,
    RtcpExtendedReport,
    XrDlrr,
    XrDlrrSubBlock,
    XrReceiverReferenceTime,
    XrUnknownBlock,
    XrVoipMetrics,
)

DATA = Path(__file__).parent / "data"

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def xr_packet(ssrc: int, *blocks: bytes, padding: int = 0) -> bytes:
    """An XR packet built by hand (RFC 3611 2), independent of the code."""
    body = struct.pack("!I", ssrc) + b"".join(blocks)
    if padding:
        body += bytes(padding - 1) + bytes([padding])
    first = 0x80 | (0x20 if padding else 0)
    return struct.pack("!BBH", first, RTCP_XR, (4 + len(body)) // 4 - 1) + body


def block(block_type: int, body: bytes, type_specific: int = 0) -> bytes:
    """A report block built by hand (RFC 3611 3): BT, type-specific, length, body."""
    return struct.pack("!BBH", block_type, type_specific, len(body) // 4) + body


# RFC 3611 4.7, every field with a distinct value; signal and noise levels
# negative (dBm0), RX config 0xF5 = PLC 11 (standard), JBA 11 (adaptive), rate 5.
VOIP_BODY = (
    struct.pack("!I", 0xDEADBEEF)
    + bytes([12, 3, 40, 2])  # loss rate, discard rate, burst density, gap density
    + struct.pack("!HH", 120, 3000)  # burst duration, gap duration
    + struct.pack("!HH", 45, 80)  # round trip delay, end system delay
    + struct.pack("!bbBB", -20, -65, 30, 16)  # signal level, noise level, RERL, Gmin
    + bytes([88, 127, 41, 43])  # R factor, ext. R factor, MOS-LQ, MOS-CQ
    + bytes([0xF5, 0])  # RX config, reserved
    + struct.pack("!HHH", 60, 120, 200)  # JB nominal, JB maximum, JB abs max
)
VOIP_BLOCK = block(7, VOIP_BODY)
VOIP = XrVoipMetrics(
    ssrc=0xDEADBEEF,
    loss_rate=12,
    discard_rate=3,
    burst_density=40,
    gap_density=2,
    burst_duration=120,
    gap_duration=3000,
    round_trip_delay=45,
    end_system_delay=80,
    signal_level=-20,
    noise_level=-65,
    rerl=30,
    gmin=16,
    r_factor=88,
    ext_r_factor=XR_UNAVAILABLE,
    mos_lq=41,
    mos_cq=43,
    plc=PLC_STANDARD,
    jba=JBA_ADAPTIVE,
    jb_rate=5,
    jb_nominal=60,
    jb_maximum=120,
    jb_abs_max=200,
)
RRT_BLOCK = block(4, struct.pack("!Q", 0xE9C0B71080000000))
DLRR_BLOCK = block(5, struct.pack("!III", 0xDEADBEEF, 0xB7108000, 0x00010000))
STATS_BLOCK = block(6, struct.pack("!IHH", 0xDEADBEEF, 1, 500) + bytes(range(28)), 0xE0)
BLOCKS = [RRT_BLOCK, VOIP_BLOCK, DLRR_BLOCK, STATS_BLOCK]
BLOCK_TYPES = [XrReceiverReferenceTime, XrVoipMetrics, XrDlrr, XrUnknownBlock]


# --- VoIP Metrics (RFC 3611 4.7) --------------------------------------------------


def test_voip_metrics_block_layout_is_36_bytes_with_length_8() -> None:
    assert len(VOIP_BLOCK) == 36
    assert VOIP_BLOCK[:4] == b"\x07\x00\x00\x08"


def test_voip_metrics_parse() -> None:
    assert XrVoipMetrics.parse(VOIP_BLOCK) == VOIP


def test_voip_metrics_build() -> None:
    assert bytes(VOIP) == VOIP_BLOCK


def test_voip_metrics_defaults_mark_unknown_values() -> None:
    data = bytes(XrVoipMetrics(1))
    assert data == (
        b"\x07\x00\x00\x08"
        + struct.pack("!I", 1)
        + bytes(12)
        + bytes([127, 127, 127, 16])  # signal, noise, RERL unavailable; Gmin 16
        + bytes([127, 127, 127, 127])  # R, ext. R, MOS-LQ, MOS-CQ unavailable
        + bytes(8)
    )
    assert XrVoipMetrics.parse(data) == XrVoipMetrics(1)


@pytest.mark.parametrize("rx_config", [0x00, 0x40, 0x80, 0xC0, 0x10, 0x20, 0x30, 0x0F, 0xFF, 0x5A])
def test_voip_metrics_rx_config_bits(rx_config: int) -> None:
    body = bytearray(VOIP_BODY)
    body[24] = rx_config
    data = block(7, bytes(body))
    metrics = XrVoipMetrics.parse(data)
    assert metrics.plc == rx_config >> 6
    assert metrics.jba == (rx_config >> 4) & 3
    assert metrics.jb_rate == rx_config & 15
    assert bytes(metrics) == data


@pytest.mark.parametrize("level", [-128, -1, 0, 127])
def test_voip_metrics_levels_are_signed(level: int) -> None:
    body = bytearray(VOIP_BODY)
    body[16:18] = struct.pack("!bb", level, level)
    metrics = XrVoipMetrics.parse(block(7, bytes(body)))
    assert (metrics.signal_level, metrics.noise_level) == (level, level)


def test_voip_metrics_reserved_octets_are_written_as_zeros() -> None:
    body = bytearray(VOIP_BODY)
    body[25] = 0xAA
    data = bytearray(block(7, bytes(body)))
    data[1] = 0xBB
    assert bytes(XrVoipMetrics.parse(bytes(data))) == VOIP_BLOCK


# --- Receiver Reference Time, DLRR, opaque blocks -------------------------------------


def test_receiver_reference_time() -> None:
    parsed = XrReceiverReferenceTime.parse(RRT_BLOCK)
    assert parsed == XrReceiverReferenceTime(0xE9C0B71080000000)
    assert ntp_middle32(parsed.ntp_timestamp) == 0xB7108000
    assert bytes(parsed) == RRT_BLOCK == b"\x04\x00\x00\x02" + RRT_BLOCK[4:]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_dlrr_with_any_number_of_sub_blocks(count: int) -> None:
    subs = [XrDlrrSubBlock(index, index * 2, index * 3) for index in range(1, count + 1)]
    data = block(5, b"".join(struct.pack("!III", s.ssrc, 2 * s.ssrc, 3 * s.ssrc) for s in subs))
    assert data[2:4] == struct.pack("!H", 3 * count)
    parsed = XrDlrr.parse(data)
    assert parsed == XrDlrr(subs)
    assert bytes(parsed) == data
    for index, sub in enumerate(subs):
        assert XrDlrrSubBlock.parse(data[4 + 12 * index : 16 + 12 * index]) == sub
        assert bytes(sub) == data[4 + 12 * index : 16 + 12 * index]


@pytest.mark.parametrize("block_type", [1, 2, 3, 6, 8, 42, 255])
def test_other_block_types_are_kept_opaque(block_type: int) -> None:
    data = block(block_type, bytes(range(8)), type_specific=0x5C)
    parsed = XrUnknownBlock.parse(data)
    assert parsed == XrUnknownBlock(block_type, 0x5C, bytes(range(8)))
    assert bytes(parsed) == data


def test_statistics_summary_stays_opaque_with_its_flags() -> None:
    parsed = XrUnknownBlock.parse(STATS_BLOCK)
    assert parsed.block_type == XR_STATISTICS_SUMMARY
    assert parsed.type_specific == 0xE0  # loss, duplicate, jitter flags
    assert bytes(parsed) == STATS_BLOCK


# --- the XR packet ---------------------------------------------------------------------


def test_xr_packet_without_blocks() -> None:
    data = xr_packet(7)
    assert data == b"\x80\xcf\x00\x01\x00\x00\x00\x07"
    assert RtcpExtendedReport.parse(data) == RtcpExtendedReport(7)
    assert bytes(RtcpExtendedReport(7)) == data


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_blocks_in_every_order(order: tuple[int, ...]) -> None:
    data = xr_packet(0x11223344, *(BLOCKS[index] for index in order))
    packet = RtcpExtendedReport.parse(data)
    assert packet.ssrc == 0x11223344
    assert [type(parsed) for parsed in packet.blocks] == [BLOCK_TYPES[i] for i in order]
    assert [bytes(parsed) for parsed in packet.blocks] == [BLOCKS[i] for i in order]
    assert bytes(packet) == data


@pytest.mark.parametrize("padding", [4, 8])
def test_xr_padding(padding: int) -> None:
    data = xr_packet(1, VOIP_BLOCK, padding=padding)
    packet = RtcpExtendedReport.parse(data)
    assert packet == RtcpExtendedReport(1, [VOIP], padding)
    assert bytes(packet) == data


def test_xr_reserved_header_bits_are_ignored() -> None:
    data = bytearray(xr_packet(1, RRT_BLOCK))
    data[0] |= 0x1F
    assert bytes(RtcpExtendedReport.parse(bytes(data))) == xr_packet(1, RRT_BLOCK)


@pytest.mark.parametrize("position", range(3))
def test_xr_in_every_compound_position(position: int) -> None:
    others = [
        bytes(RtcpReceiverReport(1)),
        bytes(RtcpApplicationDefined(0, 1, "TEST", b"data")),
    ]
    xr = xr_packet(1, VOIP_BLOCK, DLRR_BLOCK)
    parts = [*others[:position], xr, *others[position:]]
    packets = parse_compound(b"".join(parts))
    assert packets[position] == RtcpExtendedReport(1, [VOIP, XrDlrr.parse(DLRR_BLOCK)])
    assert bytes(RtcpCompound(packets)) == b"".join(parts)


def test_fixture_rr_xr_app() -> None:
    data = (DATA / "rtcp_rr_xr_app.bin").read_bytes()
    rr = struct.pack("!BBHI", 0x80, 201, 1, 0x11223344)
    app = struct.pack("!BBHI4s", 0x85, 204, 3, 0x11223344, b"TUIP") + b"ping"
    assert data == rr + xr_packet(0x11223344, RRT_BLOCK, VOIP_BLOCK, DLRR_BLOCK, STATS_BLOCK) + app
    first, xr, last = parse_compound(data)
    assert first == RtcpReceiverReport(0x11223344)
    assert xr == RtcpExtendedReport(
        0x11223344,
        [
            XrReceiverReferenceTime(0xE9C0B71080000000),
            VOIP,
            XrDlrr([XrDlrrSubBlock(0xDEADBEEF, 0xB7108000, 0x00010000)]),
            XrUnknownBlock(XR_STATISTICS_SUMMARY, 0xE0, STATS_BLOCK[4:]),
        ],
    )
    assert last == RtcpApplicationDefined(5, 0x11223344, "TUIP", b"ping")
    assert bytes(RtcpCompound([first, xr, last])) == data


def test_every_truncation_of_an_xr_packet_raises_rtcp_parse_error() -> None:
    data = xr_packet(1, VOIP_BLOCK, DLRR_BLOCK)
    for size in range(len(data)):
        with pytest.raises(RtcpParseError):
            RtcpExtendedReport.parse(data[:size])
        with pytest.raises(RtcpParseError):
            RtcpCompound.parse(data[:size])


# --- parse errors -------------------------------------------------------------------------

ERRORS: list[tuple[Callable[[bytes], object], bytes, str]] = [
    (XrVoipMetrics.parse, b"\x07\x00", "XR report block too short: 2 bytes, the header needs 4"),
    (XrVoipMetrics.parse, RRT_BLOCK, "XR block type 4 is not VoIP Metrics (7)"),
    (
        XrReceiverReferenceTime.parse,
        VOIP_BLOCK,
        "XR block type 7 is not Receiver Reference Time (4)",
    ),
    (XrDlrr.parse, VOIP_BLOCK, "XR block type 7 is not DLRR (5)"),
    (XrVoipMetrics.parse, VOIP_BLOCK[:-4], "XR block length field says 36 bytes, block has 32"),
    (XrUnknownBlock.parse, b"", "XR report block too short: 0 bytes, the header needs 4"),
    (XrUnknownBlock.parse, b"\x06\x00\x00\x01", "XR block length field says 8 bytes, block has 4"),
    (
        XrVoipMetrics.parse,
        block(7, VOIP_BODY + bytes(4)),
        "XR VoIP Metrics block length must be 8, got 9",
    ),
    (
        XrVoipMetrics.parse,
        block(7, VOIP_BODY[:28]),
        "XR VoIP Metrics block length must be 8, got 7",
    ),
    (
        XrReceiverReferenceTime.parse,
        block(4, bytes(12)),
        "XR Receiver Reference Time block length must be 2, got 3",
    ),
    (
        RtcpExtendedReport.parse,
        xr_packet(1, block(4, bytes(4))),
        "XR Receiver Reference Time block length must be 2, got 1",
    ),
    (XrDlrr.parse, block(5, bytes(8)), "XR DLRR block length 2 is not a multiple of 3"),
    (XrDlrrSubBlock.parse, bytes(8), "XR DLRR sub-block must be 12 bytes, got 8"),
    (
        RtcpExtendedReport.parse,
        b"\x80\xcf\x00\x00",
        "RTCP XR body of 0 bytes is too short for the SSRC (4 needed)",
    ),
    (
        RtcpExtendedReport.parse,
        # P=1 with 2 octets of padding leaves 2 stray octets after the SSRC.
        b"\xa0\xcf\x00\x02" + bytes(4) + b"\x04\x00\x00\x02",
        "XR report block truncated: 2 bytes left, the header needs 4",
    ),
    (
        RtcpExtendedReport.parse,
        xr_packet(1, VOIP_BLOCK[:-4]),
        "XR report block says 36 bytes, only 32 left",
    ),
    (
        RtcpExtendedReport.parse,
        bytes(RtcpReceiverReport(1)),
        "RTCP packet type 201 is not XR (207)",
    ),
    (
        RtcpCompound.parse,
        xr_packet(1, VOIP_BLOCK[:-4]),
        "XR report block says 36 bytes, only 32 left",
    ),
]


@pytest.mark.parametrize(("parse", "data", "message"), ERRORS)
def test_parse_errors(parse: Callable[[bytes], object], data: bytes, message: str) -> None:
    with pytest.raises(RtcpParseError) as error:
        parse(data)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


# --- build errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (
            XrVoipMetrics(1, plc=4),
            "XR VoIP Metrics RX config out of range: plc=4 jba=0 jb_rate=0",
        ),
        (
            XrVoipMetrics(1, jb_rate=16),
            "XR VoIP Metrics RX config out of range: plc=0 jba=0 jb_rate=16",
        ),
        (XrVoipMetrics(1, loss_rate=256), "XR VoIP Metrics loss_rate 256 is out of range 0-255"),
        (
            XrVoipMetrics(1, signal_level=-129),
            "XR VoIP Metrics signal_level -129 is out of range -128-127",
        ),
        (
            XrVoipMetrics(1, noise_level=128),
            "XR VoIP Metrics noise_level 128 is out of range -128-127",
        ),
        (XrVoipMetrics(1, mos_cq=-1), "XR VoIP Metrics mos_cq -1 is out of range 0-255"),
        (
            XrVoipMetrics(1, gap_duration=65536),
            "XR VoIP Metrics gap_duration 65536 is out of range 0-65535",
        ),
        (XrVoipMetrics(1, jb_abs_max=-1), "XR VoIP Metrics jb_abs_max -1 is out of range 0-65535"),
        (XrVoipMetrics(-1), "XR VoIP Metrics ssrc -1 is out of range 0-4294967295"),
        (XrReceiverReferenceTime(2**64), f"XR NTP timestamp {2**64} is out of range"),
        (
            XrDlrr([XrDlrrSubBlock(2**32)]),
            "XR DLRR sub-block for SSRC 4294967296 has a value out of range 0-4294967295",
        ),
        (XrUnknownBlock(6, body=b"abc"), "XR report block body of 3 bytes is not a multiple of 4"),
        (XrUnknownBlock(6, body=bytes(4 * 65536)), "XR report block of 65537 words exceeds 65536"),
        (
            XrUnknownBlock(256),
            "XR block type 256 or type-specific octet 0 is out of range 0-255",
        ),
        (RtcpExtendedReport(2**32), "RTCP XR SSRC 4294967296 is out of range 0-4294967295"),
        (RtcpExtendedReport(1, padding_size=2), "RTCP packet of 10 bytes is not a multiple of 4"),
    ],
)
def test_build_errors(packet: object, message: str) -> None:
    with pytest.raises(RtpBuildError) as error:
        bytes(packet)  # type: ignore[call-overload]
    assert str(error.value) == message


# --- properties ---------------------------------------------------------------------------

PARSERS: list[Callable[[bytes], object]] = [
    RtcpExtendedReport.parse,
    XrDlrrSubBlock.parse,
    XrVoipMetrics.parse,
    XrReceiverReferenceTime.parse,
    XrDlrr.parse,
    XrUnknownBlock.parse,
    RtcpCompound.parse,
]

voip_metrics = st.builds(
    XrVoipMetrics,
    ssrc=st.integers(0, 0xFFFFFFFF),
    loss_rate=st.integers(0, 255),
    burst_duration=st.integers(0, 0xFFFF),
    signal_level=st.integers(-128, 127),
    noise_level=st.integers(-128, 127),
    mos_lq=st.integers(0, 255),
    plc=st.integers(0, 3),
    jba=st.integers(0, 3),
    jb_rate=st.integers(0, 15),
    jb_abs_max=st.integers(0, 0xFFFF),
)


@DETERMINISTIC
@given(voip_metrics)
def test_built_voip_metrics_round_trip(metrics: XrVoipMetrics) -> None:
    assert XrVoipMetrics.parse(bytes(metrics)) == metrics


@DETERMINISTIC
@given(st.binary(max_size=80))
def test_random_bytes_raise_only_rtp_parse_error(data: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(RtpParseError):
            parse(data)


@DETERMINISTIC
@given(st.integers(0, 255), st.binary(min_size=1, max_size=4))
def test_damaged_xr_packets_raise_only_rtp_parse_error(index: int, damage: bytes) -> None:
    sample = xr_packet(1, *BLOCKS)
    index %= len(sample)
    data = sample[:index] + damage + sample[index + len(damage) :]
    try:
        packet = RtcpExtendedReport.parse(data)
    except RtpParseError:
        return
    assert RtcpExtendedReport.parse(bytes(packet)) == packet
