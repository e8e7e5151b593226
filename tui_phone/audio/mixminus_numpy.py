"""Mix-minus with numpy: the same N-1 mixes as :mod:`.mixminus`, in four array passes.

:mod:`.mixminus` gets the exact, saturating N-1 mixes out of ``audioop``,
which has no subtraction and no 32-bit sum of 16-bit samples: every step
costs a pass over all the frames, and loud sums that leave 16 bits cost
more passes.  For an 18-party conference that is about 15 µs per tick at
talk level and 27 µs when the sum clips (``bench/mixer.py``).  numpy does
the same arithmetic in fixed steps whatever the level:

1. the true sum ``S`` of every column, in 32 bits (no overflow below 2**16
   frames);
2. ``S - own`` for every frame, in 32 bits (broadcast);
3. clipped to 16 bits in place;
4. narrowed to 16-bit samples and returned as bytes.

About 6 µs for 18 parties at any level.  numpy is an optional dependency
(the ``fast`` extra) and importing it takes about 60 ms and 17 MB, so
:class:`~.mixer.ConferenceMixer` only uses this kernel for large
conferences (see ``FAST_FROM`` there) and loads it off the reactor thread.

Samples are signed 16-bit in the host's byte order, as everywhere in
:mod:`tui_phone.audio`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

_PCM = np.dtype(np.int16)  # native byte order, like audioop
_WIDE = np.dtype(np.int32)


class NumpyMixMinus:
    """Callable like :func:`.mixminus.mix_minus`; keeps its work arrays between ticks.

    The arrays are made again only when the number of frames or their size
    changes.  The bytes returned are copies: nothing handed out aliases them.
    """

    def __init__(self) -> None:
        self._shape: tuple[int, int] = (0, 0)
        self._total = np.zeros(0, _WIDE)
        self._wide = np.zeros((0, 0), _WIDE)
        self._narrow = np.zeros((0, 0), _PCM)
        self._high = np.zeros((0, 0), _WIDE)
        self._low = np.zeros((0, 0), _WIDE)

    def __call__(self, frames: Sequence[bytes], frame_bytes: int) -> tuple[bytes, Callable[[], bytes]]:
        """``(heard, everyone)`` exactly as :func:`.mixminus.mix_minus` returns them."""
        count = len(frames)
        samples = frame_bytes // _PCM.itemsize
        if count < 2:
            full = frames[0] if count else bytes(frame_bytes)
            return bytes(frame_bytes * count), lambda: full
        if self._shape != (count, samples):
            self._allocate(count, samples)
        pcm = np.frombuffer(b"".join(frames), _PCM).reshape(count, samples)
        total = self._total
        np.add.reduce(pcm, axis=0, dtype=_WIDE, out=total)
        wide = self._wide
        np.subtract(total, pcm, out=wide)
        self._clip(wide)
        np.copyto(self._narrow, wide, casting="unsafe")  # within 16 bits now: nothing truncated
        total_bytes = total.tobytes()
        return self._narrow.tobytes(), lambda: _clip16(total_bytes)

    def _allocate(self, count: int, samples: int) -> None:
        self._shape = (count, samples)
        self._total = np.empty(samples, _WIDE)
        self._wide = np.empty((count, samples), _WIDE)
        self._narrow = np.empty((count, samples), _PCM)
        # Arrays, not scalars: a scalar bound costs numpy a conversion per call.
        self._high = np.full((count, samples), np.iinfo(_PCM).max, _WIDE)
        self._low = np.full((count, samples), np.iinfo(_PCM).min, _WIDE)

    def _clip(self, wide: np.ndarray) -> None:
        np.minimum(wide, self._high, out=wide)
        np.maximum(wide, self._low, out=wide)


def _clip16(wide: bytes) -> bytes:
    """32-bit samples (as bytes) clipped to 16 bits."""
    values = np.frombuffer(wide, _WIDE)
    return np.clip(values, np.iinfo(_PCM).min, np.iinfo(_PCM).max).astype(_PCM).tobytes()
