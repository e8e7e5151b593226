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

    python bench/percall.py [--seconds 30] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
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


def measure(name: str, pid: int, uri: str, seconds: float, workdir: Path) -> dict[str, float]:
    out = workdir / f"{name}.call.out"
    with out.open("wb") as sink:
        caller = subprocess.Popen(
            tui_phone_command("call", uri, "--duration", str(seconds + 3), "--codecs", "PCMU",
                              "--json"),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"call_answered"', timeout=15, process=caller)
        time.sleep(1.5)  # let the streams settle
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        rss_peak = rss_kib(pid)
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
            rss_peak = max(rss_peak, rss_kib(pid))
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        caller.wait(30)
    finally:
        stop(caller)
    ended = [json.loads(line) for line in out.read_text().splitlines() if '"call_ended"' in line]
    rtp = ended[0]["rtp"] if ended else {}
    return {"cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0), "rss_mib": rss_peak / 1024,
            "caller_rx": rtp.get("rx_packets", 0), "caller_tx": rtp.get("tx_packets", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the callees this often")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"tui-phone": [], "baresip": []}
    with tempfile.TemporaryDirectory(prefix="percall-") as temp:
        workdir = Path(temp)
        wav = write_tone_wav(workdir / "tone.wav", args.seconds + 60)
        for round_ in range(args.rounds):
            results["tui-phone"].append(measure_tui_phone(workdir, wav, args.seconds))
            results["baresip"].append(measure_baresip(workdir / f"baresip{round_}", wav, args.seconds))
    print(f"one PCMU call, RTP both ways, {args.seconds:g} s, callee process:")
    for name, rounds in results.items():
        for figures in rounds:
            print(f"{name:10s} CPU {figures['cpu_pct']:5.2f} % of a core   RSS {figures['rss_mib']:6.1f} MiB"
                  f"   (caller got {figures['caller_rx']} packets, sent {figures['caller_tx']})")
    if args.rounds > 1:
        medians = {name: statistics.median(f["cpu_pct"] for f in rounds) for name, rounds in results.items()}
        print("median CPU: " + "   ".join(f"{name} {value:.2f} %" for name, value in medians.items()))


def measure_tui_phone(workdir: Path, wav: Path, seconds: float) -> dict[str, float]:
    port = free_port(both=True)
    out = workdir / "answer.out"
    with out.open("wb") as sink:
        answer = subprocess.Popen(
            tui_phone_command("answer", "--listen", f"127.0.0.1:{port}", "--play", str(wav), "--json"),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"listening"', process=answer)
        time.sleep(1)
        return measure("tui-phone", answer.pid, f"sip:x@127.0.0.1:{port}", seconds, workdir)
    finally:
        stop(answer)


def measure_baresip(directory: Path, wav: Path, seconds: float) -> dict[str, float]:
    baresip, port, _log = start_baresip(directory, user="bob", wav=wav, codecs="pcmu")
    try:
        return measure("baresip", baresip.pid, f"sip:bob@127.0.0.1:{port}", seconds, directory.parent)
    finally:
        stop_baresip(baresip)


if __name__ == "__main__":
    main()
