"""tui_phone.audio.codecs.g722: G.722 through the G722 package (libg722).

Reference signal check: a 1 kHz sine at 16 kHz is encoded in 20 ms frames and
decoded; after the codec delay (22 samples, measured below with noise, as a
sine alone cannot tell delays a period apart) the output must correlate above
0.95 with the input and reach an SNR of at least 40 dB (libg722 gives about
47 dB at this level; the threshold leaves margin for other builds).
"""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

import pytest

from tui_phone.audio.codecs import G722Codec
from tui_phone.audio.codecs.g722 import CODEC_DELAY_SAMPLES
from tui_phone.audio.errors import AudioUsageError, CodecUnavailable

MIN_SNR_DB = 40.0

needs_g722 = pytest.mark.skipif(
    not G722Codec().is_available(), reason="G722 not available: pip install G722"
)


def _round_trip(codec: G722Codec, pcm: bytes) -> bytes:
    encoder, decoder = codec.new_encoder(), codec.new_decoder()
    out = b""
    frame = codec.frame_bytes(20)
    for i in range(0, len(pcm), frame):
        payload = encoder.encode(pcm[i : i + frame])
        assert len(payload) == 160  # 64 kbit/s x 20 ms
        out += decoder.decode(payload)
    return out


def test_description() -> None:
    codec = G722Codec()
    assert (codec.name, codec.payload_type, codec.clock_rate, codec.sample_rate) == ("G722", 9, 8000, 16000)
    assert codec.frame_samples(20) == 320
    assert codec.timestamp_step(20) == 160
    assert codec.payload_bytes(20) == 160


@needs_g722
def test_codec_delay_is_22_samples(signals: SimpleNamespace) -> None:
    noise = signals.lcg_noise(8000, amplitude=6000)
    out = signals.samples(_round_trip(G722Codec(), signals.pcm(noise)))
    reference = noise[1000:5000]
    assert signals.best_lag(reference, out[1000:], 40) == CODEC_DELAY_SAMPLES


@needs_g722
def test_1khz_sine_reference(signals: SimpleNamespace) -> None:
    signal = signals.sine(1000, 16000, 16000)
    out = signals.samples(_round_trip(G722Codec(), signal))
    assert len(out) == 16000
    reference = signals.samples(signal)[1600:15000]
    aligned = out[1600 + CODEC_DELAY_SAMPLES : 15000 + CODEC_DELAY_SAMPLES]
    assert signals.correlation(reference, aligned) > 0.95
    assert signals.snr_db(reference, aligned) > MIN_SNR_DB


@needs_g722
def test_encoders_keep_state_per_stream(signals: SimpleNamespace) -> None:
    codec = G722Codec()
    signal = signals.sine(700, 16000, 640)
    encoder = codec.new_encoder()
    first, second = encoder.encode(signal[:640]), encoder.encode(signal[640:])
    assert codec.new_encoder().encode(signal[:640]) == first
    assert codec.new_encoder().encode(signal[640:]) != second  # ADPCM state differs


@needs_g722
def test_odd_sample_count_is_refused() -> None:
    with pytest.raises(AudioUsageError) as info:
        G722Codec().new_encoder().encode(bytes(2 * 321))
    assert str(info.value) == "G722: PCM of 321 samples is not an even number of samples"


@needs_g722
def test_no_plc() -> None:
    assert G722Codec().new_decoder().supports_plc is False


def test_missing_package_is_reported() -> None:
    def missing() -> ModuleType:
        raise ImportError("No module named 'G722'")

    codec = G722Codec(loader=missing)
    assert codec.is_available() is False
    with pytest.raises(CodecUnavailable) as info:
        codec.new_encoder()
    assert str(info.value) == "G722 not available: the G722 package is not installed (pip install G722)"
