"""tui-phone calls baresip (issue 4, interop c): RTP both ways and a hold/resume round trip."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tui_phone.testing.peers import (
    environment,
    start_baresip,
    stop_baresip,
    tui_phone_command,
    write_tone_wav,
)

DURATION = 8.0
HOLD_AT, RESUME_AT = 3.0, 5.0


def direction(sdp: str) -> str:
    found = re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", sdp, re.MULTILINE)
    return found[-1] if found else "sendrecv"  # RFC 4566 6: sendrecv is the default


def test_call_baresip_rtp_both_ways_and_hold_resume(tmp_path: Path) -> None:
    wav = write_tone_wav(tmp_path / "tone400.wav", DURATION + 20)
    baresip, port, log = start_baresip(tmp_path, user="bob", wav=wav)
    try:
        call = subprocess.run(
            tui_phone_command("call", f"sip:bob@127.0.0.1:{port}", "--duration", str(DURATION),
                              "--hold-at", str(HOLD_AT), "--resume-at", str(RESUME_AT),
                              "--json", "--sip-trace"),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
    finally:
        stop_baresip(baresip)
    baresip_log = log.read_text(errors="replace")
    assert call.returncode == 0, call.stdout[-4000:] + call.stderr + baresip_log[-2000:]
    events = [json.loads(line) for line in call.stdout.splitlines() if line.startswith("{")]
    ended = [e for e in events if e["event"] == "call_ended"][0]
    rtp = ended["rtp"]
    assert ended["status"] == 200 and ended["codec"] == "PCMU"
    # baresip keeps sending while it holds the call for us (we are sendonly, it is recvonly:
    # it may stop); count only the time it had to send.
    expected = (DURATION - (RESUME_AT - HOLD_AT)) / 0.020
    assert rtp["rx_packets"] >= 0.95 * expected, rtp
    assert rtp["rx_lost"] == 0 and rtp["tx_packets"] >= 0.95 * DURATION / 0.020, rtp

    # The SIP trace: two re-INVITEs, each answered 200 by baresip with the right direction.
    messages = [e for e in events if e["event"] == "sip_message"]
    sent_invites = [m["data"] for m in messages if m["direction"] == "sent"
                    and m["data"].startswith("INVITE ")]
    assert len(sent_invites) == 3, [m["data"][:60] for m in messages]
    assert [direction(m.split("\r\n\r\n", 1)[1]) for m in sent_invites[1:]] == [
        "sendonly", "sendrecv"]
    answers = [m["data"] for m in messages if m["direction"] == "received"
               and m["data"].startswith("SIP/2.0 200") and " INVITE\r\n" in m["data"]]
    cseqs = sorted({int(re.search(r"^CSeq:\s*(\d+)", a, re.MULTILINE | re.IGNORECASE)[1])
                    for a in answers})
    assert len(cseqs) == 3
    last_by_cseq = {int(re.search(r"^CSeq:\s*(\d+)", a, re.MULTILINE | re.IGNORECASE)[1]): a
                    for a in answers}
    assert [direction(last_by_cseq[c].split("\r\n\r\n", 1)[1]) for c in cseqs] == [
        "sendrecv", "recvonly", "sendrecv"]
    holds = [(e["local"], e["remote"]) for e in events if e["event"] == "call_hold_changed"]
    assert holds == [(True, False), (False, False)]
    # baresip received our audio too (its own counters, printed when the call ends)
    transmit_receive = re.findall(r"packets:\s+(\d+)\s+(\d+)", baresip_log)
    assert transmit_receive and int(transmit_receive[-1][1]) >= 0.9 * DURATION / 0.020, \
        baresip_log[-2000:]
