"""Helpers for interop tests against real peers (sipp, kamailio): free ports,
the tui-phone command line as a subprocess, sipp's statistics file."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import tui_phone

ROOT = Path(tui_phone.__file__).resolve().parent.parent


def require(tool: str) -> str:
    """The path of ``tool``; a missing peer fails the test (it must not skip)."""
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        raise AssertionError(f"{tool} is not installed (install.sh --test installs it)")
    return path


def free_port(kind: int = socket.SOCK_DGRAM, *, both: bool = False, pair: bool = False) -> int:
    """A port free on 127.0.0.1 (for UDP, and TCP too with ``both``; ``pair``: port+2 too)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port == 5060 or port > 65000:
            continue
        wanted = [port, port + 2] if pair else [port]
        if all(_free(p, socket.SOCK_DGRAM) and (not both or _free(p, socket.SOCK_STREAM))
               for p in wanted):
            return port
    raise AssertionError("no free port found")


def _free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tui_phone_command(*args: str, config: Path | None = None) -> list[str]:
    """``python -m tui_phone [--config FILE] ARGS``."""
    head = [sys.executable, "-m", "tui_phone"]
    if config is not None:
        head += ["--config", str(config)]
    return [*head, *args]


def environment() -> dict[str, str]:
    """The environment for tui-phone subprocesses (the checkout on PYTHONPATH)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def wait_for_line(path: Path, needle: str, timeout: float = 10.0,
                  process: subprocess.Popen[bytes] | None = None) -> str:
    """Wait until a line containing ``needle`` appears in the file ``path``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if needle in line:
                    return line
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    text = path.read_text(errors="replace") if path.exists() else ""
    raise AssertionError(f"{needle!r} not seen in {path} within {timeout} s:\n{text[-3000:]}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout``; returns the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def sipp_counts(stats_csv: Path) -> dict[str, int]:
    """The cumulative counters on the last row of sipp's -trace_stat file."""
    rows = list(csv.reader(stats_csv.open(), delimiter=";"))
    header, last = rows[0], rows[-1]
    wanted = ("SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)", "OutgoingCall(C)",
              "IncomingCall(C)")
    return {name: int(last[header.index(name)]) for name in wanted if name in header}
