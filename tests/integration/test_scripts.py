"""User scripts on a real Phone over loopback (tui_phone.testing.script_scenarios)."""

from __future__ import annotations

import array
import math
import shutil
import wave
from pathlib import Path
from typing import Any

import pytest

import tui_phone.scripts.examples
from tui_phone.testing.scenario_tools import run_scenario

EXAMPLES = Path(tui_phone.scripts.examples.__file__).parent


def scenario(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return run_scenario(name, args, module="tui_phone.testing.script_scenarios", timeout=60)


def only(example: str, tmp_path: Path) -> str:
    folder = tmp_path / "scripts"
    folder.mkdir()
    shutil.copy(EXAMPLES / example, folder / example)
    return str(folder)


def test_the_whitelist_script_answers_alice_and_lets_carol_ring(tmp_path: Path) -> None:
    result = scenario("whitelist", {"scripts": only("whitelist.py", tmp_path)})
    assert result["scripts"] == ["whitelist.py"] and result["errors"] == []
    assert result["alice"]["state"] == "connected" and result["alice"]["status"] == 200
    assert result["carol"]["state"] == "ringing"
    assert result["carol"]["status"] == 487  # carol gave up: CANCEL
    assert [remote.split("@")[0] for remote in result["incoming"]] == ["sip:alice", "sip:carol"]


def _write_tone(path: Path, seconds: float = 1.0, hz: float = 440.0) -> None:
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * hz * n / 8000))
                                for n in range(int(8000 * seconds))))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())


def _channel_rms(path: Path) -> tuple[float, float]:
    with wave.open(str(path), "rb") as recording:
        assert recording.getnchannels() == 2
        frames = array.array("h", recording.readframes(recording.getnframes()))
    left, right = frames[0::2], frames[1::2]
    rms = [math.sqrt(sum(s * s for s in side) / max(len(side), 1)) for side in (left, right)]
    return rms[0], rms[1]


def test_the_answering_machine_greets_records_and_hangs_up(tmp_path: Path, monkeypatch) -> None:
    greeting = tmp_path / "greeting.wav"
    _write_tone(greeting)
    messages = tmp_path / "messages"
    monkeypatch.setenv("TUI_PHONE_MESSAGES", str(messages))
    monkeypatch.setenv("TUI_PHONE_MAX_MESSAGE", "2")
    monkeypatch.setenv("TUI_PHONE_GREETING", str(greeting))
    result = scenario("answering_machine", {"scripts": only("answering_machine.py", tmp_path),
                                            "greeting": str(greeting)})
    assert result["answered"] and result["status"] == 200 and result["by"] == "remote"
    assert result["duration"] == pytest.approx(2.0, abs=0.5)
    assert result["bob_ended"] == ["local"]
    assert result["errors"] == []  # the greeting plays as bob's audio source (no Call.play yet)
    (recording,) = messages.glob("*-alice.wav")
    sent, received = _channel_rms(recording)
    assert sent > 1000 and received > 1000, (sent, received)
