"""How many concurrent G.711 echo calls ``tui-phone answer --echo`` holds on one core.

sipp places N calls at once with the ``uac_pcap`` scenario (each streams
/usr/share/sip-tester/g711a.pcap, about 7 s of PCMA, then a DTMF digit)
into ``tui-phone answer --echo`` pinned to one core (``taskset``; sipp gets
the other cores). A level passes when no call failed (sipp's counters) and
the RTP loss that tui-phone measured over all calls (its ``call_ended``
statistics) is below 0.1 %. The level rises until one fails. Prints a line
per level and the highest level that passed. Never fails on time.

    python bench/capacity.py [--levels 50,100,200,300,400,500,600,800]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_phone.testing.peers import (  # noqa: E402
    free_port,
    require,
    sipp_counts,
    start_answer,
    stop,
)

PCAP_DIR = Path("/usr/share/sip-tester")


def scenario(workdir: Path) -> Path:
    """sipp's built-in uac_pcap with the pcap paths made absolute."""
    # sipp -sd prints the scenario and exits 99
    text = subprocess.run([require("sipp"), "-sd", "uac_pcap"], capture_output=True, text=True,
                          check=False).stdout
    if "<scenario" not in text:
        raise SystemExit("sipp -sd uac_pcap printed no scenario")
    # Without the DTMF digit at the end: it comes with another SSRC, and our
    # call_ended statistics describe the last source only.
    text = re.sub(r"<nop>\s*<action>\s*<exec play_pcap_audio=\"pcap/dtmf_2833_1\.pcap\"/>"
                  r"\s*</action>\s*</nop>", "", text)
    path = workdir / "uac_pcap.xml"
    path.write_text(text.replace('"pcap/', f'"{PCAP_DIR}/'))
    return path


def _cpu(pid: int) -> int:
    """user + sys clock ticks of ``pid`` (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run_level(workdir: Path, calls: int, core: int) -> dict[str, float]:
    running = start_answer(workdir, "--echo", name=f"answer{calls}", prefix=("taskset", "-c", str(core)))
    answer, out, port = running.process, running.out, running.port
    stats = workdir / f"sipp{calls}.csv"
    try:
        others = ",".join(str(c) for c in range(os.cpu_count() or 1) if c != core) or str(core)
        command = ["taskset", "-c", others, require("sipp"), "-i", "127.0.0.1",
                   "-mi", "127.0.0.1", "-ci", "127.0.0.1", "-nostdin", "-p", str(free_port()),
                   "-mp", str(free_port(pair=True)), f"127.0.0.1:{port}",
                   "-sf", str(scenario(workdir)), "-s", "echo", "-m", str(calls),
                   "-l", str(calls), "-r", str(calls), "-recv_timeout", "10000",
                   "-timeout", "120s", "-timeout_error", "-trace_stat", "-stf", str(stats),
                   "-fd", "1", "-trace_err", "-error_file", str(workdir / f"errors{calls}.log")]
        ticks = os.sysconf("SC_CLK_TCK")
        cpu0, t0 = _cpu(answer.pid) / ticks, time.monotonic()
        sipp = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=180,
                              errors="replace",
                              check=False)
        cpu_pct = 100 * (_cpu(answer.pid) / ticks - cpu0) / (time.monotonic() - t0)
        if not stats.exists():
            raise SystemExit(f"sipp failed: {sipp.stderr[-1000:]}")
    finally:
        stop(answer)
    counts = sipp_counts(stats)
    errors = workdir / f"errors{calls}.log"
    if counts.get("FailedCall(C)", 0) and errors.exists():
        first = [line for line in errors.read_text(errors="replace").splitlines() if line.strip()]
        print(f"  first sipp error: {first[:2]}", flush=True)
    ended = [json.loads(line) for line in out.read_text().splitlines() if '"call_ended"' in line]
    received = sum(end["rtp"]["rx_packets"] for end in ended)
    lost = sum(end["rtp"]["rx_lost"] for end in ended)
    rows = list(csv.reader(stats.open(), delimiter=";"))
    column = rows[0].index("CurrentCall")
    peak = max(int(row[column]) for row in rows[1:] if row[column].isdigit())
    return {"calls": calls, "peak": peak, "cpu_pct": cpu_pct,
            "ok": counts.get("SuccessfulCall(C)", 0),
            "failed": counts.get("FailedCall(C)", 0), "ended": len(ended), "rx": received,
            "lost": lost, "loss_pct": 100 * lost / max(received + lost, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="50,100,200,300,400,500,600,800")
    parser.add_argument("--core", type=int, default=1)
    args = parser.parse_args()
    best = 0
    with tempfile.TemporaryDirectory(prefix="capacity-") as temp:
        for calls in (int(level) for level in args.levels.split(",")):
            level = run_level(Path(temp), calls, args.core)
            passed = level["failed"] == 0 and level["ok"] == calls and level["loss_pct"] < 0.1
            print(f"{calls:4d} calls (peak {level['peak']:.0f} at once, tui-phone CPU "
                  f"{level['cpu_pct']:.0f} % of its core): sipp ok {level['ok']:.0f} failed {level['failed']:.0f}, "
                  f"tui-phone ended {level['ended']:.0f}, rx {level['rx']:.0f} pkts, "
                  f"lost {level['lost']:.0f} ({level['loss_pct']:.3f} %) "
                  f"{'PASS' if passed else 'FAIL'}", flush=True)
            if not passed:
                break
            best = calls
    print(f"capacity: {best} concurrent G.711 echo calls on one core "
          "(no failed call, RTP loss < 0.1 %)")


if __name__ == "__main__":
    main()
