"""The terminal phone's start-up time, idle CPU, CPU in a call and RSS, measured in tmux.

Starts the installed ``tui-phone`` (next to this interpreter, or on PATH) in a
detached 100x30 tmux session with an empty config and data dir, and polls
``capture-pane`` until the first non-empty screen (start-up). Then reads the
process's CPU time and RSS from /proc over ``--seconds`` idle, dials ``echo``
and measures again during the call (the echo service runs in the same
process, so that figure covers both ends). Prints figures; never fails on time.

    python bench/tui.py [--runs 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def _binary() -> str:
    local = Path(sys.executable).with_name("tui-phone")
    found = str(local) if local.exists() else shutil.which("tui-phone")
    if found is None:
        raise SystemExit("tui-phone is not installed (pip install -e .)")
    return found


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _start(binary: str, folder: str) -> str:
    session = f"bench-{uuid.uuid4().hex[:8]}"
    command = (f"env XDG_CONFIG_HOME={folder}/config XDG_DATA_HOME={folder}/data "
               f"TERM=xterm-256color {binary}")
    _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    return session


def _stop(session: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=False)
    time.sleep(1.0)
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def _cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_percent(pid: str, seconds: float) -> float:
    start_cpu, start = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (_cpu_seconds(pid) - start_cpu) / (time.monotonic() - start) * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up measurements")
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU sampling time")
    args = parser.parse_args()
    binary = _binary()
    startups = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            began = time.monotonic()
            session = _start(binary, folder)
            while not _tmux("capture-pane", "-p", "-t", session).strip():
                if time.monotonic() - began > 10:
                    raise SystemExit("no screen within 10 s")
                time.sleep(0.01)
            startups.append(time.monotonic() - began)
            _stop(session)
    print(f"start-up to the first screen: median {statistics.median(startups):.2f} s "
          f"({', '.join(f'{s:.2f}' for s in startups)})")
    with tempfile.TemporaryDirectory() as folder:
        session = _start(binary, folder)
        time.sleep(3.0)
        pid = _tmux("list-panes", "-t", session, "-F", "#{pane_pid}").strip()
        idle = _cpu_percent(pid, args.seconds)
        print(f"idle: CPU {idle:.2f} % of a core, RSS {_rss_mib(pid):.1f} MiB")
        subprocess.run(["tmux", "send-keys", "-t", session, "echo", "Enter"], check=True)
        time.sleep(3.0)
        busy = _cpu_percent(pid, args.seconds)
        print(f"echo call, stats live (both ends in this process): CPU {busy:.2f} % of a core, "
              f"RSS {_rss_mib(pid):.1f} MiB")
        subprocess.run(["tmux", "send-keys", "-t", session, "F4"], check=False)
        time.sleep(0.5)
        _stop(session)


if __name__ == "__main__":
    main()
