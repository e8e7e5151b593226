"""Python bytecodes per 20 ms frame of one call, by function: where the tick's Python work goes.

Runs ``tui-phone answer --play tone.wav`` in this process with an opcode
tracer on every thread, has ``tui-phone call`` (a subprocess) call it, and
over ``--seconds`` of the established call counts the bytecodes executed per
function. Divided by the frames the callee sent in that window, that is the
Python work per frame, the figure bench/percall.py's CPU follows (C code
called from Python, the C speed-ups included, counts as the one call
instruction that called it). Deterministic, unlike CPU time: use it to see
what a change to the tick saves.

    python bench/tickops.py [--seconds 5] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_phone.testing.peers import environment, free_port, tui_phone_command, write_tone_wav  # noqa: E402

FRAME_S = 0.020


class OpcodeCounter:
    """Counts opcode events per code object while :attr:`on` is set."""

    def __init__(self) -> None:
        self.on = False
        self.counts: collections.Counter[CodeType] = collections.Counter()

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        return self.local_trace

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode" and self.on:
            self.counts[frame.f_code] += 1
        return self.local_trace

    def install(self) -> None:
        threading.settrace(self.global_trace)
        sys.settrace(self.global_trace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    from tui_phone import cli
    from tui_phone.rtp import session as session_module

    sessions: list[Any] = []
    original_init = session_module.RtpSession.__init__

    def remembering_init(self: Any, *a: Any, **kw: Any) -> None:
        original_init(self, *a, **kw)
        sessions.append(self)

    session_module.RtpSession.__init__ = remembering_init  # type: ignore[method-assign]

    counter = OpcodeCounter()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "tone.wav"
        write_tone_wav(wav, seconds=args.seconds + 20)
        port = free_port(both=True)
        caller_out = Path(tmp) / "call.out"

        def call_and_measure() -> None:
            time.sleep(2)  # the answerer listens
            with caller_out.open("wb") as sink:
                caller = subprocess.Popen(
                    tui_phone_command("call", f"sip:x@127.0.0.1:{port}", "--play", str(wav),
                                      "--duration", str(args.seconds + 6), "--json"),
                    stdout=sink, stderr=subprocess.STDOUT, env=environment())
            time.sleep(3)  # set up and settled
            sent0 = _sent(sessions)
            counter.on = True
            time.sleep(args.seconds)
            counter.on = False
            frames = _sent(sessions) - sent0
            caller.wait(timeout=60)
            report(counter, frames, args.top)

        threading.Thread(target=call_and_measure, daemon=True).start()
        counter.install()
        try:
            cli.cli(["answer", "--listen", f"127.0.0.1:{port}", "--play", str(wav), "--max-calls", "1"],
                    obj={}, standalone_mode=False)
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]


def _sent(sessions: list[Any]) -> int:
    # (the sender's counters, not stats(): a snapshot would prune the bitrate log the tick appends to)
    return sum(s._sender.counters.packets_sent for s in sessions if s._sender is not None)


def report(counter: OpcodeCounter, frames: int, top: int) -> None:
    total = sum(counter.counts.values())
    print(f"{frames} frames sent in the window; {total} bytecodes: {total / max(frames, 1):.0f} per frame")
    by_function: collections.Counter[str] = collections.Counter()
    for code, count in counter.counts.items():
        name = f"{Path(code.co_filename).name}:{code.co_qualname}"
        by_function[name] += count
    for name, count in by_function.most_common(top):
        print(f"{count / max(frames, 1):8.1f}  {name}")


if __name__ == "__main__":
    main()
