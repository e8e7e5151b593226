"""L16: uncompressed 16-bit linear PCM (RFC 3551 4.5.11).

On the wire the samples are big-endian (network byte order); our PCM is in
host byte order, so the codec swaps bytes on little-endian hosts.  Mono only:
static payload type 11 is L16/44100/1; other rates use a dynamic type.
"""

from __future__ import annotations

import sys

from .. import _audioop
from ..errors import PayloadError
from ..resample import SAMPLE_WIDTH, check_rate
from .base import AudioCodec, Decoder, Encoder, check_frame

PT_L16_MONO = 11  # RFC 3551 6, table 4: L16/44100/1
STATIC_L16_RATE = 44_100


def _to_network(pcm: bytes) -> bytes:
    if sys.byteorder == "little":
        return _audioop.byteswap(pcm, SAMPLE_WIDTH)
    return bytes(pcm)


class _L16Encoder(Encoder):
    def encode(self, pcm: bytes) -> bytes:
        check_frame(self.codec, pcm)
        return _to_network(pcm)


class _L16Decoder(Decoder):
    def decode(self, payload: bytes) -> bytes:
        if len(payload) % SAMPLE_WIDTH:
            raise PayloadError(
                f"L16 payload of {len(payload)} bytes is not a whole number of samples"
            )
        return _to_network(payload)  # the swap is its own inverse


class L16Codec(AudioCodec):
    """16-bit big-endian linear PCM, mono, at ``rate`` Hz (RTP clock = PCM rate)."""

    name = "L16"
    sample_wise = True

    def __init__(self, rate: int = STATIC_L16_RATE) -> None:
        self.clock_rate = self.sample_rate = check_rate(rate)
        self.payload_type = PT_L16_MONO if rate == STATIC_L16_RATE else None
        self.bitrate = rate * 16

    def new_encoder(self) -> Encoder:
        return _L16Encoder(self)

    def new_decoder(self) -> Decoder:
        return _L16Decoder(self)
