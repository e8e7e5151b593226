"""tui_phone.audio.codecs.g711: PCMU and PCMA through audioop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui_phone.audio.codecs import PcmaCodec, PcmuCodec
from tui_phone.audio.codecs.base import AudioCodec
from tui_phone.audio.errors import AudioUsageError

CODECS = [PcmuCodec(), PcmaCodec()]


def test_static_description() -> None:
    pcmu, pcma = CODECS
    assert (pcmu.name, pcmu.payload_type, pcmu.clock_rate, pcmu.sample_rate) == ("PCMU", 0, 8000, 8000)
    assert (pcma.name, pcma.payload_type, pcma.clock_rate, pcma.sample_rate) == ("PCMA", 8, 8000, 8000)


def test_known_code_words(signals: SimpleNamespace) -> None:
    # ITU-T G.711: silence is 0xFF (mu-law) / 0xD5 (A-law, even bits inverted).
    assert PcmuCodec().new_encoder().encode(signals.pcm([0, 0])) == b"\xff\xff"
    assert PcmaCodec().new_encoder().encode(signals.pcm([0, 0])) == b"\xd5\xd5"
    # Full-scale positive and negative code words.
    assert PcmuCodec().new_encoder().encode(signals.pcm([32767, -32768])) == b"\x80\x00"
    assert PcmaCodec().new_encoder().encode(signals.pcm([32767, -32768])) == b"\xaa\x2a"


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_round_trip_of_a_sine(signals: SimpleNamespace, codec: AudioCodec) -> None:
    encoder, decoder = codec.new_encoder(), codec.new_decoder()
    signal = signals.sine(1000, 8000, 8000)
    out = b""
    for i in range(0, len(signal), 320):
        payload = encoder.encode(signal[i : i + 320])
        assert len(payload) == 160
        out += decoder.decode(payload)
    # 8-bit logarithmic companding: about 38 dB for a sine well above the noise floor.
    assert signals.snr_db(signals.samples(signal), signals.samples(out)) > 35


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_every_code_word_decodes(codec: AudioCodec) -> None:
    decoded = codec.new_decoder().decode(bytes(range(256)))
    assert len(decoded) == 512


@pytest.mark.parametrize("codec", CODECS, ids=lambda c: c.name)
def test_odd_pcm_is_refused(codec: AudioCodec) -> None:
    with pytest.raises(AudioUsageError) as info:
        codec.new_encoder().encode(b"\x00\x00\x00")
    assert str(info.value) == f"{codec.name}: PCM of 3 bytes is not a whole number of 1-channel 16-bit samples"
