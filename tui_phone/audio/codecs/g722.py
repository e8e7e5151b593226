"""G.722 wideband ADPCM at 64 kbit/s, through the ``G722`` package (libg722).

RFC 3551 4.5.2: payload type 9, RTP clock 8000 Hz although the audio is
sampled at 16000 Hz (a historical error kept for interoperability), so the
RTP timestamp advances 160 per 20 ms while the PCM frame holds 320 samples.
At 64 kbit/s a 20 ms frame is 160 bytes: one byte per two PCM samples.

The codec's QMF filter bank delays the decoded signal by 22 samples
(:data:`CODEC_DELAY_SAMPLES`).  libg722 has no packet loss concealment.
"""

from __future__ import annotations

import array
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..errors import AudioUsageError, CodecUnavailable
from .base import AudioCodec, Decoder, Encoder, check_frame

PT_G722 = 9  # RFC 3551 6, table 4
BITRATE = 64_000
CODEC_DELAY_SAMPLES = 22  # encoder + decoder QMF delay, measured in tests
UNAVAILABLE = "G722 not available: the G722 package is not installed (pip install G722)"


def import_g722() -> ModuleType:
    """Import the ``G722`` package (libg722's Python module)."""
    return importlib.import_module("G722")


def _to_samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h")
    samples.frombytes(pcm)
    return samples


def _from_samples(samples: Any) -> bytes:
    if not isinstance(samples, array.array):  # the optional NumPy backend
        samples = array.array("h", samples)
    data: bytes = samples.tobytes()
    return data


class _G722Encoder(Encoder):
    def __init__(self, codec: AudioCodec, state: Any) -> None:
        super().__init__(codec)
        self._state = state

    def encode(self, pcm: bytes) -> bytes:
        check_frame(self.codec, pcm)
        if len(pcm) % 4:
            # Two samples make one code byte; an odd sample would be lost.
            raise AudioUsageError(
                f"G722: PCM of {len(pcm) // 2} samples is not an even number of samples"
            )
        return bytes(self._state.encode(_to_samples(pcm)))


class _G722Decoder(Decoder):
    def __init__(self, codec: AudioCodec, state: Any) -> None:
        super().__init__(codec)
        self._state = state

    def decode(self, payload: bytes) -> bytes:
        # Every byte is a valid code word: nothing can be malformed.
        return _from_samples(self._state.decode(bytes(payload)))


class G722Codec(AudioCodec):
    """G.722 at 64 kbit/s: static payload type 9, RTP clock 8000, PCM at 16000 Hz."""

    name = "G722"
    payload_type = PT_G722
    clock_rate = 8000  # RFC 3551 4.5.2
    sample_rate = 16_000
    bitrate = BITRATE

    def __init__(self, loader: Callable[[], ModuleType] | None = None) -> None:
        self._loader = loader if loader is not None else import_g722

    def _module(self) -> ModuleType:
        try:
            return self._loader()
        except ImportError:
            raise CodecUnavailable(UNAVAILABLE) from None

    def _new_state(self) -> Any:
        module = self._module()
        try:
            return module.G722(self.sample_rate, BITRATE, use_numpy=False)
        except TypeError:  # releases before the use_numpy keyword
            return module.G722(self.sample_rate, BITRATE)

    def is_available(self) -> bool:
        try:
            self._module()
        except CodecUnavailable:
            return False
        return True

    def new_encoder(self) -> Encoder:
        return _G722Encoder(self, self._new_state())

    def new_decoder(self) -> Decoder:
        return _G722Decoder(self, self._new_state())

