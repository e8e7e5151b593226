"""RTCP reports of one RTP session: what to send, what the peer told us.

Pure sans-I/O code between the statistics (:mod:`.stats`) and the RTCP wire
objects (:mod:`.rtcp`).  :class:`RtcpReporter` builds our compound reports
(RFC 3550 6.1: an SR or RR first, then SDES with a CNAME, then BYE when
leaving) and reads the peer's: its Sender Reports feed the LSR/DLSR of our
next report blocks, its report blocks about our SSRC give the round-trip
time (RFC 3550 6.4.1) and how our stream arrives there.  Times are Unix
seconds given by the caller (``now``): they become NTP timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rtcp import (
    SDES_CNAME,
    RtcpCompound,
    RtcpGoodbye,
    RtcpPacket,
    RtcpReceiverReport,
    RtcpReportBlock,
    RtcpSdesChunk,
    RtcpSdesItem,
    RtcpSenderReport,
    RtcpSourceDescription,
    ntp_middle32,
)
from .stats import (
    ReceiverStatistics,
    SenderStatistics,
    compute_rtt_seconds,
    unix_to_ntp_middle32,
)

MAX_CNAME_OCTETS = 255  # RFC 3550 6.5: an SDES item value is at most 255 octets


@dataclass(frozen=True, slots=True)
class RemoteReport:
    """What the peer's last report block said about our stream (RFC 3550 6.4.1)."""

    fraction_lost: float
    """Loss in the peer's last interval, 0.0-1.0."""
    cumulative_lost: int
    highest_sequence: int
    jitter: int
    """Interarrival jitter the peer measured, in our timestamp units."""
    received_at: float


@dataclass(frozen=True, slots=True)
class RtcpReceived:
    """What one compound RTCP packet from the peer told us."""

    sender_ssrc: int | None
    """The SSRC of the first SR/RR/SDES/BYE packet, None if it had none."""
    sender_report: bool
    rtt: float | None
    """Round-trip time in seconds from a block about us with an LSR, else None."""
    cname: bytes | None
    bye: bool
    bye_reason: bytes | None


def compound_sender_ssrc(packets: list[RtcpPacket]) -> int | None:
    """The SSRC a compound packet speaks for: that of its first SR/RR/SDES/BYE."""
    for packet in packets:
        if isinstance(packet, (RtcpSenderReport, RtcpReceiverReport)):
            return packet.ssrc
        if isinstance(packet, RtcpSourceDescription) and packet.chunks:
            return packet.chunks[0].ssrc
        if isinstance(packet, RtcpGoodbye) and packet.sources:
            return packet.sources[0]
    return None


class RtcpReporter:
    """Builds our RTCP reports and reads the peer's, for one local SSRC.

    ``receiver`` holds the statistics of the peer's stream (replace it when
    the clock rate changes); ``sender`` those of ours.
    """

    def __init__(
        self,
        ssrc: int,
        cname: bytes,
        receiver: ReceiverStatistics,
        sender: SenderStatistics,
    ) -> None:
        if len(cname) > MAX_CNAME_OCTETS:
            raise ValueError(f"CNAME of {len(cname)} octets exceeds 255")
        self.ssrc = ssrc
        self.cname = cname
        self.receiver = receiver
        self.sender = sender
        self.rtt: float | None = None
        self.remote_report: RemoteReport | None = None
        self.remote_cname: bytes | None = None
        self.reports_built = 0
        # Packets sent when the last and the previous report were built.
        self._sent_at_reports: tuple[int, int] = (0, 0)

    def is_sender(self) -> bool:
        """RFC 3550 6.4: an SR if we sent data since the last report or the one before."""
        return self.sender.packet_count > self._sent_at_reports[1]

    def build_report(
        self, now: float, *, bye: bool = False, reason: bytes | None = None
    ) -> RtcpCompound:
        """The compound packet to send at ``now`` (RFC 3550 6.1).

        Closes the fraction-lost interval of the receive statistics, so
        build exactly one report per report sent.
        """
        blocks = self._report_blocks(now)
        first: RtcpPacket
        info = self.sender.sender_info(now) if self.is_sender() else None
        if info is not None:
            first = RtcpSenderReport(
                self.ssrc,
                info.ntp_timestamp,
                info.rtp_timestamp,
                info.packet_count,
                info.octet_count,
                blocks,
            )
        else:
            first = RtcpReceiverReport(self.ssrc, blocks)
        packets: list[RtcpPacket] = [
            first,
            RtcpSourceDescription([RtcpSdesChunk(self.ssrc, [RtcpSdesItem(SDES_CNAME, self.cname)])]),
        ]
        if bye:
            packets.append(RtcpGoodbye([self.ssrc], reason))
        self._sent_at_reports = (self.sender.packet_count, self._sent_at_reports[0])
        self.reports_built += 1
        return RtcpCompound(packets)

    def _report_blocks(self, now: float) -> list[RtcpReportBlock]:
        ssrc = self.receiver.ssrc
        if ssrc is None:
            return []
        values = self.receiver.make_report_block_values(now)
        if values is None:
            return []  # RFC 3550 6.4: only sources that passed probation
        return [
            RtcpReportBlock(
                ssrc,
                values.fraction_lost,
                values.cumulative_lost,
                values.extended_highest,
                values.jitter,
                values.lsr,
                values.dlsr,
            )
        ]

    def on_compound(self, packets: list[RtcpPacket], now: float) -> RtcpReceived:
        """Take in one compound packet from the peer, received at ``now``."""
        sender_ssrc = compound_sender_ssrc(packets)
        sender_report = False
        rtt: float | None = None
        cname: bytes | None = None
        bye = False
        reason: bytes | None = None
        for packet in packets:
            if isinstance(packet, RtcpSenderReport):
                sender_report = True
                if self.receiver.ssrc in (None, packet.ssrc):
                    self.receiver.on_sender_report(ntp_middle32(packet.ntp_timestamp), now)
                found = self._read_blocks(packet.reports, now)
                rtt = found if found is not None else rtt
            elif isinstance(packet, RtcpReceiverReport):
                found = self._read_blocks(packet.reports, now)
                rtt = found if found is not None else rtt
            elif isinstance(packet, RtcpSourceDescription):
                for chunk in packet.chunks:
                    for item in chunk.items:
                        if item.item_type == SDES_CNAME and chunk.ssrc == sender_ssrc:
                            cname = item.value
            elif (
                isinstance(packet, RtcpGoodbye)
                and sender_ssrc is not None
                and sender_ssrc in packet.sources
            ):
                bye = True
                reason = packet.reason
        if cname is not None:
            self.remote_cname = cname
        return RtcpReceived(sender_ssrc, sender_report, rtt, cname, bye, reason)

    def _read_blocks(self, blocks: list[RtcpReportBlock], now: float) -> float | None:
        """Read the block about our SSRC, if any; return the RTT it gives."""
        for block in blocks:
            if block.ssrc != self.ssrc:
                continue
            self.remote_report = RemoteReport(
                block.fraction_lost / 256.0,
                block.packets_lost,
                block.highest_sequence,
                block.jitter,
                now,
            )
            # RFC 3550 6.4.1: RTT = A - LSR - DLSR, on the middle 32 NTP bits.
            rtt = compute_rtt_seconds(block.lsr, block.dlsr, unix_to_ntp_middle32(now))
            if rtt is not None:
                self.rtt = rtt
            return rtt
        return None
