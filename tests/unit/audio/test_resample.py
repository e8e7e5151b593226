"""tui_phone.audio.resample: ratecv with state, fixed frames, channel helpers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui_phone.audio.errors import AudioUsageError
from tui_phone.audio.resample import (
    FrameResampler,
    Resampler,
    check_pcm,
    interleave,
    samples_in,
    silence,
    to_mono,
)

RATE_PAIRS = [
    (8000, 16000), (16000, 8000), (8000, 48000), (48000, 8000),
    (16000, 48000), (48000, 16000), (44100, 48000), (48000, 44100), (44100, 8000),
]


@pytest.mark.parametrize(("in_rate", "out_rate"), RATE_PAIRS)
def test_chunked_equals_whole(signals: SimpleNamespace, in_rate: int, out_rate: int) -> None:
    # State carried between 20 ms chunks: the same samples as one conversion, no clicks.
    signal = signals.sine(440, in_rate, in_rate // 2)
    whole = Resampler(in_rate, out_rate).convert(signal)
    chunked = Resampler(in_rate, out_rate)
    chunk = in_rate // 50 * 2
    pieces = b"".join(chunked.convert(signal[i : i + chunk]) for i in range(0, len(signal), chunk))
    assert pieces == whole


@pytest.mark.parametrize("chunk_samples", [1, 7, 33, 160, 1000])
def test_any_chunk_size_gives_the_same_stream(signals: SimpleNamespace, chunk_samples: int) -> None:
    signal = signals.sine(300, 8000, 4000)
    whole = Resampler(8000, 16000).convert(signal)
    chunked = Resampler(8000, 16000)
    step = chunk_samples * 2
    assert b"".join(chunked.convert(signal[i : i + step]) for i in range(0, len(signal), step)) == whole


def test_without_state_frames_would_differ(signals: SimpleNamespace) -> None:
    # The point of keeping state: fresh converters per frame give another signal.
    signal = signals.sine(440, 8000, 1600)
    whole = Resampler(8000, 16000).convert(signal)
    stateless = b"".join(Resampler(8000, 16000).convert(signal[i : i + 320]) for i in range(0, 3200, 320))
    assert stateless != whole


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 48000), (48000, 8000), (44100, 16000)])
def test_frequency_is_kept(signals: SimpleNamespace, in_rate: int, out_rate: int) -> None:
    out = signals.samples(Resampler(in_rate, out_rate).convert(signals.sine(1000, in_rate, in_rate)))
    window = out[out_rate // 10 : out_rate // 10 + out_rate // 2]
    assert signals.goertzel(window, 1000, out_rate) == pytest.approx(10_000, rel=0.05)
    assert signals.goertzel(window, 1500, out_rate) < 300


def test_passthrough_and_reset(signals: SimpleNamespace) -> None:
    resampler = Resampler(16000, 16000)
    signal = signals.sine(440, 16000, 320)
    assert resampler.passthrough
    assert resampler.convert(signal) == signal
    upsampler = Resampler(8000, 16000)
    first = upsampler.convert(signal)
    upsampler.reset()
    assert upsampler.convert(signal) == first


def test_stereo_resampling(signals: SimpleNamespace) -> None:
    stereo = interleave(signals.sine(440, 8000, 800), signals.sine(880, 8000, 800))
    out = Resampler(8000, 16000, channels=2).convert(stereo)
    assert len(out) % 4 == 0
    assert samples_in(out, 2) == pytest.approx(1600, abs=2)


@pytest.mark.parametrize("rate", [0, 999, 200_000])
def test_bad_rates(rate: int) -> None:
    with pytest.raises(AudioUsageError, match=f"unsupported sample rate: {rate} Hz"):
        Resampler(rate, 8000)


def test_bad_channels_and_odd_pcm() -> None:
    with pytest.raises(AudioUsageError, match="unsupported channel count: 3"):
        Resampler(8000, 16000, channels=3)
    with pytest.raises(AudioUsageError) as info:
        Resampler(8000, 16000).convert(b"\x00\x00\x00")
    assert str(info.value) == "PCM of 3 bytes is not a whole number of 1-channel 16-bit samples"
    with pytest.raises(AudioUsageError, match="PCM of 6 bytes is not a whole number of 2-channel"):
        check_pcm(bytes(6), 2)


def test_frame_resampler_gives_exact_frames(signals: SimpleNamespace) -> None:
    frames = FrameResampler(8000, 48000, 960)
    reference = Resampler(8000, 48000).convert(signals.sine(440, 8000, 1600))
    out = b""
    for i in range(10):
        frame = frames.convert_frame(signals.sine(440, 8000, 160, start=160 * i))
        assert len(frame) == 960 * 2
        out += frame
    # The startup shortfall of ratecv becomes leading silence; the rest is the stream itself.
    pad = frames.padded_samples
    assert 0 < pad < 10
    assert out[: pad * 2] == bytes(pad * 2)
    assert out[pad * 2 :] == reference[: len(out) - pad * 2]


def test_frame_resampler_silence_when_empty_and_drops_oldest() -> None:
    frames = FrameResampler(8000, 8000, 160, max_frames=2)
    assert frames.pop_frame() == silence(160)
    frames.push(b"\x01\x00" * 160)
    frames.push(b"\x02\x00" * 160)
    frames.push(b"\x03\x00" * 160)
    assert frames.dropped_samples == 160
    assert frames.buffered_samples == 320
    assert frames.pop_frame() == b"\x02\x00" * 160
    frames.reset()
    assert frames.buffered_samples == 0


def test_frame_resampler_rejects_bad_sizes() -> None:
    with pytest.raises(AudioUsageError, match="frame size must be positive, not 0"):
        FrameResampler(8000, 8000, 0)
    with pytest.raises(AudioUsageError, match="max_frames must be at least 1, not 0"):
        FrameResampler(8000, 8000, 160, max_frames=0)


def test_to_mono_averages(signals: SimpleNamespace) -> None:
    stereo = interleave(signals.pcm([1000, -2000, 300]), signals.pcm([3000, 2000, 300]))
    assert signals.samples(to_mono(stereo, 2)) == [2000, 0, 300]
    assert to_mono(signals.pcm([5]), 1) == signals.pcm([5])
    with pytest.raises(AudioUsageError, match="unsupported channel count: 4"):
        to_mono(bytes(8), 4)


def test_interleave_puts_left_first(signals: SimpleNamespace) -> None:
    assert signals.samples(interleave(signals.pcm([1, 2]), signals.pcm([-1, -2]))) == [1, -1, 2, -2]
    with pytest.raises(AudioUsageError, match="cannot interleave 4 bytes with 2 bytes"):
        interleave(bytes(4), bytes(2))
