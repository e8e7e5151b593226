"""The sound card, through PortAudio (``sounddevice``).

This is the only module that imports ``sounddevice``, and it does so lazily
(:func:`load_sounddevice`), so a machine without PortAudio can still import
the audio package and run with ``--audio null``: a missing library or device
becomes :class:`~tui_phone.audio.errors.AudioUnavailable` with a message for
the user, never a traceback.

Threads.  PortAudio calls :meth:`SounddeviceBackend._callback` on its own
thread every 20 ms block.  The callback never blocks and never takes a lock:

* captured audio crosses to the reactor only through the injected
  ``call_from_thread`` (``reactor.callFromThread`` in production);
* audio to play comes from a bounded :class:`collections.deque` that the
  reactor side appends to (``append``/``popleft`` are atomic); when it is
  empty the card plays silence (an *underrun*), when it is full the oldest
  frame is dropped (an *overflow*); both are counted.

When the card cannot run at the call's rate the stream runs at the card's
default rate and the audio is resampled (``ratecv``) on the way in and out.
"""

from __future__ import annotations

import importlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from .backends import AudioBackend
from .errors import AudioUnavailable, AudioUsageError
from .resample import SAMPLE_WIDTH, Resampler

log = logging.getLogger(__name__)

BLOCK_MS = 20
DEFAULT_PLAYBACK_FRAMES = 5  # 100 ms of queued playback at most
ALTERNATIVES = "use --audio null or --audio wav:FILE"
NO_PORTAUDIO = f"no audio: PortAudio library not found (apt-get install libportaudio2); {ALTERNATIVES}"
NO_SOUNDDEVICE = f"no audio: the sounddevice package is not installed; {ALTERNATIVES}"

Kind = Literal["input", "output"]


def load_sounddevice() -> ModuleType:
    """Import ``sounddevice``, or raise :class:`AudioUnavailable` saying what is missing."""
    try:
        return importlib.import_module("sounddevice")
    except OSError:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise AudioUnavailable(NO_PORTAUDIO) from None
    except ImportError:
        raise AudioUnavailable(NO_SOUNDDEVICE) from None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    def has(self, kind: Kind) -> bool:
        """True if the device can capture (``input``) or play (``output``)."""
        channels = self.max_input_channels if kind == "input" else self.max_output_channels
        return channels > 0

    def __str__(self) -> str:
        return f"{self.index}: {self.name} ({self.hostapi})"


def _default_indices(sd: Any) -> tuple[int, int]:
    try:
        pair = sd.default.device
        inp, out = pair[0], pair[1]
    except (AttributeError, IndexError, TypeError):
        return -1, -1
    return (inp if isinstance(inp, int) else -1, out if isinstance(out, int) else -1)


def list_devices(sd: ModuleType | None = None) -> list[DeviceInfo]:
    """Every device PortAudio reports (an empty list without a sound card)."""
    sd = sd if sd is not None else load_sounddevice()
    try:
        raw = list(sd.query_devices())
        hostapis = [api.get("name", "?") for api in sd.query_hostapis()]
    except sd.PortAudioError as exc:
        raise AudioUnavailable(f"no audio device: PortAudio failed: {exc}; {ALTERNATIVES}") from None
    default_in, default_out = _default_indices(sd)
    devices = []
    for index, entry in enumerate(raw):
        api = entry.get("hostapi", -1)
        devices.append(
            DeviceInfo(
                index=int(entry.get("index", index)),
                name=str(entry.get("name", "")),
                hostapi=hostapis[api] if 0 <= api < len(hostapis) else "?",
                max_input_channels=int(entry.get("max_input_channels", 0)),
                max_output_channels=int(entry.get("max_output_channels", 0)),
                default_samplerate=float(entry.get("default_samplerate", 0.0)),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def find_device(devices: list[DeviceInfo], spec: str | int | None, kind: Kind) -> DeviceInfo:
    """The ``kind`` device named by ``spec``: an index, a name (substring, any case),
    or ``None`` for the default (else the first device that has ``kind``).
    """
    usable = [device for device in devices if device.has(kind)]
    if not usable:
        raise AudioUnavailable(f"no audio device: PortAudio found no {kind} device; {ALTERNATIVES}")
    if spec is None or spec == "":
        defaults = [d for d in usable if (d.is_default_input if kind == "input" else d.is_default_output)]
        return (defaults or usable)[0]
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        for device in usable:
            if device.index == index:
                return device
        raise AudioUnavailable(f"no audio device: no {kind} device has index {index}; {ALTERNATIVES}")
    wanted = spec.strip().lower()
    exact = [d for d in usable if d.name.lower() == wanted]
    if exact:
        return exact[0]
    matches = [d for d in usable if wanted in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AudioUnavailable(f'no audio device: no {kind} device matches "{spec}"; {ALTERNATIVES}')
    names = "; ".join(str(d) for d in matches)
    raise AudioUnavailable(f'audio device "{spec}" is ambiguous: {kind} devices {names}')


class SounddeviceBackend(AudioBackend):
    """The sound card: 20 ms blocks of 16-bit mono through a PortAudio callback.

    ``device`` chooses both the input and the output (index or name
    substring; ``None``: the defaults).  ``call_from_thread(f, *args)``
    must run ``f(*args)`` on the reactor thread without blocking the caller.
    """

    name = "device"
    self_clocked = True

    def __init__(
        self,
        device: str | int | None = None,
        *,
        call_from_thread: Callable[..., object],
        sounddevice: ModuleType | None = None,
        playback_frames: int = DEFAULT_PLAYBACK_FRAMES,
    ) -> None:
        super().__init__()
        self._sd: Any = sounddevice if sounddevice is not None else load_sounddevice()
        devices = list_devices(self._sd)
        self.input_device = find_device(devices, device, "input")
        self.output_device = find_device(devices, device, "output")
        self._call_from_thread = call_from_thread
        self._playback: deque[bytes] = deque(maxlen=max(1, playback_frames))
        self._stream: Any = None
        self.device_rate = 0
        self._block_bytes = 0
        self._capture_resampler: Resampler | None = None
        self._playback_resampler: Resampler | None = None
        self._capture_carry = bytearray()  # PortAudio thread only
        self._playback_carry = b""  # PortAudio thread only
        self.underruns = 0
        self.overflows = 0
        self.status_events = 0  # PortAudio reported over/underflow in its own buffers
        self.callback_errors = 0

    @property
    def description(self) -> str:
        if self.input_device.index == self.output_device.index:
            return self.input_device.name
        return f"in: {self.input_device.name}, out: {self.output_device.name}"

    def _supports(self, rate: int) -> bool:
        try:
            self._sd.check_input_settings(
                device=self.input_device.index, channels=1, dtype="int16", samplerate=rate
            )
            self._sd.check_output_settings(
                device=self.output_device.index, channels=1, dtype="int16", samplerate=rate
            )
        except (self._sd.PortAudioError, ValueError):
            return False
        return True

    def _start(self) -> None:
        rate = self.sample_rate
        if not self._supports(rate):
            rate = int(self.input_device.default_samplerate) or rate
            log.info("audio: %s cannot run at %d Hz; resampling from %d Hz",
                     self.description, self.sample_rate, rate)
        self.device_rate = rate
        blocksize = rate * BLOCK_MS // 1000
        self._block_bytes = blocksize * SAMPLE_WIDTH
        self._capture_resampler = self._playback_resampler = None
        if rate != self.sample_rate:
            self._capture_resampler = Resampler(rate, self.sample_rate)
            self._playback_resampler = Resampler(self.sample_rate, rate)
        self._playback.clear()
        self._capture_carry = bytearray()
        self._playback_carry = b""
        try:
            stream = self._sd.RawStream(
                samplerate=rate,
                blocksize=blocksize,
                device=(self.input_device.index, self.output_device.index),
                channels=1,
                dtype="int16",
                callback=self._callback,
            )
            stream.start()
        except (self._sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(
                f"no audio device: cannot open {self.description} at {rate} Hz: {exc}; {ALTERNATIVES}"
            ) from None
        self._stream = stream

    # --- PortAudio thread ---------------------------------------------------

    def _callback(self, indata: Any, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        """Runs on PortAudio's thread: never blocks, never raises."""
        try:
            if status:
                self.status_events += 1
            self._capture(bytes(indata))
            outdata[:] = self._next_playback(len(outdata))
        except Exception as exc:  # noqa: BLE001 - anything raised here would kill the stream
            self.callback_errors += 1
            outdata[:] = bytes(len(outdata))
            self._call_from_thread(log.error, "audio callback failed: %r", exc)

    def _capture(self, data: bytes) -> None:
        if self._capture_resampler is not None:
            data = self._capture_resampler.convert(data)
        self._capture_carry += data
        frame_bytes = self.frame_samples * SAMPLE_WIDTH
        while len(self._capture_carry) >= frame_bytes:
            frame = bytes(self._capture_carry[:frame_bytes])
            del self._capture_carry[:frame_bytes]
            self._call_from_thread(self._deliver, frame)

    def _next_playback(self, size: int) -> bytes:
        out = self._playback_carry
        while len(out) < size:
            try:
                out += self._playback.popleft()
            except IndexError:
                self.underruns += 1
                out += bytes(size - len(out))
        self._playback_carry = out[size:]
        return out[:size]

    # --- reactor thread -----------------------------------------------------

    def _deliver(self, frame: bytes) -> None:
        if self._on_capture is not None:
            self.frames_captured += 1
            self._on_capture(frame)

    def _capture_frame(self) -> bytes:  # pragma: no cover - self-clocked: tick() never asks
        raise AudioUsageError("the sound card delivers its own frames")

    def _play(self, frame: bytes) -> None:
        if self._playback_resampler is not None:
            frame = self._playback_resampler.convert(frame)
        if len(self._playback) == self._playback.maxlen:
            self.overflows += 1  # deque(maxlen) drops the oldest frame itself
        self._playback.append(frame)

    @property
    def playback_queued(self) -> int:
        """Frames waiting to be played."""
        return len(self._playback)

    def _stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
            finally:
                stream.close(ignore_errors=True)
        self._playback.clear()
