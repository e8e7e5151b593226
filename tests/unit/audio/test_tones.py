"""tui_phone.audio.tones: frequencies (Goertzel, zero crossings), cadences, phase continuity."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui_phone.audio.errors import AudioSpecError, AudioUsageError
from tui_phone.audio.tones import (
    BUSY,
    DIAL,
    DIAL_ITU,
    REORDER,
    RINGBACK,
    TEST,
    ToneGenerator,
    ToneSpec,
    dbm0_to_amplitude,
    tone_spec,
)

PROBES = (350, 425, 440, 480, 620, 1000, 1400)


def render(spec: ToneSpec, rate: int, seconds: float, frame: int = 160) -> list[int]:
    generator = ToneGenerator(spec, rate)
    count = int(rate * seconds) // frame
    pcm = b"".join(generator.read(frame) for _ in range(count))
    import array

    values = array.array("h")
    values.frombytes(pcm)
    return values.tolist()


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("spec", [DIAL, DIAL_ITU, RINGBACK, BUSY, TEST], ids=lambda s: s.name)
def test_frequencies(signals: SimpleNamespace, spec: ToneSpec, rate: int) -> None:
    # One second starts "on" for every cadence here; 0.4 s lies inside the first burst.
    values = render(spec, rate, 1.0)[: int(rate * 0.4)]
    amplitude = dbm0_to_amplitude(spec.level_dbm0)
    for probe in PROBES:
        measured = signals.goertzel(values, probe, rate)
        if probe in spec.frequencies:
            assert measured == pytest.approx(amplitude, rel=0.02), probe
        else:
            assert measured < amplitude * 0.05, probe


def test_test_tone_zero_crossings(signals: SimpleNamespace) -> None:
    values = render(TEST, 8000, 1.0)
    assert signals.zero_crossings(values) == pytest.approx(2000, abs=2)


def test_levels() -> None:
    assert dbm0_to_amplitude(3.17) == pytest.approx(32767)
    assert dbm0_to_amplitude(-13) == pytest.approx(5093, abs=1)  # 32767 * 10 ** (-16.17 / 20)
    assert [DIAL.level_dbm0, RINGBACK.level_dbm0, BUSY.level_dbm0] == [-13, -19, -24]


def _on_off(values: list[int], rate: int, block_ms: int = 10) -> str:
    block = rate * block_ms // 1000
    return "".join(
        "1" if any(values[i : i + block]) else "0" for i in range(0, len(values) - block + 1, block)
    )


def test_ringback_cadence_2s_on_4s_off() -> None:
    pattern = _on_off(render(RINGBACK, 8000, 12.0), 8000)
    assert pattern == ("1" * 200 + "0" * 400) * 2


@pytest.mark.parametrize(("spec", "on_blocks"), [(BUSY, 50), (REORDER, 25)], ids=["busy", "reorder"])
def test_busy_and_reorder_cadences(spec: ToneSpec, on_blocks: int) -> None:
    pattern = _on_off(render(spec, 16000, 3.0, frame=320), 16000)
    unit = "1" * on_blocks + "0" * on_blocks
    assert pattern == unit * (300 // len(unit))


def test_continuous_tones_never_stop() -> None:
    assert "0" not in _on_off(render(DIAL, 8000, 2.0), 8000)


def test_cadence_edges_are_sample_exact() -> None:
    values = render(BUSY, 8000, 1.1, frame=123)
    assert any(values[3990:4000]) and not any(values[4000:8000]) and any(values[8000:8010])


@pytest.mark.parametrize("frame", [1, 7, 80, 160, 441])
def test_phase_is_continuous_between_frames(frame: int) -> None:
    whole = ToneGenerator(DIAL, 8000).read(frame * 20)
    generator = ToneGenerator(DIAL, 8000)
    chunked = b"".join(generator.read(frame) for _ in range(20))
    import array

    a, b = array.array("h"), array.array("h")
    a.frombytes(whole)
    b.frombytes(chunked)
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1  # float rounding only


def test_reset_starts_over() -> None:
    generator = ToneGenerator(RINGBACK, 8000)
    first = generator.read(160)
    generator.read(1000)
    generator.reset()
    assert generator.read(160) == first


def test_tone_spec_parsing() -> None:
    assert tone_spec("Ringback") is RINGBACK
    assert tone_spec("dial-itu") is DIAL_ITU
    custom = tone_spec("350+440")
    assert custom.frequencies == (350.0, 440.0) and custom.cadence == ()
    assert tone_spec("1000").frequencies == (1000.0,)
    with pytest.raises(AudioSpecError) as info:
        tone_spec("warble")
    assert str(info.value) == (
        'unknown tone "warble": use dial, dial-itu, ringback, busy, reorder, test '
        "or frequencies in Hz such as 1000 or 350+440"
    )
    with pytest.raises(AudioSpecError, match='tone "-5": frequencies must be between 0 and 24000 Hz'):
        tone_spec("-5")


def test_frequency_above_nyquist() -> None:
    with pytest.raises(AudioSpecError) as info:
        ToneGenerator(tone_spec("5000"), 8000)
    assert str(info.value) == "a 5000 Hz tone cannot be played at 8000 Hz"


def test_bad_frame_size() -> None:
    with pytest.raises(AudioUsageError, match="frame size must be positive, not 0"):
        ToneGenerator(TEST, 8000).read(0)


def test_cycle_length() -> None:
    assert RINGBACK.cycle_ms == 6000
    assert DIAL.cycle_ms == 0
