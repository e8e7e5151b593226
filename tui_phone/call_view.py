"""How a Call looks in the TUI: its state label and its stats sample (Phone API only)."""

from __future__ import annotations

from typing import Any

from .widgets.rtp_stats import StatsSample


def state_label(call: Any) -> str:
    """The call list's word for a call's state (held and remote hold included)."""
    state = str(call.state)
    if state == "connected":
        if getattr(call, "on_hold", False):
            return "held"
        if getattr(call, "remote_hold", False):
            return "remote hold"
        return "active"
    return {"calling": "calling", "ringing": "early", "incoming": "ringing"}.get(state, state)


def stats_sample(summary: Any) -> StatsSample:
    """A :class:`StatsSample` from ``call.stats()`` (an ``RtpSummary``; a summary without
    the bitrate, jitter buffer, concealment or RTP source fields shows them as n/a)."""
    return StatsSample(
        jitter_ms=summary.jitter_ms, loss_pct=summary.loss_pct, rtt_ms=summary.rtt_ms,
        mos=summary.mos, tx_packets=summary.tx_packets, rx_packets=summary.rx_packets,
        rx_lost=summary.rx_lost, bitrate_kbps=getattr(summary, "bitrate_kbps", None),
        jb_current_ms=getattr(summary, "jitter_buffer_ms", None),
        jb_target_ms=getattr(summary, "jitter_buffer_target_ms", None),
        concealed_frames=getattr(summary, "concealed_frames", None),
        sender=getattr(summary, "rtp_source", None),
        expected_sender=getattr(summary, "rtp_expected_source", None),
    )


__all__ = ["state_label", "stats_sample"]
