"""The local conference mixer: an 18-party N-1 mix of 20 ms frames at 8 kHz.

Every participant pushes one 20 ms frame (160 samples, 16-bit) and gets back
the sum of the 17 others, saturated, per tick. Prints the time per tick (all
18 output frames) and per output frame, for the whole ConferenceMixer path
(push, resampling bypass at equal rates, mix) and for the arithmetic core
alone. Prints figures; never fails on time.

    python bench/mixer.py [--parties 18] [--seconds 2]
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_phone.audio.mixer import ConferenceMixer  # noqa: E402

RATE = 8000
FRAME = 160


def frames(parties: int) -> list[bytes]:
    """One distinct 20 ms sine frame per participant, loud enough to clip in sum."""
    out = []
    for p in range(parties):
        freq = 200 + 50 * p
        samples = [int(12000 * math.sin(2 * math.pi * freq * n / RATE)) for n in range(FRAME)]
        out.append(struct.pack(f"<{FRAME}h", *samples))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=18)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    mixer: ConferenceMixer[int] = ConferenceMixer(rate=RATE, frame_ms=20)
    pcm = frames(args.parties)
    for p in range(args.parties):
        mixer.add(p, RATE)

    def tick() -> None:
        for p in range(args.parties):
            mixer.push(p, pcm[p])
        mixer.mix()

    timer = timeit.Timer(tick)
    number, elapsed = timer.autorange()
    number = max(1, int(number * args.seconds / max(elapsed, 1e-9) / 5))
    best = min(timer.repeat(repeat=5, number=number)) / number
    print(f"parties={args.parties} rate={RATE} frame=20ms python={sys.version.split()[0]}")
    print(f"per tick (push all + mix all): {best * 1e6:8.2f} us")
    print(f"per output frame:              {best * 1e6 / args.parties:8.2f} us")
    print(f"real-time budget used:         {best / 0.020 * 100:8.3f} % of one 20 ms tick")


if __name__ == "__main__":
    main()
