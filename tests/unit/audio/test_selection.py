"""tui_phone.audio.selection: parsing --audio specs and the auto fallback."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tui_phone.audio.backends import NullBackend, ToneBackend, WavBackend
from tui_phone.audio.devices import NO_PORTAUDIO, SounddeviceBackend
from tui_phone.audio.errors import (
    AudioSpecError,
    AudioUnavailable,
    AudioUsageError,
    WavFormatError,
)
from tui_phone.audio.selection import choose_backend
from tui_phone.audio.tones import BUSY, TEST


def queue_call(f: Callable[..., object], *args: object) -> None:
    """A call_from_thread double (never called in these tests)."""


def loader_of(module: Any) -> Callable[[], ModuleType]:
    return lambda: module


def no_portaudio() -> ModuleType:
    raise AudioUnavailable(NO_PORTAUDIO)


def test_null() -> None:
    choice = choose_backend("null")
    assert isinstance(choice.backend, NullBackend)
    assert choice.summary == "audio: null (silence in, playback discarded)"


def test_auto_without_a_sound_card(fake_sounddevice: Callable[..., Any]) -> None:
    choice = choose_backend("auto", call_from_thread=queue_call, sounddevice_loader=loader_of(fake_sounddevice([])))
    assert isinstance(choice.backend, NullBackend)
    assert choice.summary == "audio: null (no sound card found)"
    assert choice.backend.description == "no sound card found"


def test_auto_without_portaudio() -> None:
    choice = choose_backend("auto", call_from_thread=queue_call, sounddevice_loader=no_portaudio)
    assert choice.summary == "audio: null (PortAudio library not found (apt-get install libportaudio2))"


@pytest.mark.parametrize(
    ("inputs", "outputs", "reason"),
    [(0, 2, "the sound card has no input"), (2, 0, "the sound card has no output")],
)
def test_auto_with_half_a_sound_card(
    fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any], inputs: int, outputs: int, reason: str
) -> None:
    sd = fake_sounddevice([device_dict("card", inputs=inputs, outputs=outputs)])
    choice = choose_backend("auto", call_from_thread=queue_call, sounddevice_loader=loader_of(sd))
    assert choice.summary == f"audio: null ({reason})"


def test_auto_with_a_sound_card(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any]) -> None:
    sd = fake_sounddevice([device_dict("USB Headset")], default=(0, 0))
    choice = choose_backend(" AUTO ", call_from_thread=queue_call, sounddevice_loader=loader_of(sd))
    assert isinstance(choice.backend, SounddeviceBackend)
    assert choice.summary == "audio: device (sound card found: USB Headset)"


def test_auto_on_this_machine() -> None:
    # This machine has PortAudio but no sound card; elsewhere it may have one.
    choice = choose_backend("auto", call_from_thread=queue_call)
    assert choice.summary.startswith("audio: ")
    if isinstance(choice.backend, NullBackend):
        assert choice.reason in ("no sound card found", "PortAudio library not found (apt-get install libportaudio2)")


def test_device_by_name(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any]) -> None:
    sd = fake_sounddevice([device_dict("HDA Intel"), device_dict("USB Headset")], default=(0, 0))
    choice = choose_backend("device:headset", call_from_thread=queue_call, sounddevice_loader=loader_of(sd))
    assert isinstance(choice.backend, SounddeviceBackend)
    assert choice.backend.input_device.index == 1
    assert choice.summary == "audio: device (USB Headset)"
    assert choose_backend("device", call_from_thread=queue_call, sounddevice_loader=loader_of(sd)).reason == "HDA Intel"


def test_device_that_is_missing_is_an_error(fake_sounddevice: Callable[..., Any]) -> None:
    with pytest.raises(AudioUnavailable) as info:
        choose_backend("device:usb", call_from_thread=queue_call, sounddevice_loader=loader_of(fake_sounddevice([])))
    assert str(info.value) == "no audio device: PortAudio found no input device; use --audio null or --audio wav:FILE"
    with pytest.raises(AudioUnavailable, match="PortAudio library not found"):
        choose_backend("device", call_from_thread=queue_call, sounddevice_loader=no_portaudio)


def test_device_needs_call_from_thread(fake_sounddevice: Callable[..., Any]) -> None:
    with pytest.raises(AudioUsageError, match="the sound card backend needs call_from_thread"):
        choose_backend("device", sounddevice_loader=loader_of(fake_sounddevice([])))


def test_tones() -> None:
    choice = choose_backend("tone:busy")
    assert isinstance(choice.backend, ToneBackend) and choice.backend.spec is BUSY
    assert choice.summary == "audio: tone (busy tone (480+620 Hz) as the microphone)"
    assert choose_backend("tone:1000").backend.spec.frequencies == (1000.0,)  # type: ignore[attr-defined]
    assert choose_backend("tone").backend.spec is TEST  # type: ignore[attr-defined]
    with pytest.raises(AudioSpecError, match='unknown tone "hum"'):
        choose_backend("tone:hum")


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(320))
    return path


def test_wav(tmp_path: Path) -> None:
    source = _wav(tmp_path / "in.wav")
    choice = choose_backend(f"wav:{source}")
    assert isinstance(choice.backend, WavBackend)
    assert choice.backend.sink_path is None and choice.backend.loop
    choice = choose_backend(f"wav:{source},{tmp_path / 'out.wav'}")
    assert choice.backend.sink_path == tmp_path / "out.wav"  # type: ignore[attr-defined]
    assert choice.summary == f"audio: wav (capture from {source}, playback to {tmp_path / 'out.wav'})"


def test_wav_file_is_checked_at_once(tmp_path: Path) -> None:
    with pytest.raises(WavFormatError) as info:
        choose_backend(f"wav:{tmp_path / 'none.wav'}")
    assert str(info.value) == f"{tmp_path / 'none.wav'}: no such file"


@pytest.mark.parametrize("spec", ["", "pulse", "null:x", "auto:1", "wav:", "wav:,out.wav", "device:", "null,wav"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(AudioSpecError) as info:
        choose_backend(spec)
    assert str(info.value) == (
        f'bad audio spec "{spec}": use auto, null, wav:IN[,OUT], tone[:NAME|HZ] or device[:NAME|INDEX]'
    )
