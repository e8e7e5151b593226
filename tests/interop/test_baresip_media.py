"""tui-phone and baresip: wideband codecs both ways; baresip calling in, holding, sending DTMF.

What we hear is checked, not only counted: baresip sends a tone, tui-phone
records the call (right channel = received), and the tone's zero-crossing
rate in the recording must be the tone's (a codec mismatch, a wrong clock
rate or a broken decoder gives noise, silence or another pitch).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import wave
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


@pytest.mark.parametrize(("codec", "baresip_codec", "rate"), [
    ("G722", "g722/16000/1", 16000),  # RFC 3551 4.5.2: the SDP says 8000, the audio is 16 kHz
    ("opus", "opus/48000/2", 48000),
])
def test_wideband_call_into_baresip_carries_its_tone(
        tmp_path: Path, codec: str, baresip_codec: str, rate: int) -> None:
    wav = write_tone_wav(tmp_path / "tone.wav", DURATION + 20, frequency=TONE)
    baresip, port, log = start_baresip(tmp_path, wav=wav, codecs=f"{baresip_codec},pcmu")
    recording = tmp_path / "call.wav"
    try:
        call = subprocess.run(
            tui_phone_command("call", f"sip:bob@127.0.0.1:{port}", "--codecs", codec,
                              "--duration", str(DURATION), "--record", str(recording), "--json"),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
    finally:
        stop_baresip(baresip)
    assert call.returncode == 0, call.stdout[-3000:] + call.stderr + log.read_text(errors="replace")[-2000:]
    ended = [json.loads(line) for line in call.stdout.splitlines() if '"call_ended"' in line][0]
    assert ended["codec"] == codec
    rtp = ended["rtp"]
    assert rtp["rx_packets"] >= 0.95 * DURATION / 0.020 and rtp["rx_lost"] == 0, rtp
    with wave.open(str(recording)) as wav:
        assert wav.getframerate() == rate
    pitch, peak = received_pitch(recording)
    assert pitch == pytest.approx(TONE, rel=0.02) and peak > 3000, (pitch, peak)


def test_baresip_calls_in_holds_resumes_sends_dtmf_and_hangs_up(tmp_path: Path) -> None:
    # tui-phone plays a tone too, so that baresip's counters show it heard us.
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    baresip, port, log = start_baresip(tmp_path)  # its source: a 440 Hz sine
    wav = write_tone_wav(tmp_path / "tone.wav", 60, frequency=TONE)
    answer = start_answer(tmp_path, "--play", str(wav), "--record", str(recordings), "--max-calls", "1")
    try:
        baresip_console(port, f"/dial sip:echo@127.0.0.1:{answer.port}")
        wait_for_line(answer.out, '"call_answered"', process=answer.process)
        time.sleep(2.5)
        baresip_console(port, "/hold")
        wait_for_line(answer.out, '"remote": true', process=answer.process)
        held = time.monotonic()
        time.sleep(1.0)
        baresip_console(port, "/resume")
        wait_for_line(answer.out, '"remote": false', process=answer.process)
        held = time.monotonic() - held  # about how long baresip held the call (it sends nothing)
        # In a call baresip's menu sends a digit key as RFC 4733 DTMF; a digit ends
        # when the next key comes, so the last one (*) is still held at hang-up.
        for digit in "15#*":
            baresip_console(port, digit, wait=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(
                [e for e in json_events(answer.out) if e["event"] == "dtmf_received"]) < 3:
            time.sleep(0.05)
        baresip_console(port, "/hangup")
        assert answer.process.wait(15) == 0  # --max-calls 1: the call ended, and so did answer
    finally:
        stop(answer.process)
        stop_baresip(baresip)
    seen = json_events(answer.out)
    assert [(e["local"], e["remote"]) for e in seen if e["event"] == "call_hold_changed"] == [
        (False, True), (False, False)], log.read_text(errors="replace")[-2000:]
    ended = [e for e in seen if e["event"] == "call_ended"][0]
    assert ended["ended_by"] == "remote" and ended["status"] == 200
    assert [(e["digit"], e["method"]) for e in seen if e["event"] == "dtmf_received"] == [
        ("1", "rfc4733"), ("5", "rfc4733"), ("#", "rfc4733")]
    rtp = ended["rtp"]
    # baresip sends nothing while it holds the call (sendonly, but nothing to send); we
    # answered recvonly and sent nothing either (RFC 3264 6.1)
    active = ended["duration_s"] - held
    assert rtp["rx_packets"] >= 0.9 * active / 0.020 and rtp["rx_lost"] == 0, (rtp, held)
    assert 0.9 * active / 0.020 <= rtp["tx_packets"] <= (active + 0.3) / 0.020, (rtp, held)
    (recording,) = recordings.glob("*.wav")
    pitch, peak = received_pitch(recording)
    assert pitch == pytest.approx(SINE, rel=0.02) and peak > 3000, (pitch, peak)
    # ... and baresip heard our tone: its own counters when the call ended
    received_by_baresip = re.findall(r"packets:\s+(\d+)\s+(\d+)", log.read_text(errors="replace"))
    assert received_by_baresip and int(received_by_baresip[-1][1]) >= rtp["tx_packets"] - 5
