"""RTCP packets (RFC 3550 6.4-6.7), compound packets and NTP time helpers.

Pure sans-I/O code.  Each packet type is a dataclass with ``parse`` (one whole
packet, header included) and ``__bytes__``; :class:`RtcpCompound` and
:func:`parse_compound` handle the compound packets RTCP travels in (RFC 3550
6.1), XR packets (:mod:`.xr`) and opaque :class:`RtcpUnknown` packets (RFC
4585 feedback, ...) included.  Text fields (SDES values, the BYE reason) stay
bytes: RFC 3550 says UTF-8, peers do not always comply, and a round trip must
not depend on it.  Time never comes from a clock here: the NTP helpers take a
Unix time as a float argument.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._rtcp_header import RTCP_HEADER, RTCP_HEADER_SIZE, join_rtcp_packet, split_rtcp_packet
from .errors import RtcpParseError, RtpBuildError
from .xr import RTCP_XR, RtcpExtendedReport

# RFC 3550 12.1 (and RFC 4585 6.1 for the feedback types, RFC 3611 for XR).
RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
RTCP_APP = 204
RTCP_RTPFB = 205
RTCP_PSFB = 206

RTCP_REPORT_BLOCK_SIZE = 24  # RFC 3550 6.4.1

# RFC 3550 12.2: SDES item types.
SDES_END = 0
SDES_CNAME = 1
SDES_NAME = 2
SDES_EMAIL = 3
SDES_PHONE = 4
SDES_LOC = 5
SDES_TOOL = 6
SDES_NOTE = 7
SDES_PRIV = 8

# Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_UNIX_OFFSET = 2_208_988_800

_REPORT_BLOCK = struct.Struct("!IIIIII")  # SSRC, fraction+cumulative lost, ...
_SENDER_INFO = struct.Struct("!IQIII")  # SSRC, NTP, RTP timestamp, packets, octets
_SSRC = struct.Struct("!I")
_APP_HEADER = struct.Struct("!I4s")
# One precompiled Struct per possible SSRC count of a BYE (0..31); never mutated.
_SSRC_LISTS = tuple(struct.Struct(f"!{count}I") for count in range(32))

_MAX_U32 = 0xFFFFFFFF


# --- NTP time (RFC 3550 4, 6.4.1) -------------------------------------------


def ntp_from_unix(seconds: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point) for a Unix time in seconds.

    The seconds wrap modulo 2**32 (the 2036 NTP era change), which
    :func:`unix_from_ntp` undoes.
    """
    whole = math.floor(seconds)
    fraction = min(int((seconds - whole) * 4294967296.0), _MAX_U32)
    return (((whole + NTP_UNIX_OFFSET) & _MAX_U32) << 32) | fraction


def unix_from_ntp(ntp: int) -> float:
    """The Unix time in seconds of a 64-bit NTP timestamp.

    Timestamps whose top bit is clear are taken to be in NTP era 1 (from
    2036-02-07), as RFC 4330 3 suggests.
    """
    seconds = ntp >> 32
    if seconds < 0x80000000:
        seconds += 1 << 32
    return seconds - NTP_UNIX_OFFSET + (ntp & _MAX_U32) / 4294967296.0


def ntp_middle32(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp: the LSR of a report block.

    RFC 3550 6.4.1: "the middle 32 bits out of 64 in the NTP timestamp".
    """
    return (ntp >> 16) & _MAX_U32


def dlsr_from_seconds(seconds: float) -> int:
    """A delay in seconds in DLSR units of 1/65536 s (RFC 3550 6.4.1), clamped."""
    return min(max(int(seconds * 65536.0), 0), _MAX_U32)


def seconds_from_dlsr(dlsr: int) -> float:
    """A DLSR value (units of 1/65536 s) in seconds."""
    return dlsr / 65536.0


def round_trip_time(arrival: float, lsr: int, dlsr: int) -> float | None:
    """The round-trip time in seconds from a report block (RFC 3550 6.4.1).

    ``arrival`` is the Unix time the report block arrived; the result is
    A - LSR - DLSR, computed modulo 2**32 on the middle 32 NTP bits.  Returns
    ``None`` when the peer has not received a sender report yet (LSR 0) or
    the result is negative (clock steps, a bogus report).
    """
    if lsr == 0:
        return None
    rtt = (ntp_middle32(ntp_from_unix(arrival)) - lsr - dlsr) & _MAX_U32
    if rtt >= 0x80000000:
        return None
    return rtt / 65536.0


# --- SR and RR (RFC 3550 6.4) ------------------------------------------------


@dataclass(slots=True)
class RtcpReportBlock:
    """One reception report block of an SR or RR (RFC 3550 6.4.1).

    ``packets_lost`` is the cumulative number of packets lost, a SIGNED
    24-bit value (duplicates can make it negative); ``highest_sequence`` is
    the extended highest sequence number received; ``jitter`` is in timestamp
    units; ``lsr`` and ``dlsr`` as in RFC 3550 (see :func:`ntp_middle32` and
    :func:`dlsr_from_seconds`).
    """

    ssrc: int
    fraction_lost: int = 0
    packets_lost: int = 0
    highest_sequence: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpReportBlock:
        """Parse exactly one 24-byte report block."""
        if len(data) != RTCP_REPORT_BLOCK_SIZE:
            raise RtcpParseError(f"RTCP report block must be 24 bytes, got {len(data)}")
        return _report_block_at(data, 0)

    def __bytes__(self) -> bytes:
        """Serialize the 24-byte block; raise :class:`RtpBuildError` if a field does not fit."""
        if not 0 <= self.fraction_lost <= 0xFF:
            raise RtpBuildError(f"RTCP fraction lost {self.fraction_lost} is out of range 0-255")
        if not -0x800000 <= self.packets_lost <= 0x7FFFFF:
            raise RtpBuildError(
                f"RTCP cumulative packets lost {self.packets_lost} is out of range -8388608-8388607"
            )
        try:
            return _REPORT_BLOCK.pack(
                self.ssrc,
                (self.fraction_lost << 24) | (self.packets_lost & 0xFFFFFF),
                self.highest_sequence,
                self.jitter,
                self.lsr,
                self.dlsr,
            )
        except struct.error:
            raise RtpBuildError(
                f"RTCP report block for SSRC {self.ssrc} has a 32-bit field out of range"
            ) from None


def _report_block_at(data: bytes, offset: int) -> RtcpReportBlock:
    ssrc, lost, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, offset)
    cumulative = lost & 0xFFFFFF
    if cumulative & 0x800000:  # RFC 3550 6.4.1: a signed 24-bit integer
        cumulative -= 0x1000000
    return RtcpReportBlock(ssrc, lost >> 24, cumulative, highest, jitter, lsr, dlsr)


def _report_blocks(body: bytes, offset: int, count: int) -> list[RtcpReportBlock]:
    return [
        _report_block_at(body, offset + RTCP_REPORT_BLOCK_SIZE * index) for index in range(count)
    ]


def _check_ssrc(kind: str, ssrc: int) -> None:
    if not 0 <= ssrc <= _MAX_U32:
        raise RtpBuildError(f"RTCP {kind} SSRC {ssrc} is out of range 0-4294967295")


@dataclass(slots=True)
class RtcpSenderReport:
    """SR: Sender Report RTCP packet, PT=200 (RFC 3550 6.4.1).

    ``ntp_timestamp`` is the 64-bit NTP time (:func:`ntp_from_unix`),
    ``extension`` the profile-specific extension after the report blocks,
    kept opaque; ``padding_size`` the RTCP padding (count octet included).
    """

    ssrc: int
    ntp_timestamp: int = 0
    rtp_timestamp: int = 0
    packet_count: int = 0
    octet_count: int = 0
    reports: list[RtcpReportBlock] = field(default_factory=list)
    extension: bytes = b""
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpSenderReport:
        """Parse one whole SR packet; raise :class:`RtcpParseError`."""
        count, body, padding_size = split_rtcp_packet(data, RTCP_SR, "SR")
        needed = _SENDER_INFO.size + RTCP_REPORT_BLOCK_SIZE * count
        if len(body) < needed:
            raise RtcpParseError(
                f"RTCP SR body of {len(body)} bytes is too short for {count} report blocks"
                f" ({needed} needed)"
            )
        ssrc, ntp, rtp_timestamp, packets, octets = _SENDER_INFO.unpack_from(body)
        return cls(
            ssrc,
            ntp,
            rtp_timestamp,
            packets,
            octets,
            _report_blocks(body, _SENDER_INFO.size, count),
            body[needed:],
            padding_size,
        )

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        try:
            info = _SENDER_INFO.pack(
                self.ssrc,
                self.ntp_timestamp,
                self.rtp_timestamp,
                self.packet_count,
                self.octet_count,
            )
        except struct.error:
            raise RtpBuildError("RTCP SR sender info has a field out of range") from None
        body = info + b"".join(bytes(block) for block in self.reports) + self.extension
        return join_rtcp_packet(RTCP_SR, len(self.reports), body, self.padding_size)


@dataclass(slots=True)
class RtcpReceiverReport:
    """RR: Receiver Report RTCP packet, PT=201 (RFC 3550 6.4.2)."""

    ssrc: int
    reports: list[RtcpReportBlock] = field(default_factory=list)
    extension: bytes = b""
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpReceiverReport:
        """Parse one whole RR packet; raise :class:`RtcpParseError`."""
        count, body, padding_size = split_rtcp_packet(data, RTCP_RR, "RR")
        needed = 4 + RTCP_REPORT_BLOCK_SIZE * count
        if len(body) < needed:
            raise RtcpParseError(
                f"RTCP RR body of {len(body)} bytes is too short for {count} report blocks"
                f" ({needed} needed)"
            )
        return cls(
            _SSRC.unpack_from(body)[0],
            _report_blocks(body, 4, count),
            body[needed:],
            padding_size,
        )

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        _check_ssrc("RR", self.ssrc)
        reports = b"".join(bytes(block) for block in self.reports)
        body = _SSRC.pack(self.ssrc) + reports + self.extension
        return join_rtcp_packet(RTCP_RR, len(self.reports), body, self.padding_size)


# --- SDES (RFC 3550 6.5) -------------------------------------------------------


@dataclass(slots=True)
class RtcpSdesItem:
    """One SDES item (RFC 3550 6.5.1-6.5.8): a type and its value.

    ``prefix`` is used by PRIV items only (RFC 3550 6.5.8), whose wire value
    is a prefix length octet, the prefix, then ``value``.
    """

    item_type: int
    value: bytes = b""
    prefix: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> RtcpSdesItem:
        """Parse exactly one item: type octet, length octet, value."""
        item, end = _sdes_item_at(data, 0)
        if item is None:
            raise RtcpParseError("RTCP SDES item type 0 is the end of the list, not an item")
        if end != len(data):
            raise RtcpParseError(f"RTCP SDES item is followed by {len(data) - end} extra bytes")
        return item

    def __bytes__(self) -> bytes:
        """Serialize the item; raise :class:`RtpBuildError` if it does not fit."""
        if not 0 < self.item_type <= 0xFF:
            raise RtpBuildError(f"RTCP SDES item type {self.item_type} is out of range 1-255")
        value = self.value
        if self.item_type == SDES_PRIV:
            if len(self.prefix) > 0xFF:
                raise RtpBuildError(
                    f"RTCP SDES PRIV prefix of {len(self.prefix)} bytes exceeds 255"
                )
            value = bytes((len(self.prefix),)) + self.prefix + value
        elif self.prefix:
            raise RtpBuildError(f"RTCP SDES item type {self.item_type} cannot have a prefix")
        if len(value) > 0xFF:
            raise RtpBuildError(f"RTCP SDES item of {len(value)} bytes exceeds 255")
        return bytes((self.item_type, len(value))) + value


def _sdes_item_at(data: bytes, offset: int) -> tuple[RtcpSdesItem | None, int]:
    """Read the item at ``offset``: (item, end), or (None, offset + 1) for END."""
    size = len(data)
    if offset >= size:
        raise RtcpParseError("RTCP SDES chunk is not terminated by a null item")
    item_type = data[offset]
    if item_type == SDES_END:
        return None, offset + 1
    if offset + 2 > size:
        raise RtcpParseError("RTCP SDES item truncated: its length octet is missing")
    length = data[offset + 1]
    start = offset + 2
    end = start + length
    if end > size:
        raise RtcpParseError(
            f"RTCP SDES item truncated: length {length} but {size - start} bytes left"
        )
    if item_type != SDES_PRIV:
        return RtcpSdesItem(item_type, data[start:end]), end
    # RFC 3550 6.5.8: prefix length octet, prefix string, value string.
    if length == 0:
        raise RtcpParseError("RTCP SDES PRIV item has no prefix length")
    prefix_end = start + 1 + data[start]
    if prefix_end > end:
        raise RtcpParseError(
            f"RTCP SDES PRIV prefix length {data[start]} exceeds the item's {length - 1} bytes"
        )
    return RtcpSdesItem(SDES_PRIV, data[prefix_end:end], data[start + 1 : prefix_end]), end


@dataclass(slots=True)
class RtcpSdesChunk:
    """One SDES chunk (RFC 3550 6.5): an SSRC/CSRC and its items."""

    ssrc: int
    items: list[RtcpSdesItem] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> RtcpSdesChunk:
        """Parse exactly one chunk, its null terminator and padding included."""
        chunk, end = _sdes_chunk_at(data, 0)
        if end != len(data):
            raise RtcpParseError(f"RTCP SDES chunk is followed by {len(data) - end} extra bytes")
        return chunk

    def __bytes__(self) -> bytes:
        """Serialize the chunk, null-terminated and padded to 32 bits."""
        _check_ssrc("SDES chunk", self.ssrc)
        items = b"".join(bytes(item) for item in self.items)
        # RFC 3550 6.5: one null octet ends the list, more pad to 32 bits.
        return _SSRC.pack(self.ssrc) + items + bytes(4 - len(items) % 4)


def _sdes_chunk_at(data: bytes, offset: int) -> tuple[RtcpSdesChunk, int]:
    if offset + 4 > len(data):
        raise RtcpParseError(
            f"RTCP SDES chunk truncated: {len(data) - offset} bytes left, the SSRC needs 4"
        )
    chunk = RtcpSdesChunk(_SSRC.unpack_from(data, offset)[0])
    position = offset + 4
    while True:
        item, position = _sdes_item_at(data, position)
        if item is None:
            break
        chunk.items.append(item)
    # The null octet is followed by null octets up to the next 32-bit
    # boundary (chunks start aligned).  Their values are not checked.
    end = position + (-(position - offset) % 4)
    if end > len(data):
        raise RtcpParseError("RTCP SDES chunk truncated: padding after the null item is missing")
    return chunk, end


@dataclass(slots=True)
class RtcpSourceDescription:
    """SDES: Source Description RTCP packet, PT=202 (RFC 3550 6.5)."""

    chunks: list[RtcpSdesChunk] = field(default_factory=list)
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpSourceDescription:
        """Parse one whole SDES packet; raise :class:`RtcpParseError`."""
        count, body, padding_size = split_rtcp_packet(data, RTCP_SDES, "SDES")
        chunks = []
        offset = 0
        for _ in range(count):
            chunk, offset = _sdes_chunk_at(body, offset)
            chunks.append(chunk)
        if offset != len(body):
            raise RtcpParseError(
                f"RTCP SDES has {len(body) - offset} bytes after its {count} chunks"
            )
        return cls(chunks, padding_size)

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        body = b"".join(bytes(chunk) for chunk in self.chunks)
        return join_rtcp_packet(RTCP_SDES, len(self.chunks), body, self.padding_size)


# --- BYE and APP (RFC 3550 6.6, 6.7) --------------------------------------------


@dataclass(slots=True)
class RtcpGoodbye:
    """BYE: Goodbye RTCP packet, PT=203 (RFC 3550 6.6).

    ``reason`` is ``None`` when the packet carries no reason field, and may
    be ``b""`` for a reason field of length 0.
    """

    sources: list[int] = field(default_factory=list)
    reason: bytes | None = None
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpGoodbye:
        """Parse one whole BYE packet; raise :class:`RtcpParseError`."""
        count, body, padding_size = split_rtcp_packet(data, RTCP_BYE, "BYE")
        needed = 4 * count
        if len(body) < needed:
            raise RtcpParseError(
                f"RTCP BYE body of {len(body)} bytes is too short for {count} SSRCs"
                f" ({needed} needed)"
            )
        sources = list(_SSRC_LISTS[count].unpack_from(body))
        rest = body[needed:]
        if not rest:
            return cls(sources, None, padding_size)
        length = rest[0]
        if 1 + length > len(rest):
            raise RtcpParseError(
                f"RTCP BYE reason length {length} exceeds the {len(rest) - 1} bytes left"
            )
        # The reason is padded with null octets to the next 32-bit boundary.
        expected = (length + 4) // 4 * 4
        if len(rest) != expected:
            raise RtcpParseError(
                f"RTCP BYE reason of {length} bytes takes {expected} bytes padded, got {len(rest)}"
            )
        return cls(sources, rest[1 : 1 + length], padding_size)

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        count = len(self.sources)
        if count > 31:
            raise RtpBuildError(f"RTCP BYE can carry at most 31 SSRCs, got {count}")
        try:
            body = _SSRC_LISTS[count].pack(*self.sources)
        except struct.error:
            raise RtpBuildError(
                f"RTCP BYE SSRC list {self.sources!r} has a value out of range"
            ) from None
        reason = self.reason
        if reason is not None:
            if len(reason) > 0xFF:
                raise RtpBuildError(f"RTCP BYE reason of {len(reason)} bytes exceeds 255")
            field_bytes = bytes((len(reason),)) + reason
            body += field_bytes + bytes(-len(field_bytes) % 4)
        return join_rtcp_packet(RTCP_BYE, count, body, self.padding_size)


@dataclass(slots=True)
class RtcpApplicationDefined:
    """APP: Application-Defined RTCP packet, PT=204 (RFC 3550 6.7).

    ``name`` is four ASCII characters; ``data`` a multiple of 4 bytes.
    """

    subtype: int
    ssrc: int
    name: str
    data: bytes = b""
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpApplicationDefined:
        """Parse one whole APP packet; raise :class:`RtcpParseError`."""
        subtype, body, padding_size = split_rtcp_packet(data, RTCP_APP, "APP")
        if len(body) < 8:
            raise RtcpParseError(
                f"RTCP APP body of {len(body)} bytes is too short for SSRC and name (8 needed)"
            )
        ssrc, name = _APP_HEADER.unpack_from(body)
        if not name.isascii():
            raise RtcpParseError(f"RTCP APP name {name!r} is not ASCII")
        app_data = body[8:]
        if len(app_data) % 4:
            raise RtcpParseError(f"RTCP APP data of {len(app_data)} bytes is not a multiple of 4")
        return cls(subtype, ssrc, name.decode("ascii"), app_data, padding_size)

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        if len(self.name) != 4 or not self.name.isascii():
            raise RtpBuildError(f"RTCP APP name {self.name!r} is not 4 ASCII characters")
        if len(self.data) % 4:
            raise RtpBuildError(f"RTCP APP data of {len(self.data)} bytes is not a multiple of 4")
        _check_ssrc("APP", self.ssrc)
        body = _APP_HEADER.pack(self.ssrc, self.name.encode("ascii")) + self.data
        return join_rtcp_packet(RTCP_APP, self.subtype, body, self.padding_size)


@dataclass(slots=True)
class RtcpUnknown:
    """An RTCP packet of a type this module does not decode, kept opaque.

    ``count`` is the 5-bit field after V and P (RC, SC, FMT or subtype by
    type), ``body`` the octets after the header without padding.
    """

    packet_type: int
    count: int = 0
    body: bytes = b""
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpUnknown:
        """Parse one whole RTCP packet of any type; raise :class:`RtcpParseError`."""
        count, body, padding_size = split_rtcp_packet(data, None, "")
        return cls(data[1], count, body, padding_size)

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        return join_rtcp_packet(self.packet_type, self.count, self.body, self.padding_size)


# --- Compound packets (RFC 3550 6.1) ---------------------------------------------

RtcpPacket = (
    RtcpSenderReport
    | RtcpReceiverReport
    | RtcpSourceDescription
    | RtcpGoodbye
    | RtcpApplicationDefined
    | RtcpExtendedReport
    | RtcpUnknown
)

_PACKET_PARSERS: Mapping[int, Callable[[bytes], RtcpPacket]] = MappingProxyType(
    {
        RTCP_SR: RtcpSenderReport.parse,
        RTCP_RR: RtcpReceiverReport.parse,
        RTCP_SDES: RtcpSourceDescription.parse,
        RTCP_BYE: RtcpGoodbye.parse,
        RTCP_APP: RtcpApplicationDefined.parse,
        RTCP_XR: RtcpExtendedReport.parse,
    }
)


@dataclass(slots=True)
class RtcpCompound:
    """A compound RTCP packet: RTCP packets back to back in one datagram.

    Parsing checks that the length fields tile the datagram exactly (RFC
    3550 A.2) but not the packet order: RFC 3550 6.1 wants an SR or RR
    first, RFC 5506 allows reduced-size RTCP without one; the caller decides.
    """

    packets: list[RtcpPacket] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> RtcpCompound:
        """Split and parse every packet; raise :class:`RtcpParseError`."""
        size = len(data)
        if not size:
            raise RtcpParseError("RTCP compound packet is empty")
        packets: list[RtcpPacket] = []
        offset = 0
        while offset < size:
            left = size - offset
            if left < RTCP_HEADER_SIZE:
                raise RtcpParseError(
                    f"RTCP compound packet truncated: {left} bytes at offset {offset},"
                    " a header needs 4"
                )
            _, packet_type, length = RTCP_HEADER.unpack_from(data, offset)
            end = offset + (length + 1) * 4
            if end > size:
                raise RtcpParseError(
                    f"RTCP packet at offset {offset} says {(length + 1) * 4} bytes,"
                    f" only {left} left"
                )
            parser = _PACKET_PARSERS.get(packet_type, RtcpUnknown.parse)
            packets.append(parser(data[offset:end]))
            offset = end
        return cls(packets)

    def __bytes__(self) -> bytes:
        """Serialize every packet, back to back."""
        return b"".join(bytes(packet) for packet in self.packets)


def parse_compound(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP packet into its packets (see :class:`RtcpCompound`)."""
    return RtcpCompound.parse(data).packets
