"""Issue 6, headless: the answering-machine example script on `tui-phone answer`.

A `tui-phone call` (sending a 1 kHz tone) reaches `tui-phone answer --scripts`
running only the shipped answering_machine.py with a greeting WAV (440 Hz);
the script answers, records the caller, and hangs up after its message time.
The recording must hold the greeting on the left and the caller on the right.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import tui_phone
from tui_phone.audio import _audioop

ROOT = Path(tui_phone.__file__).resolve().parent.parent
EXAMPLE = ROOT / "tui_phone" / "scripts" / "examples" / "answering_machine.py"


def _tone(path: Path, freq: float, seconds: float = 2.0) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        samples = [int(8000 * math.sin(2 * math.pi * freq * n / 8000)) for n in range(int(8000 * seconds))]
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def _free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _channels_rms(path: Path) -> tuple[int, int]:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2)
        frames = wav.readframes(wav.getnframes())
    left = _audioop.tomono(frames, 2, 1, 0)
    right = _audioop.tomono(frames, 2, 0, 1)
    return _audioop.rms(left, 2), _audioop.rms(right, 2)


def test_answering_machine_script_greets_records_and_hangs_up(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(EXAMPLE, scripts / EXAMPLE.name)
    greeting, caller_wav, messages = tmp_path / "greeting.wav", tmp_path / "caller.wav", tmp_path / "msgs"
    _tone(greeting, 440)
    _tone(caller_wav, 1000)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               XDG_DATA_HOME=str(tmp_path / "data"), TUI_PHONE_MESSAGES=str(messages),
               TUI_PHONE_MAX_MESSAGE="3")
    machine = subprocess.Popen(
        [sys.executable, "-m", "tui_phone", "answer", "--listen", f"127.0.0.1:{port}",
         "--play", str(greeting), "--scripts", str(scripts), "--max-calls", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert machine.stdout is not None
        first = json.loads(machine.stdout.readline())
        assert first["event"] == "listening"
        call = subprocess.run(
            [sys.executable, "-m", "tui_phone", "call", f"sip:bob@127.0.0.1:{port}",
             "--play", str(caller_wav), "--duration", "20", "--json"],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        )
        assert call.returncode == 0, call.stdout + call.stderr
        ended = json.loads(call.stdout.strip().splitlines()[-1])
        assert ended["event"] == "call_ended" and ended["ended_by"] == "remote"
        assert 2.5 <= ended["duration_s"] <= 6.0  # the script hung up after its 3 s
        assert ended["rtp"]["rx_packets"] > 100  # the greeting came through
        out, err = machine.communicate(timeout=30)
        assert machine.returncode == 0, err
    finally:
        if machine.poll() is None:
            machine.kill()
            machine.wait()
    (message,) = messages.glob("*.wav")
    assert message.name.endswith("-tui-phone.wav")  # caller's user part in the name
    sent, received = _channels_rms(message)
    assert sent > 1000, "the greeting is missing from the recording"
    assert received > 1000, "the caller is missing from the recording"
