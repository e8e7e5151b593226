"""RTP send pacing under load: 20 ms PCMU for a while, measured on the wire.

Runs the RTP endpoint's ``stream`` scenario (tui_phone.testing.rtp_scenarios,
asyncio reactor) with no impairment, while another process keeps one core busy,
and captures the sender's packets on loopback with dumpcap. From the capture
it prints p50, p99 and max of |interval - 20 ms| between consecutive packets,
and of the timestamp drift |(rtp_ts - rtp_ts0)/8000 - (t - t0)| (how far the
wall clock strays from the sample clock the timestamps follow). Needs root
(capture on lo) and tshark/dumpcap. Prints figures; never fails on time.

``--realtime`` runs the sender under SCHED_FIFO (priority 10, needs root or
CAP_SYS_NICE), as an audio thread usually is: on a machine where other jobs
compete for the cores, the sender's wake-ups then wait for nobody, and what
remains is the sender's own timing. Without it the figures include the
kernel scheduler's latency, whatever the machine's other load makes it.

    python bench/pacing.py [--seconds 60] [--no-load] [--realtime]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_phone.testing.rtp_scenarios import read_record, start_rtp_scenario  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def wait_for_capture(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dumpcap exited early: {process.stderr.read().decode() if process.stderr else ''}")
        if path.exists() and path.stat().st_size > 0:
            time.sleep(0.5)
            return
        time.sleep(0.05)
    raise SystemExit("dumpcap did not start capturing within 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-load", action="store_true", help="do not keep a core busy")
    parser.add_argument("--realtime", action="store_true", help="run the sender under SCHED_FIFO")
    args = parser.parse_args()
    packets = int(args.seconds / 0.02)
    load = None
    if not args.no_load:
        load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    scenario = start_rtp_scenario(
        "stream", "--packets", str(packets), "--loss", "0", "--duplicate", "0",
        "--reorder", "0", "--jitter-ms", "0", "--wait", "--rtcp-min", "5",
    )
    if args.realtime:
        os.sched_setscheduler(scenario.pid, os.SCHED_FIFO, os.sched_param(10))
    with tempfile.TemporaryDirectory() as tmp:
        pcap = Path(tmp) / "pacing.pcapng"
        try:
            ready = read_record(scenario)
            relay = ready["relay"]
            capture = subprocess.Popen(
                ["dumpcap", "-q", "-i", "lo", "-f", f"udp dst port {relay}", "-w", str(pcap)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            wait_for_capture(pcap, capture)
            assert scenario.stdin is not None
            scenario.stdin.write("go\n")
            scenario.stdin.flush()
            result = read_record(scenario)
            time.sleep(1.5)  # let dumpcap flush the tail
            capture.send_signal(signal.SIGINT)
            capture.wait(timeout=10)
        finally:
            if load is not None:
                load.kill()
            scenario.kill()
        fields = subprocess.run(
            ["tshark", "-r", str(pcap), "-d", f"udp.port=={relay},rtp", "-T", "fields",
             "-e", "frame.time_epoch", "-e", "rtp.timestamp", "-e", "rtp.seq"],
            capture_output=True, text=True, check=True,
        ).stdout
    rows = [line.split("\t") for line in fields.splitlines() if line.count("\t") == 2 and line.split("\t")[1]]
    times = [float(r[0]) for r in rows]
    stamps = [int(r[1]) for r in rows]
    intervals = [abs((b - a) * 1000 - 20.0) for a, b in zip(times, times[1:])]
    drift = [abs((s - stamps[0]) / 8.0 - (t - times[0]) * 1000) for s, t in zip(stamps, times)]
    print(
        f"python {sys.version.split()[0]}, pid {os.getpid()}, load={'none' if args.no_load else 'one busy core'}, "
        f"scheduling={'SCHED_FIFO 10' if args.realtime else 'default'}, load average {os.getloadavg()[0]:.2f}"
    )
    sent = (result['sender'].get('sent') or {}).get('packets_sent', '?')
    print(f"packets sent {sent}, captured {len(rows)}")
    for name, values in (("|interval - 20 ms|", intervals), ("timestamp drift", drift)):
        print(
            f"{name:<20} p50 {percentile(values, 0.5):7.3f} ms  p99 {percentile(values, 0.99):7.3f} ms"
            f"  max {max(values):7.3f} ms  mean {statistics.fmean(values):7.3f} ms"
        )
    print(json.dumps({"p99_interval_ms": percentile(intervals, 0.99), "p99_drift_ms": percentile(drift, 0.99)}))


if __name__ == "__main__":
    main()
