"""The header every RTCP packet starts with (RFC 3550 6.4.1, RFC 3611 2).

Shared by :mod:`.rtcp` (SR, RR, SDES, BYE, APP, compound packets) and
:mod:`.xr` (XR), which :mod:`.rtcp` imports for its compound parser: a module
of its own keeps that import one-way.
"""

from __future__ import annotations

import struct

from .errors import RtcpParseError, RtpBuildError

RTCP_VERSION = 2
RTCP_HEADER_SIZE = 4
RTCP_MAX_COUNT = 31  # the RC/SC/subtype field has 5 bits

RTCP_HEADER = struct.Struct("!BBH")  # V/P/count, packet type, length in words minus one

_V2 = RTCP_VERSION << 6
_PADDING_BIT = 0x20
_COUNT_MASK = 0x1F


def split_rtcp_packet(data: bytes, packet_type: int | None, name: str) -> tuple[int, bytes, int]:
    """Check the header of one whole RTCP packet and take it apart.

    ``data`` must be exactly one packet: its length field (RFC 3550 6.4.1: in
    32-bit words minus one) must match ``len(data)``.  ``packet_type`` is the
    type the caller parses, named ``name`` in errors (``None`` accepts any).
    Returns ``(count, body, padding_size)``: the 5-bit count field, the octets
    after the header with the padding removed, and the padding length (0 when
    the P bit is clear).
    """
    size = len(data)
    if size < RTCP_HEADER_SIZE:
        raise RtcpParseError(f"RTCP packet too short: {size} bytes, the header needs 4")
    first, actual_type, length = RTCP_HEADER.unpack_from(data)
    if first >> 6 != RTCP_VERSION:
        raise RtcpParseError(f"RTCP version must be 2, got {first >> 6}")
    if packet_type is not None and actual_type != packet_type:
        raise RtcpParseError(f"RTCP packet type {actual_type} is not {name} ({packet_type})")
    expected = (length + 1) * 4
    if expected != size:
        raise RtcpParseError(f"RTCP length field says {expected} bytes, packet has {size}")
    padding_size = 0
    if first & _PADDING_BIT:
        # RFC 3550 6.4.1: the last octet counts the padding, itself included.
        padding_size = data[-1]
        if padding_size == 0:
            raise RtcpParseError("RTCP padding count is 0")
        if padding_size > size - RTCP_HEADER_SIZE:
            raise RtcpParseError(
                f"RTCP padding count {padding_size} exceeds the {size - RTCP_HEADER_SIZE}"
                " bytes after the header"
            )
    return first & _COUNT_MASK, data[RTCP_HEADER_SIZE : size - padding_size], padding_size


def join_rtcp_packet(packet_type: int, count: int, body: bytes, padding_size: int) -> bytes:
    """Build one RTCP packet from its count field, body and padding length.

    Raises :class:`RtpBuildError` if the type does not fit in one octet, the
    count in 5 bits, the padding in one octet, or the total is not a whole number of 32-bit words.
    """
    if not 0 <= packet_type <= 255:
        raise RtpBuildError(f"RTCP packet type {packet_type} is out of range 0-255")
    if not 0 <= count <= RTCP_MAX_COUNT:
        raise RtpBuildError(f"RTCP count {count} is out of range 0-31")
    if not 0 <= padding_size <= 255:
        raise RtpBuildError(f"RTCP padding size {padding_size} is out of range 0-255")
    size = RTCP_HEADER_SIZE + len(body) + padding_size
    if size % 4:
        raise RtpBuildError(f"RTCP packet of {size} bytes is not a multiple of 4")
    if size > 0x40000:
        raise RtpBuildError(f"RTCP packet of {size} bytes exceeds 262144")
    first = _V2 | count
    if padding_size:
        first |= _PADDING_BIT
        body = body + bytes(padding_size - 1) + bytes((padding_size,))
    return RTCP_HEADER.pack(first, packet_type, size // 4 - 1) + body
