"""Choosing the audio backend from the user's ``--audio`` spec.

==================== =====================================================
spec                 backend
==================== =====================================================
``auto``             the sound card if PortAudio finds one, else ``null``
``null``             silence in, playback discarded
``wav:IN``           capture from IN (looped), playback discarded
``wav:IN,OUT``       capture from IN (looped), playback recorded into OUT
``tone`` ``tone:X``  a tone as the microphone: ``dial``, ``ringback``,
                     ``busy``, ``test``..., or Hz (``tone:1000``)
``device``           the default sound card
``device:NAME``      the card whose name contains NAME (or index NAME)
==================== =====================================================

:func:`choose_backend` returns a :class:`BackendChoice` whose
:attr:`~BackendChoice.summary` is the line the phone shows, e.g.
``audio: null (no sound card found)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from .backends import AudioBackend, NullBackend, ToneBackend, WavBackend
from .devices import SounddeviceBackend, list_devices, load_sounddevice
from .errors import AudioSpecError, AudioUnavailable, AudioUsageError
from .tones import TEST, tone_spec
from .wav import WavSource

log = logging.getLogger(__name__)

SPEC_HELP = "use auto, null, wav:IN[,OUT], tone[:NAME|HZ] or device[:NAME|INDEX]"
NO_SOUND_CARD = "no sound card found"
NO_MICROPHONE = "the sound card has no input"
NO_SPEAKER = "the sound card has no output"


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The backend chosen and why (``reason`` is shown to the user)."""

    backend: AudioBackend
    reason: str

    @property
    def summary(self) -> str:
        """``audio: NAME (REASON)``, the line the phone shows."""
        return f"audio: {self.backend.name} ({self.reason})"


def _bad(spec: str) -> AudioSpecError:
    return AudioSpecError(f'bad audio spec "{spec}": {SPEC_HELP}')


def choose_backend(
    spec: str,
    *,
    call_from_thread: Callable[..., object] | None = None,
    sounddevice_loader: Callable[[], ModuleType] = load_sounddevice,
) -> BackendChoice:
    """Parse ``spec`` and build its backend (not yet opened).

    ``call_from_thread`` (the reactor's ``callFromThread``) is needed for the
    sound card.  Raises :class:`AudioSpecError` for a malformed spec,
    :class:`WavFormatError` for an unreadable WAV file, and
    :class:`AudioUnavailable` when ``device`` was asked for and cannot be had;
    ``auto`` never raises for lack of a card, it falls back to ``null``.
    """
    kind, _, argument = spec.strip().partition(":")
    kind = kind.lower()
    has_argument = ":" in spec
    if kind == "null" and not has_argument:
        backend: AudioBackend = NullBackend()
        return BackendChoice(backend, backend.description)
    if kind == "wav":
        return _wav_choice(spec, argument)
    if kind == "tone":
        tone = tone_spec(argument) if has_argument and argument.strip() else TEST
        backend = ToneBackend(tone)
        return BackendChoice(backend, backend.description)
    if kind == "device":
        if has_argument and not argument.strip():
            raise _bad(spec)
        backend = _device(argument.strip() or None, call_from_thread, sounddevice_loader)
        return BackendChoice(backend, backend.description)
    if kind == "auto" and not has_argument:
        return _auto(call_from_thread, sounddevice_loader)
    raise _bad(spec)


def _wav_choice(spec: str, argument: str) -> BackendChoice:
    source, _, sink = (part.strip() for part in argument.partition(","))
    if not source:
        raise _bad(spec)
    # Open the file now so that a missing or unplayable one is reported before any call.
    WavSource(source, 8000, 160).close()
    backend = WavBackend(source, sink or None)
    return BackendChoice(backend, backend.description)


def _device(
    device: str | None,
    call_from_thread: Callable[..., object] | None,
    loader: Callable[[], ModuleType],
) -> SounddeviceBackend:
    if call_from_thread is None:
        raise AudioUsageError("the sound card backend needs call_from_thread")
    return SounddeviceBackend(device, call_from_thread=call_from_thread, sounddevice=loader())


def _auto(
    call_from_thread: Callable[..., object] | None, loader: Callable[[], ModuleType]
) -> BackendChoice:
    try:
        sd = loader()
        found = list_devices(sd)
    except AudioUnavailable as exc:
        return _fallback(_short(exc.reason), exc.reason)
    has_input = any(device.has("input") for device in found)
    has_output = any(device.has("output") for device in found)
    if not has_input and not has_output:
        return _fallback(NO_SOUND_CARD, "PortAudio found no device")
    if not has_input:
        return _fallback(NO_MICROPHONE, "PortAudio found no input device")
    if not has_output:
        return _fallback(NO_SPEAKER, "PortAudio found no output device")
    if call_from_thread is None:
        raise AudioUsageError("the sound card backend needs call_from_thread")
    try:
        backend = SounddeviceBackend(None, call_from_thread=call_from_thread, sounddevice=sd)
    except AudioUnavailable as exc:  # pragma: no cover - the checks above found both kinds
        return _fallback(_short(exc.reason), exc.reason)
    return BackendChoice(backend, f"sound card found: {backend.description}")


def _fallback(reason: str, detail: str) -> BackendChoice:
    log.info("audio: falling back to null: %s", detail)
    return BackendChoice(NullBackend(reason), reason)


def _short(reason: str) -> str:
    """The part of an AudioUnavailable message before the advice."""
    text = reason.split(";", 1)[0]
    return text.removeprefix("no audio: ")
