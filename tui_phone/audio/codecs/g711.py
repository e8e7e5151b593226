"""G.711 mu-law (PCMU) and A-law (PCMA) through audioop (RFC 3551 4.5.14).

Stateless, one byte per sample at 8000 Hz (64 kbit/s): 160 bytes per 20 ms.

Encoding takes audioop's conversion of every 16-bit sample value once, as a
65536-byte table, and then looks each sample up in it (the C speed-up
``_cg711.c``; without it, audioop converts every frame).  The bytes are
audioop's either way.
"""

from __future__ import annotations

import array
import functools
from collections.abc import Callable

try:  # the table lookup in C (setup.py; optional)
    from .._cg711 import translate16
except ImportError:  # no compiler at install: audioop for every frame
    translate16 = None

from .. import _audioop
from ..resample import SAMPLE_WIDTH
from .base import AudioCodec, Decoder, Encoder, check_frame

PT_PCMU = 0  # RFC 3551 6, table 4
PT_PCMA = 8


@functools.cache
def _table(convert: Callable[[bytes, int], bytes]) -> bytes:
    """``convert`` of every 16-bit sample value, indexed by the value as unsigned."""
    values = array.array("h", range(0x8000)) + array.array("h", range(-0x8000, 0))  # 0..0xFFFF as int16
    return convert(values.tobytes(), SAMPLE_WIDTH)


def _by_table(convert: Callable[[bytes, int], bytes]) -> Callable[[bytes, int], bytes]:
    """``convert`` (audioop's, for 16-bit samples) as a lookup in its own table."""
    table = _table(convert)
    assert translate16 is not None
    return lambda pcm, width: translate16(pcm, table)


class _G711Encoder(Encoder):
    def __init__(self, codec: AudioCodec, convert: Callable[[bytes, int], bytes]) -> None:
        super().__init__(codec)
        self._convert = _by_table(convert) if translate16 is not None else convert

    def encode(self, pcm: bytes) -> bytes:
        if len(pcm) & 1:  # mono 16-bit: whole samples (check_frame only to raise)
            check_frame(self.codec, pcm)
        return self._convert(pcm, SAMPLE_WIDTH)


class _G711Decoder(Decoder):
    def __init__(self, codec: AudioCodec, convert: Callable[[bytes, int], bytes]) -> None:
        super().__init__(codec)
        self._convert = convert

    def decode(self, payload: bytes) -> bytes:
        # Every byte is a valid G.711 code word: nothing can be malformed.
        return self._convert(payload, SAMPLE_WIDTH)


class PcmuCodec(AudioCodec):
    """G.711 mu-law, static payload type 0."""

    name = "PCMU"
    payload_type = PT_PCMU
    clock_rate = 8000
    sample_rate = 8000
    bitrate = 64_000
    sample_wise = True

    def new_encoder(self) -> Encoder:
        return _G711Encoder(self, _audioop.lin2ulaw)

    def new_decoder(self) -> Decoder:
        return _G711Decoder(self, _audioop.ulaw2lin)


class PcmaCodec(AudioCodec):
    """G.711 A-law, static payload type 8."""

    name = "PCMA"
    payload_type = PT_PCMA
    clock_rate = 8000
    sample_rate = 8000
    bitrate = 64_000
    sample_wise = True

    def new_encoder(self) -> Encoder:
        return _G711Encoder(self, _audioop.lin2alaw)

    def new_decoder(self) -> Decoder:
        return _G711Decoder(self, _audioop.alaw2lin)
