"""The one place that imports :mod:`audioop`.

``audioop`` is in the standard library up to Python 3.12 (deprecated since
3.11, PEP 594) and removed in 3.13, where the ``audioop-lts`` package provides
the same module under the same name.  Every audio module imports it from here,
so the deprecation warning is silenced in exactly one place and nowhere else.

All the functions used by tui-phone work on signed 16-bit samples in the
host's byte order (``width=2``), the PCM format of the whole audio package.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Python 3.11/3.12 warn on import (PEP 594); audioop-lts on 3.13+ does not.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

add = audioop.add
alaw2lin = audioop.alaw2lin
bias = audioop.bias
byteswap = audioop.byteswap
lin2alaw = audioop.lin2alaw
lin2lin = audioop.lin2lin
lin2ulaw = audioop.lin2ulaw
maxabs = audioop.max  # the largest absolute sample value
mul = audioop.mul
ratecv = audioop.ratecv
rms = audioop.rms
tomono = audioop.tomono
tostereo = audioop.tostereo
ulaw2lin = audioop.ulaw2lin
error = audioop.error

__all__ = [
    "add",
    "alaw2lin",
    "bias",
    "byteswap",
    "error",
    "lin2alaw",
    "lin2lin",
    "lin2ulaw",
    "maxabs",
    "mul",
    "ratecv",
    "rms",
    "tomono",
    "tostereo",
    "ulaw2lin",
]
