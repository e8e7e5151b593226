"""Mix-minus: every frame's N-1 mix, exact and saturating, with ``audioop``.

Given N frames of signed 16-bit PCM, :func:`mix_minus` returns for each one
``clip16(S - own)``, where ``S`` is the true (unclipped) sum of all N: what
that participant hears.  Loud talkers clip the mix as one ``audioop.add``
at width 2 would, never wrap around, and the result does not depend on the
order of the frames.

Speed (``bench/mixer.py``): ``audioop`` costs a C call per operation and a
nanosecond or so per sample, so all frames are joined into one buffer and
every pass runs over all of them at once.  The N outputs need at least two
passes (an N-1 mix falls as its own frame rises: a complement, then an
add), and the sum another:

1. ``c = ~n`` for every sample (``bytes.translate``: exact for every value,
   ``-32768`` included, whose negation has no 16-bit form), so that
   ``S - n == (S + 1) + c``;
2. ``sum(c) = -S - N``, as a tree of block-wise 16-bit adds (18 frames: 5
   calls).  A partial sum that reached a 16-bit limit may have clipped: the
   peak of each level (``audioop.max``) says so, until ``count * peak``
   proves that no later level can get there;
3. *narrow* (the sum was exact): ``T = S + 1`` fits 16 bits and every output
   is one saturating add, ``clip16(T + c)``.

*Wide*, when a partial sum may have clipped: the last exact level of the
tree is widened to 32 bits (offset by 32768 so that ``lin2lin``'s copy,
read two bytes on, is the value itself) and summed there, so ``T`` is exact
whatever its size.  One 16-bit add cannot take a 17-bit ``T``, so it is
split as ``T = A + B`` with ``A = clip16(T)`` (``B`` is 0 unless ``A`` is at a
limit, and then has its sign) and added in two steps,
``clip16(clip16(c + A) + B)``: the first step can only clip towards the sign
of ``B``, so the second one ends where one exact add would.  The one case it
misses, ``c = -32768`` where ``T >= 65535`` (one step short of 32767), takes
a third add.  These per-lane values are cheap: one frame, not N.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from . import _audioop

WIDTH = 2  # bytes per sample of the PCM in and out
WIDE = 4  # bytes per sample while summing wide
_LIMIT = 32767  # a partial sum whose peak reaches this may have clipped
_COMPLEMENT = bytes(255 - value for value in range(256))  # bytes.translate: ~x, sample-wise
_OFFSET = 0x8000  # bias making a 16-bit sample non-negative: lin2lin's copy, read 2 bytes on, is it

add = _audioop.add
bias = _audioop.bias
lin2lin = _audioop.lin2lin
maxabs = _audioop.maxabs
mul = _audioop.mul


def mix_minus(frames: Sequence[bytes], frame_bytes: int) -> tuple[bytes, Callable[[], bytes]]:
    """The N-1 mixes of ``frames`` (each ``frame_bytes`` long), and the full mix.

    Returns ``(heard, everyone)``: ``heard`` holds, frame after frame in the
    order given, ``clip16(S - frame)`` where ``S`` is the sum of all the
    frames; ``everyone()`` computes ``clip16(S)``, what a listener who is not
    among them hears.
    """
    count = len(frames)
    if count < 2:
        full = frames[0] if count else bytes(frame_bytes)
        return bytes(frame_bytes * count), lambda: full
    joined = b"".join(frames)
    complement = joined.translate(_COMPLEMENT)
    total, level, level_count = _narrow_sum(complement, count, frame_bytes)
    if total is not None:
        # sum(c) = -S - N, so T = S + 1 = ~sum(c) - N + 2, within 16 bits.
        offset = bias(total.translate(_COMPLEMENT), WIDTH, 2 - count)
        return add(complement, offset * count, WIDTH), lambda: bias(offset, WIDTH, -1)
    return _mix_wide(complement, count, level, level_count, frame_bytes)


def _narrow_sum(complement: bytes, count: int, frame_bytes: int) -> tuple[bytes | None, bytes, int]:
    """``(sum, _, _)`` of the frames if exact in 16 bits, else ``(None, level, level_count)``.

    Summed pairwise, the second half of the frames onto the first, until one
    is left (an odd frame out waits, to be added at the end).  The peak of
    each sum is checked until it proves that nothing still to add can reach a
    limit.  A level that may have clipped hands back the level before it
    (exact) to be summed wide; so does an exact level so loud for its count
    that the next ones would clip anyway.
    """
    level = memoryview(complement)
    checked = True
    waiting: list[memoryview] = []  # frames set aside at odd counts, to add at the end
    waiting_peak = 0  # a bound on their sum
    peak = _LIMIT  # a bound on the samples of `level`
    while count > 1:
        half = count // 2
        edge = half * frame_bytes
        summed = add(level[:edge], level[edge : 2 * edge], WIDTH)
        if checked:
            summed_peak = maxabs(summed, WIDTH)
            if summed_peak >= _LIMIT:  # it may have clipped: `level` is exact
                return None, b"".join((level, *waiting)), count + len(waiting)
        if count & 1:
            waiting.append(level[2 * edge :])
            waiting_peak += peak
        level = memoryview(summed)
        count = half
        if checked:
            peak = summed_peak
            checked = count * peak + waiting_peak >= _LIMIT
            # Independent signals add up like sqrt(count) * peak: clipping is near certain.
            if checked and count > 1 and math.sqrt(count) * peak >= _LIMIT:
                return None, b"".join((level, *waiting)), count + len(waiting)
    total = level
    while waiting:
        summed = add(total, waiting[-1], WIDTH)
        if checked and maxabs(summed, WIDTH) >= _LIMIT:
            return None, b"".join((total, *waiting)), 1 + len(waiting)
        waiting.pop()
        total = memoryview(summed)
    return bytes(total), b"", 0


def _mix_wide(
    complement: bytes, count: int, level: bytes, level_count: int, frame_bytes: int
) -> tuple[bytes, Callable[[], bytes]]:
    """The N-1 mixes when the sum needs more than 16 bits (see the module docstring)."""
    wide = lin2lin(bias(level, WIDTH, _OFFSET), WIDTH, WIDE)
    wide = wide[2:] + b"\0\0"  # each value + 32768, in the low half of a 32-bit lane
    total = _wide_sum(wide, level_count, frame_bytes * WIDE // WIDTH)
    # sum(c) = total - level_count * 32768 = -S - N, and T = S + 1.
    offset = bias(mul(total, WIDE, -1.0), WIDE, level_count * _OFFSET - count + 1)
    first = _clip16(offset)  # A
    rest = add(offset, mul(lin2lin(first, WIDTH, WIDE), WIDE, -(2.0**-16)), WIDE)  # T - A
    second = _clip16(rest)  # B
    heard = add(complement, first * count, WIDTH)
    if second.count(0) != len(second):  # some |T| > 32767: the second step
        heard = add(heard, second * count, WIDTH)
        if maxabs(second, WIDTH) >= _LIMIT and maxabs(complement, WIDTH) > _LIMIT:
            # Maybe T >= 65535 somewhere, and some c is -32768: one step short there.
            third = _positive(_clip16(bias(rest, WIDE, -_LIMIT)))
            heard = add(heard, third * count, WIDTH)
    return heard, lambda: _clip16(bias(offset, WIDE, -1))


def _wide_sum(wide: bytes, count: int, frame_bytes: int) -> bytes:
    """The sum of ``count`` 32-bit frames laid end to end (no overflow below 2**15 frames)."""
    view = memoryview(wide)
    waiting: list[memoryview] = []
    summed = wide
    while count > 1:
        half = count // 2
        edge = half * frame_bytes
        if count & 1:
            waiting.append(view[2 * edge :])
        summed = add(view[:edge], view[edge : 2 * edge], WIDE)
        view = memoryview(summed)
        count = half
    for frame in waiting:
        summed = add(summed, frame, WIDE)
    return summed


def _clip16(wide: bytes) -> bytes:
    """32-bit samples clipped to 16 bits: ``mul`` saturates at the 32-bit limits, ``lin2lin`` keeps the top half."""
    return lin2lin(mul(wide, WIDE, 65536.0), WIDE, WIDTH)


def _positive(pcm: bytes) -> bytes:
    """``max(x, 0)`` sample-wise: ``clip16(x - 32768)`` is ``max(x, 0) - 32768``."""
    return bias(add(pcm, b"\x00\x80" * (len(pcm) // WIDTH), WIDTH), WIDTH, _OFFSET)
