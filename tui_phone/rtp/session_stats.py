"""The statistics snapshot of an RTP session, for the UI (pure data).

:meth:`tui_phone.rtp.session.RtpSession.stats` fills it; the statistics
widget and scripts read it.  Kept apart from the Twisted edge so that the UI
can import it without Twisted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .jitterbuffer import JitterBufferStats
from .latch import Address
from .quality import QualityEstimate
from .reporting import RemoteReport
from .sender import SenderCounters
from .stats import ReceiverSnapshot


@dataclass(frozen=True, slots=True)
class RtpSessionStats:
    """Everything the statistics view shows, read at one moment."""

    local_rtp: Address | None
    local_rtcp: Address | None
    signalled_remote: Address | None
    remote: Address | None
    """Where RTP goes now: the signalled address, or the latched one."""
    remote_rtcp: Address | None
    latched: bool
    latch_count: int
    remote_mismatch: bool
    """RTP flows with an address the SDP did not announce (a NAT, usually)."""
    local_ssrc: int
    remote_ssrc: int | None
    remote_cname: bytes | None
    sending: bool
    sent: SenderCounters | None
    received: ReceiverSnapshot
    rtt_ms: float | None
    remote_report: RemoteReport | None
    jitter_buffer: JitterBufferStats | None
    jitter_buffer_delay_ms: float
    quality: QualityEstimate | None
    garbage: int
    """Datagrams that were not RTP/RTCP at all (parse errors)."""
    strangers: int
    """Valid packets not from our peer (other SSRC, payload type not negotiated)."""
    srtp_auth_failures: int
    srtp_replays: int
    rtcp_sent: int
    rtcp_received: int
    dtmf_received: int
    send_errors: int
    srtp: bool
