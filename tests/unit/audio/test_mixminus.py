"""tui_phone.audio.mixminus: every N-1 mix exact and saturating, against a plain Python reference.

The reference (mixref.py) sums in Python integers and clips once at the
end.  Every path of the kernel (the narrow 16-bit sum, checked or not; the
wide sum from the first exact level; the two- and three-step saturating
adds) is driven on purpose and compared.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings

from tests.unit.audio.mixref import check, clip16, frame_sets, mixed, reference, to_pcm
from tui_phone.audio import mixminus
from tui_phone.audio.mixminus import mix_minus


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts how often the wide path and each extra saturating step run."""
    seen = {"wide": 0, "wide frames": 0, "add": 0}
    wide, add = mixminus._mix_wide, mixminus.add

    def spy_wide(complement: bytes, count: int, level: bytes, level_count: int, frame_bytes: int):  # type: ignore[no-untyped-def]
        seen["wide"] += 1
        seen["wide frames"] = level_count
        return wide(complement, count, level, level_count, frame_bytes)

    def spy_add(first: bytes, second: bytes, width: int) -> bytes:
        seen["add"] += 1
        return add(first, second, width)

    monkeypatch.setattr(mixminus, "_mix_wide", spy_wide)
    monkeypatch.setattr(mixminus, "add", spy_add)
    return seen


# -- the paths, one by one ------------------------------------------------------


def test_quiet_frames_take_the_narrow_path(paths: dict[str, int]) -> None:
    rng = random.Random(1)
    frames = [[rng.randint(-1000, 1000) for _ in range(160)] for _ in range(18)]
    check(frames)
    assert paths["wide"] == 0
    assert paths["add"] == 5 + 1  # the sum tree (9, 4, 2, 1, then the odd frame out) and one add


def test_partial_sums_near_the_limit_are_checked_and_stay_narrow(paths: dict[str, int]) -> None:
    # Pairs peak at 30000, but the frames cancel: every level is checked, none clips.
    frames = [[15000, -15000] * 4] * 4 + [[-15000, 15000] * 4] * 4
    check(frames)
    assert paths["wide"] == 0


def test_a_clipping_sum_goes_wide_from_the_last_exact_level(paths: dict[str, int]) -> None:
    frames = [[12000, -12000, 3] * 3] * 18  # pairs are exact (24000), fours are not
    check(frames)
    assert (paths["wide"], paths["wide frames"]) == (1, 9)


def test_loud_pairs_go_wide_from_the_frames_themselves(paths: dict[str, int]) -> None:
    frames = [[20000, -20000, 7]] * 6  # a pair already clips
    check(frames)
    assert (paths["wide"], paths["wide frames"]) == (1, 6)


def test_clipping_when_the_odd_frame_out_is_added(paths: dict[str, int]) -> None:
    # Five frames: 2 + 2 summed, the fifth waits; only adding it reaches the limit.
    frames = [[10000]] * 2 + [[-10000]] * 2 + [[32767]]
    check(frames)
    assert paths["wide"] == 1


def test_a_sum_beyond_16_bits_in_two_saturating_steps(paths: dict[str, int]) -> None:
    # S = 40000: one frame hears 60000 (clipped), the others 10000; no sample at 32767.
    check([[30000], [30000], [-20000]])
    assert paths["add"] >= 2 + 1  # the two steps after a wide sum


def test_the_third_step_where_a_full_scale_frame_meets_a_huge_sum(paths: dict[str, int]) -> None:
    # T = S + 1 >= 65535 and a frame at 32767 (complement -32768): two steps end at 32766.
    check([[32767], [32767], [32767]])
    check([[32767, -32768, 0], [32767, -32768, 1], [32767, -32768, -1], [20000, -20000, 5]])


def test_both_limits_in_one_frame() -> None:
    check([[32767, -32768] * 80] * 18)
    check([[-32768, 32767] * 80] * 17 + [[0, 0] * 80])


def test_mid_range_sums_either_side() -> None:
    # |S| between 32768 and 65534: every listener's result depends on its own frame.
    for sign in (1, -1):
        frames = [[sign * value for value in (20000, 15000, 9000, 1)] for _ in range(3)]
        frames.append([clip16(sign * -32768), clip16(sign * 32767), 0, clip16(-sign * 32768)])
        check(frames)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_few_frames(count: int) -> None:
    frames = [[32767, -32768, 100 * i] for i in range(count)]
    check(frames)
    if count == 1:  # alone, a participant hears nothing; a listener outside hears it
        heard, everyone = mix_minus([to_pcm(frames[0])], 6)
        assert heard == bytes(6) and everyone() == to_pcm(frames[0])


def test_the_order_of_the_frames_does_not_matter() -> None:
    rng = random.Random(7)
    frames = [[rng.choice([-32768, 32767, rng.randint(-30000, 30000)]) for _ in range(40)] for _ in range(7)]
    expected = dict(zip(map(tuple, frames), reference(frames)[0]))
    for _ in range(10):
        rng.shuffle(frames)
        heard, _ = mixed(frames, 40)
        assert [expected[tuple(frame)] for frame in frames] == heard


# -- anything at all ------------------------------------------------------------


@settings(max_examples=400, deadline=None, derandomize=True)
@given(frame_sets())
def test_matches_the_plain_python_reference(frames: list[list[int]]) -> None:
    check(frames)
