"""Sample-rate conversion and PCM shape helpers (audioop).

PCM throughout the audio package is signed 16-bit (``SAMPLE_WIDTH``) in the
host's byte order, which is what ``audioop``, the ``wave`` module and
PortAudio's ``int16`` all use (little-endian on every machine we run on).

:class:`Resampler` wraps ``audioop.ratecv`` and keeps its state between calls,
so a stream converted 20 ms at a time is sample-for-sample the same as the
whole stream converted at once: no clicks at frame edges.
:class:`FrameResampler` adds a FIFO so that a caller always gets whole frames
of a fixed size out (``ratecv`` yields a sample or a few less at the start of
an upsampled stream, and frame sizes need not divide evenly).

``ratecv`` interpolates linearly and has no anti-aliasing filter, which is
adequate between the telephony rates (8, 16, 44.1, 48 kHz) for speech.
"""

from __future__ import annotations

from typing import Any

from . import _audioop
from .errors import AudioUsageError

SAMPLE_WIDTH = 2  # bytes per sample: signed 16-bit PCM
MAX_RATE = 192_000


def check_rate(rate: int) -> int:
    """Return ``rate`` if it is a usable sample rate, else raise :class:`AudioUsageError`."""
    if not isinstance(rate, int) or not 1000 <= rate <= MAX_RATE:
        raise AudioUsageError(f"unsupported sample rate: {rate!r} Hz")
    return rate


def check_pcm(pcm: bytes, channels: int = 1) -> None:
    """Raise :class:`AudioUsageError` unless ``pcm`` holds whole 16-bit samples."""
    if len(pcm) % (SAMPLE_WIDTH * channels):
        raise AudioUsageError(
            f"PCM of {len(pcm)} bytes is not a whole number of "
            f"{channels}-channel 16-bit samples"
        )


def silence(samples: int, channels: int = 1) -> bytes:
    """``samples`` frames of digital silence."""
    return bytes(samples * SAMPLE_WIDTH * channels)


def samples_in(pcm: bytes, channels: int = 1) -> int:
    """How many sample frames ``pcm`` holds."""
    return len(pcm) // (SAMPLE_WIDTH * channels)


class Resampler:
    """Converts one mono or stereo 16-bit stream from ``in_rate`` to ``out_rate``.

    The ``ratecv`` state is carried from one :meth:`convert` call to the next,
    so the stream may be fed in chunks of any size.  Same rates: a pass-through.
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int = 1) -> None:
        self.in_rate = check_rate(in_rate)
        self.out_rate = check_rate(out_rate)
        if channels not in (1, 2):
            raise AudioUsageError(f"unsupported channel count: {channels}")
        self.channels = channels
        self._state: Any = None  # audioop's opaque ratecv state

    @property
    def passthrough(self) -> bool:
        """True when input and output rates are equal (nothing to do)."""
        return self.in_rate == self.out_rate

    def convert(self, pcm: bytes) -> bytes:
        """Resample the next chunk of the stream."""
        check_pcm(pcm, self.channels)
        if self.passthrough or not pcm:
            return bytes(pcm)
        out, self._state = _audioop.ratecv(
            pcm, SAMPLE_WIDTH, self.channels, self.in_rate, self.out_rate, self._state
        )
        return out

    def reset(self) -> None:
        """Forget the stream: the next chunk starts a new one."""
        self._state = None


class FrameResampler:
    """A :class:`Resampler` followed by a FIFO that hands out fixed-size frames.

    :meth:`push` takes input of any length at ``in_rate``; :meth:`pop_frame`
    gives exactly ``out_frame_samples`` samples at ``out_rate``.  When fewer
    are buffered, the frame is completed with silence placed *before* them,
    so what was buffered still runs straight into what comes next (at the
    start of an upsampled stream that is a few samples of extra latency,
    never a click).  The FIFO holds at most ``max_frames`` frames; pushing
    beyond drops the oldest samples, counted in :attr:`dropped_samples`.
    """

    def __init__(
        self, in_rate: int, out_rate: int, out_frame_samples: int, *, max_frames: int = 8
    ) -> None:
        if out_frame_samples <= 0:
            raise AudioUsageError(f"frame size must be positive, not {out_frame_samples}")
        if max_frames < 1:
            raise AudioUsageError(f"max_frames must be at least 1, not {max_frames}")
        self._resampler = Resampler(in_rate, out_rate)
        self.out_frame_samples = out_frame_samples
        self._frame_bytes = out_frame_samples * SAMPLE_WIDTH
        self._limit = max_frames * self._frame_bytes
        self._fifo = bytearray()
        self.dropped_samples = 0
        self.padded_samples = 0

    @property
    def buffered_samples(self) -> int:
        """Output samples waiting in the FIFO."""
        return len(self._fifo) // SAMPLE_WIDTH

    def push(self, pcm: bytes) -> None:
        """Resample ``pcm`` and queue the result."""
        self._fifo += self._resampler.convert(pcm)
        excess = len(self._fifo) - self._limit
        if excess > 0:
            del self._fifo[:excess]
            self.dropped_samples += excess // SAMPLE_WIDTH

    def pop_frame(self) -> bytes:
        """One frame of ``out_frame_samples`` samples (silence when nothing is queued)."""
        if len(self._fifo) >= self._frame_bytes:
            frame = bytes(self._fifo[: self._frame_bytes])
            del self._fifo[: self._frame_bytes]
            return frame
        if self._fifo:
            missing = self._frame_bytes - len(self._fifo)
            self.padded_samples += missing // SAMPLE_WIDTH
            frame = bytes(missing) + bytes(self._fifo)
            self._fifo.clear()
            return frame
        return bytes(self._frame_bytes)

    def convert_frame(self, pcm: bytes) -> bytes:
        """:meth:`push` then :meth:`pop_frame`: one frame in, one frame out."""
        self.push(pcm)
        return self.pop_frame()

    def reset(self) -> None:
        """Drop the queue and the resampler state."""
        self._resampler.reset()
        self._fifo.clear()


def to_mono(pcm: bytes, channels: int) -> bytes:
    """Mix interleaved 16-bit ``pcm`` of 1 or 2 channels down to mono (equal weights)."""
    check_pcm(pcm, channels)
    if channels == 1:
        return bytes(pcm)
    if channels == 2:
        return _audioop.tomono(pcm, SAMPLE_WIDTH, 0.5, 0.5)
    raise AudioUsageError(f"unsupported channel count: {channels}")


def interleave(left: bytes, right: bytes) -> bytes:
    """Two mono 16-bit streams of equal length as one interleaved stereo stream."""
    if len(left) != len(right):
        raise AudioUsageError(
            f"cannot interleave {len(left)} bytes with {len(right)} bytes"
        )
    check_pcm(left)
    return _audioop.add(
        _audioop.tostereo(left, SAMPLE_WIDTH, 1, 0),
        _audioop.tostereo(right, SAMPLE_WIDTH, 0, 1),
        SAMPLE_WIDTH,
    )
