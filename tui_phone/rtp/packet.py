"""RTP data packets (RFC 3550 5.1, 5.3.1; RFC 8285 extension profiles).

Pure sans-I/O code: :class:`RtpPacket` turns bytes into a dataclass and back,
and :func:`is_rtcp` tells RTP from RTCP on a multiplexed port (RFC 5761 4).
This is the per-packet hot path (every 20 ms of audio, each way), so it works
with precompiled :class:`struct.Struct` objects and keeps the common case (no
CSRC, no extension, no padding) free of extra work.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from .errors import RtpBuildError, RtpParseError

RTP_VERSION = 2  # RFC 3550 5.1
RTP_HEADER_SIZE = 12  # RFC 3550 5.1: the fixed header, without CSRCs
RTP_MAX_CSRCS = 15  # RFC 3550 5.1: the CC field has 4 bits
RTP_MAX_PAYLOAD_TYPE = 127  # RFC 3550 5.1: the PT field has 7 bits

# RFC 8285 4.2: one-byte header extensions carry this "defined by profile".
RTP_EXTENSION_ONE_BYTE_PROFILE = 0xBEDE
# RFC 8285 4.3: two-byte header extensions carry 0x100 in the top 12 bits and
# four "appbits" in the low 4 bits.
RTP_EXTENSION_TWO_BYTE_PROFILE = 0x1000
RTP_EXTENSION_TWO_BYTE_MASK = 0xFFF0

# RFC 5761 4: with rtcp-mux, the second octet of an RTCP packet (its packet
# type) falls in 192-223, where an RTP packet would have payload type 64-95
# with the marker bit set.  Those payload types must not be used for RTP.
RTCP_MUX_FIRST_TYPE = 192
RTCP_MUX_LAST_TYPE = 223

_V2 = RTP_VERSION << 6
_PADDING_BIT = 0x20
_EXTENSION_BIT = 0x10
_CC_MASK = 0x0F
_MARKER_BIT = 0x80
_PT_MASK = 0x7F

_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence number, timestamp, SSRC
#: The fixed header (RFC 3550 5.1): V/P/X/CC, M/PT, sequence number, timestamp, SSRC.
RTP_FIXED_HEADER = _HEADER
#: The first octet of the usual packet: version 2, no padding, no extension, no CSRC.
RTP_PLAIN_FIRST_OCTET = _V2
_EXTENSION_HEADER = struct.Struct("!HH")  # RFC 3550 5.3.1: profile, length in words
# One precompiled Struct per possible CSRC count (0..15); a tuple, never mutated.
_CSRC_LISTS = tuple(struct.Struct(f"!{count}I") for count in range(RTP_MAX_CSRCS + 1))


@dataclass(slots=True)
class RtpPacket:
    """One RTP data packet (RFC 3550 5.1).

    The version is always 2 and is not stored.  The P and X bits of the wire
    header are derived: the packet has padding when ``padding_size`` is not 0
    and a header extension when ``extension_profile`` is not ``None``.

    ``extension_data`` is the body of the header extension (RFC 3550 5.3.1),
    kept opaque whatever the profile, including the RFC 8285 one-byte
    (``0xBEDE``) and two-byte (``0x100x``) forms; its length is a multiple of
    4.  ``padding_size`` counts every padding octet, the final count octet
    included (RFC 3550 5.1).  Padding octets are written as zeros, so a packet
    whose padding held other values does not serialize back byte for byte.
    """

    payload_type: int = 0
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    payload: bytes = b""
    marker: bool = False
    csrcs: list[int] = field(default_factory=list)
    extension_profile: int | None = None
    extension_data: bytes = b""
    padding_size: int = 0

    version: ClassVar[int] = RTP_VERSION

    @property
    def has_padding(self) -> bool:
        """Whether the P bit is set on the wire."""
        return self.padding_size != 0

    @property
    def has_extension(self) -> bool:
        """Whether the X bit is set on the wire."""
        return self.extension_profile is not None

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one RTP packet; raise :class:`RtpParseError` if it is invalid."""
        size = len(data)
        if size < RTP_HEADER_SIZE:
            raise RtpParseError(
                f"RTP packet too short: {size} bytes, the fixed header needs {RTP_HEADER_SIZE}"
            )
        first, second, sequence_number, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpParseError(f"RTP version must be 2, got {first >> 6}")
        if not first & 0x3F:
            # The common case: no padding, no extension, no CSRC.
            return cls(
                second & _PT_MASK,
                sequence_number,
                timestamp,
                ssrc,
                data[RTP_HEADER_SIZE:],
                second >= _MARKER_BIT,
            )
        offset = RTP_HEADER_SIZE
        csrc_count = first & _CC_MASK
        csrcs: list[int] = []
        if csrc_count:
            offset += 4 * csrc_count
            if offset > size:
                raise RtpParseError(
                    f"RTP CSRC list truncated: {csrc_count} CSRCs need {offset} bytes,"
                    f" packet has {size}"
                )
            csrcs = list(_CSRC_LISTS[csrc_count].unpack_from(data, RTP_HEADER_SIZE))
        extension_profile: int | None = None
        extension_data = b""
        if first & _EXTENSION_BIT:
            # RFC 3550 5.3.1: 16-bit profile, 16-bit length in 32-bit words
            # (the four header octets not counted), then the data.
            if offset + 4 > size:
                raise RtpParseError(
                    f"RTP header extension truncated: its header needs {offset + 4} bytes,"
                    f" packet has {size}"
                )
            extension_profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
            offset += 4
            end = offset + 4 * words
            if end > size:
                raise RtpParseError(
                    f"RTP header extension truncated: {words} words need {end} bytes,"
                    f" packet has {size}"
                )
            extension_data = data[offset:end]
            offset = end
        padding_size = 0
        if first & _PADDING_BIT:
            # RFC 3550 5.1: the last octet counts the padding octets,
            # itself included, so it is at least 1.
            if offset == size:
                raise RtpParseError("RTP padding bit set but the packet ends after the header")
            padding_size = data[-1]
            if padding_size == 0:
                raise RtpParseError("RTP padding count is 0")
            if padding_size > size - offset:
                raise RtpParseError(
                    f"RTP padding count {padding_size} exceeds the {size - offset} bytes"
                    " after the header"
                )
        return cls(
            second & _PT_MASK,
            sequence_number,
            timestamp,
            ssrc,
            data[offset : size - padding_size],
            second >= _MARKER_BIT,
            csrcs,
            extension_profile,
            extension_data,
            padding_size,
        )

    def __bytes__(self) -> bytes:
        """Serialize; raise :class:`RtpBuildError` if a field does not fit."""
        payload_type = self.payload_type
        if not 0 <= payload_type <= RTP_MAX_PAYLOAD_TYPE:
            raise RtpBuildError(f"RTP payload type {payload_type} is out of range 0-127")
        if (self.sequence_number >> 16) or (self.timestamp >> 32) or (self.ssrc >> 32):
            raise RtpBuildError(self._range_error())
        second = payload_type | _MARKER_BIT if self.marker else payload_type
        csrcs = self.csrcs
        if not (csrcs or self.padding_size or self.extension_profile is not None):
            return (
                _HEADER.pack(_V2, second, self.sequence_number, self.timestamp, self.ssrc)
                + self.payload
            )
        csrc_count = len(csrcs)
        if csrc_count > RTP_MAX_CSRCS:
            raise RtpBuildError(f"RTP packet can carry at most 15 CSRCs, got {csrc_count}")
        first = _V2 | csrc_count
        parts = [b"", b""]  # the fixed header goes first, filled in below
        if csrc_count:
            try:
                parts[1] = _CSRC_LISTS[csrc_count].pack(*csrcs)
            except struct.error:
                raise RtpBuildError(f"RTP CSRC list {csrcs!r} has a value out of range") from None
        if self.extension_profile is not None:
            first |= _EXTENSION_BIT
            parts.append(self._extension_bytes(self.extension_profile))
        parts.append(self.payload)
        padding_size = self.padding_size
        if padding_size:
            if not 0 < padding_size <= 255:
                raise RtpBuildError(f"RTP padding size {padding_size} is out of range 0-255")
            first |= _PADDING_BIT
            parts.append(bytes(padding_size - 1) + bytes((padding_size,)))
        parts[0] = _HEADER.pack(first, second, self.sequence_number, self.timestamp, self.ssrc)
        return b"".join(parts)

    def _extension_bytes(self, profile: int) -> bytes:
        data = self.extension_data
        if not 0 <= profile <= 0xFFFF:
            raise RtpBuildError(f"RTP header extension profile {profile} is out of range 0-65535")
        if len(data) % 4:
            raise RtpBuildError(
                f"RTP header extension data of {len(data)} bytes is not a multiple of 4"
            )
        words = len(data) // 4
        if words > 0xFFFF:
            raise RtpBuildError(f"RTP header extension of {words} words exceeds 65535")
        return _EXTENSION_HEADER.pack(profile, words) + data

    def _range_error(self) -> str:
        for name, value, bits in (
            ("sequence number", self.sequence_number, 16),
            ("timestamp", self.timestamp, 32),
            ("SSRC", self.ssrc, 32),
        ):
            if value >> bits:
                return f"RTP {name} {value} is out of range 0-{(1 << bits) - 1}"
        raise AssertionError("no field out of range")  # pragma: no cover


def is_rtcp(data: bytes) -> bool:
    """Tell an RTCP packet from an RTP packet on a shared port (RFC 5761 4).

    Looks at the second octet only: RTCP packet types 192-223 (SR 200, RR 201,
    SDES 202, BYE 203, APP 204, feedback 205/206, XR 207...) are where RTP
    would put the marker bit and payload types 64-95, which rtcp-mux forbids.
    Data shorter than two octets is neither, and gives ``False``.
    """
    return len(data) >= 2 and RTCP_MUX_FIRST_TYPE <= data[1] <= RTCP_MUX_LAST_TYPE
