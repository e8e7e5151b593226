"""The local conference mixer: an 18-party N-1 mix of 20 ms frames at 8 kHz.

Every participant pushes one 20 ms frame (160 samples, 16-bit) and gets back
the sum of the 17 others, saturated, per tick. Prints the time per tick (all
18 output frames, as bytes) and per output frame, for the whole
ConferenceMixer path (push, resampling bypass at equal rates, mix), with two
signals:

* ``loud``: 18 sines of amplitude 12000 at once, whose sum clips (the mixer's
  wide path, see tui_phone/audio/mixminus.py);
* ``talk``: the same sines at a tenth of that (about -29 dBFS each), whose sum
  stays within 16 bits (the narrow path, the usual one in a conference).

The sines run on from tick to tick (their frequencies are not multiples of
50 Hz), so every tick mixes new frames: 250 distinct ticks (5 s) per signal,
pushed in turn; nothing can be reused from one tick to the next.

Both mix-minus kernels are timed (``--kernel``): ``audioop`` (always there)
and ``numpy`` (the ``fast`` extra), which the phone's mixer uses from 5
talking parties up when numpy is installed (``kernel="auto"``).

Each figure is the best of many short runs (a few ms each), so that other
processes on the machine inflate it as little as possible. Prints figures;
never fails on time.

    python bench/mixer.py [--parties 18] [--seconds 2] [--signal loud|talk|both] [--kernel audioop|numpy|both]
"""

from __future__ import annotations

import argparse
import itertools
import math
import struct
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_phone.audio.mixer import ConferenceMixer  # noqa: E402

RATE = 8000
FRAME = 160
TICKS = 250  # distinct ticks per signal (5 s of audio)


SIGNALS = {"loud": 12000, "talk": 1200}  # sine amplitudes


def frames(parties: int, amplitude: int = SIGNALS["loud"], tick: int = 0) -> list[bytes]:
    """One distinct 20 ms sine frame per participant at ``tick`` (loud by default: the sum clips)."""
    out = []
    for p in range(parties):
        freq = 213 + 50 * p  # not a multiple of 50 Hz: no two ticks are alike
        start = tick * FRAME
        samples = [int(amplitude * math.sin(2 * math.pi * freq * (start + n) / RATE)) for n in range(FRAME)]
        out.append(struct.pack(f"<{FRAME}h", *samples))
    return out


def time_tick(parties: int, amplitude: int, seconds: float, kernel: str) -> float:
    """Best time of one tick (push all + mix all) with ``kernel``, in seconds."""
    mixer: ConferenceMixer[int] = ConferenceMixer(rate=RATE, frame_ms=20, kernel=kernel)
    for p in range(parties):
        mixer.add(p, RATE)
    assert mixer.kernel == kernel
    ticks = itertools.cycle([list(enumerate(frames(parties, amplitude, tick))) for tick in range(TICKS)])

    def tick() -> None:
        for p, pcm in next(ticks):
            mixer.push(p, pcm)
        mixer.mix()

    timer = timeit.Timer(tick)
    number, elapsed = timer.autorange()  # number ticks take at least 0.2 s
    per_tick = elapsed / number
    number = max(1, int(0.005 / per_tick))  # runs of about 5 ms
    repeat = max(5, int(seconds / (number * per_tick)))
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=18)
    parser.add_argument("--seconds", type=float, default=2.0, help="per signal")
    parser.add_argument("--signal", choices=(*SIGNALS, "both"), default="both")
    parser.add_argument("--kernel", choices=("audioop", "numpy", "both"), default="both")
    args = parser.parse_args()
    print(f"parties={args.parties} rate={RATE} frame=20ms python={sys.version.split()[0]}")
    kernels = ("audioop", "numpy") if args.kernel == "both" else (args.kernel,)
    for kernel, (name, amplitude) in itertools.product(kernels, SIGNALS.items()):
        if args.signal not in (name, "both"):
            continue
        best = time_tick(args.parties, amplitude, args.seconds, kernel)
        print(f"kernel {kernel}, signal {name} (sine amplitude {amplitude})")
        print(f"  per tick (push all + mix all): {best * 1e6:8.2f} us")
        print(f"  per output frame:              {best * 1e6 / args.parties:8.2f} us")
        print(f"  real-time budget used:         {best / 0.020 * 100:8.3f} % of one 20 ms tick")


if __name__ == "__main__":
    main()
