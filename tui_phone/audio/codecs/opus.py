"""Opus (RFC 6716) through libopus, bound with ctypes; optional.

RFC 7587: the RTP clock is always 48000 Hz and the SDP always says
``opus/48000/2``, whatever the audio; the payload type is dynamic.  We encode
and decode mono PCM at ``sample_rate`` (48000 by default; libopus also takes
8000, 12000, 16000 and 24000).  Opus frames last 2.5, 5, 10, 20, 40 or 60 ms.
The decoder conceals a lost frame itself (:meth:`Decoder.conceal`).

libopus is the Debian package ``libopus0`` (``libopus.so.0``); where it is
missing, :meth:`OpusCodec.new_encoder` raises :class:`CodecUnavailable` with
the message ``opus not available: libopus not found``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import weakref
from collections.abc import Callable
from typing import Any

from ..errors import AudioError, AudioUsageError, CodecUnavailable, PayloadError
from ..resample import SAMPLE_WIDTH
from .base import AudioCodec, Decoder, Encoder, check_frame

OPUS_OK = 0  # opus_defines.h
OPUS_APPLICATION_VOIP = 2048
OPUS_CLOCK_RATE = 48_000  # RFC 7587 4.1
OPUS_SDP_CHANNELS = 2  # RFC 7587 7
OPUS_RATES = (8000, 12_000, 16_000, 24_000, 48_000)
FRAME_DURATIONS_US = (2_500, 5_000, 10_000, 20_000, 40_000, 60_000)
MAX_PACKET_BYTES = 4000  # comfortably above the 1275-byte frame limit (RFC 6716 3.2.1)
MAX_DECODE_MS = 120  # the longest packet Opus can carry (RFC 6716 3.2.5)
UNAVAILABLE = "opus not available: libopus not found"

_LIBRARY_NAMES = ("libopus.so.0", "libopus.0.dylib", "opus.dll")


def load_libopus() -> ctypes.CDLL:
    """Open libopus, or raise :class:`OSError` if this machine has none."""
    for name in _LIBRARY_NAMES:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    found = ctypes.util.find_library("opus")
    if found is None:
        raise OSError("libopus not found")
    return ctypes.CDLL(found)


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the prototypes we call (opus.h); raises AttributeError if absent."""
    int_p = ctypes.POINTER(ctypes.c_int)
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, int_p]
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_encoder_destroy.restype = None
    lib.opus_encode.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int32,
    ]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, int_p]
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_decoder_destroy.restype = None
    lib.opus_decode.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
    ]
    lib.opus_decode.restype = ctypes.c_int
    lib.opus_strerror.argtypes = [ctypes.c_int]
    lib.opus_strerror.restype = ctypes.c_char_p
    lib.opus_get_version_string.argtypes = []
    lib.opus_get_version_string.restype = ctypes.c_char_p
    return lib


def _strerror(lib: Any, code: int) -> str:
    text: bytes | None = lib.opus_strerror(code)
    return text.decode("ascii", "replace") if text else f"error {code}"


class _OpusEncoder(Encoder):
    def __init__(self, codec: OpusCodec, lib: Any) -> None:
        super().__init__(codec)
        self._lib = lib
        error = ctypes.c_int(OPUS_OK)
        handle = lib.opus_encoder_create(
            codec.sample_rate, codec.channels, OPUS_APPLICATION_VOIP, ctypes.byref(error)
        )
        if error.value != OPUS_OK or not handle:
            raise AudioError(f"opus encoder: {_strerror(lib, error.value)}")
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.opus_encoder_destroy, handle)
        self._out = ctypes.create_string_buffer(MAX_PACKET_BYTES)

    def encode(self, pcm: bytes) -> bytes:
        check_frame(self.codec, pcm)
        samples = len(pcm) // (SAMPLE_WIDTH * self.codec.channels)
        codec = self.codec
        assert isinstance(codec, OpusCodec)
        if samples not in codec.valid_frame_samples():
            raise AudioUsageError(
                f"opus: {samples} samples at {codec.sample_rate} Hz is not an Opus frame "
                "(2.5, 5, 10, 20, 40 or 60 ms)"
            )
        written = self._lib.opus_encode(self._handle, bytes(pcm), samples, self._out, MAX_PACKET_BYTES)
        if written < 0:
            raise AudioError(f"opus encode failed: {_strerror(self._lib, written)}")
        return self._out.raw[:written]

    def close(self) -> None:
        """Free the libopus state now rather than at garbage collection."""
        self._finalizer()


class _OpusDecoder(Decoder):
    def __init__(self, codec: OpusCodec, lib: Any) -> None:
        super().__init__(codec)
        self._lib = lib
        error = ctypes.c_int(OPUS_OK)
        handle = lib.opus_decoder_create(codec.sample_rate, codec.channels, ctypes.byref(error))
        if error.value != OPUS_OK or not handle:
            raise AudioError(f"opus decoder: {_strerror(lib, error.value)}")
        self._handle = handle
        self._finalizer = weakref.finalize(self, lib.opus_decoder_destroy, handle)
        self._max_samples = codec.sample_rate * MAX_DECODE_MS // 1000
        self._pcm = ctypes.create_string_buffer(self._max_samples * SAMPLE_WIDTH * codec.channels)

    def _run(self, payload: bytes | None, frame_samples: int) -> int:
        size = 0 if payload is None else len(payload)
        return int(self._lib.opus_decode(self._handle, payload, size, self._pcm, frame_samples, 0))

    def decode(self, payload: bytes) -> bytes:
        if not payload:
            raise PayloadError("opus payload is empty")
        samples = self._run(bytes(payload), self._max_samples)
        if samples < 0:
            raise PayloadError(f"opus payload cannot be decoded: {_strerror(self._lib, samples)}")
        return self._pcm.raw[: samples * SAMPLE_WIDTH * self.codec.channels]

    def conceal(self, frame_samples: int) -> bytes:
        """Let libopus synthesise ``frame_samples`` samples for a lost packet."""
        codec = self.codec
        assert isinstance(codec, OpusCodec)
        if frame_samples not in codec.valid_frame_samples():
            raise AudioUsageError(
                f"opus: cannot conceal {frame_samples} samples at {codec.sample_rate} Hz"
            )
        samples = self._run(None, frame_samples)
        if samples < 0:  # pragma: no cover - libopus conceals any valid frame size
            raise AudioError(f"opus concealment failed: {_strerror(self._lib, samples)}")
        return self._pcm.raw[: samples * SAMPLE_WIDTH * codec.channels]

    def close(self) -> None:
        """Free the libopus state now rather than at garbage collection."""
        self._finalizer()


class OpusCodec(AudioCodec):
    """Opus, mono PCM at ``sample_rate``, RTP clock 48000, SDP ``opus/48000/2``."""

    name = "opus"
    payload_type = None  # dynamic (RFC 7587 7)
    clock_rate = OPUS_CLOCK_RATE
    sdp_channels = OPUS_SDP_CHANNELS
    supports_plc = True

    def __init__(
        self, sample_rate: int = 48_000, loader: Callable[[], ctypes.CDLL] | None = None
    ) -> None:
        if sample_rate not in OPUS_RATES:
            raise AudioUsageError(
                f"opus cannot run at {sample_rate} Hz (8000, 12000, 16000, 24000 or 48000)"
            )
        self.sample_rate = sample_rate
        self._loader = loader if loader is not None else load_libopus

    def library(self) -> Any:
        """The bound libopus, or raise :class:`CodecUnavailable`."""
        try:
            return _bind(self._loader())
        except (OSError, AttributeError):
            raise CodecUnavailable(UNAVAILABLE) from None

    def version(self) -> str:
        """libopus's version string, e.g. ``libopus 1.4``."""
        text: bytes = self.library().opus_get_version_string()
        return text.decode("ascii", "replace")

    def valid_frame_samples(self) -> tuple[int, ...]:
        """The frame sizes (samples) Opus accepts at this rate."""
        return tuple(self.sample_rate * us // 1_000_000 for us in FRAME_DURATIONS_US)

    def frame_samples(self, ptime_ms: int) -> int:
        samples = super().frame_samples(ptime_ms)
        if samples not in self.valid_frame_samples():
            raise AudioUsageError(f"opus has no {ptime_ms} ms frames (5, 10, 20, 40 or 60 ms)")
        return samples

    def is_available(self) -> bool:
        try:
            self.library()
        except CodecUnavailable:
            return False
        return True

    def new_encoder(self) -> Encoder:
        return _OpusEncoder(self, self.library())

    def new_decoder(self) -> Decoder:
        return _OpusDecoder(self, self.library())
