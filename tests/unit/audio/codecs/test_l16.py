"""tui_phone.audio.codecs.l16: big-endian linear PCM (RFC 3551 4.5.11)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from tui_phone.audio.codecs import L16Codec
from tui_phone.audio.errors import AudioUsageError, PayloadError


def test_payload_types() -> None:
    assert L16Codec(44100).payload_type == 11  # RFC 3551 table 4: L16/44100/1
    assert L16Codec(8000).payload_type is None
    assert L16Codec(16000).payload_type is None
    assert L16Codec().clock_rate == L16Codec().sample_rate == 44100


def test_network_byte_order(signals: SimpleNamespace) -> None:
    pcm = signals.pcm([0x0102, -2])  # host order, little-endian here
    assert sys.byteorder == "little"
    assert pcm == b"\x02\x01\xfe\xff"
    assert L16Codec(8000).new_encoder().encode(pcm) == b"\x01\x02\xff\xfe"
    assert L16Codec(8000).new_decoder().decode(b"\x01\x02\xff\xfe") == pcm


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_lossless_round_trip(signals: SimpleNamespace, rate: int) -> None:
    codec = L16Codec(rate)
    pcm = signals.sine(440, rate, codec.frame_samples(20))
    payload = codec.new_encoder().encode(pcm)
    assert len(payload) == codec.payload_bytes(20)
    assert codec.new_decoder().decode(payload) == pcm


def test_odd_payload_is_the_peers_fault() -> None:
    with pytest.raises(PayloadError) as info:
        L16Codec(8000).new_decoder().decode(bytes(161))
    assert str(info.value) == "L16 payload of 161 bytes is not a whole number of samples"


def test_odd_pcm_is_ours() -> None:
    with pytest.raises(AudioUsageError, match="^L16: PCM of 1 bytes"):
        L16Codec(8000).new_encoder().encode(b"\x00")
