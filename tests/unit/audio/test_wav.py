"""tui_phone.audio.wav: the WAV source (conversion, resampling, looping) and sink."""

from __future__ import annotations

import array
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui_phone.audio.errors import AudioUsageError, WavFormatError
from tui_phone.audio.resample import Resampler, interleave
from tui_phone.audio.wav import WavSink, WavSource


def write_wav(path: Path, data: bytes, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def read_all(source: WavSource) -> list[bytes]:
    frames = []
    while (frame := source.read_frame()) is not None:
        frames.append(frame)
    return frames


def test_same_rate_mono_16_bit_is_passed_through(tmp_path: Path, signals: SimpleNamespace) -> None:
    signal = signals.sine(440, 8000, 800)
    path = write_wav(tmp_path / "a.wav", signal, 8000)
    with WavSource(path, 8000, 160) as source:
        assert source.duration == pytest.approx(0.1)
        frames = read_all(source)
    assert [len(f) for f in frames] == [320] * 5
    assert b"".join(frames) == signal


def test_played_once_pads_the_last_frame_then_ends(tmp_path: Path, signals: SimpleNamespace) -> None:
    signal = signals.pcm(range(1, 201))
    with WavSource(write_wav(tmp_path / "a.wav", signal, 8000), 8000, 160) as source:
        first, last = source.read_frame(), source.read_frame()
        assert source.read_frame() is None
        assert source.read_frame() is None
    assert first == signal[:320]
    assert last == signal[320:] + bytes(240)


def test_looped_file_continues_seamlessly(tmp_path: Path, signals: SimpleNamespace) -> None:
    # 100 ms of 400 Hz: a whole number of periods, so the loop is one endless sine.
    path = write_wav(tmp_path / "a.wav", signals.sine(400, 8000, 800), 8000)
    with WavSource(path, 8000, 160, loop=True) as source:
        out = b"".join(source.read_frame() or b"" for _ in range(25))
    assert out == signals.sine(400, 8000, 800) * 5


@pytest.mark.parametrize("samples", [37, 160, 8000, 2 * 8000 + 37])
@pytest.mark.parametrize("loop", [False, True])
def test_direct_reading_cuts_the_file_into_the_same_frames(
    tmp_path: Path, signals: SimpleNamespace, samples: int, loop: bool
) -> None:
    # A file in the call's format is read in blocks (DIRECT_READ_FRAMES frames);
    # the frames must be the file cut in order, across block and loop seams.
    signal = signals.pcm([(n * 37) % 20000 - 10000 for n in range(samples)])
    path = write_wav(tmp_path / "a.wav", signal, 8000)
    wanted_frames = 3 * samples // 160 + 3
    if loop:
        stream = signal * (3 + 160 * wanted_frames // samples)
        expected = [stream[k * 320 : (k + 1) * 320] for k in range(wanted_frames)]
    else:
        padded = signal + bytes(-len(signal) % 320)
        expected = [padded[k : k + 320] for k in range(0, len(padded), 320)]
    with WavSource(path, 8000, 160, loop=loop) as source:
        frames = [source.read_frame() for _ in range(wanted_frames if loop else len(expected))]
        assert frames == expected
        if not loop:
            assert source.read_frame() is None


def test_eight_bit_unsigned_is_converted(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = write_wav(tmp_path / "a.wav", bytes([128, 255, 0, 192, 64]), 8000, width=1)
    with WavSource(path, 8000, 5) as source:
        assert signals.samples(source.read_frame() or b"") == [0, 127 * 256, -128 * 256, 64 * 256, -64 * 256]


def test_24_bit_is_converted(tmp_path: Path, signals: SimpleNamespace) -> None:
    data = b"".join(v.to_bytes(3, "little", signed=True) for v in (0x123456, -0x100000, 0))
    with WavSource(write_wav(tmp_path / "a.wav", data, 8000, width=3), 8000, 3) as source:
        assert signals.samples(source.read_frame() or b"") == [0x1234, -0x1000, 0]


def test_stereo_is_mixed_to_mono(tmp_path: Path, signals: SimpleNamespace) -> None:
    stereo = interleave(signals.pcm([1000, 2000]), signals.pcm([3000, -2000]))
    with WavSource(write_wav(tmp_path / "a.wav", stereo, 8000, channels=2), 8000, 2) as source:
        assert signals.samples(source.read_frame() or b"") == [2000, 0]


@pytest.mark.parametrize(("file_rate", "call_rate"), [(44100, 8000), (8000, 16000), (48000, 16000)])
def test_resampled_to_the_call_rate(tmp_path: Path, signals: SimpleNamespace, file_rate: int, call_rate: int) -> None:
    path = write_wav(tmp_path / "a.wav", signals.sine(1000, file_rate, file_rate), file_rate)
    frame = call_rate // 50
    with WavSource(path, call_rate, frame) as source:
        frames = read_all(source)
    assert all(len(f) == frame * 2 for f in frames)
    assert len(frames) == pytest.approx(50, abs=1)
    values = signals.samples(b"".join(frames))[call_rate // 10 : call_rate // 10 * 6]
    assert signals.goertzel(values, 1000, call_rate) == pytest.approx(10_000, rel=0.05)
    # Resampler state kept across frames and reads: the frames are the whole file
    # resampled in one go (after a few samples of start-up silence), so no clicks.
    reference = Resampler(file_rate, call_rate).convert(signals.sine(1000, file_rate, file_rate))
    offset = b"".join(frames).find(reference[: len(reference) - 2 * frame])
    assert 0 <= offset <= 20


def test_empty_file(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", b"", 8000)
    with WavSource(path, 8000, 160) as source:
        assert source.read_frame() is None
    with WavSource(path, 8000, 160, loop=True) as source:
        assert source.read_frame() == bytes(320)


def test_missing_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(WavFormatError) as info:
        WavSource(tmp_path / "none.wav", 8000, 160)
    assert str(info.value) == f"{tmp_path / 'none.wav'}: no such file"
    (tmp_path / "text.wav").write_text("hello, this is not a RIFF file at all")
    with pytest.raises(WavFormatError) as info:
        WavSource(tmp_path / "text.wav", 8000, 160)
    assert str(info.value) == f"{tmp_path / 'text.wav'}: not a PCM WAV file (file does not start with RIFF id)"


def test_more_than_two_channels(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", bytes(12), 8000, channels=3)
    with pytest.raises(WavFormatError) as info:
        WavSource(path, 8000, 160)
    assert str(info.value) == f"{path}: 3 channels (mono or stereo only)"


def test_float_wav_is_refused(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", bytes(8), 8000, width=2)
    raw = bytearray(path.read_bytes())
    raw[20:22] = (3).to_bytes(2, "little")  # WAVE_FORMAT_IEEE_FLOAT
    path.write_bytes(bytes(raw))
    with pytest.raises(WavFormatError, match="not a PCM WAV file \\(unknown format: 3\\)"):
        WavSource(path, 8000, 160)


def test_closed_source(tmp_path: Path) -> None:
    source = WavSource(write_wav(tmp_path / "a.wav", bytes(320), 8000), 8000, 160)
    source.close()
    source.close()
    with pytest.raises(AudioUsageError, match="WAV source is closed"):
        source.read_frame()


# --- the sink -----------------------------------------------------------------


def read_back(path: Path) -> tuple[int, int, bytes]:
    with wave.open(str(path), "rb") as reader:
        return reader.getnchannels(), reader.getframerate(), reader.readframes(reader.getnframes())


def test_sink_is_valid_after_every_flush(tmp_path: Path, signals: SimpleNamespace) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(path, 16000, flush_interval_ms=60_000)
    assert read_back(path) == (1, 16000, b"")  # valid and empty from the start
    written = b""
    for i in range(5):
        frame = signals.sine(440, 16000, 320, start=320 * i)
        sink.write(frame)
        written += frame
        assert sink.frames_pending == 320
        sink.flush()
        assert sink.frames_written == 320 * (i + 1)
        # Read while the sink is still open, as after a crash.
        assert read_back(path) == (1, 16000, written)
    sink.close()
    assert read_back(path) == (1, 16000, written)


def test_sink_flushes_by_itself_every_interval(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    sink = WavSink(path, 8000, flush_interval_ms=100, fsync=True)
    for _ in range(4):
        sink.write(bytes(320))  # 20 ms each
    assert sink.frames_written == 0
    sink.write(bytes(320))  # 100 ms pending: flushed
    assert sink.frames_written == 800
    assert len(read_back(path)[2]) == 1600
    sink.write(bytes(320))
    sink.close()
    sink.close()
    assert len(read_back(path)[2]) == 1920
    with pytest.raises(AudioUsageError, match="WAV sink is closed"):
        sink.write(bytes(2))


def test_sink_errors(tmp_path: Path) -> None:
    with pytest.raises(WavFormatError, match="cannot write"):
        WavSink(tmp_path / "missing-dir" / "out.wav", 8000)
    with pytest.raises(AudioUsageError, match="unsupported channel count: 3"):
        WavSink(tmp_path / "out.wav", 8000, channels=3)
    with WavSink(tmp_path / "out.wav", 8000, channels=2) as sink, pytest.raises(AudioUsageError):
        sink.write(bytes(6))


def test_sink_writes_little_endian_16_bit(tmp_path: Path) -> None:
    with WavSink(tmp_path / "out.wav", 8000) as sink:
        sink.write(array.array("h", [1, -2]).tobytes())
    assert (tmp_path / "out.wav").read_bytes()[-4:] == b"\x01\x00\xfe\xff"


@pytest.mark.parametrize("file_rate", [8000, 16000], ids=["direct", "resampled"])
@pytest.mark.parametrize("loop", [False, True], ids=["once", "looped"])
@pytest.mark.parametrize("samples", [0, 1000, 8000, 20_000])
def test_read_run_gives_the_frames_read_frame_gives(tmp_path: Path, file_rate: int, loop: bool, samples: int) -> None:
    """Runs of any length, across the block boundaries, the end of the file and its loop."""
    data = array.array("h", [(k * 37) % 30000 - 15000 for k in range(samples)]).tobytes()
    path = write_wav(tmp_path / "a.wav", data, file_rate)
    runs = [1, 50, 49, 7, 50, 50, 3, 120, 50]
    with WavSource(path, 8000, 160, loop=loop) as one_by_one, WavSource(path, 8000, 160, loop=loop) as by_runs:
        for count in runs:
            expected = b"".join((f if (f := one_by_one.read_frame()) is not None else bytes(320))
                                for _ in range(count))
            assert by_runs.read_run(count) == expected
