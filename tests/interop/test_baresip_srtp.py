"""SRTP with SDES keys (RFC 3711, RFC 4568) against baresip's srtp module, both ways.

The account's ``srtp`` setting decides: ``mandatory`` offers RTP/SAVP with a
key per suite and refuses plain RTP; ``optional`` takes SRTP when offered.
What is heard proves the keys work: baresip's tone must come out of our
decryption at its pitch, and baresip must count our packets without errors.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.interop.pitch import SINE, TONE, received_pitch
from tui_phone.testing.peers import (
    baresip_console,
    environment,
    json_events,
    start_answer,
    start_baresip,
    stop,
    stop_baresip,
    tui_phone_command,
    wait_for_line,
    write_tone_wav,
)

DURATION = 3.0


def account(tmp_path: Path, srtp: str) -> Path:
    path = tmp_path / "srtp.toml"
    path.write_text(f'[accounts.a]\nuri = "sip:alice@127.0.0.1"\nsrtp = "{srtp}"\n')
    return path


def sdp_lines(message: str, prefix: str) -> list[str]:
    return [line for line in message.split("\r\n") if line.startswith(prefix)]


def baresip_counters(log: Path) -> tuple[int, int]:
    """(packets baresip received, receive errors) from the stats it prints at hang-up."""
    text = log.read_text(errors="replace")
    packets = re.findall(r"packets:\s+(\d+)\s+(\d+)", text)
    errors = re.findall(r"errors:\s+(\d+)\s+(\d+)", text)
    assert packets and errors, text[-2000:]
    return int(packets[-1][1]), int(errors[-1][1])


def test_mandatory_srtp_call_into_baresip(tmp_path: Path) -> None:
    wav = write_tone_wav(tmp_path / "tone.wav", DURATION + 20, frequency=TONE)
    baresip, port, log = start_baresip(tmp_path, wav=wav, codecs="pcmu", mediaenc="srtp-mand")
    recording = tmp_path / "call.wav"
    try:
        call = subprocess.run(
            tui_phone_command("call", "--account", "a", f"sip:bob@127.0.0.1:{port}",
                              "--duration", str(DURATION), "--record", str(recording), "--json",
                              "--sip-trace", config=account(tmp_path, "mandatory")),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
    finally:
        stop_baresip(baresip)
    assert call.returncode == 0, call.stdout[-3000:] + call.stderr + log.read_text(errors="replace")[-2000:]
    events = [json.loads(line) for line in call.stdout.splitlines()]
    [invite] = [e["data"] for e in events if e["event"] == "sip_message" and e["direction"] == "sent"
                and e["data"].startswith("INVITE ")]
    assert sdp_lines(invite, "m=audio")[0].split()[2] == "RTP/SAVP"
    assert [line.split()[1] for line in sdp_lines(invite, "a=crypto:")] == [
        "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
    ended = [e for e in events if e["event"] == "call_ended"][0]
    assert ended["rtp"]["rx_packets"] >= 0.95 * DURATION / 0.020 and ended["rtp"]["rx_lost"] == 0
    pitch, peak = received_pitch(recording)
    assert pitch == pytest.approx(TONE, rel=0.02) and peak > 3000, (pitch, peak)
    received, errors = baresip_counters(log)
    assert received >= ended["rtp"]["tx_packets"] - 5 and errors == 0


def test_baresip_calls_in_with_srtp_and_optional_takes_it(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    baresip, port, log = start_baresip(tmp_path, codecs="pcmu", mediaenc="srtp-mand")
    answer = start_answer(tmp_path, "--echo", "--record", str(recordings), "--max-calls", "1",
                          "--sip-trace", config=account(tmp_path, "optional"))
    try:
        baresip_console(port, f"/dial sip:echo@127.0.0.1:{answer.port}")
        wait_for_line(answer.out, '"call_answered"', process=answer.process)
        time.sleep(DURATION)
        baresip_console(port, "/hangup")
        assert answer.process.wait(15) == 0
    finally:
        stop(answer.process)
        stop_baresip(baresip)
    seen = json_events(answer.out)
    [ok] = [e["data"] for e in seen if e["event"] == "sip_message" and e["direction"] == "sent"
            and e["data"].startswith("SIP/2.0 200") and "m=audio" in e["data"]]
    assert sdp_lines(ok, "m=audio")[0].split()[2] == "RTP/SAVP"
    assert len(sdp_lines(ok, "a=crypto:")) == 1  # the one suite chosen (RFC 4568 5.1.2)
    ended = [e for e in seen if e["event"] == "call_ended"][0]
    assert ended["rtp"]["rx_packets"] >= 0.9 * ended["duration_s"] / 0.020 and ended["rtp"]["rx_lost"] == 0
    (recording,) = recordings.glob("*.wav")
    pitch, peak = received_pitch(recording)  # decrypted, decoded: baresip's sine
    assert pitch == pytest.approx(SINE, rel=0.02) and peak > 3000, (pitch, peak)
    received, errors = baresip_counters(log)  # and our echo, encrypted, got back to it
    assert received >= 0.9 * ended["rtp"]["tx_packets"] and errors == 0


def test_mandatory_srtp_refuses_a_peer_without_it(tmp_path: Path) -> None:
    baresip, port, log = start_baresip(tmp_path, codecs="pcmu")  # plain RTP only
    try:
        call = subprocess.run(
            tui_phone_command("call", "--account", "a", f"sip:bob@127.0.0.1:{port}",
                              "--duration", "1", config=account(tmp_path, "mandatory")),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
    finally:
        stop_baresip(baresip)
    assert call.returncode == 3, call.stdout + call.stderr
    assert call.stdout.splitlines()[-1].startswith("488 ")
