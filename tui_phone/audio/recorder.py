"""Recording both directions of a call into one stereo WAV file.

Layout (chosen over a mono mix so that either side can be listened to, or
analysed, on its own): a 16-bit stereo WAV at the call's PCM rate whose
**left channel is the local side (what we sent)** and whose **right channel
is the remote side (what we received and played)**.

The call's audio clock calls :meth:`CallRecorder.write` once per frame with
the frame each way; a side that had no frame this tick (nothing captured, a
packet lost and not concealed) is given as ``None`` and recorded as silence,
so both channels stay aligned in time.  Writing goes through
:class:`~tui_phone.audio.wav.WavSink`: incremental, flushed every
``flush_interval_ms``, and the file is a valid WAV after every flush.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from .errors import AudioUsageError
from .resample import SAMPLE_WIDTH, check_pcm, interleave, silence
from .wav import DEFAULT_FLUSH_INTERVAL_MS, WavSink

LEFT_LOCAL = "left = local (sent)"
RIGHT_REMOTE = "right = remote (received)"


class CallRecorder:
    """A stereo WAV recording of one call: left = sent, right = received."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int,
        frame_samples: int,
        *,
        flush_interval_ms: int = DEFAULT_FLUSH_INTERVAL_MS,
        fsync: bool = False,
    ) -> None:
        if frame_samples <= 0:
            raise AudioUsageError(f"frame size must be positive, not {frame_samples}")
        self.frame_samples = frame_samples
        self._sink = WavSink(
            path, sample_rate, channels=2, flush_interval_ms=flush_interval_ms, fsync=fsync
        )
        self.missing_sent = 0  # ticks with no local frame, recorded as silence
        self.missing_received = 0  # ticks with no remote frame, recorded as silence

    @property
    def path(self) -> Path:
        """Where the recording goes."""
        return self._sink.path

    @property
    def sample_rate(self) -> int:
        """The recording's sample rate (the call's PCM rate)."""
        return self._sink.sample_rate

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._sink.closed

    @property
    def frames_recorded(self) -> int:
        """Sample frames (per channel) accepted so far, flushed or not."""
        return self._sink.frames_written + self._sink.frames_pending

    @property
    def duration(self) -> float:
        """Seconds recorded so far."""
        return self.frames_recorded / self.sample_rate

    def write(self, sent: bytes | None, received: bytes | None) -> None:
        """Record one tick: the frame sent and the frame received (``None``: silence).

        Frames may differ in length (the shorter is completed with silence);
        with both ``None`` one frame of silence is recorded to keep time.
        """
        if sent is not None:
            check_pcm(sent)
        if received is not None:
            check_pcm(received)
        length = max(
            len(sent) if sent is not None else 0,
            len(received) if received is not None else 0,
        )
        if sent is None and received is None:
            length = self.frame_samples * SAMPLE_WIDTH
        if sent is None:
            self.missing_sent += 1
        if received is None:
            self.missing_received += 1
        left = _pad(sent, length)
        right = _pad(received, length)
        self._sink.write(interleave(left, right))

    def flush(self) -> None:
        """Push everything recorded to the file; it is a valid WAV afterwards."""
        self._sink.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        self._sink.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pad(frame: bytes | None, length: int) -> bytes:
    if frame is None:
        return silence(length // SAMPLE_WIDTH)
    if len(frame) < length:
        return bytes(frame) + bytes(length - len(frame))
    return bytes(frame)
