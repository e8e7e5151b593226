"""tui_phone.audio.recorder: both directions of a call in one stereo WAV."""

from __future__ import annotations

import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui_phone.audio.errors import AudioUsageError
from tui_phone.audio.recorder import CallRecorder


def channels_of(path: Path) -> tuple[list[int], list[int], int]:
    with wave.open(str(path), "rb") as reader:
        assert reader.getnchannels() == 2
        assert reader.getsampwidth() == 2
        rate = reader.getframerate()
        data = reader.readframes(reader.getnframes())
    import array

    values = array.array("h")
    values.frombytes(data)
    return values.tolist()[0::2], values.tolist()[1::2], rate


def test_left_is_sent_right_is_received(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = tmp_path / "call.wav"
    sent, received = signals.sine(440, 8000, 160), signals.sine(1000, 8000, 160)
    with CallRecorder(path, 8000, 160) as recorder:
        recorder.write(sent, received)
    left, right, rate = channels_of(path)
    assert rate == 8000
    assert left == signals.samples(sent)
    assert right == signals.samples(received)


def test_a_missing_side_is_silence(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = tmp_path / "call.wav"
    frame = signals.pcm([1000] * 160)
    with CallRecorder(path, 8000, 160) as recorder:
        recorder.write(frame, None)
        recorder.write(None, frame)
        recorder.write(None, None)
        assert (recorder.missing_sent, recorder.missing_received) == (2, 2)
        assert recorder.duration == pytest.approx(0.06)
    left, right, _ = channels_of(path)
    assert left == [1000] * 160 + [0] * 320
    assert right == [0] * 160 + [1000] * 160 + [0] * 160


def test_shorter_side_is_padded(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = tmp_path / "call.wav"
    with CallRecorder(path, 8000, 160) as recorder:
        recorder.write(signals.pcm([5] * 160), signals.pcm([7] * 100))
    left, right, _ = channels_of(path)
    assert left == [5] * 160
    assert right == [7] * 100 + [0] * 60


def test_file_is_valid_after_flush_without_close(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = tmp_path / "call.wav"
    recorder = CallRecorder(path, 16000, 320, flush_interval_ms=100)
    for i in range(5):  # 100 ms: flushed by the interval
        recorder.write(signals.sine(440, 16000, 320, start=320 * i), None)
    left, right, _ = channels_of(path)
    assert len(left) == 1600 and right == [0] * 1600
    recorder.write(signals.pcm([1] * 320), signals.pcm([2] * 320))
    assert len(channels_of(path)[0]) == 1600  # pending, not yet on disk
    recorder.flush()
    left, right, _ = channels_of(path)
    assert left[-320:] == [1] * 320 and right[-320:] == [2] * 320
    assert recorder.frames_recorded == 1920
    recorder.close()
    recorder.close()
    assert recorder.closed


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(AudioUsageError, match="frame size must be positive, not 0"):
        CallRecorder(tmp_path / "c.wav", 8000, 0)
    with CallRecorder(tmp_path / "c.wav", 8000, 160) as recorder:
        assert recorder.path == tmp_path / "c.wav"
        assert recorder.sample_rate == 8000
        with pytest.raises(AudioUsageError):
            recorder.write(b"\x00", None)
