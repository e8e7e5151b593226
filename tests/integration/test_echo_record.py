"""``tui-phone answer --echo --record DIR``: the echo service records what it echoes.

The caller sends a 400 Hz tone; the recording must hold that tone on both
channels (left = what the echo sent back, right = what it received) for
about the length of the call, not an empty WAV.
"""

from __future__ import annotations

import array
import subprocess
import wave
from pathlib import Path

import pytest

from tui_phone.testing.peers import environment, start_answer, stop, tui_phone_command, write_tone_wav

SECONDS = 2.0
TONE = 400.0


@pytest.mark.parametrize("codec", ["PCMU", "G722"])
def test_echo_calls_are_recorded_both_ways(tmp_path: Path, codec: str) -> None:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    answer = start_answer(tmp_path, "--echo", "--record", str(recordings), "--max-calls", "1")
    try:
        wav = write_tone_wav(tmp_path / "tone.wav", SECONDS + 5, frequency=TONE)
        call = subprocess.run(
            tui_phone_command("call", f"sip:echo@127.0.0.1:{answer.port}", "--codecs", codec,
                              "--play", str(wav), "--duration", str(SECONDS)),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        assert call.returncode == 0, call.stdout + call.stderr
        assert answer.process.wait(15) == 0
    finally:
        stop(answer.process)
    (recording,) = recordings.glob("*.wav")
    with wave.open(str(recording)) as recorded:
        rate, channels = recorded.getframerate(), recorded.getnchannels()
        samples = array.array("h", recorded.readframes(recorded.getnframes()))
    assert channels == 2 and rate == (16000 if codec == "G722" else 8000)
    frames = len(samples) // 2
    assert frames >= 0.9 * SECONDS * rate, f"{frames / rate:.2f} s recorded"
    for channel in (samples[0::2], samples[1::2]):  # sent back, received
        middle = channel[rate // 2 : rate // 2 + rate]
        crossings = sum(1 for a, b in zip(middle, middle[1:]) if (a < 0) != (b < 0))
        assert crossings / 2 == pytest.approx(TONE, rel=0.02)
        assert max(map(abs, middle)) > 3000
