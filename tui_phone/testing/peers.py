"""Helpers for interop tests against real peers (sipp, kamailio): free ports,
the tui-phone command line as a subprocess, sipp's statistics file."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def json_events(path: Path) -> list[dict[str, Any]]:
    """The JSON objects a ``--json`` run wrote to ``path``, one per line, in order."""
    return [json.loads(line) for line in path.read_text(errors="replace").splitlines()
            if line.startswith("{")]


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


@dataclass(frozen=True)
class RunningAnswer:
    """A ``tui-phone answer`` subprocess: the process, its output file, its SIP port."""

    process: subprocess.Popen[bytes]
    out: Path
    port: int


def start_answer(directory: Path, *args: str, name: str = "answer", config: Path | None = None,
                 ready: str = '"listening"', prefix: Sequence[str] = ()) -> RunningAnswer:
    """Start ``tui-phone answer --listen 127.0.0.1:PORT --json ARGS`` on a free port.

    Its output goes to ``directory/NAME.out``; returns once a line holds
    ``ready`` (the caller then owns the process: :func:`stop` it).
    ``prefix`` goes before the command (``taskset -c 1``).
    """
    port = free_port(both=True)
    out = directory / f"{name}.out"
    command = tui_phone_command("answer", "--listen", f"127.0.0.1:{port}", "--json", *args,
                                config=config)
    with out.open("wb") as sink:
        process = subprocess.Popen([*prefix, *command], stdout=sink, stderr=subprocess.STDOUT,
                                   env=environment(), cwd=directory)
    try:
        wait_for_line(out, ready, process=process)
    except BaseException:
        stop(process)
        raise
    return RunningAnswer(process, out, port)


def sipp_counts(stats_csv: Path) -> dict[str, int]:
    """The cumulative counters on the last row of sipp's -trace_stat file."""
    rows = list(csv.reader(stats_csv.open(), delimiter=";"))
    header, last = rows[0], rows[-1]
    wanted = ("SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)", "OutgoingCall(C)",
              "IncomingCall(C)")
    return {name: int(last[header.index(name)]) for name in wanted if name in header}


def sip_probe(port: int, host: str = "127.0.0.1", timeout: float = 10.0,
              process: subprocess.Popen[bytes] | None = None) -> str:
    """Send OPTIONS over UDP every 100 ms until ``host:port`` answers; returns the status line.

    Any response (200, 407, 404...) proves the SIP stack is up: this is the
    readiness check for peers whose logs do not say when they listen.
    """
    deadline = time.monotonic() + timeout
    attempt = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        probe.settimeout(0.1)
        local_port = probe.getsockname()[1]
        while time.monotonic() < deadline:
            attempt += 1
            request = (
                f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {host}:{local_port};branch=z9hG4bK-probe{attempt};rport\r\n"
                f"Max-Forwards: 70\r\nTo: <sip:{host}:{port}>\r\n"
                f"From: <sip:probe@{host}:{local_port}>;tag=probe\r\n"
                f"Call-ID: probe-{local_port}@{host}\r\nCSeq: {attempt} OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n").encode()
            probe.sendto(request, (host, port))
            try:
                data = probe.recv(65535)
            except (TimeoutError, ConnectionRefusedError):
                if process is not None and process.poll() is not None:
                    break
                continue
            if data.startswith(b"SIP/2.0 "):
                return data.split(b"\r\n", 1)[0].decode(errors="replace")
    raise AssertionError(f"no SIP answer from {host}:{port} within {timeout} s")


def write_tone_wav(path: Path, seconds: float, frequency: float = 400.0,
                   rate: int = 8000, amplitude: int = 12000) -> Path:
    """A 16-bit mono WAV of a sine tone (what baresip's aufile source plays)."""
    import math
    import struct
    import wave

    count = int(seconds * rate)
    step = 2 * math.pi * frequency / rate
    samples = struct.pack(f"<{count}h", *(int(amplitude * math.sin(step * n)) for n in range(count)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return path


def free_port_range(count: int, low: int = 40000, high: int = 60000) -> tuple[int, int]:
    """``count`` consecutive even-aligned UDP ports free on 127.0.0.1."""
    import random

    rng = random.Random()
    for _ in range(200):
        first = rng.randrange(low, high - count) & ~1
        if all(_free(port, socket.SOCK_DGRAM) for port in range(first, first + count)):
            return first, first + count - 1
    raise AssertionError(f"no range of {count} free ports found")


BARESIP_MODULES = (
    "cons.so", "g711.so", "g722.so", "opus.so", "srtp.so", "aufile.so", "ausine.so", "aubridge.so",
)


def start_baresip(directory: Path, *, user: str = "bob", wav: Path | None = None,
                  codecs: str = "pcmu,pcma", registrar: str | None = None,
                  password: str | None = None,
                  mediaenc: str | None = None,
                  prefix: Sequence[str] = ()) -> tuple[subprocess.Popen[bytes], int, Path]:
    """baresip auto-answering on UDP 127.0.0.1 with its own config dir in ``directory``.

    The audio source is ``wav`` (8 kHz mono, through aufile) or a 440 Hz sine;
    received audio goes to aubridge (no sound card). Returns the process, the
    SIP port and the log file. Every address is 127.0.0.1 (``net_interface``
    and the DNS server too), so nothing leaves loopback. ``prefix`` goes before
    the command (a profiler, say).
    """
    baresip = require("baresip")
    port = free_port(both=True)
    while not (_free(port + 1, socket.SOCK_STREAM) and _free(port + 2, socket.SOCK_DGRAM)
               and _free(port + 2, socket.SOCK_STREAM)):
        port = free_port(both=True)
    rtp_low, rtp_high = free_port_range(20)
    config_dir = directory / "baresip.d"
    config_dir.mkdir(parents=True, exist_ok=True)
    if wav is not None:
        source, rate, channels = f"aufile,{wav}", 8000, 1
    else:
        source, rate, channels = "ausine,440", 48000, 2
    lines = {
        "poll_method": "epoll",
        "sip_listen": f"127.0.0.1:{port}",
        "call_local_timeout": "120",
        "call_max_calls": "16",
        "audio_source": source,
        "ausrc_srate": str(rate),
        "ausrc_channels": str(channels),
        "audio_player": f"aubridge,tuiphone{port}",
        "audio_alert": f"aubridge,tuiphone{port}alert",
        "audio_level": "no",
        "rtp_ports": f"{rtp_low}-{rtp_high}",
        "rtcp_mux": "no",
        "jitter_buffer_delay": "5-10",
        "rtp_stats": "yes",
        "net_interface": "127.0.0.1",  # "lo" fails in baresip 1.0
        "dns_server": "127.0.0.1:53",
        "module_path": "/usr/lib/baresip/modules",
        "cons_listen": f"127.0.0.1:{port + 2}",
        "statmode_default": "off",
    }
    text = "".join(f"{key}\t\t{value}\n" for key, value in lines.items())
    text += "".join(f"module\t\t{name}\n" for name in BARESIP_MODULES)
    text += "module_tmp\t\tuuid.so\nmodule_tmp\t\taccount.so\nmodule_app\t\tmenu.so\n"
    (config_dir / "config").write_text(text)
    account = f"<sip:{user}@127.0.0.1:{port}>;regint=0"
    if registrar is not None:
        account = f"<sip:{user}@{registrar}>;auth_pass={password};regint=600"
    if mediaenc is not None:  # srtp (SDES on RTP/AVP too), srtp-mand (RTP/SAVP only)
        account += f";mediaenc={mediaenc}"
    (config_dir / "accounts").write_text(f"{account};answermode=auto;audio_codecs={codecs}\n")
    (config_dir / "contacts").write_text("")
    log = directory / "baresip.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([*prefix, baresip, "-4", "-v", "-f", str(config_dir)], stdout=sink,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        sip_probe(port, process=process, timeout=60 if prefix else 10)
    except AssertionError:
        stop(process)
        raise AssertionError("baresip did not start:\n" + log.read_text(errors="replace")[-3000:])
    return process, port, log


def baresip_console(sip_port: int, command: str, wait: float = 1.0) -> str:
    """Send one menu command (``/dial sip:...``, ``/hold``...) to a baresip from :func:`start_baresip`.

    Its ``cons`` console listens on UDP SIP_PORT+2. Returns what came back
    within ``wait`` seconds (cons echoes the command as typed, then the
    reply and any log lines meanwhile).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as console:
        console.bind(("127.0.0.1", 0))
        console.settimeout(0.1)
        console.sendto(f"{command}\n".encode(), ("127.0.0.1", sip_port + 2))
        reply = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                reply += console.recv(65535)
            except socket.timeout:
                pass
    return reply.decode(errors="replace")


def stop_baresip(process: subprocess.Popen[bytes]) -> None:
    """baresip needs a second SIGTERM when it waits for an un-REGISTER answer."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(3)
        except subprocess.TimeoutExpired:
            process.terminate()
    stop(process, timeout=3)
