"""Tests of tui_phone.rtp.packet: RTP data packets (RFC 3550 5.1, 5.3.1; RFC 8285)."""

from __future__ import annotations

import contextlib
import itertools
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.rtp.errors import RtpBuildError, RtpParseError
from tui_phone.rtp.packet import (
    RTP_EXTENSION_ONE_BYTE_PROFILE,
    RTP_EXTENSION_TWO_BYTE_PROFILE,
    RtpPacket,
    is_rtcp,
)

DATA = Path(__file__).parent / "data"
SIPP_CAPTURES = Path("/usr/share/sip-tester")

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def rtp_header(
    *,
    version: int = 2,
    padding: bool = False,
    extension: bool = False,
    cc: int = 0,
    marker: bool = False,
    pt: int = 0,
    seq: int = 0,
    ts: int = 0,
    ssrc: int = 0,
) -> bytes:
    """The 12-byte fixed header, built by hand (RFC 3550 5.1), independent of the code."""
    first = (version << 6) | (padding << 5) | (extension << 4) | cc
    return struct.pack("!BBHII", first, (marker << 7) | pt, seq, ts, ssrc)


# --- parsing ------------------------------------------------------------------


def test_parse_minimal_packet() -> None:
    data = rtp_header(pt=8, seq=4660, ts=160, ssrc=0xDEADBEEF) + b"\xd5" * 160
    packet = RtpPacket.parse(data)
    assert packet == RtpPacket(8, 4660, 160, 0xDEADBEEF, b"\xd5" * 160)
    assert packet.version == 2
    assert not packet.marker
    assert not packet.has_padding
    assert not packet.has_extension
    assert packet.csrcs == []
    assert packet.extension_profile is None
    assert bytes(packet) == data


def test_parse_header_only_packet_has_empty_payload() -> None:
    data = rtp_header(pt=0)
    assert RtpPacket.parse(data).payload == b""
    assert bytes(RtpPacket.parse(data)) == data


def test_marker_and_payload_type_share_the_second_octet() -> None:
    data = rtp_header(marker=True, pt=127, seq=65535, ts=0xFFFFFFFF, ssrc=0xFFFFFFFF)
    packet = RtpPacket.parse(data)
    assert packet.marker is True
    assert packet.payload_type == 127
    assert (packet.sequence_number, packet.timestamp, packet.ssrc) == (65535, 2**32 - 1, 2**32 - 1)
    assert bytes(packet) == data


@pytest.mark.parametrize("count", range(16))
def test_every_csrc_count_parses_and_round_trips(count: int) -> None:
    csrcs = [0x01010101 * (index + 1) for index in range(count)]
    data = rtp_header(cc=count, pt=0) + struct.pack(f"!{count}I", *csrcs) + b"payload"
    packet = RtpPacket.parse(data)
    assert packet.csrcs == csrcs
    assert packet.payload == b"payload"
    assert bytes(packet) == data


@pytest.mark.parametrize(
    "profile",
    [0x1234, RTP_EXTENSION_ONE_BYTE_PROFILE, RTP_EXTENSION_TWO_BYTE_PROFILE, 0x100F, 0],
)
@pytest.mark.parametrize("words", [0, 1, 3])
def test_header_extension_is_kept_opaque(profile: int, words: int) -> None:
    body = bytes(range(4 * words))
    data = rtp_header(extension=True, pt=96) + struct.pack("!HH", profile, words) + body + b"xy"
    packet = RtpPacket.parse(data)
    assert packet.has_extension
    assert packet.extension_profile == profile
    assert packet.extension_data == body
    assert packet.payload == b"xy"
    assert bytes(packet) == data


@pytest.mark.parametrize("padding_size", [1, 2, 3, 4, 255])
def test_padding_is_removed_from_the_payload(padding_size: int) -> None:
    padding = bytes(padding_size - 1) + bytes([padding_size])
    data = rtp_header(padding=True, pt=0) + b"abcd" + padding
    packet = RtpPacket.parse(data)
    assert packet.has_padding
    assert packet.padding_size == padding_size
    assert packet.payload == b"abcd"
    assert bytes(packet) == data


def test_padding_may_take_everything_after_the_header() -> None:
    data = rtp_header(padding=True, cc=1) + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x04"
    packet = RtpPacket.parse(data)
    assert packet.payload == b""
    assert packet.csrcs == [1]
    assert packet.padding_size == 4


def test_nonzero_padding_octets_are_written_back_as_zeros() -> None:
    data = rtp_header(padding=True) + b"pay" + b"\xaa\xbb\x03"
    packet = RtpPacket.parse(data)
    assert packet.payload == b"pay"
    assert bytes(packet) == rtp_header(padding=True) + b"pay" + b"\x00\x00\x03"


def test_everything_at_once_matches_a_hand_built_layout() -> None:
    packet = RtpPacket(
        payload_type=8,
        sequence_number=0xFFFE,
        timestamp=0x12345678,
        ssrc=0xDEADBEEF,
        payload=b"\xd5" * 160,
        marker=True,
        csrcs=[0x01020304, 0x0A0B0C0D],
        extension_profile=RTP_EXTENSION_ONE_BYTE_PROFILE,
        extension_data=b"\x10\x7f\x00\x00",
        padding_size=4,
    )
    expected = (
        bytes([0xB2, 0x88])  # V=2 P=1 X=1 CC=2, M=1 PT=8
        + bytes.fromhex("fffe 12345678 deadbeef 01020304 0a0b0c0d")
        + bytes.fromhex("bede 0001 107f0000")
        + b"\xd5" * 160
        + bytes.fromhex("00000004")
    )
    assert bytes(packet) == expected
    assert RtpPacket.parse(expected) == packet


# --- fixtures -----------------------------------------------------------------


def test_fixture_pcma_with_csrcs_extension_and_padding() -> None:
    data = (DATA / "rtp_pcma_csrc_ext_pad.bin").read_bytes()
    packet = RtpPacket.parse(data)
    assert packet == RtpPacket(
        8,
        0xFFFE,
        0x12345678,
        0xDEADBEEF,
        b"\xd5" * 160,
        True,
        [0x01020304, 0x0A0B0C0D],
        0xBEDE,
        b"\x10\x7f\x00\x00",
        4,
    )
    assert bytes(packet) == data


def test_fixture_two_byte_extension() -> None:
    data = (DATA / "rtp_two_byte_extension.bin").read_bytes()
    packet = RtpPacket.parse(data)
    assert packet.extension_profile == RTP_EXTENSION_TWO_BYTE_PROFILE
    assert packet.extension_data == b"\x02\x03abc\x00\x00\x00"
    assert (packet.payload_type, packet.sequence_number, packet.timestamp) == (0, 1, 160)
    assert packet.payload == b"\xff" * 160
    assert bytes(packet) == data


# --- parse errors ---------------------------------------------------------------


@pytest.mark.parametrize("size", range(12))
def test_short_header(size: int) -> None:
    data = rtp_header()[:size]
    with pytest.raises(RtpParseError) as error:
        RtpPacket.parse(data)
    assert str(error.value) == f"RTP packet too short: {size} bytes, the fixed header needs 12"


@pytest.mark.parametrize("version", [0, 1, 3])
def test_wrong_version(version: int) -> None:
    with pytest.raises(RtpParseError) as error:
        RtpPacket.parse(rtp_header(version=version) + b"payload")
    assert str(error.value) == f"RTP version must be 2, got {version}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            rtp_header(cc=1),
            "RTP CSRC list truncated: 1 CSRCs need 16 bytes, packet has 12",
        ),
        (
            rtp_header(cc=15) + bytes(56),
            "RTP CSRC list truncated: 15 CSRCs need 72 bytes, packet has 68",
        ),
        (
            rtp_header(extension=True) + b"\xbe\xde",
            "RTP header extension truncated: its header needs 16 bytes, packet has 14",
        ),
        (
            rtp_header(extension=True, cc=1) + bytes(4),
            "RTP header extension truncated: its header needs 20 bytes, packet has 16",
        ),
        (
            rtp_header(extension=True) + b"\xbe\xde\x00\x02" + bytes(7),
            "RTP header extension truncated: 2 words need 24 bytes, packet has 23",
        ),
        (
            rtp_header(padding=True),
            "RTP padding bit set but the packet ends after the header",
        ),
        (
            rtp_header(padding=True, extension=True) + b"\x12\x34\x00\x00",
            "RTP padding bit set but the packet ends after the header",
        ),
        (
            rtp_header(padding=True) + b"abc\x00",
            "RTP padding count is 0",
        ),
        (
            rtp_header(padding=True) + b"abc\x05",
            "RTP padding count 5 exceeds the 4 bytes after the header",
        ),
        (
            rtp_header(padding=True, cc=1) + bytes(4) + b"\x02",
            "RTP padding count 2 exceeds the 1 bytes after the header",
        ),
    ],
)
def test_inconsistent_packets(data: bytes, message: str) -> None:
    with pytest.raises(RtpParseError) as error:
        RtpPacket.parse(data)
    assert str(error.value) == message
    assert error.value.reason == message
    assert isinstance(error.value, ValueError)


def test_every_truncation_of_a_full_packet_parses_or_raises_rtp_parse_error() -> None:
    data = (DATA / "rtp_pcma_csrc_ext_pad.bin").read_bytes()
    for size in range(len(data)):
        with contextlib.suppress(RtpParseError):
            RtpPacket.parse(data[:size])


# --- build errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (RtpPacket(payload_type=128), "RTP payload type 128 is out of range 0-127"),
        (RtpPacket(payload_type=-1), "RTP payload type -1 is out of range 0-127"),
        (RtpPacket(sequence_number=65536), "RTP sequence number 65536 is out of range 0-65535"),
        (RtpPacket(timestamp=-1), "RTP timestamp -1 is out of range 0-4294967295"),
        (RtpPacket(ssrc=2**32), "RTP SSRC 4294967296 is out of range 0-4294967295"),
        (RtpPacket(csrcs=list(range(16))), "RTP packet can carry at most 15 CSRCs, got 16"),
        (RtpPacket(csrcs=[2**32]), "RTP CSRC list [4294967296] has a value out of range"),
        (
            RtpPacket(extension_profile=0x10000),
            "RTP header extension profile 65536 is out of range 0-65535",
        ),
        (
            RtpPacket(extension_profile=0xBEDE, extension_data=b"abc"),
            "RTP header extension data of 3 bytes is not a multiple of 4",
        ),
        (
            RtpPacket(extension_profile=1, extension_data=bytes(4 * 65536)),
            "RTP header extension of 65536 words exceeds 65535",
        ),
        (RtpPacket(padding_size=256), "RTP padding size 256 is out of range 0-255"),
        (RtpPacket(padding_size=-4), "RTP padding size -4 is out of range 0-255"),
    ],
)
def test_build_errors(packet: RtpPacket, message: str) -> None:
    with pytest.raises(RtpBuildError) as error:
        bytes(packet)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


# --- is_rtcp (RFC 5761 4) ---------------------------------------------------------


@pytest.mark.parametrize("second", range(256))
def test_is_rtcp_looks_at_the_second_octet(second: int) -> None:
    assert is_rtcp(bytes([0x80, second, 0, 1])) is (192 <= second <= 223)


@pytest.mark.parametrize("data", [b"", b"\x80"])
def test_is_rtcp_on_short_data(data: bytes) -> None:
    assert is_rtcp(data) is False


def test_is_rtcp_on_real_packets() -> None:
    assert is_rtcp(bytes(RtpPacket(0, 1, 2, 3, b"x"))) is False
    assert is_rtcp(bytes(RtpPacket(63, 1, 2, 3, b"x", marker=True))) is False
    assert is_rtcp(bytes(RtpPacket(96, 1, 2, 3, b"x", marker=True))) is False
    assert is_rtcp(bytes.fromhex("80c9000111223344")) is True  # an empty RR
    assert is_rtcp(bytes.fromhex("80cf0001")) is True  # an XR header


# --- real captures ------------------------------------------------------------------


def udp_payloads_from_pcap(path: Path) -> list[bytes]:
    """The UDP payloads of a classic pcap file (Ethernet, IPv4), read by hand."""
    data = path.read_bytes()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian = ">"
    else:
        raise AssertionError(f"{path} is not a classic pcap file")
    (link_type,) = struct.unpack_from(endian + "I", data, 20)
    assert link_type == 1, f"{path}: link type {link_type} is not Ethernet"
    payloads = []
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack_from(endian + "IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        ethertype_at = 12
        (ethertype,) = struct.unpack_from("!H", frame, ethertype_at)
        while ethertype == 0x8100:  # 802.1Q VLAN tags
            ethertype_at += 4
            (ethertype,) = struct.unpack_from("!H", frame, ethertype_at)
        ip = frame[ethertype_at + 2 :]
        if ethertype != 0x0800 or ip[9] != 17:  # IPv4, UDP
            continue
        udp = ip[(ip[0] & 0x0F) * 4 :]
        (udp_length,) = struct.unpack_from("!H", udp, 4)
        payloads.append(udp[8:udp_length])
    return payloads


def sipp_captures() -> list[Path]:
    return sorted(SIPP_CAPTURES.glob("*.pcap")) if SIPP_CAPTURES.is_dir() else []


@pytest.mark.skipif(
    not sipp_captures(),
    reason="no sipp RTP captures in /usr/share/sip-tester (apt-get install sip-tester)",
)
@pytest.mark.parametrize("path", sipp_captures(), ids=lambda path: path.name)
def test_real_captures_parse_and_round_trip(path: Path) -> None:
    payloads = udp_payloads_from_pcap(path)
    assert payloads
    for data in payloads:
        assert not is_rtcp(data)
        packet = RtpPacket.parse(data)
        assert bytes(packet) == data
        assert packet.payload_type in (8, 101)  # PCMA, RFC 4733 telephone-event


@pytest.mark.skipif(
    not (SIPP_CAPTURES / "g711a.pcap").is_file(),
    reason="no /usr/share/sip-tester/g711a.pcap (apt-get install sip-tester)",
)
def test_real_pcma_stream_is_consistent() -> None:
    captured = udp_payloads_from_pcap(SIPP_CAPTURES / "g711a.pcap")
    packets = [RtpPacket.parse(data) for data in captured]
    assert {packet.ssrc for packet in packets} == {packets[0].ssrc}
    for before, after in itertools.pairwise(packets):
        assert after.sequence_number == (before.sequence_number + 1) & 0xFFFF
        # G.711 at 8 kHz: one octet per sample, so the timestamp advances by
        # the payload size (the capture uses 30 ms packets).
        assert after.timestamp - before.timestamp == len(before.payload)


# --- properties -----------------------------------------------------------------------

packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    extension_profile=st.none() | st.integers(0, 0xFFFF),
    extension_data=st.binary(max_size=16).map(lambda data: data[: len(data) // 4 * 4]),
    padding_size=st.integers(0, 255),
)


@DETERMINISTIC
@given(packets)
def test_built_packets_round_trip(packet: RtpPacket) -> None:
    if packet.extension_profile is None:
        packet.extension_data = b""
    data = bytes(packet)
    assert RtpPacket.parse(data) == packet
    assert bytes(RtpPacket.parse(data)) == data


@DETERMINISTIC
@given(st.binary(max_size=96))
def test_random_bytes_raise_only_rtp_parse_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return
    again = bytes(packet)
    assert RtpPacket.parse(again) == packet
    if not packet.has_padding:
        assert again == data


@DETERMINISTIC
@given(st.binary(min_size=1, max_size=40), st.integers(0, 0x3F), st.integers(0, 255))
def test_random_version_2_headers_raise_only_rtp_parse_error(
    rest: bytes, flags: int, second: int
) -> None:
    # Keeps V=2 so the CSRC, extension and padding checks are reached.
    data = bytes([0x80 | flags, second]) + rest
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return
    assert RtpPacket.parse(bytes(packet)) == packet
