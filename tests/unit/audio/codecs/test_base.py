"""tui_phone.audio.codecs.base: frame arithmetic, rtpmap, concealment fallback."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui_phone.audio.codecs import G722Codec, L16Codec, OpusCodec, PcmuCodec
from tui_phone.audio.codecs.base import AudioCodec, repeat_fade
from tui_phone.audio.errors import AudioUsageError


@pytest.mark.parametrize(
    ("codec", "samples", "pcm_bytes", "payload", "step", "rtpmap"),
    [
        (PcmuCodec(), 160, 320, 160, 160, "PCMU/8000"),
        (G722Codec(), 320, 640, 160, 160, "G722/8000"),  # RFC 3551 4.5.2: clock 8000
        (L16Codec(16000), 320, 640, 640, 320, "L16/16000"),
        (L16Codec(44100), 882, 1764, 1764, 882, "L16/44100"),
        (OpusCodec(), 960, 1920, None, 960, "opus/48000/2"),  # RFC 7587 7
    ],
)
def test_frame_arithmetic_for_20_ms(
    codec: AudioCodec, samples: int, pcm_bytes: int, payload: int | None, step: int, rtpmap: str
) -> None:
    assert codec.frame_samples(20) == samples
    assert codec.frame_bytes(20) == pcm_bytes
    assert codec.payload_bytes(20) == payload
    assert codec.timestamp_step(20) == step
    assert codec.rtpmap() == rtpmap


def test_ptime_that_is_not_whole_samples() -> None:
    with pytest.raises(AudioUsageError) as info:
        L16Codec(44100).frame_samples(3)
    assert str(info.value) == "ptime 3 ms is not a whole number of samples at 44100 Hz"
    with pytest.raises(AudioUsageError, match="ptime 0 ms"):
        PcmuCodec().frame_samples(0)


def test_codecs_without_plc_say_so() -> None:
    decoder = PcmuCodec().new_decoder()
    assert decoder.supports_plc is False
    with pytest.raises(AudioUsageError) as info:
        decoder.conceal(160)
    assert str(info.value) == "PCMU has no packet loss concealment; repeat or fade the last frame"


def test_repeat_fade_repeats_then_fades_to_silence(signals: SimpleNamespace) -> None:
    last = signals.pcm([10_000, -10_000] * 80)
    assert repeat_fade(last, 1) == last
    peaks = [max(abs(v) for v in signals.samples(repeat_fade(last, step, fade_frames=4))) for step in range(2, 8)]
    assert peaks == [8000, 6000, 4000, 2000, 0, 0]
    with pytest.raises(AudioUsageError, match="concealment step must be at least 1, not 0"):
        repeat_fade(last, 0)


def test_repr() -> None:
    assert repr(PcmuCodec()) == "<PcmuCodec PCMU/8000 pt=0>"
