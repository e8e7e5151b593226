"""Shared helpers of the audio tests: deterministic signals and measurements,
and a stand-in for the ``sounddevice`` module (this machine has no sound card).

Helpers are handed out as fixtures (``signals``, ``fake_sounddevice``) since
test modules here are not importable packages.
"""

from __future__ import annotations

import array
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest


def sine(freq: float, rate: int, count: int, amplitude: float = 10_000.0, start: int = 0) -> bytes:
    """``count`` samples of a sine as 16-bit PCM, from sample index ``start``."""
    return array.array(
        "h", (round(amplitude * math.sin(2 * math.pi * freq * (start + n) / rate)) for n in range(count))
    ).tobytes()


def samples(pcm: bytes) -> list[int]:
    """16-bit PCM as a list of ints."""
    values = array.array("h")
    values.frombytes(pcm)
    return values.tolist()


def pcm(values: Iterable[int]) -> bytes:
    """A list of ints as 16-bit PCM."""
    return array.array("h", values).tobytes()


def goertzel(values: Sequence[float], freq: float, rate: int) -> float:
    """Amplitude of the ``freq`` component of ``values`` (Goertzel algorithm).

    For a pure sine of amplitude A at ``freq`` over a whole number of periods
    this returns A.
    """
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s_prev = s_prev2 = 0.0
    for value in values:
        s = value + coeff * s_prev - s_prev2
        s_prev2, s_prev = s_prev, s
    power = s_prev2**2 + s_prev**2 - coeff * s_prev * s_prev2
    return 2 * math.sqrt(max(power, 0.0)) / len(values)


def rms(values: Sequence[float]) -> float:
    """Root mean square."""
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


def snr_db(reference: Sequence[float], test: Sequence[float]) -> float:
    """Signal-to-noise ratio of ``test`` against ``reference`` (equal lengths)."""
    noise = sum((a - b) ** 2 for a, b in zip(reference, test, strict=True))
    signal = sum(a * a for a in reference)
    return math.inf if noise == 0 else 10 * math.log10(signal / noise)


def correlation(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation of two equal-length sequences."""
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    den = math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    return num / den


def zero_crossings(values: Sequence[float]) -> int:
    """Sign changes from negative to non-negative and back."""
    return sum(1 for x, y in itertools.pairwise(values) if (x < 0) != (y < 0))


def best_lag(reference: Sequence[float], test: Sequence[float], max_lag: int) -> int:
    """The delay of ``test`` behind ``reference`` with the highest correlation."""
    window = len(reference) - max_lag
    return max(
        range(max_lag + 1), key=lambda lag: correlation(reference[:window], test[lag : lag + window])
    )


def lcg_noise(count: int, seed: int = 12345, amplitude: int = 8000) -> list[int]:
    """Deterministic white-ish noise from a linear congruential generator."""
    values = []
    state = seed
    for _ in range(count):
        state = (1103515245 * state + 12345) & 0x7FFFFFFF
        values.append((state >> 8) % (2 * amplitude + 1) - amplitude)
    return values


@pytest.fixture
def signals() -> SimpleNamespace:
    """Signal helpers: sine, samples, pcm, goertzel, rms, snr_db, correlation..."""
    return SimpleNamespace(
        sine=sine, samples=samples, pcm=pcm, goertzel=goertzel, rms=rms, snr_db=snr_db,
        correlation=correlation, zero_crossings=zero_crossings, best_lag=best_lag,
        lcg_noise=lcg_noise,
    )


# --- a stand-in for the sounddevice module -----------------------------------


class FakePortAudioError(Exception):
    """Plays sounddevice.PortAudioError."""


class FakeRawStream:
    """Records how it was opened; the test calls ``callback`` as PortAudio would."""

    def __init__(self, module: FakeSounddevice, **kwargs: Any) -> None:
        if module.open_error is not None:
            raise FakePortAudioError(module.open_error)
        self.kwargs = kwargs
        self.callback: Callable[..., None] = kwargs["callback"]
        self.started = self.aborted = self.closed = False
        module.streams.append(self)

    def start(self) -> None:
        self.started = True

    def abort(self, ignore_errors: bool = True) -> None:
        self.aborted = True

    def close(self, ignore_errors: bool = True) -> None:
        self.closed = True

    def run_block(self, captured: bytes, status: int = 0) -> bytes:
        """Call the callback with ``captured`` input; return what it played."""
        frames = len(captured) // 2
        out = bytearray(len(captured))
        self.callback(memoryview(bytes(captured)), memoryview(out), frames, None, status)
        return bytes(out)


class FakeSounddevice:
    """Enough of the sounddevice module for devices.py."""

    PortAudioError = FakePortAudioError

    def __init__(
        self, devices: list[dict[str, Any]], default: tuple[int, int] = (-1, -1),
        rates: tuple[int, ...] = (8000, 16000, 44100, 48000),
    ) -> None:
        self._devices = devices
        self.default = SimpleNamespace(device=list(default))
        self.rates = rates
        self.streams: list[FakeRawStream] = []
        self.open_error: str | None = None

    def query_devices(self) -> list[dict[str, Any]]:
        return list(self._devices)

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "ALSA"}, {"name": "JACK Audio Connection Kit"}]

    def _check(self, samplerate: int) -> None:
        if samplerate not in self.rates:
            raise FakePortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def check_input_settings(self, device: int, channels: int, dtype: str, samplerate: int) -> None:
        self._check(samplerate)

    def check_output_settings(self, device: int, channels: int, dtype: str, samplerate: int) -> None:
        self._check(samplerate)

    def RawStream(self, **kwargs: Any) -> FakeRawStream:  # sounddevice's name
        return FakeRawStream(self, **kwargs)


def device(name: str, inputs: int = 2, outputs: int = 2, rate: float = 48000.0, hostapi: int = 0) -> dict[str, Any]:
    """A sounddevice-style device dict."""
    return {
        "name": name, "hostapi": hostapi, "max_input_channels": inputs,
        "max_output_channels": outputs, "default_samplerate": rate,
    }


@pytest.fixture
def fake_sounddevice() -> Callable[..., FakeSounddevice]:
    """Factory: ``fake_sounddevice([device dicts], default=(in, out), rates=(...))``."""
    return FakeSounddevice


@pytest.fixture
def device_dict() -> Callable[..., dict[str, Any]]:
    """Factory of sounddevice-style device dicts."""
    return device
