"""Call progress and test tones as 16-bit PCM frames.

The tones of the North American precise tone plan (the frequencies and
cadences of ANSI T1.401 / Telcordia GR-506):

======== ============== ===================== ===========
tone     frequencies    cadence               level/tone
======== ============== ===================== ===========
dial     350 + 440 Hz   continuous            -13 dBm0
ringback 440 + 480 Hz   2 s on, 4 s off       -19 dBm0
busy     480 + 620 Hz   0.5 s on, 0.5 s off   -24 dBm0
reorder  480 + 620 Hz   0.25 s on, 0.25 s off -24 dBm0
======== ============== ===================== ===========

plus the ITU-T E.180 dial tone (``dial-itu``: 425 Hz continuous, -10 dBm0)
and a 1 kHz test tone (``test``, -10 dBm0).

:class:`ToneGenerator` hands out frames of any size; the phase of every
frequency and the position in the cadence carry over from one frame to the
next, so consecutive frames join without clicks.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from .errors import AudioSpecError, AudioUsageError
from .resample import check_rate

FULL_SCALE = 32767
# G.711: a full-scale sine is +3.17 dBm0 (ITU-T G.711 table 1/2 and G.168).
FULL_SCALE_DBM0 = 3.17
DEFAULT_TEST_LEVEL_DBM0 = -10.0


def dbm0_to_amplitude(level_dbm0: float) -> float:
    """Peak 16-bit amplitude of a sine at ``level_dbm0``."""
    return FULL_SCALE * 10 ** ((level_dbm0 - FULL_SCALE_DBM0) / 20)


@dataclass(frozen=True, slots=True)
class ToneSpec:
    """A tone: summed sine ``frequencies`` at ``level_dbm0`` each, with a cadence.

    ``cadence`` is a sequence of ``(on_ms, off_ms)`` pairs repeated forever;
    empty means continuous.
    """

    name: str
    frequencies: tuple[float, ...]
    level_dbm0: float
    cadence: tuple[tuple[int, int], ...] = ()

    @property
    def cycle_ms(self) -> int:
        """Length of one cadence cycle (0 for a continuous tone)."""
        return sum(on + off for on, off in self.cadence)


DIAL = ToneSpec("dial", (350.0, 440.0), -13.0)
DIAL_ITU = ToneSpec("dial-itu", (425.0,), -10.0)
RINGBACK = ToneSpec("ringback", (440.0, 480.0), -19.0, ((2000, 4000),))
BUSY = ToneSpec("busy", (480.0, 620.0), -24.0, ((500, 500),))
REORDER = ToneSpec("reorder", (480.0, 620.0), -24.0, ((250, 250),))
TEST = ToneSpec("test", (1000.0,), DEFAULT_TEST_LEVEL_DBM0)

TONES: tuple[ToneSpec, ...] = (DIAL, DIAL_ITU, RINGBACK, BUSY, REORDER, TEST)


def tone_spec(text: str) -> ToneSpec:
    """A tone by name (``dial``, ``ringback``...) or frequencies (``1000``, ``350+440``).

    Frequencies give a continuous tone at -10 dBm0 per frequency.
    """
    wanted = text.strip().lower()
    for spec in TONES:
        if spec.name == wanted:
            return spec
    try:
        frequencies = tuple(float(part) for part in wanted.split("+"))
    except ValueError:
        names = ", ".join(spec.name for spec in TONES)
        raise AudioSpecError(
            f'unknown tone "{text}": use {names} or frequencies in Hz such as 1000 or 350+440'
        ) from None
    if not all(0 < f < 24_000 and math.isfinite(f) for f in frequencies):
        raise AudioSpecError(f'tone "{text}": frequencies must be between 0 and 24000 Hz')
    return ToneSpec(text.strip(), frequencies, DEFAULT_TEST_LEVEL_DBM0)


class ToneGenerator:
    """Continuous-phase 16-bit mono PCM frames of a :class:`ToneSpec`."""

    def __init__(self, spec: ToneSpec, sample_rate: int) -> None:
        self.spec = spec
        self.sample_rate = check_rate(sample_rate)
        for frequency in spec.frequencies:
            if frequency >= sample_rate / 2:
                raise AudioSpecError(
                    f"a {frequency:g} Hz tone cannot be played at {sample_rate} Hz"
                )
        self._amplitude = dbm0_to_amplitude(spec.level_dbm0)
        # Cadence as (start, end) sample offsets of the "on" parts of one cycle.
        self._bursts: list[tuple[int, int]] = []
        offset = 0
        for on_ms, off_ms in spec.cadence:
            on = on_ms * sample_rate // 1000
            self._bursts.append((offset, offset + on))
            offset += on + off_ms * sample_rate // 1000
        self._cycle = offset
        self._phases = [0.0] * len(spec.frequencies)  # in cycles, kept in [0, 1)
        self._position = 0  # sample offset within the cadence cycle

    def _gate(self, count: int) -> list[bool] | None:
        """Per-sample on/off for the next ``count`` samples (None: always on)."""
        if not self._cycle:
            return None
        gate = []
        position = self._position
        for _ in range(count):
            gate.append(any(start <= position < end for start, end in self._bursts))
            position += 1
            if position == self._cycle:
                position = 0
        return gate

    def read(self, frame_samples: int) -> bytes:
        """The next ``frame_samples`` samples of the tone."""
        if frame_samples <= 0:
            raise AudioUsageError(f"frame size must be positive, not {frame_samples}")
        values = [0.0] * frame_samples
        for index, frequency in enumerate(self.spec.frequencies):
            phase = self._phases[index]
            step = frequency / self.sample_rate
            two_pi = 2 * math.pi
            amplitude = self._amplitude
            for n in range(frame_samples):
                values[n] += amplitude * math.sin(two_pi * (phase + step * n))
            self._phases[index] = (phase + step * frame_samples) % 1.0
        gate = self._gate(frame_samples)
        if gate is not None:
            values = [v if on else 0.0 for v, on in zip(values, gate, strict=True)]
            self._position = (self._position + frame_samples) % self._cycle
        samples = [max(-FULL_SCALE - 1, min(FULL_SCALE, round(v))) for v in values]
        return struct.pack(f"={frame_samples}h", *samples)

    def reset(self) -> None:
        """Start again from phase 0 at the beginning of the cadence."""
        self._phases = [0.0] * len(self.spec.frequencies)
        self._position = 0
