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

``--together`` runs both callees at once, each called by its own caller, and
measures them over the same window: both see the same machine, which the
rounds one after the other do not (an idle machine makes every wake-up dearer).

``--instructions`` runs each callee under valgrind's callgrind instead and
prints the instructions it executed per 20 ms frame over the window (its
counters zeroed at the start, dumped at the end). That count does not move
with the machine's load, so it shows a change in the work per frame that the
CPU figure hides in its noise; it does not show what a wake-up on cold
caches costs, which is most of the CPU figure here.

``--floor`` also measures a bare Python loop doing what any Python phone must
do per frame (a timerfd wake-up, one sendto, one recvmsg) and nothing else.

    python bench/percall.py [--seconds 30] [--rounds 1] [--together] [--instructions] [--floor]
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
from contextlib import ExitStack
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


def measure(callees: dict[str, tuple[int, str | None]], seconds: float, workdir: Path,
            counter: Instructions | None = None) -> dict[str, dict[str, float]]:
    """Call each callee (name -> (pid, URI); no URI: nothing to call) and
    measure them over the same window."""
    settle = 1.5 if counter is None else 5.0  # after the answer, before the window
    callers: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        for name, (_pid, uri) in callees.items():
            if uri is None:
                continue
            out = workdir / f"{name}.call.out"
            with out.open("wb") as sink:
                callers[name] = (subprocess.Popen(  # the call outlasts the window: its end is not counted
                    tui_phone_command("call", uri, "--duration", str(settle + seconds + 3), "--codecs", "PCMU",
                                      "--json"),
                    stdout=sink, stderr=subprocess.STDOUT, env=environment()), out)
        for caller, out in callers.values():
            wait_for_line(out, '"call_answered"', timeout=60 if counter else 15, process=caller)
        time.sleep(settle)  # let the streams settle
        pids = {name: pid for name, (pid, _uri) in callees.items()}
        if counter is not None:
            for pid in pids.values():
                counter.start(pid)
        cpu0, t0 = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.monotonic()
        rss_peak = {name: rss_kib(pid) for name, pid in pids.items()}
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
            rss_peak = {name: max(rss_peak[name], rss_kib(pid)) for name, pid in pids.items()}
        cpu1, t1 = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.monotonic()
        instructions = {name: counter.stop(name, pid) if counter is not None else 0 for name, pid in pids.items()}
        for caller, _out in callers.values():
            caller.wait(60)
    finally:
        for caller, _out in callers.values():
            stop(caller)
    figures = {}
    for name in pids:
        out = callers[name][1] if name in callers else None
        ended = [json.loads(line) for line in out.read_text().splitlines() if '"call_ended"' in line] if out else []
        rtp = ended[0]["rtp"] if ended else {}
        figures[name] = {"cpu_pct": 100 * (cpu1[name] - cpu0[name]) / (t1 - t0), "rss_mib": rss_peak[name] / 1024,
                         "per_frame": instructions[name] / ((t1 - t0) / FRAME_S),
                         "caller_rx": rtp.get("rx_packets", 0), "caller_tx": rtp.get("tx_packets", 0)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the callees this often")
    parser.add_argument("--together", action="store_true",
                        help="measure both callees at the same time, each with its own caller")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per frame under callgrind instead of CPU time")
    parser.add_argument("--floor", action="store_true",
                        help="also measure a bare Python loop: a timerfd wake-up, one sendto and one recvmsg "
                             "every 20 ms (what any Python phone pays)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"tui-phone": [], "baresip": []}
    if args.floor:
        results[FLOOR] = []
    with tempfile.TemporaryDirectory(prefix="percall-") as temp:
        workdir = Path(temp)
        wav = write_tone_wav(workdir / "tone.wav", args.seconds + 120)
        counter = Instructions(workdir) if args.instructions else None
        for round_ in range(args.rounds):
            def start(name: str, stack: ExitStack, round_: int = round_) -> tuple[int, str | None]:
                if name == FLOOR:
                    return start_floor(stack, counter)
                if name == "tui-phone":
                    return start_tui_phone(stack, workdir, wav, counter)
                return start_baresip_callee(stack, workdir / f"baresip{round_}", wav, counter)

            groups = [list(results)] if args.together else [[name] for name in results]
            for group in groups:
                with ExitStack() as stack:
                    figures = measure({name: start(name, stack) for name in group}, args.seconds, workdir,
                                      counter)
                for name, figure in figures.items():
                    results[name].append(figure)
    mode = "at the same time" if args.together else "one after the other"
    print(f"one PCMU call, RTP both ways, {args.seconds:g} s, callee process ({mode}):")
    if counter is not None:
        for name, rounds in results.items():
            for figure in rounds:
                print(f"{name:10s} {figure['per_frame']:9.0f} instructions per 20 ms frame (under callgrind)"
                      f"   {_call_note(name, figure)}")
        return
    for name, rounds in results.items():
        for figure in rounds:
            print(f"{name:10s} CPU {figure['cpu_pct']:5.2f} % of a core   RSS {figure['rss_mib']:6.1f} MiB"
                  f"   {_call_note(name, figure)}")
    if args.rounds > 1:
        medians = {name: statistics.median(f["cpu_pct"] for f in rounds) for name, rounds in results.items()}
        print("median CPU: " + "   ".join(f"{name} {value:.2f} %" for name, value in medians.items()))


FLOOR = "py-floor"
# The least a Python process does per frame: wake on a 20 ms timerfd, send one
# RTP-sized datagram and read one (to itself, so the kernel work of a send and
# a receive is its own).
_FLOOR_LOOP = """
import os, socket, sys, time
from tui_phone.rtp.ticker import _timerfd
timerfd = _timerfd()
fd = timerfd.create()
os.set_blocking(fd, True)
timerfd.arm(fd, time.monotonic() + 0.02, 0.02)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.setblocking(False)
here, datagram = sock.getsockname(), bytes(172)
print("ready", flush=True)
while True:
    os.read(fd, 8)
    sock.sendto(datagram, here)
    try:
        sock.recvmsg(2048, 64)
    except BlockingIOError:
        pass
"""


def start_floor(stack: ExitStack, counter: Instructions | None = None) -> tuple[int, None]:
    """The bare Python loop (:data:`_FLOOR_LOOP`) until ``stack`` closes; its pid."""
    prefix = counter.prefix(FLOOR) if counter is not None else []
    loop = subprocess.Popen([*prefix, sys.executable, "-c", _FLOOR_LOOP], stdout=subprocess.PIPE,
                            env=environment())
    stack.callback(stop, loop)
    assert loop.stdout is not None
    loop.stdout.readline()  # "ready"
    return loop.pid, None


def _call_note(name: str, figure: dict[str, float]) -> str:
    if name == FLOOR:
        return "(no call: timerfd wake-up, one sendto and one recvmsg per 20 ms)"
    return f"(caller got {figure['caller_rx']} packets, sent {figure['caller_tx']})"


def start_tui_phone(stack: ExitStack, workdir: Path, wav: Path,
                    counter: Instructions | None = None) -> tuple[int, str]:
    """``tui-phone answer --play WAV`` until ``stack`` closes; its pid and URI."""
    port = free_port(both=True)
    out = workdir / "answer.out"
    prefix = counter.prefix("tui-phone") if counter is not None else []
    with out.open("wb") as sink:
        answer = subprocess.Popen(
            [*prefix, *tui_phone_command("answer", "--listen", f"127.0.0.1:{port}", "--play", str(wav),
                                         "--json")],
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    stack.callback(stop, answer)
    wait_for_line(out, '"listening"', timeout=120 if counter else 10, process=answer)
    time.sleep(1)
    return answer.pid, f"sip:x@127.0.0.1:{port}"


def start_baresip_callee(stack: ExitStack, directory: Path, wav: Path,
                         counter: Instructions | None = None) -> tuple[int, str]:
    """baresip auto-answering with the WAV until ``stack`` closes; its pid and URI."""
    prefix = counter.prefix("baresip") if counter is not None else ()
    baresip, port, _log = start_baresip(directory, user="bob", wav=wav, codecs="pcmu", prefix=prefix)
    stack.callback(stop_baresip, baresip)
    return baresip.pid, f"sip:bob@127.0.0.1:{port}"


if __name__ == "__main__":
    main()
