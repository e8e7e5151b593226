"""WAV file source and sink (the stdlib :mod:`wave` module).

:class:`WavSource` plays a PCM WAV file into a call: once or looped, any
sample rate (resampled to the call's, with state kept across frames and
across the loop point), mono or stereo (mixed down with ``audioop.tomono``),
8-bit unsigned or 16/24/32-bit signed samples (converted to 16-bit).

:class:`WavSink` writes 16-bit PCM incrementally.  Data is held in memory
until :meth:`WavSink.flush` (automatic every ``flush_interval_ms``), which
appends it with ``writeframes`` (``wave`` then rewrites the RIFF and data
lengths in the header) and flushes the file: after every flush the file on
disk is a complete, valid WAV holding everything written so far, so a crash
loses at most the last interval.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import BinaryIO, Self

from . import _audioop
from .errors import AudioUsageError, WavFormatError
from .resample import SAMPLE_WIDTH, FrameResampler, check_pcm, check_rate, silence

MAX_CHANNELS = 2
DEFAULT_FLUSH_INTERVAL_MS = 1000
# A file already in the call's format is read this many frames at a time and
# handed out in slices: a 20 ms frame then costs a slice, not a file read,
# a conversion and a FIFO round trip (it is on every call's ptime tick).
DIRECT_READ_FRAMES = 50


def _open_for_reading(path: Path) -> wave.Wave_read:
    try:
        return wave.open(str(path), "rb")
    except FileNotFoundError:
        raise WavFormatError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise WavFormatError(f"{path}: not a PCM WAV file ({exc or 'truncated'})") from None
    except OSError as exc:
        raise WavFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _to_16_bit(data: bytes, width: int) -> bytes:
    if width == SAMPLE_WIDTH:
        return data
    if width == 1:  # 8-bit WAV samples are unsigned (offset 128)
        data = _audioop.bias(data, 1, -128)
    return _audioop.lin2lin(data, width, SAMPLE_WIDTH)


class WavSource:
    """Frames of mono 16-bit PCM at ``sample_rate`` read from a WAV file.

    :meth:`read_frame` returns ``frame_samples`` samples each call; the last
    frame of a file played once is completed with silence, and after it
    ``read_frame`` returns ``None``.  With ``loop`` the file starts again
    seamlessly and never ends (an empty file plays silence).

    A file already at the call's rate, mono and 16-bit is not converted: it
    is read in blocks of :data:`DIRECT_READ_FRAMES` frames and cut into
    frames, which gives the very same frames.
    """

    def __init__(
        self, path: str | os.PathLike[str], sample_rate: int, frame_samples: int, *, loop: bool = False
    ) -> None:
        self.path = Path(path)
        self.sample_rate = check_rate(sample_rate)
        if frame_samples <= 0:
            raise AudioUsageError(f"frame size must be positive, not {frame_samples}")
        self.frame_samples = frame_samples
        self.loop = loop
        self._reader = _open_for_reading(self.path)
        try:
            self.file_rate = self._reader.getframerate()
            self.file_channels = self._reader.getnchannels()
            self.file_width = self._reader.getsampwidth()
            self.file_frames = self._reader.getnframes()
            self._check_format()
        except BaseException:
            self._reader.close()
            raise
        self._resampler = FrameResampler(
            self.file_rate, sample_rate, frame_samples, max_frames=4
        )
        # Input per read: enough file frames for about one output frame.
        self._chunk = max(1, -(-frame_samples * self.file_rate // sample_rate))
        self._ended = False
        self._closed = False
        self._direct = (
            self.file_rate == sample_rate and self.file_channels == 1 and self.file_width == SAMPLE_WIDTH
        )
        self._frame_bytes = frame_samples * SAMPLE_WIDTH
        self._block = b""  # direct reading: file data not handed out yet, from _offset on
        self._offset = 0

    def _check_format(self) -> None:
        if not 1 <= self.file_channels <= MAX_CHANNELS:
            raise WavFormatError(
                f"{self.path}: {self.file_channels} channels (mono or stereo only)"
            )
        if self.file_width not in (1, 2, 3, 4):
            raise WavFormatError(f"{self.path}: {self.file_width * 8}-bit samples are not supported")
        try:
            check_rate(self.file_rate)
        except AudioUsageError:
            raise WavFormatError(f"{self.path}: unsupported sample rate {self.file_rate} Hz") from None

    @property
    def duration(self) -> float:
        """Length of the file in seconds."""
        return self.file_frames / self.file_rate

    def _read_chunk(self) -> bytes:
        """The next chunk of the file as mono 16-bit at the file's rate (b'' at the end)."""
        data = self._reader.readframes(self._chunk)
        if not data and self.loop and self.file_frames:
            self._reader.rewind()
            data = self._reader.readframes(self._chunk)
        data = _to_16_bit(data, self.file_width)
        if self.file_channels == 2:
            data = _audioop.tomono(data, SAMPLE_WIDTH, 0.5, 0.5)
        return data

    def read_frame(self) -> bytes | None:
        """The next frame, or ``None`` once a file played once has ended."""
        start = self._offset
        end = start + self._frame_bytes
        if end <= len(self._block):  # direct reading, a whole frame at hand
            self._offset = end
            return self._block[start:end]
        if self._closed:
            raise AudioUsageError(f"{self.path}: WAV source is closed")
        if self._ended:
            return None
        if self.loop and not self.file_frames:
            return silence(self.frame_samples)
        if self._direct:
            return self._read_direct()
        wanted = self.frame_samples * SAMPLE_WIDTH
        while self._resampler.buffered_samples * SAMPLE_WIDTH < wanted:
            chunk = self._read_chunk()
            if not chunk:
                break
            self._resampler.push(chunk)
        if self._resampler.buffered_samples == 0:
            self._ended = True
            return None
        if self._resampler.buffered_samples < self.frame_samples:
            # The tail of the file: pad after it (nothing follows to stay continuous with).
            tail = self._resampler.buffered_samples
            frame = self._resampler.pop_frame()
            self._ended = True
            return frame[-tail * SAMPLE_WIDTH:] + silence(self.frame_samples - tail)
        return self._resampler.pop_frame()

    def read_run(self, count: int) -> bytes:
        """``count`` frames joined, as ``count`` calls of :meth:`read_frame`
        give them (silence for a frame after the end of a file played once).

        The frames already read from the file go in one slice (direct
        reading keeps :data:`DIRECT_READ_FRAMES` of them at hand), not one
        call each."""
        parts = []
        size = self._frame_bytes
        while count > 0:
            start = self._offset
            whole = min(count, (len(self._block) - start) // size)
            if whole > 0:
                self._offset = end = start + whole * size
                parts.append(self._block[start:end])
                count -= whole
                continue
            frame = self.read_frame()
            parts.append(frame if frame is not None else silence(self.frame_samples))
            count -= 1
        return b"".join(parts)

    def _read_direct(self) -> bytes | None:
        """Refill the block from the file (rewinding when looped); one frame from it."""
        parts = [self._block[self._offset :]]
        have = len(parts[0])
        while have < self._frame_bytes:
            data = self._reader.readframes(DIRECT_READ_FRAMES * self.frame_samples)
            if not data and self.loop:
                self._reader.rewind()
                data = self._reader.readframes(DIRECT_READ_FRAMES * self.frame_samples)
            if not data:
                break
            check_pcm(data)
            parts.append(data)
            have += len(data)
        block = b"".join(parts)
        if have >= self._frame_bytes:
            self._block, self._offset = block, self._frame_bytes
            return block[: self._frame_bytes]
        self._block, self._offset = b"", 0
        self._ended = True
        if not have:
            return None
        # The tail of the file: pad after it (nothing follows to stay continuous with).
        return block + silence(self.frame_samples - have // SAMPLE_WIDTH)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._closed:
            self._closed = True
            self._block, self._offset = b"", 0
            self._reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WavSink:
    """A 16-bit PCM WAV file written incrementally, valid after every flush."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int,
        channels: int = 1,
        *,
        flush_interval_ms: int = DEFAULT_FLUSH_INTERVAL_MS,
        fsync: bool = False,
    ) -> None:
        self.path = Path(path)
        self.sample_rate = check_rate(sample_rate)
        if channels not in (1, 2):
            raise AudioUsageError(f"unsupported channel count: {channels}")
        self.channels = channels
        self._fsync = fsync
        self._flush_bytes = max(1, sample_rate * flush_interval_ms // 1000) * SAMPLE_WIDTH * channels
        try:
            self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise WavFormatError(f"{self.path}: cannot write ({exc.strerror or exc})") from None
        self._writer = wave.open(self._file, "wb")  # noqa: SIM115 - closed in close()
        self._writer.setnchannels(channels)
        self._writer.setsampwidth(SAMPLE_WIDTH)
        self._writer.setframerate(sample_rate)
        self._pending = bytearray()
        self.frames_written = 0  # sample frames on disk after the last flush
        self._closed = False
        self.flush()  # a valid, empty WAV from the start

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def frames_pending(self) -> int:
        """Sample frames accepted but not yet flushed to the file."""
        return len(self._pending) // (SAMPLE_WIDTH * self.channels)

    def write(self, pcm: bytes) -> None:
        """Append interleaved 16-bit PCM; flushes when the interval's worth is pending."""
        if self._closed:
            raise AudioUsageError(f"{self.path}: WAV sink is closed")
        check_pcm(pcm, self.channels)
        self._pending += pcm
        if len(self._pending) >= self._flush_bytes:
            self.flush()

    def flush(self) -> None:
        """Write what is pending and update the header: the file is valid afterwards."""
        if self._closed:
            return
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            self._writer.writeframes(data)  # also rewrites the header lengths
            self.frames_written += len(data) // (SAMPLE_WIDTH * self.channels)
        else:
            self._writer.writeframes(b"")  # writes the header on the first call
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._closed:
            return
        try:
            self.flush()
            self._writer.close()
        finally:
            self._closed = True
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
