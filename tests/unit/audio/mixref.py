"""The plain Python reference for the mix-minus kernels, and frames to feed them.

The reference sums in Python integers (no limit) and clips once at the end:
each frame hears clip16(S - own), a listener outside hears clip16(S).
"""

from __future__ import annotations

import array
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from tui_phone.audio.mixer import MixMinus
from tui_phone.audio.mixminus import mix_minus


def clip16(value: int) -> int:
    return max(-32768, min(32767, value))


def reference(frames: Sequence[Sequence[int]]) -> tuple[list[list[int]], list[int]]:
    """(each frame's N-1 mix, the full mix), summed in Python ints and clipped once."""
    totals = [sum(column) for column in zip(*frames)]
    heard = [[clip16(total - own) for total, own in zip(totals, frame)] for frame in frames]
    return heard, [clip16(total) for total in totals]


def to_pcm(values: Sequence[int]) -> bytes:
    return array.array("h", values).tobytes()


def to_values(pcm: bytes) -> list[int]:
    values = array.array("h")
    values.frombytes(pcm)
    return values.tolist()


def mixed(
    frames: Sequence[Sequence[int]], samples: int, kernel: MixMinus = mix_minus
) -> tuple[list[list[int]], list[int]]:
    """Run ``kernel`` on int frames; split its output back into int frames."""
    heard, everyone = kernel([to_pcm(frame) for frame in frames], samples * 2)
    values = to_values(heard)
    assert len(values) == samples * len(frames)
    return [values[i * samples : (i + 1) * samples] for i in range(len(frames))], to_values(everyone())


def check(frames: Sequence[Sequence[int]], kernel: MixMinus = mix_minus) -> None:
    samples = len(frames[0]) if frames else 1
    assert mixed(frames, samples, kernel) == (reference(frames) if frames else ([], [0] * samples))


# Samples that exercise the limits: the extremes themselves, loud values
# whose sums clip, and quiet ones whose sums do not.
sample = st.one_of(
    st.sampled_from([-32768, -32767, -1, 0, 1, 32766, 32767]),
    st.integers(-32768, 32767),
    st.integers(-12000, 12000),
    st.integers(-300, 300),
)


@st.composite
def frame_sets(draw: st.DrawFn) -> list[list[int]]:
    count = draw(st.integers(0, 20))
    length = draw(st.integers(1, 12))
    # Mostly one scale per set, so quiet sets stay quiet and loud ones loud.
    values: Callable[[], st.SearchStrategy[int]] = lambda: sample  # noqa: E731
    if draw(st.booleans()):
        bound = draw(st.sampled_from([300, 3000, 12000, 20000]))
        values = lambda: st.integers(-bound, bound)  # noqa: E731
    frames = [draw(st.lists(values(), min_size=length, max_size=length)) for _ in range(count)]
    if frames and draw(st.booleans()):  # a loud talkspurt in step: sums far past 16 bits
        sign = draw(st.sampled_from([1, -1]))
        frames = [[clip16(value + sign * 25000) for value in frame] for frame in frames]
    return frames
