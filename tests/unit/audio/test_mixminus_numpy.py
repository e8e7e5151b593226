"""tui_phone.audio.mixminus_numpy: the numpy kernel gives the reference's N-1 mixes, to the sample.

Same reference and frame sets as the audioop kernel's tests (mixref.py), the
limits on purpose, and the work arrays kept between ticks: a change of
shape, and bytes handed out that later ticks do not touch.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings

from tests.unit.audio.mixref import check, frame_sets, mixed, reference, to_pcm, to_values
from tui_phone.audio.mixminus import mix_minus

pytest.importorskip("numpy", reason="numpy (the 'fast' extra) is not installed")

from tui_phone.audio.mixminus_numpy import NumpyMixMinus  # noqa: E402

EXTREMES = {
    "both limits": [[32767, -32768] * 80] * 18,
    "both limits, one silent": [[-32768, 32767] * 80] * 17 + [[0, 0] * 80],
    "sum past 16 bits": [[30000], [30000], [-20000]],
    "full scale meets a huge sum": [[32767], [32767], [32767]],
    "mixed limits": [[32767, -32768, 0], [32767, -32768, 1], [32767, -32768, -1], [20000, -20000, 5]],
    "quiet": [[random.Random(1).randint(-1000, 1000) for _ in range(160)] for _ in range(18)],
    "cancelling loud pairs": [[15000, -15000] * 4] * 4 + [[-15000, 15000] * 4] * 4,
    "far past 16 bits": [[32767] * 3] * 40,
}


@pytest.mark.parametrize("frames", EXTREMES.values(), ids=EXTREMES.keys())
def test_extremes(frames: list[list[int]]) -> None:
    check(frames, NumpyMixMinus())


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_few_frames(count: int) -> None:
    frames = [[32767, -32768, 100 * i] for i in range(count)]
    check(frames, NumpyMixMinus())
    if count == 1:  # alone, a participant hears nothing; a listener outside hears it
        heard, everyone = NumpyMixMinus()([to_pcm(frames[0])], 6)
        assert heard == bytes(6) and everyone() == to_pcm(frames[0])


def test_work_arrays_follow_the_shape_and_results_stay_put() -> None:
    kernel = NumpyMixMinus()
    rng = random.Random(3)
    kept = []
    for count, samples in [(18, 160), (18, 160), (5, 320), (18, 160), (2, 1)]:
        frames = [[rng.randint(-32768, 32767) for _ in range(samples)] for _ in range(count)]
        heard, everyone = kernel([to_pcm(frame) for frame in frames], samples * 2)
        kept.append((frames, heard, everyone))
    for frames, heard, everyone in kept:  # later ticks changed nothing handed out before
        expected_heard, expected_everyone = reference(frames)
        assert to_values(heard) == [value for frame in expected_heard for value in frame]
        assert to_values(everyone()) == expected_everyone


@settings(max_examples=400, deadline=None, derandomize=True)
@given(frame_sets())
def test_matches_the_plain_python_reference(frames: list[list[int]]) -> None:
    check(frames, NumpyMixMinus())


@settings(max_examples=100, deadline=None, derandomize=True)
@given(frame_sets())
def test_same_bytes_as_the_audioop_kernel(frames: list[list[int]]) -> None:
    samples = len(frames[0]) if frames else 1
    assert mixed(frames, samples, NumpyMixMinus()) == mixed(frames, samples, mix_minus)
