"""Audio codecs behind one interface, found by SDP encoding name.

:func:`get_codec` looks a codec up by its ``a=rtpmap`` encoding name (case
insensitive, RFC 4566 6) and, for L16, its clock rate.  :func:`available_codecs`
lists the codecs this machine can actually run: G.722 needs the ``G722``
package, Opus needs libopus.
"""

from __future__ import annotations

from ..errors import CodecUnavailable
from .base import AudioCodec, Decoder, Encoder, repeat_fade
from .g711 import PcmaCodec, PcmuCodec
from .g722 import G722Codec
from .l16 import L16Codec
from .opus import OpusCodec

L16_RATES = (44_100, 16_000, 8000)  # the static PT 11 rate first: the default


def all_codecs() -> list[AudioCodec]:
    """Every codec tui-phone knows, available here or not, in registry order."""
    return [
        PcmuCodec(),
        PcmaCodec(),
        G722Codec(),
        *(L16Codec(rate) for rate in L16_RATES),
        OpusCodec(),
    ]


def available_codecs() -> list[AudioCodec]:
    """The codecs this machine can encode and decode, in registry order."""
    return [codec for codec in all_codecs() if codec.is_available()]


def get_codec(name: str, clock_rate: int | None = None) -> AudioCodec:
    """The codec with SDP encoding name ``name`` (any case).

    ``clock_rate`` picks among rates (L16/8000, L16/16000, L16/44100); without
    it a name's first rate is taken (L16: 44100, static payload type 11).
    Raises :class:`CodecUnavailable` for an unknown name or rate, or when the
    codec's library is missing here (``opus not available: libopus not found``).
    """
    wanted = name.lower()
    named = [codec for codec in all_codecs() if codec.name.lower() == wanted]
    if not named:
        raise CodecUnavailable(f"codec not supported: {name}")
    matching = [c for c in named if clock_rate is None or c.clock_rate == clock_rate]
    if not matching:
        raise CodecUnavailable(f"codec not supported: {name}/{clock_rate}")
    codec = matching[0]
    if not codec.is_available():
        # Creating an encoder raises the codec's own explanation.
        codec.new_encoder()
    return codec


__all__ = [
    "AudioCodec",
    "CodecUnavailable",
    "Decoder",
    "Encoder",
    "G722Codec",
    "L16Codec",
    "OpusCodec",
    "PcmaCodec",
    "PcmuCodec",
    "all_codecs",
    "available_codecs",
    "get_codec",
    "repeat_fade",
]
