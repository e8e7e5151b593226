"""The pitch of the received side of a call recording: proof that audio got through."""

from __future__ import annotations

import array
import wave
from pathlib import Path

TONE = 400.0  # Hz, the WAV the tests give baresip (write_tone_wav)
SINE = 440.0  # Hz, baresip's own source without a WAV (ausine)


def received_pitch(recording: Path) -> tuple[float, int]:
    """(zero crossings per second / 2, peak) of the received channel over its second second."""
    with wave.open(str(recording)) as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert channels == 2
    received = samples[1::2][rate : 2 * rate]  # right channel = received; skip the first second
    assert len(received) == rate, f"recording shorter than 2 s: {len(samples) // 2} frames"
    crossings = sum(1 for a, b in zip(received, received[1:]) if (a < 0) != (b < 0))
    return crossings / 2, max(map(abs, received))
