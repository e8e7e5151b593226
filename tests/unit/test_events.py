"""events: the JSON form of an event keeps RtpSummary's live-view fields out."""

from __future__ import annotations

from tui_phone.events import CallEnded, RtpSummary, event_to_dict, rtp_summary_to_dict

JSON_FIELDS = {"tx_packets", "rx_packets", "rx_lost", "loss_pct", "jitter_ms", "max_jitter_ms",
               "rtt_ms", "mos"}


def test_rtp_summary_json_leaves_the_live_fields_out() -> None:
    summary = RtpSummary(rx_packets=5, bitrate_kbps=64.0, rtp_source="127.0.0.1:4000",
                         rtp_expected_source="127.0.0.1:4002", concealed_frames=1)
    assert set(rtp_summary_to_dict(summary)) == JSON_FIELDS
    ended = event_to_dict(CallEnded(None, "c1", "sip:bob@x", 200, "OK", rtp=summary))
    assert ended["rtp"]["rx_packets"] == 5 and set(ended["rtp"]) == JSON_FIELDS
    assert summary.rtp_source != summary.rtp_expected_source  # what the stats panel warns about
