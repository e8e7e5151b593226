"""End to end in tmux: the phone starts, shows the dial input, dials echo by keys,
shows packets moving, hangs up and quits with ctrl+q."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The installed console script (pip puts it next to the interpreter: .venv/bin/tui-phone).
BINARY = Path(sys.executable).with_name("tui-phone")
COMMAND = str(BINARY)


def _tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=False,
                          timeout=10)
    if done.returncode != 0:
        raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, pattern: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = _screen(session)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on screen after {timeout} s:\n{text}")
        time.sleep(0.1)


def _start(tmp_path: Path) -> tuple[str, Path]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed")
    if not BINARY.exists():
        pytest.fail(f"the tui-phone console script is not installed at {BINARY} "
                    "(pip install -e . into this interpreter's environment)")
    session = f"tui-phone-{uuid.uuid4().hex[:8]}"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    exports = " ".join(f"{key}={value}" for key, value in env.items())
    marker = tmp_path / "exited"
    shell = f"cd {ROOT} && env {exports} {COMMAND}; echo $? > {marker}; sleep 30"
    _tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", shell)
    return session, marker


def _exit_status(session: str, marker: Path) -> str:
    deadline = time.monotonic() + 10
    while not marker.exists() or not marker.read_text().strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"did not quit:\n{_screen(session)}")
        time.sleep(0.1)
    return marker.read_text().strip()


def test_tmux_start_dial_echo_hang_up_quit(tmp_path: Path) -> None:
    session, marker = _start(tmp_path)
    try:
        started = time.monotonic()
        _wait_for(session, r"number, user@host", 15)
        startup = time.monotonic() - started
        _wait_for(session, r"listening udp\s+127\.0\.0\.1:\d+", 10)
        _wait_for(session, r"audio: ", 5)
        _tmux("send-keys", "-t", session, "-l", "echo")
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, r"active\s+sip:echo@127\.0\.0\.1", 10)
        text = _wait_for(session, r"packets tx [1-9]\d* rx [1-9]\d*", 5)
        assert "RTP — sip:echo@" in text
        _tmux("send-keys", "-t", session, "F4")
        _wait_for(session, r"state\s+remote\s+time", 5)
        _tmux("send-keys", "-t", session, "C-q")
        assert _exit_status(session, marker) == "0", _screen(session)
        assert startup < 15
        rows = list((tmp_path / "data").rglob("history.sqlite"))
        assert rows, "no history database written"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def test_tmux_sigterm_quits_cleanly(tmp_path: Path) -> None:
    session, marker = _start(tmp_path)
    try:
        _wait_for(session, r"listening udp\s+127\.0\.0\.1:\d+", 15)
        _tmux("send-keys", "-t", session, "-l", "echo")
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, r"active\s+sip:echo@127\.0\.0\.1", 10)
        shell_pid = _tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip()
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", shell_pid], capture_output=True,
                                  text=True, check=True).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGTERM)
        assert _exit_status(session, marker) == "0", _screen(session)
        databases = list((tmp_path / "data").rglob("history.sqlite"))
        import sqlite3

        rows = sqlite3.connect(databases[0]).execute("SELECT ended_by FROM calls").fetchall()
        assert rows == [("local",)]  # the call was hung up and recorded on the way out
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
