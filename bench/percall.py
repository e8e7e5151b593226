"""CPU and memory of one active G.711 call, RTP both ways: tui-phone next to baresip.

The callee under test is ``tui-phone answer --play tone.wav`` (headless: it
decodes what it receives into the null backend and encodes the WAV it
sends), then baresip auto-answering with the same WAV through aufile. The
caller is ``tui-phone call`` (PCMU both ways, 20 ms). Over ``--seconds`` of
the established call we read the callee's user+sys time from /proc/PID/stat
and its RSS from /proc/PID/status, and print CPU as a percentage of one core.
Prints figures; never fails on time.

On a shared machine one run varies by a third (caches, the other core's
load, where the scheduler puts the caller): ``--rounds N`` alternates the
two callees N times and prints every round and the medians.

``--instructions`` runs each callee under valgrind's callgrind instead and
prints the instructions it executed per 20 ms frame over the window (its
counters zeroed at the start, dumped at the end). That count does not move
with the machine's load, so it shows a change in the work per frame that the
CPU figure hides in its noise; it does not show what a wake-up on cold
caches costs, which is most of the CPU figure here.

    python bench/percall.py [--seconds 30] [--rounds 1] [--instructions]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_phone.testing.peers import (  # noqa: E402
    environment,
    free_port,
    start_baresip,
    stop,
    stop_baresip,
    tui_phone_command,
    wait_for_line,
    write_tone_wav,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user + sys time of ``pid`` (and its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


FRAME_S = 0.020


class Instructions:
    """Counts a callgrind-run process's instructions over a window."""

    def __init__(self, workdir: Path) -> None:
        self.valgrind = shutil.which("valgrind")
        self.control = shutil.which("callgrind_control")
        if self.valgrind is None or self.control is None:
            raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
        self.workdir = workdir

    def prefix(self, name: str) -> list[str]:
        assert self.valgrind is not None
        return [self.valgrind, "--tool=callgrind", f"--callgrind-out-file={self.workdir}/{name}.cg.%p"]

    def start(self, pid: int) -> None:
        assert self.control is not None
        subprocess.run([self.control, "-z", str(pid)], check=True, capture_output=True)

    def stop(self, name: str, pid: int) -> int:
        """The instructions since :meth:`start` (all threads)."""
        assert self.control is not None
        subprocess.run([self.control, "-d", str(pid)], check=True, capture_output=True)
        dump = self.workdir / f"{name}.cg.{pid}.1"
        deadline = time.monotonic() + 30
        while not (dump.exists() and re.search(r"^summary: (\d+)", dump.read_text(), re.M)):
            if time.monotonic() > deadline:
                raise SystemExit(f"no callgrind dump {dump}")
            time.sleep(0.2)
        return int(re.search(r"^summary: (\d+)", dump.read_text(), re.M).group(1))  # type: ignore[union-attr]


def measure(name: str, pid: int, uri: str, seconds: float, workdir: Path,
            counter: Instructions | None = None) -> dict[str, float]:
    out = workdir / f"{name}.call.out"
    settle = 1.5 if counter is None else 5.0  # after the answer, before the window
    with out.open("wb") as sink:
        caller = subprocess.Popen(  # the call outlasts the window: its end is not counted
            tui_phone_command("call", uri, "--duration", str(settle + seconds + 3), "--codecs", "PCMU",
                              "--json"),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"call_answered"', timeout=60 if counter else 15, process=caller)
        time.sleep(settle)  # let the streams settle
        if counter is not None:
            counter.start(pid)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        rss_peak = rss_kib(pid)
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
            rss_peak = max(rss_peak, rss_kib(pid))
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        instructions = counter.stop(name, pid) if counter is not None else 0
        caller.wait(60)
    finally:
        stop(caller)
    ended = [json.loads(line) for line in out.read_text().splitlines() if '"call_ended"' in line]
    rtp = ended[0]["rtp"] if ended else {}
    return {"cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0), "rss_mib": rss_peak / 1024,
            "per_frame": instructions / ((t1 - t0) / FRAME_S),
            "caller_rx": rtp.get("rx_packets", 0), "caller_tx": rtp.get("tx_packets", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the callees this often")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per frame under callgrind instead of CPU time")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"tui-phone": [], "baresip": []}
    with tempfile.TemporaryDirectory(prefix="percall-") as temp:
        workdir = Path(temp)
        wav = write_tone_wav(workdir / "tone.wav", args.seconds + 120)
        counter = Instructions(workdir) if args.instructions else None
        for round_ in range(args.rounds):
            results["tui-phone"].append(measure_tui_phone(workdir, wav, args.seconds, counter))
            results["baresip"].append(measure_baresip(workdir / f"baresip{round_}", wav, args.seconds, counter))
    print(f"one PCMU call, RTP both ways, {args.seconds:g} s, callee process:")
    if counter is not None:
        for name, rounds in results.items():
            for figures in rounds:
                print(f"{name:10s} {figures['per_frame']:9.0f} instructions per 20 ms frame (under callgrind)"
                      f"   (caller got {figures['caller_rx']} packets, sent {figures['caller_tx']})")
        return
    for name, rounds in results.items():
        for figures in rounds:
            print(f"{name:10s} CPU {figures['cpu_pct']:5.2f} % of a core   RSS {figures['rss_mib']:6.1f} MiB"
                  f"   (caller got {figures['caller_rx']} packets, sent {figures['caller_tx']})")
    if args.rounds > 1:
        medians = {name: statistics.median(f["cpu_pct"] for f in rounds) for name, rounds in results.items()}
        print("median CPU: " + "   ".join(f"{name} {value:.2f} %" for name, value in medians.items()))


def measure_tui_phone(workdir: Path, wav: Path, seconds: float,
                      counter: Instructions | None = None) -> dict[str, float]:
    port = free_port(both=True)
    out = workdir / "answer.out"
    prefix = counter.prefix("tui-phone") if counter is not None else []
    with out.open("wb") as sink:
        answer = subprocess.Popen(
            [*prefix, *tui_phone_command("answer", "--listen", f"127.0.0.1:{port}", "--play", str(wav),
                                         "--json")],
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"listening"', timeout=120 if counter else 10, process=answer)
        time.sleep(1)
        return measure("tui-phone", answer.pid, f"sip:x@127.0.0.1:{port}", seconds, workdir, counter)
    finally:
        stop(answer)


def measure_baresip(directory: Path, wav: Path, seconds: float,
                    counter: Instructions | None = None) -> dict[str, float]:
    prefix = counter.prefix("baresip") if counter is not None else ()
    baresip, port, _log = start_baresip(directory, user="bob", wav=wav, codecs="pcmu", prefix=prefix)
    try:
        return measure("baresip", baresip.pid, f"sip:bob@127.0.0.1:{port}", seconds, directory.parent,
                       counter)
    finally:
        stop_baresip(baresip)


if __name__ == "__main__":
    main()
