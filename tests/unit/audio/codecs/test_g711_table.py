"""G.711 encoding by table (``_cg711.c``) gives audioop's bytes, for every sample value.

The tables are audioop's own conversion of all 65536 values, so the check is
exhaustive: every value through the encoder (C lookup) against audioop itself,
both laws, plus frames of random audio and the encoder's errors.
"""

from __future__ import annotations

import array
import random

import pytest

from tui_phone.audio import _audioop
from tui_phone.audio.codecs import g711
from tui_phone.audio.codecs.g711 import PcmaCodec, PcmuCodec

ALL_VALUES = array.array("h", range(-32768, 32768)).tobytes()


def test_the_encoders_look_up_in_c() -> None:
    assert g711.translate16 is not None, "_cg711 is not built (tests/unit/rtp/test_speedups.py)"


@pytest.mark.parametrize(("codec", "convert"), [(PcmuCodec(), _audioop.lin2ulaw), (PcmaCodec(), _audioop.lin2alaw)],
                         ids=["PCMU", "PCMA"])
def test_every_sample_value_encodes_as_audioop_encodes_it(codec: PcmuCodec, convert: object) -> None:
    encoder = codec.new_encoder()
    assert encoder.encode(ALL_VALUES) == convert(ALL_VALUES, 2)  # type: ignore[operator]
    rng = random.Random(711)
    for _ in range(50):
        frame = array.array("h", [rng.randint(-32768, 32767) for _ in range(160)]).tobytes()
        assert encoder.encode(frame) == convert(frame, 2)  # type: ignore[operator]
    assert encoder.encode(b"") == b""
    assert encoder.encode(bytearray(ALL_VALUES[:320])) == convert(ALL_VALUES[:320], 2)  # type: ignore[operator]


def test_the_lookup_refuses_what_it_cannot_convert() -> None:
    assert g711.translate16 is not None
    table = g711._table(_audioop.lin2ulaw)
    with pytest.raises(ValueError, match="16-bit samples"):
        g711.translate16(b"\x00\x01\x02", table)
    with pytest.raises(ValueError, match="65536 entries"):
        g711.translate16(b"\x00\x01", table[:100])
    with pytest.raises(ValueError):
        PcmuCodec().new_encoder().encode(b"\x00\x01\x02")  # an odd frame: check_frame's error
