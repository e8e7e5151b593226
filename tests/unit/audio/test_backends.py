"""tui_phone.audio.backends: null, tone and WAV backends, paced by the caller."""

from __future__ import annotations

import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui_phone.audio.backends import AudioBackend, NullBackend, ToneBackend, WavBackend
from tui_phone.audio.errors import AudioUsageError, WavFormatError
from tui_phone.audio.tones import BUSY, TEST


def collect(backend: AudioBackend, rate: int, frame: int, ticks: int) -> list[bytes]:
    captured: list[bytes] = []
    backend.open(rate, frame, captured.append)
    for _ in range(ticks):
        backend.tick()
    return captured


def test_null_backend_gives_silence_only_when_asked() -> None:
    backend = NullBackend()
    captured: list[bytes] = []
    backend.open(8000, 160, captured.append)
    assert captured == []  # pacing belongs to the reactor
    backend.tick()
    backend.tick()
    assert captured == [bytes(320), bytes(320)]
    backend.play(b"\x01\x00" * 160)
    assert (backend.frames_captured, backend.frames_played) == (2, 1)
    assert (backend.name, backend.description, backend.self_clocked) == ("null", "silence in, playback discarded", False)
    backend.close()
    backend.close()
    backend.tick()
    assert len(captured) == 2


def test_lifecycle_errors() -> None:
    backend = NullBackend()
    with pytest.raises(AudioUsageError) as info:
        backend.play(bytes(320))
    assert str(info.value) == "audio backend null is not open"
    with pytest.raises(AudioUsageError, match="frame size must be positive, not 0"):
        backend.open(8000, 0, print)
    assert not backend.is_open
    backend.open(8000, 160, print)
    with pytest.raises(AudioUsageError, match="audio backend null is already open"):
        backend.open(8000, 160, print)
    with pytest.raises(AudioUsageError):
        backend.play(b"\x00")


def test_tone_backend_captures_the_tone(signals: SimpleNamespace) -> None:
    backend = ToneBackend(TEST)
    frames = collect(backend, 16000, 320, 25)
    values = signals.samples(b"".join(frames))
    assert len(values) == 8000
    assert signals.zero_crossings(values) == pytest.approx(1000, abs=2)
    assert backend.description == "test tone (1000 Hz) as the microphone"
    backend.close()
    assert ToneBackend(BUSY).description == "busy tone (480+620 Hz) as the microphone"


def _wav(path: Path, data: bytes, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def test_wav_backend_loops_source_and_records_playback(tmp_path: Path, signals: SimpleNamespace) -> None:
    source = _wav(tmp_path / "in.wav", signals.sine(400, 8000, 800), 8000)
    backend = WavBackend(source, tmp_path / "out.wav")
    frames = collect(backend, 8000, 160, 10)
    assert b"".join(frames) == signals.sine(400, 8000, 800) * 2
    backend.play(signals.pcm([7] * 160))
    backend.play(signals.pcm([8] * 160))
    backend.close()
    with wave.open(str(tmp_path / "out.wav"), "rb") as reader:
        assert reader.getframerate() == 8000
        assert signals.samples(reader.readframes(400)) == [7] * 160 + [8] * 160
    assert backend.description == f"capture from {source}, playback to {tmp_path / 'out.wav'}"


def test_wav_backend_once_then_silence(tmp_path: Path, signals: SimpleNamespace) -> None:
    source = _wav(tmp_path / "in.wav", signals.pcm([5] * 160), 8000)
    backend = WavBackend(source, loop=False)
    frames = collect(backend, 8000, 160, 3)
    assert frames == [signals.pcm([5] * 160), bytes(320), bytes(320)]
    backend.play(bytes(320))  # no sink: discarded
    backend.close()
    assert backend.description == f"capture from {source}"


def test_wav_backend_resamples_to_the_call_rate(tmp_path: Path) -> None:
    source = _wav(tmp_path / "in.wav", bytes(44100 * 2), 44100)
    frames = collect(WavBackend(source), 16000, 320, 3)
    assert [len(f) for f in frames] == [640, 640, 640]


def test_wav_backend_missing_file_fails_at_open(tmp_path: Path) -> None:
    backend = WavBackend(tmp_path / "none.wav")
    with pytest.raises(WavFormatError, match="no such file"):
        backend.open(8000, 160, print)
    assert not backend.is_open


def test_which_backends_discard_playback(tmp_path: Path) -> None:
    # A caller may skip decoding for these (tui_phone.media does).
    class Counting(NullBackend):
        def _play(self, frame: bytes) -> None:
            pass

    source = tmp_path / "in.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(320))
    assert NullBackend().discards_playback and ToneBackend(TEST).discards_playback
    assert WavBackend(source).discards_playback
    assert not WavBackend(source, tmp_path / "out.wav").discards_playback
    assert not Counting().discards_playback
