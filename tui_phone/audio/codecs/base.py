"""The codec interface: :class:`AudioCodec`, :class:`Encoder`, :class:`Decoder`.

An :class:`AudioCodec` describes an RTP audio format (its SDP encoding name,
static payload type, RTP clock rate, PCM sample rate and channels) and makes
encoders and decoders.  Encoders and decoders keep per-stream state (G.722's
ADPCM predictors, Opus), so every RTP stream gets its own pair.

PCM is signed 16-bit in host byte order (see :mod:`tui_phone.audio.resample`).
The RTP clock and the PCM rate differ for G.722 (RFC 3551 4.5.2: the clock
is 8000 Hz for historical reasons, the audio is sampled at 16000 Hz).

Codecs without packet loss concealment (``supports_plc`` false) leave a lost
frame to the caller, who repeats and fades the last frame:
:func:`repeat_fade` does that.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from .. import _audioop
from ..errors import AudioUsageError
from ..resample import SAMPLE_WIDTH, check_pcm, silence


class Encoder(ABC):
    """Turns PCM frames into codec payloads, one RTP packet's worth at a time."""

    def __init__(self, codec: AudioCodec) -> None:
        self.codec = codec

    @abstractmethod
    def encode(self, pcm: bytes) -> bytes:
        """Encode one frame of 16-bit PCM at ``codec.sample_rate``."""


class Decoder(ABC):
    """Turns codec payloads back into 16-bit PCM at ``codec.sample_rate``."""

    def __init__(self, codec: AudioCodec) -> None:
        self.codec = codec

    @property
    def supports_plc(self) -> bool:
        """True if :meth:`conceal` can synthesise a lost frame."""
        return self.codec.supports_plc

    @abstractmethod
    def decode(self, payload: bytes) -> bytes:
        """Decode one payload into PCM."""

    def conceal(self, frame_samples: int) -> bytes:
        """PCM standing in for one lost frame of ``frame_samples`` samples.

        Only codecs with ``supports_plc``; others raise :class:`AudioUsageError`
        (use :func:`repeat_fade` on the last decoded frame instead).
        """
        raise AudioUsageError(
            f"{self.codec.name} has no packet loss concealment; repeat or fade the last frame"
        )


class AudioCodec(ABC):
    """An RTP audio codec: its description, and a factory of encoders and decoders.

    ``name`` is the SDP encoding name as we write it (matched case-insensitively),
    ``payload_type`` the RFC 3551 static payload type or ``None`` (dynamic),
    ``clock_rate`` the RTP timestamp clock, ``sample_rate`` the PCM rate the
    encoder takes and the decoder gives, ``channels`` the PCM channels and
    ``sdp_channels`` the channel count written in ``a=rtpmap``.
    """

    name: str
    payload_type: int | None
    clock_rate: int
    sample_rate: int
    channels: int = 1
    sdp_channels: int = 1
    supports_plc: bool = False
    #: Each sample is coded alone (no state, no frames): the payload of several
    #: frames encoded at once is their payloads joined (G.711, L16).
    sample_wise: bool = False
    bitrate: int | None = None  # bits per second of constant-bitrate codecs

    def frame_samples(self, ptime_ms: int) -> int:
        """PCM samples (per channel) in a frame of ``ptime_ms`` milliseconds."""
        total = self.sample_rate * ptime_ms
        if ptime_ms <= 0 or total % 1000:
            raise AudioUsageError(
                f"ptime {ptime_ms} ms is not a whole number of samples at {self.sample_rate} Hz"
            )
        return total // 1000

    def frame_bytes(self, ptime_ms: int) -> int:
        """PCM bytes in a frame of ``ptime_ms``: what :meth:`Encoder.encode` takes."""
        return self.frame_samples(ptime_ms) * SAMPLE_WIDTH * self.channels

    def timestamp_step(self, ptime_ms: int) -> int:
        """RTP timestamp increment per packet of ``ptime_ms`` (RTP clock units)."""
        return self.clock_rate * ptime_ms // 1000

    def payload_bytes(self, ptime_ms: int) -> int | None:
        """Payload bytes per frame for constant-bitrate codecs, ``None`` for variable."""
        if self.bitrate is None:
            return None
        return self.bitrate * ptime_ms // 8000

    def rtpmap(self) -> str:
        """The ``a=rtpmap`` encoding part: ``PCMU/8000``, ``opus/48000/2``."""
        text = f"{self.name}/{self.clock_rate}"
        return text if self.sdp_channels == 1 else f"{text}/{self.sdp_channels}"

    def is_available(self) -> bool:
        """True if this machine can encode and decode this codec."""
        return True

    @abstractmethod
    def new_encoder(self) -> Encoder:
        """A fresh encoder (raises :class:`CodecUnavailable` if the library is missing)."""

    @abstractmethod
    def new_decoder(self) -> Decoder:
        """A fresh decoder (raises :class:`CodecUnavailable` if the library is missing)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.rtpmap()} pt={self.payload_type}>"


def repeat_fade(last_frame: bytes, step: int, fade_frames: int = 4) -> bytes:
    """Conceal the ``step``-th lost frame in a row from the last good frame.

    Step 1 repeats ``last_frame``; the next ``fade_frames`` steps repeat it
    with a gain falling linearly towards zero; later steps are silence.
    """
    check_pcm(last_frame)
    if step < 1:
        raise AudioUsageError(f"concealment step must be at least 1, not {step}")
    if step == 1:
        return bytes(last_frame)
    gain = 1.0 - (step - 1) / (fade_frames + 1)
    if gain <= 0.0:
        return silence(len(last_frame) // SAMPLE_WIDTH)
    return _audioop.mul(last_frame, SAMPLE_WIDTH, gain)


def check_frame(codec: AudioCodec, pcm: bytes) -> None:
    """Raise :class:`AudioUsageError` unless ``pcm`` is whole samples for ``codec``."""
    try:
        check_pcm(pcm, codec.channels)
    except AudioUsageError as exc:
        raise AudioUsageError(f"{codec.name}: {exc.reason}") from None
