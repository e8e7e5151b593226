"""RTCP Extended Reports (RFC 3611): the XR packet and its report blocks.

Pure sans-I/O code.  The VoIP Metrics block (RFC 3611 4.7) is what the call
quality view and the E-model exchange with the peer; Receiver Reference Time
(4.4) and DLRR (4.5) let a receive-only endpoint measure round-trip time.  The
other block types (loss/duplicate RLE, packet receipt times, statistics
summary, and any later registration) are kept opaque as
:class:`XrUnknownBlock`, with their type and bytes, so they survive a round
trip.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._rtcp_header import join_rtcp_packet, split_rtcp_packet
from .errors import RtcpParseError, RtpBuildError

RTCP_XR = 207  # RFC 3611 2

# RFC 3611 4 (and the IANA "RTCP XR Block Type" registry).
XR_LOSS_RLE = 1
XR_DUPLICATE_RLE = 2
XR_PACKET_RECEIPT_TIMES = 3
XR_RECEIVER_REFERENCE_TIME = 4
XR_DLRR = 5
XR_STATISTICS_SUMMARY = 6
XR_VOIP_METRICS = 7

# RFC 3611 4.7.5-4.7.6: the value meaning "unavailable" for the signal and
# noise levels, RERL, R factors and MOS scores.
XR_UNAVAILABLE = 127
XR_DEFAULT_GMIN = 16  # RFC 3611 4.7.6: the recommended Gmin

# RFC 3611 4.7.7: packet loss concealment (the top two bits of RX config).
PLC_UNSPECIFIED = 0
PLC_DISABLED = 1
PLC_ENHANCED = 2
PLC_STANDARD = 3
# RFC 3611 4.7.7: jitter buffer adaptive (the next two bits).
JBA_UNKNOWN = 0
JBA_RESERVED = 1
JBA_NON_ADAPTIVE = 2
JBA_ADAPTIVE = 3

XR_BLOCK_HEADER_SIZE = 4
_VOIP_METRICS_LENGTH = 8  # RFC 3611 4.7: block length, in words minus one
_RECEIVER_REFERENCE_TIME_LENGTH = 2  # RFC 3611 4.4

# BT, type-specific octet, block length (32-bit words minus one, header included).
_BLOCK_HEADER = struct.Struct("!BBH")
_SSRC = struct.Struct("!I")
_NTP = struct.Struct("!Q")
_DLRR_SUB_BLOCK = struct.Struct("!III")  # SSRC, LRR, DLRR
# RFC 3611 4.7 after the block header: SSRC; loss, discard, burst density, gap
# density; burst and gap duration; round trip and end system delay; signal
# and noise level (signed), RERL, Gmin; R, ext. R, MOS-LQ, MOS-CQ; RX config,
# reserved, JB nominal; JB maximum, JB abs max.
_VOIP_METRICS = struct.Struct("!I4B4H2b2B4B2B3H")


def _split_block(data: bytes, block_type: int, name: str) -> tuple[int, int, bytes]:
    """Check one whole report block; return (type-specific octet, length field, body)."""
    size = len(data)
    if size < XR_BLOCK_HEADER_SIZE:
        raise RtcpParseError(f"XR report block too short: {size} bytes, the header needs 4")
    actual_type, type_specific, length = _BLOCK_HEADER.unpack_from(data)
    if actual_type != block_type:
        raise RtcpParseError(f"XR block type {actual_type} is not {name} ({block_type})")
    if (length + 1) * 4 != size:
        raise RtcpParseError(
            f"XR block length field says {(length + 1) * 4} bytes, block has {size}"
        )
    return type_specific, length, data[XR_BLOCK_HEADER_SIZE:]


def _join_block(block_type: int, type_specific: int, body: bytes) -> bytes:
    if len(body) % 4:
        raise RtpBuildError(f"XR report block body of {len(body)} bytes is not a multiple of 4")
    words = len(body) // 4
    if words > 0xFFFF:
        raise RtpBuildError(f"XR report block of {words + 1} words exceeds 65536")
    return _BLOCK_HEADER.pack(block_type, type_specific, words) + body


@dataclass(slots=True)
class XrReceiverReferenceTime:
    """Receiver Reference Time report block, BT=4 (RFC 3611 4.4).

    ``ntp_timestamp`` is the 64-bit NTP time the report was sent at; a sender
    answers it with a DLRR block, from which the receiver computes the
    round-trip time.
    """

    ntp_timestamp: int

    @classmethod
    def parse(cls, data: bytes) -> XrReceiverReferenceTime:
        """Parse one whole block, header included."""
        _, length, body = _split_block(data, XR_RECEIVER_REFERENCE_TIME, "Receiver Reference Time")
        if length != _RECEIVER_REFERENCE_TIME_LENGTH:
            raise RtcpParseError(f"XR Receiver Reference Time block length must be 2, got {length}")
        return cls(_NTP.unpack(body)[0])

    def __bytes__(self) -> bytes:
        """Serialize the block, header included."""
        if not 0 <= self.ntp_timestamp <= 0xFFFFFFFFFFFFFFFF:
            raise RtpBuildError(f"XR NTP timestamp {self.ntp_timestamp} is out of range")
        return _join_block(XR_RECEIVER_REFERENCE_TIME, 0, _NTP.pack(self.ntp_timestamp))


@dataclass(slots=True)
class XrDlrrSubBlock:
    """One receiver in a DLRR block (RFC 3611 4.5).

    ``last_rr`` is the middle 32 bits of that receiver's last Receiver
    Reference Time, ``delay_since_last_rr`` the delay since, in units of
    1/65536 seconds (both 0 when none was received).
    """

    ssrc: int
    last_rr: int = 0
    delay_since_last_rr: int = 0

    @classmethod
    def parse(cls, data: bytes) -> XrDlrrSubBlock:
        """Parse exactly one 12-byte sub-block."""
        if len(data) != _DLRR_SUB_BLOCK.size:
            raise RtcpParseError(f"XR DLRR sub-block must be 12 bytes, got {len(data)}")
        return cls(*_DLRR_SUB_BLOCK.unpack(data))

    def __bytes__(self) -> bytes:
        """Serialize the 12-byte sub-block."""
        try:
            return _DLRR_SUB_BLOCK.pack(self.ssrc, self.last_rr, self.delay_since_last_rr)
        except struct.error:
            raise RtpBuildError(
                f"XR DLRR sub-block for SSRC {self.ssrc} has a value out of range 0-4294967295"
            ) from None


@dataclass(slots=True)
class XrDlrr:
    """DLRR report block, BT=5 (RFC 3611 4.5): one sub-block per receiver."""

    sub_blocks: list[XrDlrrSubBlock] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> XrDlrr:
        """Parse one whole block, header included."""
        _, length, body = _split_block(data, XR_DLRR, "DLRR")
        if length % 3:
            raise RtcpParseError(f"XR DLRR block length {length} is not a multiple of 3")
        return cls(
            [
                XrDlrrSubBlock(*_DLRR_SUB_BLOCK.unpack_from(body, offset))
                for offset in range(0, len(body), _DLRR_SUB_BLOCK.size)
            ]
        )

    def __bytes__(self) -> bytes:
        """Serialize the block, header included."""
        body = b"".join(bytes(sub) for sub in self.sub_blocks)
        return _join_block(XR_DLRR, 0, body)


# The wire range of every XrVoipMetrics field packed as is, for exact errors.
_VOIP_METRICS_RANGES = (
    ("ssrc", 0, 0xFFFFFFFF),
    ("loss_rate", 0, 0xFF),
    ("discard_rate", 0, 0xFF),
    ("burst_density", 0, 0xFF),
    ("gap_density", 0, 0xFF),
    ("burst_duration", 0, 0xFFFF),
    ("gap_duration", 0, 0xFFFF),
    ("round_trip_delay", 0, 0xFFFF),
    ("end_system_delay", 0, 0xFFFF),
    ("signal_level", -128, 127),
    ("noise_level", -128, 127),
    ("rerl", 0, 0xFF),
    ("gmin", 0, 0xFF),
    ("r_factor", 0, 0xFF),
    ("ext_r_factor", 0, 0xFF),
    ("mos_lq", 0, 0xFF),
    ("mos_cq", 0, 0xFF),
    ("jb_nominal", 0, 0xFFFF),
    ("jb_maximum", 0, 0xFFFF),
    ("jb_abs_max", 0, 0xFFFF),
)


@dataclass(slots=True)
class XrVoipMetrics:
    """VoIP Metrics report block, BT=7 (RFC 3611 4.7).

    Values are kept in their wire units: rates and densities in 1/256
    (``loss_rate=13`` is about 5 %), durations and delays in milliseconds,
    ``signal_level`` and ``noise_level`` in dBm0 (signed), ``rerl`` in dB,
    ``mos_lq`` and ``mos_cq`` times ten (``41`` is MOS 4.1).  127
    (:data:`XR_UNAVAILABLE`) marks a level, RERL, R factor or MOS the
    reporter does not know; those are the defaults.  The RX config octet is
    split into ``plc`` (:data:`PLC_STANDARD`...), ``jba``
    (:data:`JBA_ADAPTIVE`...) and ``jb_rate``.  The reserved octets are
    written as zeros.
    """

    ssrc: int
    loss_rate: int = 0
    discard_rate: int = 0
    burst_density: int = 0
    gap_density: int = 0
    burst_duration: int = 0
    gap_duration: int = 0
    round_trip_delay: int = 0
    end_system_delay: int = 0
    signal_level: int = XR_UNAVAILABLE
    noise_level: int = XR_UNAVAILABLE
    rerl: int = XR_UNAVAILABLE
    gmin: int = XR_DEFAULT_GMIN
    r_factor: int = XR_UNAVAILABLE
    ext_r_factor: int = XR_UNAVAILABLE
    mos_lq: int = XR_UNAVAILABLE
    mos_cq: int = XR_UNAVAILABLE
    plc: int = PLC_UNSPECIFIED
    jba: int = JBA_UNKNOWN
    jb_rate: int = 0
    jb_nominal: int = 0
    jb_maximum: int = 0
    jb_abs_max: int = 0

    @classmethod
    def parse(cls, data: bytes) -> XrVoipMetrics:
        """Parse one whole block, header included."""
        _, length, body = _split_block(data, XR_VOIP_METRICS, "VoIP Metrics")
        if length != _VOIP_METRICS_LENGTH:
            raise RtcpParseError(f"XR VoIP Metrics block length must be 8, got {length}")
        (
            ssrc,
            loss_rate,
            discard_rate,
            burst_density,
            gap_density,
            burst_duration,
            gap_duration,
            round_trip_delay,
            end_system_delay,
            signal_level,
            noise_level,
            rerl,
            gmin,
            r_factor,
            ext_r_factor,
            mos_lq,
            mos_cq,
            rx_config,
            _reserved,
            jb_nominal,
            jb_maximum,
            jb_abs_max,
        ) = _VOIP_METRICS.unpack(body)
        return cls(
            ssrc,
            loss_rate,
            discard_rate,
            burst_density,
            gap_density,
            burst_duration,
            gap_duration,
            round_trip_delay,
            end_system_delay,
            signal_level,
            noise_level,
            rerl,
            gmin,
            r_factor,
            ext_r_factor,
            mos_lq,
            mos_cq,
            rx_config >> 6,
            (rx_config >> 4) & 0x03,
            rx_config & 0x0F,
            jb_nominal,
            jb_maximum,
            jb_abs_max,
        )

    def __bytes__(self) -> bytes:
        """Serialize the block, header included."""
        if not (0 <= self.plc <= 3 and 0 <= self.jba <= 3 and 0 <= self.jb_rate <= 15):
            raise RtpBuildError(
                f"XR VoIP Metrics RX config out of range: plc={self.plc} jba={self.jba}"
                f" jb_rate={self.jb_rate}"
            )
        rx_config = (self.plc << 6) | (self.jba << 4) | self.jb_rate
        try:
            body = _VOIP_METRICS.pack(
                self.ssrc,
                self.loss_rate,
                self.discard_rate,
                self.burst_density,
                self.gap_density,
                self.burst_duration,
                self.gap_duration,
                self.round_trip_delay,
                self.end_system_delay,
                self.signal_level,
                self.noise_level,
                self.rerl,
                self.gmin,
                self.r_factor,
                self.ext_r_factor,
                self.mos_lq,
                self.mos_cq,
                rx_config,
                0,
                self.jb_nominal,
                self.jb_maximum,
                self.jb_abs_max,
            )
        except struct.error:
            raise RtpBuildError(self._range_error()) from None
        return _join_block(XR_VOIP_METRICS, 0, body)

    def _range_error(self) -> str:
        for name, low, high in _VOIP_METRICS_RANGES:
            value = getattr(self, name)
            if not low <= value <= high:
                return f"XR VoIP Metrics {name} {value} is out of range {low}-{high}"
        return "XR VoIP Metrics has a field out of range"  # pragma: no cover


@dataclass(slots=True)
class XrUnknownBlock:
    """A report block of a type this module does not decode, kept as bytes.

    ``type_specific`` is the second octet of the block header, ``body`` what
    follows the four header octets (a multiple of 4 bytes).
    """

    block_type: int
    type_specific: int = 0
    body: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> XrUnknownBlock:
        """Parse one whole block, header included, whatever its type."""
        block_type = data[0] if data else 0
        type_specific, _, body = _split_block(data, block_type, "unknown")
        return cls(block_type, type_specific, body)

    def __bytes__(self) -> bytes:
        """Serialize the block, header included."""
        if not (0 <= self.block_type <= 255 and 0 <= self.type_specific <= 255):
            raise RtpBuildError(
                f"XR block type {self.block_type} or type-specific octet"
                f" {self.type_specific} is out of range 0-255"
            )
        return _join_block(self.block_type, self.type_specific, self.body)


XrBlock = XrReceiverReferenceTime | XrDlrr | XrVoipMetrics | XrUnknownBlock

_BLOCK_PARSERS: Mapping[int, Callable[[bytes], XrBlock]] = MappingProxyType(
    {
        XR_RECEIVER_REFERENCE_TIME: XrReceiverReferenceTime.parse,
        XR_DLRR: XrDlrr.parse,
        XR_VOIP_METRICS: XrVoipMetrics.parse,
    }
)


@dataclass(slots=True)
class RtcpExtendedReport:
    """An RTCP XR packet, PT=207 (RFC 3611 2): a reporter SSRC and its blocks.

    The five reserved bits of the header are ignored on parsing and written
    as zeros.  ``padding_size`` is as for every RTCP packet: the padding
    octets after the blocks, the count octet included (0 for none).
    """

    ssrc: int
    blocks: list[XrBlock] = field(default_factory=list)
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtcpExtendedReport:
        """Parse one whole XR packet (header included); raise :class:`RtcpParseError`."""
        _, body, padding_size = split_rtcp_packet(data, RTCP_XR, "XR")
        size = len(body)
        if size < 4:
            raise RtcpParseError(
                f"RTCP XR body of {size} bytes is too short for the SSRC (4 needed)"
            )
        blocks: list[XrBlock] = []
        offset = 4
        while offset < size:
            left = size - offset
            if left < XR_BLOCK_HEADER_SIZE:
                raise RtcpParseError(
                    f"XR report block truncated: {left} bytes left, the header needs 4"
                )
            block_type, _, length = _BLOCK_HEADER.unpack_from(body, offset)
            end = offset + (length + 1) * 4
            if end > size:
                raise RtcpParseError(
                    f"XR report block says {(length + 1) * 4} bytes, only {left} left"
                )
            parser = _BLOCK_PARSERS.get(block_type, XrUnknownBlock.parse)
            blocks.append(parser(body[offset:end]))
            offset = end
        return cls(_SSRC.unpack_from(body)[0], blocks, padding_size)

    def __bytes__(self) -> bytes:
        """Serialize the packet; raise :class:`RtpBuildError` if a value does not fit."""
        if not 0 <= self.ssrc <= 0xFFFFFFFF:
            raise RtpBuildError(f"RTCP XR SSRC {self.ssrc} is out of range 0-4294967295")
        body = _SSRC.pack(self.ssrc) + b"".join(bytes(block) for block in self.blocks)
        return join_rtcp_packet(RTCP_XR, 0, body, self.padding_size)
