"""Audio backends: where a call's microphone audio comes from and where the
remote audio goes, behind one interface (:class:`AudioBackend`).

A backend is opened with the call's PCM rate, the frame size and
``on_capture``, the function that receives every captured frame (16-bit
mono, ``frame_samples`` samples) on the reactor thread.  :meth:`AudioBackend.play`
takes a frame to play, from the reactor thread.

Two kinds of clock:

* ``self_clocked`` backends (the sound card, :mod:`tui_phone.audio.devices`)
  are paced by the hardware: captured frames arrive on their own.
* the others here (:class:`NullBackend`, :class:`WavBackend`,
  :class:`ToneBackend`) do nothing by themselves: the reactor calls
  :meth:`AudioBackend.tick` once per frame period (a ``LoopingCall``) and the
  backend hands over one captured frame.  Pacing belongs to the reactor.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from .errors import AudioUsageError
from .resample import check_pcm, check_rate, silence
from .tones import ToneGenerator, ToneSpec
from .wav import WavSink, WavSource

CaptureCallback = Callable[[bytes], None]


class AudioBackend(ABC):
    """Capture and playback of mono 16-bit PCM frames for one call."""

    name: str = "?"
    self_clocked: bool = False  # True: captured frames come on the device's clock

    def __init__(self) -> None:
        self.sample_rate = 0
        self.frame_samples = 0
        self._on_capture: CaptureCallback | None = None
        self.frames_captured = 0
        self.frames_played = 0
        #: True when played frames go nowhere, so a caller need not decode them:
        #: a backend that keeps the default :meth:`_play` discards them.
        self.discards_playback = type(self)._play is AudioBackend._play

    @property
    def description(self) -> str:
        """What this backend does, for the user (``audio: NAME (DESCRIPTION)``)."""
        return self.name

    @property
    def is_open(self) -> bool:
        """True between :meth:`open` and :meth:`close`."""
        return self._on_capture is not None

    def open(self, sample_rate: int, frame_samples: int, on_capture: CaptureCallback) -> None:
        """Start capture and playback at ``sample_rate`` in frames of ``frame_samples``."""
        if self.is_open:
            raise AudioUsageError(f"audio backend {self.name} is already open")
        if frame_samples <= 0:
            raise AudioUsageError(f"frame size must be positive, not {frame_samples}")
        self.sample_rate = check_rate(sample_rate)
        self.frame_samples = frame_samples
        self._on_capture = on_capture
        try:
            self._start()
        except BaseException:
            self._on_capture = None
            raise

    def _start(self) -> None:
        """Subclass hook run by :meth:`open` once the format is known."""

    @abstractmethod
    def _capture_frame(self) -> bytes:
        """The next captured frame, for :meth:`tick`."""

    def tick(self) -> None:
        """One frame period passed (reactor-paced backends): capture one frame."""
        if self._on_capture is None or self.self_clocked:
            return
        frame = self._capture_frame()
        self.frames_captured += 1
        self._on_capture(frame)

    def capture_block(self, frames: int) -> bytes:
        """``frames`` periods at once (reactor-paced backends): their captured
        frames joined, as :meth:`tick` would have handed them over one by one."""
        if self._on_capture is None or self.self_clocked:
            raise AudioUsageError(f"audio backend {self.name} does not capture on demand")
        block = self._capture_run(frames)
        self.frames_captured += frames
        return block

    def _capture_run(self, frames: int) -> bytes:
        """Subclass hook: ``frames`` frames joined (default: :meth:`_capture_frame` each)."""
        capture = self._capture_frame
        return b"".join([capture() for _ in range(frames)])

    def play(self, frame: bytes) -> None:
        """Play one frame (16-bit mono PCM at the open rate)."""
        if self._on_capture is None:
            raise AudioUsageError(f"audio backend {self.name} is not open")
        if len(frame) & 1:  # (every frame, so check_pcm only to raise)
            check_pcm(frame)
        self.frames_played += 1
        self._play(frame)

    def _play(self, frame: bytes) -> None:
        """Subclass hook: do something with a played frame (default: discard)."""

    def close(self) -> None:
        """Stop and release everything (idempotent)."""
        if self._on_capture is None:
            return
        self._on_capture = None
        self._stop()

    def _stop(self) -> None:
        """Subclass hook run by :meth:`close`."""


class NullBackend(AudioBackend):
    """Silence in, playback discarded: for machines without a sound card."""

    name = "null"

    def __init__(self, reason: str = "silence in, playback discarded") -> None:
        super().__init__()
        self._reason = reason

    @property
    def description(self) -> str:
        return self._reason

    def _capture_frame(self) -> bytes:
        return silence(self.frame_samples)


class ToneBackend(AudioBackend):
    """A tone as the microphone; playback discarded.  For tests and line checks."""

    name = "tone"

    def __init__(self, spec: ToneSpec) -> None:
        super().__init__()
        self.spec = spec
        self._generator: ToneGenerator | None = None

    @property
    def description(self) -> str:
        tones = "+".join(f"{f:g}" for f in self.spec.frequencies)
        return f"{self.spec.name} tone ({tones} Hz) as the microphone"

    def _start(self) -> None:
        self._generator = ToneGenerator(self.spec, self.sample_rate)

    def _capture_frame(self) -> bytes:
        assert self._generator is not None
        return self._generator.read(self.frame_samples)

    def _stop(self) -> None:
        self._generator = None


class WavBackend(AudioBackend):
    """Capture from a WAV file (looped by default), playback into a WAV file.

    Without ``sink_path`` playback is discarded.  Once a file played with
    ``loop=False`` has ended, capture gives silence.
    """

    name = "wav"

    def __init__(
        self,
        source_path: str | os.PathLike[str],
        sink_path: str | os.PathLike[str] | None = None,
        *,
        loop: bool = True,
    ) -> None:
        super().__init__()
        self.source_path = Path(source_path)
        self.sink_path = Path(sink_path) if sink_path is not None else None
        self.loop = loop
        self.discards_playback = self.sink_path is None and type(self)._play is WavBackend._play
        self._source: WavSource | None = None
        self._sink: WavSink | None = None

    @property
    def description(self) -> str:
        out = f", playback to {self.sink_path}" if self.sink_path else ""
        return f"capture from {self.source_path}{out}"

    def _start(self) -> None:
        source = WavSource(self.source_path, self.sample_rate, self.frame_samples, loop=self.loop)
        try:
            if self.sink_path is not None:
                self._sink = WavSink(self.sink_path, self.sample_rate)
        except BaseException:
            source.close()
            raise
        self._source = source

    def _capture_frame(self) -> bytes:
        assert self._source is not None
        frame = self._source.read_frame()
        return frame if frame is not None else silence(self.frame_samples)

    def _capture_run(self, frames: int) -> bytes:
        assert self._source is not None
        return self._source.read_run(frames)

    def _play(self, frame: bytes) -> None:
        if self._sink is not None:
            self._sink.write(frame)

    def _stop(self) -> None:
        try:
            if self._sink is not None:
                self._sink.close()
        finally:
            if self._source is not None:
                self._source.close()
            self._source = self._sink = None
