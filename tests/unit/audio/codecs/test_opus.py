"""tui_phone.audio.codecs.opus: Opus through libopus (ctypes); optional."""

from __future__ import annotations

import ctypes
from types import SimpleNamespace

import pytest

from tui_phone.audio.codecs import OpusCodec
from tui_phone.audio.errors import AudioUsageError, CodecUnavailable, PayloadError

needs_libopus = pytest.mark.skipif(
    not OpusCodec().is_available(), reason="opus not available: libopus not found (apt-get install libopus0)"
)


def _no_library() -> ctypes.CDLL:
    raise OSError("libopus.so.0: cannot open shared object file")


def test_missing_library_is_reported_cleanly() -> None:
    codec = OpusCodec(loader=_no_library)
    assert codec.is_available() is False
    for make in (codec.new_encoder, codec.new_decoder):
        with pytest.raises(CodecUnavailable) as info:
            make()
        assert str(info.value) == "opus not available: libopus not found"


def test_description() -> None:
    codec = OpusCodec()
    assert (codec.name, codec.payload_type, codec.clock_rate, codec.sample_rate) == ("opus", None, 48000, 48000)
    assert codec.rtpmap() == "opus/48000/2"
    assert codec.supports_plc
    assert OpusCodec(16000).frame_samples(20) == 320
    assert OpusCodec(16000).timestamp_step(20) == 960  # the RTP clock stays 48 kHz
    with pytest.raises(AudioUsageError, match=r"opus has no 30 ms frames \(5, 10, 20, 40 or 60 ms\)"):
        codec.frame_samples(30)
    with pytest.raises(AudioUsageError, match="opus cannot run at 44100 Hz"):
        OpusCodec(44100)


@needs_libopus
def test_version() -> None:
    assert OpusCodec().version().startswith("libopus ")


@needs_libopus
def test_48khz_sine_in_20ms_frames(signals: SimpleNamespace) -> None:
    codec = OpusCodec()
    encoder, decoder = codec.new_encoder(), codec.new_decoder()
    signal = signals.sine(1000, 48000, 48000)
    frame = codec.frame_bytes(20)
    out = b""
    for i in range(0, len(signal), frame):
        payload = encoder.encode(signal[i : i + frame])
        assert 0 < len(payload) < 1275
        decoded = decoder.decode(payload)
        assert len(decoded) == frame
        out += decoded
    values = signals.samples(out)[9600:48000]  # past the encoder's start-up
    assert signals.goertzel(values, 1000, 48000) == pytest.approx(10_000, rel=0.15)
    assert signals.goertzel(values, 3000, 48000) < 300
    reference = signals.samples(signal)
    lag = signals.best_lag(reference[9600:24000], signals.samples(out)[9600:], 48)
    aligned = signals.samples(out)[9600 + lag : 24000 + lag]
    assert signals.correlation(reference[9600:24000], aligned) > 0.95


@needs_libopus
def test_conceal_gives_a_frame(signals: SimpleNamespace) -> None:
    codec = OpusCodec()
    encoder, decoder = codec.new_encoder(), codec.new_decoder()
    for i in range(5):
        decoder.decode(encoder.encode(signals.sine(440, 48000, 960, start=960 * i)))
    concealed = decoder.conceal(960)
    assert len(concealed) == 1920
    assert signals.rms(signals.samples(concealed)) > 1000  # continues the tone, not silence
    with pytest.raises(AudioUsageError, match="opus: cannot conceal 100 samples at 48000 Hz"):
        decoder.conceal(100)


@needs_libopus
def test_bad_input() -> None:
    encoder, decoder = OpusCodec().new_encoder(), OpusCodec().new_decoder()
    with pytest.raises(AudioUsageError) as info:
        encoder.encode(bytes(2 * 900))
    assert str(info.value) == "opus: 900 samples at 48000 Hz is not an Opus frame (2.5, 5, 10, 20, 40 or 60 ms)"
    with pytest.raises(PayloadError, match="opus payload is empty"):
        decoder.decode(b"")
    # TOC code 3 (arbitrary frame count) with a frame count of 0 is invalid (RFC 6716 3.2.5).
    with pytest.raises(PayloadError, match="^opus payload cannot be decoded: "):
        decoder.decode(b"\x03\x00")


@needs_libopus
def test_close_frees_early(signals: SimpleNamespace) -> None:
    encoder = OpusCodec().new_encoder()
    encoder.close()  # type: ignore[attr-defined]
    encoder.close()  # type: ignore[attr-defined]
