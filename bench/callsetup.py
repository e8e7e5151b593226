"""INVITE to 200 OK latency on loopback, measured on the wire: tui-phone next to baresip.

sipp's built-in ``uac`` places ``--calls`` calls, one at a time, into
``tui-phone answer`` and then into baresip (auto-answering), in the same run.
dumpcap captures the SIP port of each callee on lo; tshark gives the time of
each INVITE and of the 200 OK answering it, per Call-ID. Prints median, p90
and max of the difference for both, and the ratio of the medians (issue 4's
target: tui-phone's median no higher than baresip's). ``--rounds`` repeats the
pair of measurements, each round with fresh processes, since figures on a
shared machine move from run to run. Needs root (capture on lo), sipp,
baresip, dumpcap and tshark. Prints figures; never fails on time.

    python bench/callsetup.py [--calls 100] [--rounds 1]
"""

from __future__ import annotations

import argparse
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
    require,
    start_baresip,
    stop,
    stop_baresip,
    tui_phone_command,
    wait_for_line,
)


def capture(pcap: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([require("dumpcap"), "-q", "-i", "lo", "-f", f"udp port {port}",
                                "-w", str(pcap)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (pcap.exists() and pcap.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    return process


def finish_capture(process: subprocess.Popen[bytes]) -> None:
    time.sleep(1.5)  # dumpcap loses the last second on a quick SIGINT
    process.send_signal(2)
    process.wait(10)


def setup_latencies(pcap: Path, port: int) -> list[float]:
    """Seconds from each INVITE (first copy) to the first 200 OK for it, per Call-ID."""
    fields = subprocess.run(
        [require("tshark"), "-r", str(pcap), "-d", f"udp.port=={port},sip", "-Y", "sip",
         "-T", "fields", "-e", "frame.time_epoch", "-e", "sip.Call-ID", "-e", "sip.Method",
         "-e", "sip.Status-Code", "-e", "sip.CSeq.method"],
        capture_output=True, text=True, check=True).stdout
    invites: dict[str, float] = {}
    answers: dict[str, float] = {}
    for line in fields.splitlines():
        parts = line.split("\t")
        if len(parts) < 5:
            continue
        when, call_id, method, status, cseq_method = parts[:5]
        if method == "INVITE":
            invites.setdefault(call_id, float(when))
        elif status == "200" and cseq_method == "INVITE":
            answers.setdefault(call_id, float(when))
    return [answers[c] - invites[c] for c in invites if c in answers]


def run_sipp(workdir: Path, port: int, user: str, calls: int) -> str:
    command = [require("sipp"), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-ci", "127.0.0.1",
               "-nostdin", "-p", str(free_port()), "-mp", str(free_port(pair=True)),
               f"127.0.0.1:{port}", "-sn", "uac", "-s", user, "-m", str(calls), "-l", "1",
               "-r", "20", "-d", "50", "-recv_timeout", "5000", "-timeout", "120s",
               "-timeout_error", "-trace_stat", "-stf", str(workdir / f"{user}.csv"), "-fd", "1"]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=180,
                            check=False)
    return f"sipp exit {result.returncode}"


def measure(name: str, workdir: Path, port: int, user: str, calls: int) -> list[float]:
    pcap = workdir / f"{name}.pcapng"
    dumpcap = capture(pcap, port)
    try:
        outcome = run_sipp(workdir, port, user, calls)
    finally:
        finish_capture(dumpcap)
    latencies = setup_latencies(pcap, port)
    print(f"{name}: {outcome}, {len(latencies)} calls measured", flush=True)
    return latencies


def report(name: str, values: list[float]) -> float | None:
    """Print the figures of one callee; returns its median in ms."""
    if not values:
        print(f"{name:10s} no call measured")
        return None
    ms = sorted(v * 1000 for v in values)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    median = statistics.median(ms)
    print(f"{name:10s} n={len(ms):3d}  median {median:7.3f} ms  "
          f"p90 {p90:7.3f} ms  max {ms[-1]:7.3f} ms")
    return median


def one_round(workdir: Path, calls: int) -> tuple[list[float], list[float]]:
    """tui-phone, then baresip, each freshly started: their latencies in seconds."""
    port = free_port(both=True)
    out = workdir / "answer.out"
    with out.open("wb") as sink:
        answer = subprocess.Popen(
            tui_phone_command("answer", "--listen", f"127.0.0.1:{port}", "--json"),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"listening"', process=answer)
        ours = measure("tui-phone", workdir, port, "service", calls)
    finally:
        stop(answer)
    baresip, bport, _log = start_baresip(workdir / "baresip", user="bob")
    try:
        theirs = measure("baresip", workdir, bport, "bob", calls)
    finally:
        stop_baresip(baresip)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the pair of measurements")
    args = parser.parse_args()
    results = []
    for number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="callsetup-") as temp:
            results.append(one_round(Path(temp), args.calls))
        if args.rounds > 1:
            print(f"round {number} of {args.rounds} measured", flush=True)
    for number, (ours, theirs) in enumerate(results, start=1):
        round_name = f" (round {number})" if args.rounds > 1 else ""
        print(f"INVITE -> 200 OK on the wire, {args.calls} sequential calls from sipp uac"
              f"{round_name}:")
        mine, baresip = report("tui-phone", ours), report("baresip", theirs)
        if mine is not None and baresip:
            print(f"{'ratio':10s} tui-phone median / baresip median = {mine / baresip:.2f}")


if __name__ == "__main__":
    main()
