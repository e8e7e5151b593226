"""tui_phone.audio.codecs: the registry by SDP encoding name."""

from __future__ import annotations

import ctypes

import pytest

from tui_phone.audio import codecs
from tui_phone.audio.codecs import available_codecs, get_codec
from tui_phone.audio.codecs.opus import OpusCodec
from tui_phone.audio.errors import CodecUnavailable


@pytest.mark.parametrize(("name", "expected"), [("pcmu", "PCMU"), ("PCMA", "PCMA"), ("g722", "G722"), ("Opus", "opus")])
def test_lookup_is_case_insensitive(name: str, expected: str) -> None:
    if expected in ("G722", "opus") and expected not in {c.name for c in available_codecs()}:
        pytest.skip(f"{expected} not available here")
    assert get_codec(name).name == expected


def test_l16_rates() -> None:
    assert get_codec("L16").clock_rate == 44100
    assert get_codec("l16", 16000).sample_rate == 16000
    assert get_codec("L16", 8000).payload_type is None
    with pytest.raises(CodecUnavailable) as info:
        get_codec("L16", 22050)
    assert str(info.value) == "codec not supported: L16/22050"


def test_unknown_codec() -> None:
    with pytest.raises(CodecUnavailable) as info:
        get_codec("GSM")
    assert str(info.value) == "codec not supported: GSM"


def test_all_and_available() -> None:
    names = [c.rtpmap() for c in codecs.all_codecs()]
    assert names == ["PCMU/8000", "PCMA/8000", "G722/8000", "L16/44100", "L16/16000", "L16/8000", "opus/48000/2"]
    available = [c.rtpmap() for c in available_codecs()]
    assert available[:2] == ["PCMU/8000", "PCMA/8000"]
    assert set(available) <= set(names)


def test_missing_opus_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library() -> ctypes.CDLL:
        raise OSError("not found")

    monkeypatch.setattr("tui_phone.audio.codecs.opus.load_libopus", no_library)
    assert "opus" not in {c.name for c in available_codecs()}
    assert not OpusCodec().is_available()
    with pytest.raises(CodecUnavailable) as info:
        get_codec("opus")
    assert str(info.value) == "opus not available: libopus not found"
