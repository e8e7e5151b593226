"""Tests of tui_phone.rtp.rtcp: SR, RR, SDES, BYE, APP, compound packets, NTP time."""

from __future__ import annotations

import contextlib
import itertools
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.rtp.errors import RtcpParseError, RtpBuildError, RtpParseError
from tui_phone.rtp.rtcp import (
    NTP_UNIX_OFFSET,
    RTCP_APP,
    RTCP_BYE,
    RTCP_RR,
    RTCP_SDES,
    RTCP_SR,
    SDES_CNAME,
    SDES_NAME,
    SDES_NOTE,
    SDES_PRIV,
    SDES_TOOL,
    RtcpApplicationDefined,
    RtcpCompound,
    RtcpGoodbye,
    RtcpReceiverReport,
    RtcpReportBlock,
    RtcpSdesChunk,
    RtcpSdesItem,
    RtcpSenderReport,
    RtcpSourceDescription,
    RtcpUnknown,
    dlsr_from_seconds,
    ntp_from_unix,
    ntp_middle32,
    parse_compound,
    round_trip_time,
    seconds_from_dlsr,
    unix_from_ntp,
)
from tui_phone.rtp.xr import RtcpExtendedReport, XrVoipMetrics

DATA = Path(__file__).parent / "data"

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def rtcp(packet_type: int, count: int, body: bytes, padding: int = 0, version: int = 2) -> bytes:
    """One RTCP packet built by hand (RFC 3550 6.4.1), independent of the code."""
    if padding:
        body += bytes(padding - 1) + bytes([padding])
    first = (version << 6) | ((padding > 0) << 5) | count
    return struct.pack("!BBH", first, packet_type, (4 + len(body)) // 4 - 1) + body


def report_block(ssrc: int, fraction: int, lost24: int, *rest: int) -> bytes:
    return struct.pack("!IIIIII", ssrc, (fraction << 24) | lost24, *rest)


SR_INFO = struct.pack("!IQIII", 0xDEADBEEF, 0xE9C0B71080000000, 0x12345678, 1000, 160000)
BLOCK_1 = report_block(0xCAFEBABE, 25, 0xFFFFFE, 0x0001FFFF, 77, 0xB7052000, 0x00054000)
BLOCK_2 = report_block(2, 0, 5, 6, 7, 8, 9)


# --- report blocks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "lost"),
    [(0, 0), (1, 1), (0x7FFFFF, 8388607), (0x800000, -8388608), (0xFFFFFF, -1), (0xFFFFFE, -2)],
)
def test_cumulative_lost_is_signed_24_bit(wire: int, lost: int) -> None:
    data = report_block(1, 255, wire, 2, 3, 4, 5)
    block = RtcpReportBlock.parse(data)
    assert block == RtcpReportBlock(1, 255, lost, 2, 3, 4, 5)
    assert bytes(block) == data


@pytest.mark.parametrize("size", [0, 23, 25, 48])
def test_report_block_must_be_24_bytes(size: int) -> None:
    with pytest.raises(RtcpParseError) as error:
        RtcpReportBlock.parse(bytes(size))
    assert str(error.value) == f"RTCP report block must be 24 bytes, got {size}"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (RtcpReportBlock(1, fraction_lost=256), "RTCP fraction lost 256 is out of range 0-255"),
        (
            RtcpReportBlock(1, packets_lost=8388608),
            "RTCP cumulative packets lost 8388608 is out of range -8388608-8388607",
        ),
        (
            RtcpReportBlock(1, packets_lost=-8388609),
            "RTCP cumulative packets lost -8388609 is out of range -8388608-8388607",
        ),
        (
            RtcpReportBlock(7, jitter=2**32),
            "RTCP report block for SSRC 7 has a 32-bit field out of range",
        ),
    ],
)
def test_report_block_build_errors(block: RtcpReportBlock, message: str) -> None:
    with pytest.raises(RtpBuildError) as error:
        bytes(block)
    assert str(error.value) == message


# --- SR and RR --------------------------------------------------------------------


@pytest.mark.parametrize("blocks", [[], [BLOCK_1], [BLOCK_1, BLOCK_2]])
def test_sender_report(blocks: list[bytes]) -> None:
    data = rtcp(RTCP_SR, len(blocks), SR_INFO + b"".join(blocks))
    packet = RtcpSenderReport.parse(data)
    assert packet.ssrc == 0xDEADBEEF
    assert packet.ntp_timestamp == 0xE9C0B71080000000
    assert (packet.rtp_timestamp, packet.packet_count, packet.octet_count) == (
        0x12345678,
        1000,
        160000,
    )
    assert [bytes(block) for block in packet.reports] == blocks
    assert packet.extension == b""
    assert bytes(packet) == data


def test_sender_report_fields_of_a_report_block() -> None:
    packet = RtcpSenderReport.parse(rtcp(RTCP_SR, 1, SR_INFO + BLOCK_1))
    assert packet.reports == [
        RtcpReportBlock(0xCAFEBABE, 25, -2, 0x0001FFFF, 77, 0xB7052000, 0x00054000)
    ]


def test_sender_report_keeps_the_profile_extension() -> None:
    data = rtcp(RTCP_SR, 1, SR_INFO + BLOCK_1 + b"ext!more")
    packet = RtcpSenderReport.parse(data)
    assert packet.extension == b"ext!more"
    assert bytes(packet) == data


@pytest.mark.parametrize("blocks", [[], [BLOCK_2], [BLOCK_1, BLOCK_2, BLOCK_1]])
def test_receiver_report(blocks: list[bytes]) -> None:
    data = rtcp(RTCP_RR, len(blocks), struct.pack("!I", 0x11223344) + b"".join(blocks))
    packet = RtcpReceiverReport.parse(data)
    assert packet.ssrc == 0x11223344
    assert [bytes(block) for block in packet.reports] == blocks
    assert bytes(packet) == data


def test_receiver_report_built_by_hand_matches() -> None:
    packet = RtcpReceiverReport(5, [RtcpReportBlock(6, 1, -1, 2, 3, 4, 5)], b"abcd")
    assert bytes(packet) == rtcp(
        RTCP_RR, 1, struct.pack("!I", 5) + report_block(6, 1, 0xFFFFFF, 2, 3, 4, 5) + b"abcd"
    )


# --- SDES ---------------------------------------------------------------------------


def sdes_chunk(ssrc: int, *items: tuple[int, bytes]) -> bytes:
    raw = b"".join(bytes([kind, len(value)]) + value for kind, value in items)
    return struct.pack("!I", ssrc) + raw + bytes(4 - len(raw) % 4)


@pytest.mark.parametrize("size", range(9))
def test_sdes_cname_null_padding_of_every_length(size: int) -> None:
    cname = b"c" * size
    data = rtcp(RTCP_SDES, 1, sdes_chunk(7, (SDES_CNAME, cname)))
    packet = RtcpSourceDescription.parse(data)
    assert packet.chunks == [RtcpSdesChunk(7, [RtcpSdesItem(SDES_CNAME, cname)])]
    assert bytes(packet) == data


def test_sdes_several_chunks_and_items() -> None:
    chunks = [
        sdes_chunk(1, (SDES_CNAME, b"alice@host"), (SDES_NAME, b"Alice"), (SDES_TOOL, b"tui")),
        sdes_chunk(2),
        sdes_chunk(3, (SDES_NOTE, "on hold \u2615".encode())),
    ]
    data = rtcp(RTCP_SDES, 3, b"".join(chunks))
    packet = RtcpSourceDescription.parse(data)
    assert [chunk.ssrc for chunk in packet.chunks] == [1, 2, 3]
    assert packet.chunks[0].items[1] == RtcpSdesItem(SDES_NAME, b"Alice")
    assert packet.chunks[1].items == []
    assert packet.chunks[2].items[0].value.decode() == "on hold \u2615"
    assert bytes(packet) == data


@pytest.mark.parametrize("position", range(3))
def test_sdes_priv_item_in_every_position(position: int) -> None:
    priv = (SDES_PRIV, bytes([3]) + b"tuiv0.1")
    items = [(SDES_CNAME, b"a@b"), (SDES_TOOL, b"tui-phone")]
    items.insert(position, priv)
    data = rtcp(RTCP_SDES, 1, sdes_chunk(9, *items))
    packet = RtcpSourceDescription.parse(data)
    assert packet.chunks[0].items[position] == RtcpSdesItem(SDES_PRIV, b"v0.1", b"tui")
    assert bytes(packet) == data


def test_sdes_priv_with_empty_prefix_and_value() -> None:
    item = RtcpSdesItem(SDES_PRIV)
    assert bytes(item) == b"\x08\x01\x00"
    assert RtcpSdesItem.parse(b"\x08\x01\x00") == item


def test_sdes_chunk_and_item_parse_alone() -> None:
    raw = sdes_chunk(5, (SDES_CNAME, b"x"))
    assert RtcpSdesChunk.parse(raw) == RtcpSdesChunk(5, [RtcpSdesItem(SDES_CNAME, b"x")])
    assert bytes(RtcpSdesChunk.parse(raw)) == raw
    assert RtcpSdesItem.parse(b"\x01\x02ab") == RtcpSdesItem(SDES_CNAME, b"ab")


def test_sdes_padding_octets_are_not_checked() -> None:
    data = rtcp(RTCP_SDES, 1, struct.pack("!I", 1) + b"\x01\x00\x00\xff")
    packet = RtcpSourceDescription.parse(data)
    assert packet.chunks == [RtcpSdesChunk(1, [RtcpSdesItem(SDES_CNAME, b"")])]
    assert bytes(packet) == data[:-1] + b"\x00"


# --- BYE and APP ---------------------------------------------------------------------


@pytest.mark.parametrize("sources", [[], [1], list(range(1, 32))])
def test_bye_without_reason(sources: list[int]) -> None:
    data = rtcp(RTCP_BYE, len(sources), struct.pack(f"!{len(sources)}I", *sources))
    packet = RtcpGoodbye.parse(data)
    assert packet == RtcpGoodbye(sources, None)
    assert bytes(packet) == data


@pytest.mark.parametrize("size", range(9))
def test_bye_reason_of_every_length(size: int) -> None:
    reason = b"r" * size
    field = bytes([size]) + reason
    data = rtcp(RTCP_BYE, 1, struct.pack("!I", 0xABCDEF01) + field + bytes(-len(field) % 4))
    packet = RtcpGoodbye.parse(data)
    assert packet == RtcpGoodbye([0xABCDEF01], reason)
    assert bytes(packet) == data


def test_application_defined() -> None:
    data = rtcp(RTCP_APP, 5, struct.pack("!I4s", 0x11223344, b"TUIP") + b"ping")
    packet = RtcpApplicationDefined.parse(data)
    assert packet == RtcpApplicationDefined(5, 0x11223344, "TUIP", b"ping")
    assert bytes(packet) == data
    assert RtcpApplicationDefined.parse(bytes(RtcpApplicationDefined(31, 0, "    "))).data == b""


def test_unknown_packet_types_are_kept_opaque() -> None:
    # An RFC 4585 generic NACK (RTPFB, FMT=1), which this module does not decode.
    data = rtcp(205, 1, struct.pack("!IIHH", 1, 2, 100, 0b101))
    packet = RtcpUnknown.parse(data)
    assert packet == RtcpUnknown(205, 1, data[4:])
    assert bytes(packet) == data
    assert parse_compound(data) == [packet]


# --- RTCP padding ----------------------------------------------------------------------

PADDABLE: list[tuple[int, int, bytes, Callable[[bytes], object]]] = [
    (RTCP_SR, 1, SR_INFO + BLOCK_2, RtcpSenderReport.parse),
    (RTCP_RR, 0, b"\x00\x00\x00\x01", RtcpReceiverReport.parse),
    (RTCP_SDES, 1, sdes_chunk(1, (SDES_CNAME, b"abc")), RtcpSourceDescription.parse),
    (RTCP_BYE, 1, b"\x00\x00\x00\x01", RtcpGoodbye.parse),
    (RTCP_APP, 0, b"\x00\x00\x00\x01name", RtcpApplicationDefined.parse),
    (206, 15, b"\x00\x00\x00\x01\x00\x00\x00\x02", RtcpUnknown.parse),
]


@pytest.mark.parametrize("padding", [4, 8, 12])
@pytest.mark.parametrize(("packet_type", "count", "body", "parse"), PADDABLE)
def test_padding_on_every_packet_type(
    packet_type: int, count: int, body: bytes, parse: Callable[[bytes], object], padding: int
) -> None:
    data = rtcp(packet_type, count, body, padding)
    packet: Any = parse(data)
    assert packet.padding_size == padding
    assert bytes(packet) == data
    packet.padding_size = 0
    assert packet == parse(rtcp(packet_type, count, body))
    assert bytes(packet) == rtcp(packet_type, count, body)


# --- compound packets -------------------------------------------------------------------

SAMPLES: list[bytes] = [
    rtcp(RTCP_SR, 1, SR_INFO + BLOCK_1),
    rtcp(RTCP_RR, 2, struct.pack("!I", 9) + BLOCK_1 + BLOCK_2),
    rtcp(RTCP_SDES, 2, sdes_chunk(9, (SDES_CNAME, b"bob@example.org")) + sdes_chunk(10)),
    rtcp(RTCP_BYE, 1, struct.pack("!I", 9) + b"\x03bye"),
    rtcp(RTCP_APP, 1, struct.pack("!I4s", 9, b"ABCD")),
    rtcp(205, 1, struct.pack("!IIHH", 9, 2, 100, 0)),
    # XR with a VoIP Metrics block (RFC 3611 4.7), the layout checked in test_xr.
    rtcp(207, 0, struct.pack("!IBBHI", 9, 7, 0, 8, 9) + bytes(28)),
]
SAMPLE_TYPES = [
    RtcpSenderReport,
    RtcpReceiverReport,
    RtcpSourceDescription,
    RtcpGoodbye,
    RtcpApplicationDefined,
    RtcpUnknown,
    RtcpExtendedReport,
]


@pytest.mark.parametrize("index", range(len(SAMPLES)))
@pytest.mark.parametrize("position", ["alone", "first", "middle", "last"])
def test_every_packet_type_in_every_compound_position(index: int, position: str) -> None:
    sample = SAMPLES[index]
    before, after = {
        "alone": ([], []),
        "first": ([], [SAMPLES[2]]),
        "middle": ([SAMPLES[0]], [SAMPLES[3]]),
        "last": ([SAMPLES[1], SAMPLES[2]], []),
    }[position]
    data = b"".join([*before, sample, *after])
    packets = parse_compound(data)
    assert len(packets) == len(before) + 1 + len(after)
    assert type(packets[len(before)]) is SAMPLE_TYPES[index]
    assert bytes(packets[len(before)]) == sample
    assert bytes(RtcpCompound(packets)) == data


def test_compound_of_every_sample_in_several_orders() -> None:
    for order in itertools.islice(itertools.permutations(range(len(SAMPLES))), 0, 5040, 97):
        data = b"".join(SAMPLES[index] for index in order)
        compound = RtcpCompound.parse(data)
        assert [type(packet) for packet in compound.packets] == [SAMPLE_TYPES[i] for i in order]
        assert bytes(compound) == data


def test_compound_built_from_objects() -> None:
    compound = RtcpCompound(
        [
            RtcpReceiverReport(9),
            RtcpSourceDescription([RtcpSdesChunk(9, [RtcpSdesItem(SDES_CNAME, b"me")])]),
            RtcpExtendedReport(9, [XrVoipMetrics(9, mos_lq=42)]),
        ]
    )
    data = bytes(compound)
    assert data[:8] == rtcp(RTCP_RR, 0, struct.pack("!I", 9))
    assert data[8:24] == rtcp(RTCP_SDES, 1, struct.pack("!I", 9) + b"\x01\x02me\x00\x00\x00\x00")
    assert RtcpCompound.parse(data) == compound


def test_fixture_sr_sdes_bye() -> None:
    data = (DATA / "rtcp_sr_sdes_bye.bin").read_bytes()
    sdes_items = b"\x01\x10alice@192.0.2.10\x06\x08tui-phon\x08\x08\x03tuiv0.1"
    expected = (
        rtcp(RTCP_SR, 1, SR_INFO + BLOCK_1)
        + rtcp(RTCP_SDES, 1, struct.pack("!I", 0xDEADBEEF) + sdes_items + b"\x00\x00")
        + rtcp(RTCP_BYE, 1, struct.pack("!I", 0xDEADBEEF) + b"\x06hangup\x00")
    )
    assert data == expected
    sr, sdes, bye = parse_compound(data)
    assert isinstance(sr, RtcpSenderReport)
    assert sr.reports[0].packets_lost == -2
    assert unix_from_ntp(sr.ntp_timestamp) == pytest.approx(0xE9C0B710 - NTP_UNIX_OFFSET + 0.5)
    assert sdes == RtcpSourceDescription(
        [
            RtcpSdesChunk(
                0xDEADBEEF,
                [
                    RtcpSdesItem(SDES_CNAME, b"alice@192.0.2.10"),
                    RtcpSdesItem(SDES_TOOL, b"tui-phon"),
                    RtcpSdesItem(SDES_PRIV, b"v0.1", b"tui"),
                ],
            )
        ]
    )
    assert bye == RtcpGoodbye([0xDEADBEEF], b"hangup")
    assert bytes(RtcpCompound([sr, sdes, bye])) == data


def test_every_truncation_of_a_compound_raises_rtcp_parse_error() -> None:
    data = (DATA / "rtcp_sr_sdes_bye.bin").read_bytes()
    boundaries = {0}
    offset = 0
    while offset < len(data):
        offset += (struct.unpack_from("!H", data, offset + 2)[0] + 1) * 4
        boundaries.add(offset)
    for size in range(1, len(data)):
        if size in boundaries:
            assert bytes(RtcpCompound.parse(data[:size])) == data[:size]
        else:
            with pytest.raises(RtcpParseError):
                RtcpCompound.parse(data[:size])


# --- parse errors ----------------------------------------------------------------------

ERRORS: list[tuple[Callable[[bytes], object], bytes, str]] = [
    (RtcpCompound.parse, b"", "RTCP compound packet is empty"),
    (
        RtcpCompound.parse,
        SAMPLES[0] + b"\x80\xc9",
        "RTCP compound packet truncated: 2 bytes at offset 52, a header needs 4",
    ),
    (
        RtcpCompound.parse,
        SAMPLES[1][:-4],
        "RTCP packet at offset 0 says 56 bytes, only 52 left",
    ),
    (RtcpSenderReport.parse, b"\x80\xc8\x00", "RTCP packet too short: 3 bytes, the header needs 4"),
    (RtcpCompound.parse, rtcp(RTCP_RR, 0, bytes(4), version=1), "RTCP version must be 2, got 1"),
    (
        RtcpReceiverReport.parse,
        rtcp(RTCP_RR, 0, bytes(4), version=3),
        "RTCP version must be 2, got 3",
    ),
    (RtcpSenderReport.parse, SAMPLES[1], "RTCP packet type 201 is not SR (200)"),
    (RtcpReceiverReport.parse, SAMPLES[0], "RTCP packet type 200 is not RR (201)"),
    (RtcpSourceDescription.parse, SAMPLES[3], "RTCP packet type 203 is not SDES (202)"),
    (RtcpGoodbye.parse, SAMPLES[2], "RTCP packet type 202 is not BYE (203)"),
    (RtcpApplicationDefined.parse, SAMPLES[3], "RTCP packet type 203 is not APP (204)"),
    (
        RtcpReceiverReport.parse,
        SAMPLES[1] + bytes(4),
        "RTCP length field says 56 bytes, packet has 60",
    ),
    (RtcpUnknown.parse, SAMPLES[5][:-1], "RTCP length field says 16 bytes, packet has 15"),
    (RtcpReceiverReport.parse, b"\xa0\xc9\x00\x01\x00\x00\x00\x00", "RTCP padding count is 0"),
    (
        RtcpReceiverReport.parse,
        b"\xa0\xc9\x00\x01\x00\x00\x00\x05",
        "RTCP padding count 5 exceeds the 4 bytes after the header",
    ),
    (
        RtcpSenderReport.parse,
        rtcp(RTCP_SR, 1, SR_INFO),
        "RTCP SR body of 24 bytes is too short for 1 report blocks (48 needed)",
    ),
    (
        RtcpSenderReport.parse,
        rtcp(RTCP_SR, 0, SR_INFO[:20]),
        "RTCP SR body of 20 bytes is too short for 0 report blocks (24 needed)",
    ),
    (
        RtcpReceiverReport.parse,
        rtcp(RTCP_RR, 2, bytes(4) + BLOCK_1),
        "RTCP RR body of 28 bytes is too short for 2 report blocks (52 needed)",
    ),
    (
        RtcpReceiverReport.parse,
        rtcp(RTCP_RR, 0, b""),
        "RTCP RR body of 0 bytes is too short for 0 report blocks (4 needed)",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 2, sdes_chunk(1)),
        "RTCP SDES chunk truncated: 0 bytes left, the SSRC needs 4",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, bytes(4) + b"\x01\x02ab\x02\x02cd"),
        "RTCP SDES chunk is not terminated by a null item",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, bytes(4) + b"\x01\x06ab"),
        "RTCP SDES item truncated: length 6 but 2 bytes left",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, bytes(4) + b"\x01\x01a\x01", padding=0),
        "RTCP SDES item truncated: its length octet is missing",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, bytes(4) + b"\x08\x00\x00\x00"),
        "RTCP SDES PRIV item has no prefix length",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, bytes(4) + b"\x08\x02\x02a\x00\x00\x00\x00"),
        "RTCP SDES PRIV prefix length 2 exceeds the item's 1 bytes",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 1, sdes_chunk(1) + sdes_chunk(2)),
        "RTCP SDES has 8 bytes after its 1 chunks",
    ),
    (
        RtcpSourceDescription.parse,
        rtcp(RTCP_SDES, 0, bytes(4)),
        "RTCP SDES has 4 bytes after its 0 chunks",
    ),
    (
        RtcpSourceDescription.parse,
        # P=1 with 5 octets of padding leaves the null item short of its own.
        b"\xa1\xca\x00\x03" + bytes(4) + b"\x01\x00\x00" + b"\x00\x00\x00\x00\x05",
        "RTCP SDES chunk truncated: padding after the null item is missing",
    ),
    (RtcpSdesChunk.parse, sdes_chunk(1) + b"\x00", "RTCP SDES chunk is followed by 1 extra bytes"),
    (RtcpSdesItem.parse, b"\x00", "RTCP SDES item type 0 is the end of the list, not an item"),
    (RtcpSdesItem.parse, b"\x01\x00\x00", "RTCP SDES item is followed by 1 extra bytes"),
    (RtcpSdesItem.parse, b"", "RTCP SDES chunk is not terminated by a null item"),
    (
        RtcpGoodbye.parse,
        rtcp(RTCP_BYE, 3, bytes(8)),
        "RTCP BYE body of 8 bytes is too short for 3 SSRCs (12 needed)",
    ),
    (
        RtcpGoodbye.parse,
        rtcp(RTCP_BYE, 1, bytes(4) + b"\x09abc"),
        "RTCP BYE reason length 9 exceeds the 3 bytes left",
    ),
    (
        RtcpGoodbye.parse,
        rtcp(RTCP_BYE, 1, bytes(4) + b"\x01abcdefg"),
        "RTCP BYE reason of 1 bytes takes 4 bytes padded, got 8",
    ),
    (
        RtcpApplicationDefined.parse,
        rtcp(RTCP_APP, 0, bytes(4)),
        "RTCP APP body of 4 bytes is too short for SSRC and name (8 needed)",
    ),
    (
        RtcpApplicationDefined.parse,
        rtcp(RTCP_APP, 0, bytes(4) + b"\xffABC"),
        "RTCP APP name b'\\xffABC' is not ASCII",
    ),
    (
        RtcpApplicationDefined.parse,
        b"\xa0\xcc\x00\x03" + bytes(4) + b"ABCD" + b"ab\x00\x02",
        "RTCP APP data of 2 bytes is not a multiple of 4",
    ),
]


@pytest.mark.parametrize(("parse", "data", "message"), ERRORS)
def test_parse_errors(parse: Callable[[bytes], object], data: bytes, message: str) -> None:
    with pytest.raises(RtcpParseError) as error:
        parse(data)
    assert str(error.value) == message
    assert isinstance(error.value, RtpParseError)
    assert isinstance(error.value, ValueError)


# --- build errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (RtcpReceiverReport(1, [RtcpReportBlock(2)] * 32), "RTCP count 32 is out of range 0-31"),
        (RtcpReceiverReport(2**32), "RTCP RR SSRC 4294967296 is out of range 0-4294967295"),
        (RtcpReceiverReport(1, extension=b"abc"), "RTCP packet of 11 bytes is not a multiple of 4"),
        (RtcpReceiverReport(1, padding_size=256), "RTCP padding size 256 is out of range 0-255"),
        (RtcpReceiverReport(1, padding_size=3), "RTCP packet of 11 bytes is not a multiple of 4"),
        (RtcpSenderReport(1, ntp_timestamp=2**64), "RTCP SR sender info has a field out of range"),
        (RtcpGoodbye(list(range(32))), "RTCP BYE can carry at most 31 SSRCs, got 32"),
        (RtcpGoodbye([-1]), "RTCP BYE SSRC list [-1] has a value out of range"),
        (RtcpGoodbye([1], b"x" * 256), "RTCP BYE reason of 256 bytes exceeds 255"),
        (
            RtcpApplicationDefined(0, 1, "TOOLONG"),
            "RTCP APP name 'TOOLONG' is not 4 ASCII characters",
        ),
        (
            RtcpApplicationDefined(0, 1, "caf\u00e9"),
            "RTCP APP name 'caf\u00e9' is not 4 ASCII characters",
        ),
        (
            RtcpApplicationDefined(0, 1, "ABCD", b"x"),
            "RTCP APP data of 1 bytes is not a multiple of 4",
        ),
        (RtcpApplicationDefined(32, 1, "ABCD"), "RTCP count 32 is out of range 0-31"),
        (RtcpApplicationDefined(0, -1, "ABCD"), "RTCP APP SSRC -1 is out of range 0-4294967295"),
        (RtcpUnknown(256), "RTCP packet type 256 is out of range 0-255"),
        (RtcpUnknown(205, body=bytes(0x40000)), "RTCP packet of 262148 bytes exceeds 262144"),
        (
            RtcpSourceDescription([RtcpSdesChunk(1, [RtcpSdesItem(0, b"")])]),
            "RTCP SDES item type 0 is out of range 1-255",
        ),
        (
            RtcpSourceDescription([RtcpSdesChunk(1, [RtcpSdesItem(1, bytes(256))])]),
            "RTCP SDES item of 256 bytes exceeds 255",
        ),
        (
            RtcpSourceDescription([RtcpSdesChunk(1, [RtcpSdesItem(8, bytes(250), b"abcde")])]),
            "RTCP SDES item of 256 bytes exceeds 255",
        ),
        (
            RtcpSourceDescription([RtcpSdesChunk(1, [RtcpSdesItem(8, b"", bytes(256))])]),
            "RTCP SDES PRIV prefix of 256 bytes exceeds 255",
        ),
        (
            RtcpSourceDescription([RtcpSdesChunk(1, [RtcpSdesItem(1, b"x", b"p")])]),
            "RTCP SDES item type 1 cannot have a prefix",
        ),
        (
            RtcpSourceDescription([RtcpSdesChunk(-5)]),
            "RTCP SDES chunk SSRC -5 is out of range 0-4294967295",
        ),
    ],
)
def test_build_errors(packet: object, message: str) -> None:
    with pytest.raises(RtpBuildError) as error:
        bytes(packet)  # type: ignore[call-overload]
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


# --- NTP time --------------------------------------------------------------------------


def test_ntp_of_the_unix_epoch() -> None:
    assert ntp_from_unix(0.0) == NTP_UNIX_OFFSET << 32 == 0x83AA7E80_00000000
    assert unix_from_ntp(0x83AA7E80_00000000) == 0.0


def test_ntp_fraction_is_32_bit_fixed_point() -> None:
    assert ntp_from_unix(1.5) == ((NTP_UNIX_OFFSET + 1) << 32) | 0x80000000
    assert ntp_from_unix(1.25) & 0xFFFFFFFF == 0x40000000
    assert unix_from_ntp(ntp_from_unix(1_700_000_000.25)) == 1_700_000_000.25


def test_ntp_era_1_after_2036() -> None:
    after_rollover = 2_085_978_496.0 + 10.5  # 2036-02-07T06:28:16Z + 10.5 s
    ntp = ntp_from_unix(after_rollover)
    assert ntp >> 32 == 10
    assert unix_from_ntp(ntp) == after_rollover


def test_ntp_middle32_is_the_lsr() -> None:
    assert ntp_middle32(0xE9C0B710_80000000) == 0xB7108000
    assert ntp_middle32(0x12345678_9ABCDEF0) == 0x56789ABC


def test_dlsr_units() -> None:
    assert dlsr_from_seconds(5.25) == 0x00054000
    assert dlsr_from_seconds(-1.0) == 0
    assert dlsr_from_seconds(1e9) == 0xFFFFFFFF
    assert seconds_from_dlsr(0x00054000) == 5.25


def rfc3550_arrival() -> float:
    """A Unix time whose NTP middle 32 bits are 0xb710:8000 (RFC 3550 6.4.1 figure)."""
    seconds = ((NTP_UNIX_OFFSET + 1_700_000_000) & ~0xFFFF) | 0xB710
    return seconds - NTP_UNIX_OFFSET + 0.5


def test_round_trip_time_example_of_rfc3550() -> None:
    # RFC 3550 6.4.1: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000 -> 6.125 s
    arrival = rfc3550_arrival()
    assert ntp_middle32(ntp_from_unix(arrival)) == 0xB7108000
    assert round_trip_time(arrival, 0xB7052000, 0x00054000) == 6.125


def test_round_trip_time_unknown() -> None:
    assert round_trip_time(rfc3550_arrival(), 0, 0) is None
    assert round_trip_time(rfc3550_arrival(), 0xB7108000, 0x00010000) is None


# --- properties ---------------------------------------------------------------------------

PARSERS: list[Callable[[bytes], object]] = [
    RtcpCompound.parse,
    parse_compound,
    RtcpReportBlock.parse,
    RtcpSenderReport.parse,
    RtcpReceiverReport.parse,
    RtcpSourceDescription.parse,
    RtcpSdesChunk.parse,
    RtcpSdesItem.parse,
    RtcpGoodbye.parse,
    RtcpApplicationDefined.parse,
    RtcpUnknown.parse,
]


@DETERMINISTIC
@given(st.binary(max_size=80))
def test_random_bytes_raise_only_rtp_parse_error(data: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(RtpParseError):
            parse(data)


@DETERMINISTIC
@given(st.sampled_from(SAMPLES), st.integers(0, 255), st.binary(min_size=1, max_size=4))
def test_damaged_packets_raise_only_rtp_parse_error(
    sample: bytes, index: int, damage: bytes
) -> None:
    # Overwrite a few bytes of a valid packet (keeping V=2 most of the time)
    # so the checks deep inside each packet type are reached.
    index %= len(sample)
    data = sample[:index] + damage + sample[index + len(damage) :]
    for parse in PARSERS:
        try:
            packets = parse(data)
        except RtpParseError:
            continue
        if parse is parse_compound:
            assert parse_compound(bytes(RtcpCompound(packets))) == packets  # type: ignore[arg-type]
