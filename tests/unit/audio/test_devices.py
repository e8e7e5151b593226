"""tui_phone.audio.devices: the sound card backend, driven through a fake sounddevice.

The fake (conftest.py) records the stream that was opened; tests call its
callback as PortAudio's thread would, and ``call_from_thread`` is a test
double that queues calls instead of running them, as the reactor would.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tui_phone.audio.devices import (
    NO_PORTAUDIO,
    NO_SOUNDDEVICE,
    DeviceInfo,
    SounddeviceBackend,
    find_device,
    list_devices,
    load_sounddevice,
)
from tui_phone.audio.errors import AudioUnavailable


class ReactorDouble:
    """Queues ``call_from_thread`` calls; ``run()`` plays the reactor loop."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., object], tuple[object, ...]]] = []

    def call_from_thread(self, f: Callable[..., object], *args: object) -> None:
        self.calls.append((f, args))

    def run(self) -> None:
        calls, self.calls = self.calls, []
        for f, args in calls:
            f(*args)


@pytest.fixture
def card(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., dict[str, Any]]) -> Any:
    return fake_sounddevice(
        [
            device_dict("HDA Intel PCH: ALC3246 Analog (hw:0,0)"),
            device_dict("USB Headset: Audio (hw:1,0)", rate=16000.0),
            device_dict("HDMI 0 (hw:0,3)", inputs=0, outputs=8, hostapi=1),
            device_dict("USB Camera Mic (hw:2,0)", inputs=1, outputs=0, rate=44100.0),
        ],
        default=(0, 0),
    )


def test_list_devices(card: Any) -> None:
    found = list_devices(card)
    assert [d.index for d in found] == [0, 1, 2, 3]
    assert found[0] == DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 2, 48000.0, True, True)
    assert found[2].hostapi == "JACK Audio Connection Kit"
    assert found[2].has("output") and not found[2].has("input")
    assert str(found[1]) == "1: USB Headset: Audio (hw:1,0) (ALSA)"


def test_find_device(card: Any) -> None:
    found = list_devices(card)
    assert find_device(found, None, "input").index == 0
    assert find_device(found, "usb headset", "output").index == 1
    assert find_device(found, 3, "input").index == 3
    assert find_device(found, "3", "input").index == 3
    assert find_device(found, "HDMI", "output").index == 2
    with pytest.raises(AudioUnavailable) as info:
        find_device(found, "HDMI", "input")
    assert str(info.value) == 'no audio device: no input device matches "HDMI"; use --audio null or --audio wav:FILE'
    with pytest.raises(AudioUnavailable, match="no audio device: no output device has index 3"):
        find_device(found, 3, "output")
    with pytest.raises(AudioUnavailable) as info:
        find_device(found, "usb", "input")
    assert str(info.value) == (
        'audio device "usb" is ambiguous: input devices '
        "1: USB Headset: Audio (hw:1,0) (ALSA); 3: USB Camera Mic (hw:2,0) (ALSA)"
    )


def test_no_default_takes_the_first_usable(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any]) -> None:
    sd = fake_sounddevice([device_dict("out only", inputs=0), device_dict("both")])
    assert find_device(list_devices(sd), None, "input").name == "both"


def test_no_device_at_all(fake_sounddevice: Callable[..., Any]) -> None:
    sd = fake_sounddevice([])
    assert list_devices(sd) == []
    with pytest.raises(AudioUnavailable) as info:
        SounddeviceBackend(call_from_thread=ReactorDouble().call_from_thread, sounddevice=sd)
    assert str(info.value) == (
        "no audio device: PortAudio found no input device; use --audio null or --audio wav:FILE"
    )


def test_capture_crosses_to_the_reactor(card: Any, signals: SimpleNamespace) -> None:
    reactor = ReactorDouble()
    backend = SounddeviceBackend("ALC3246", call_from_thread=reactor.call_from_thread, sounddevice=card)
    assert backend.self_clocked and backend.name == "device"
    assert backend.description == "HDA Intel PCH: ALC3246 Analog (hw:0,0)"
    captured: list[bytes] = []
    backend.open(8000, 160, captured.append)
    stream = card.streams[0]
    assert stream.started
    assert stream.kwargs["samplerate"] == 8000 and stream.kwargs["blocksize"] == 160
    assert stream.kwargs["device"] == (0, 0)
    assert stream.kwargs["dtype"] == "int16" and stream.kwargs["channels"] == 1
    backend.tick()  # self-clocked: ticks do nothing
    frame = signals.sine(440, 8000, 160)
    stream.run_block(frame)
    assert captured == []  # nothing runs on PortAudio's thread
    assert len(reactor.calls) == 1
    reactor.run()
    assert captured == [frame]
    assert backend.frames_captured == 1
    backend.close()
    assert stream.aborted and stream.closed
    stream.run_block(frame)
    reactor.run()  # a late block after close is dropped on the reactor side
    assert captured == [frame]


def test_playback_queue_underrun_and_overflow(card: Any, signals: SimpleNamespace) -> None:
    reactor = ReactorDouble()
    backend = SounddeviceBackend(0, call_from_thread=reactor.call_from_thread, sounddevice=card, playback_frames=3)
    backend.open(8000, 160, lambda frame: None)
    stream = card.streams[0]
    assert stream.run_block(bytes(320)) == bytes(320)
    assert backend.underruns == 1
    frames = [signals.pcm([n] * 160) for n in range(1, 6)]
    for frame in frames:
        backend.play(frame)
    assert backend.overflows == 2 and backend.playback_queued == 3
    assert [stream.run_block(bytes(320)) for _ in range(3)] == frames[2:]  # oldest dropped
    assert backend.underruns == 1
    backend.play(signals.pcm([9] * 100))  # a short frame: the rest of the block is silence
    assert signals.samples(stream.run_block(bytes(320))) == [9] * 100 + [0] * 60
    assert backend.underruns == 2
    backend.close()


def test_unsupported_rate_is_resampled(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any], signals: SimpleNamespace) -> None:
    sd = fake_sounddevice([device_dict("card", rate=48000.0)], default=(0, 0), rates=(48000,))
    reactor = ReactorDouble()
    backend = SounddeviceBackend(call_from_thread=reactor.call_from_thread, sounddevice=sd)
    captured: list[bytes] = []
    backend.open(8000, 160, captured.append)
    stream = sd.streams[0]
    assert backend.device_rate == 48000
    assert stream.kwargs["samplerate"] == 48000 and stream.kwargs["blocksize"] == 960
    for block in range(5):
        stream.run_block(signals.sine(1000, 48000, 960, start=960 * block))
    reactor.run()
    assert [len(f) for f in captured] == [320] * 5
    assert signals.goertzel(signals.samples(b"".join(captured[1:])), 1000, 8000) == pytest.approx(10_000, rel=0.05)
    for block in range(3):
        backend.play(signals.sine(500, 8000, 160, start=160 * block))
    played = b"".join(stream.run_block(bytes(1920)) for _ in range(2))
    assert signals.goertzel(signals.samples(played)[960:], 500, 48000) == pytest.approx(10_000, rel=0.1)
    backend.close()
    backend.open(48000, 960, captured.append)  # reopened at a rate the card has: no resampling
    assert backend.device_rate == 48000 and sd.streams[1].kwargs["blocksize"] == 960
    sd.streams[1].run_block(bytes(1920))
    reactor.run()
    assert len(captured[-1]) == 1920
    backend.close()


def test_callback_never_raises(card: Any) -> None:
    reactor = ReactorDouble()
    backend = SounddeviceBackend(call_from_thread=reactor.call_from_thread, sounddevice=card)

    backend.open(8000, 160, lambda frame: None)
    stream = card.streams[0]
    backend._capture_carry = None  # type: ignore[assignment]  # break the capture path
    out = stream.run_block(bytes(320), status=1)
    assert out == bytes(320)
    assert backend.callback_errors == 1 and backend.status_events == 1
    assert reactor.calls and reactor.calls[0][0].__name__ == "error"
    backend.close()


def test_open_failure_is_audio_unavailable(card: Any) -> None:
    card.open_error = "Device unavailable [PaErrorCode -9985]"
    backend = SounddeviceBackend(call_from_thread=ReactorDouble().call_from_thread, sounddevice=card)
    with pytest.raises(AudioUnavailable) as info:
        backend.open(8000, 160, print)
    assert str(info.value) == (
        "no audio device: cannot open HDA Intel PCH: ALC3246 Analog (hw:0,0) at 8000 Hz: "
        "Device unavailable [PaErrorCode -9985]; use --audio null or --audio wav:FILE"
    )
    assert not backend.is_open


def test_separate_default_input_and_output(fake_sounddevice: Callable[..., Any], device_dict: Callable[..., Any]) -> None:
    sd = fake_sounddevice(
        [device_dict("HDMI 0 (hw:0,3)", inputs=0), device_dict("USB Camera Mic (hw:2,0)", outputs=0)],
        default=(1, 0),
    )
    backend = SounddeviceBackend(call_from_thread=ReactorDouble().call_from_thread, sounddevice=sd)
    assert backend.description == "in: USB Camera Mic (hw:2,0), out: HDMI 0 (hw:0,3)"
    backend.open(16000, 320, lambda frame: None)
    assert sd.streams[0].kwargs["device"] == (1, 0)
    backend.close()


@pytest.mark.parametrize(
    ("error", "message"),
    [(OSError("PortAudio library not found"), NO_PORTAUDIO), (ImportError("No module named 'sounddevice'"), NO_SOUNDDEVICE)],
)
def test_load_sounddevice_failures(monkeypatch: pytest.MonkeyPatch, error: Exception, message: str) -> None:
    def failing(name: str) -> ModuleType:
        raise error

    monkeypatch.setattr(importlib, "import_module", failing)
    with pytest.raises(AudioUnavailable) as info:
        load_sounddevice()
    assert str(info.value) == message
    assert message.endswith("; use --audio null or --audio wav:FILE")


def test_real_sounddevice_on_this_machine() -> None:
    # Whatever this machine has: a list (maybe empty), or a clean AudioUnavailable.
    try:
        found = list_devices()
    except AudioUnavailable as exc:
        assert exc.reason.startswith("no audio")
        return
    assert all(isinstance(d, DeviceInfo) for d in found)
    if not any(d.has("input") for d in found):
        with pytest.raises(AudioUnavailable) as info:
            SounddeviceBackend(call_from_thread=ReactorDouble().call_from_thread)
        assert str(info.value) == (
            "no audio device: PortAudio found no input device; use --audio null or --audio wav:FILE"
        )
