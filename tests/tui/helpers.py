"""Building the app against real Phones on 127.0.0.1, and waiting on conditions."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_phone.app import PhoneApp
from tui_phone.config import parse_config
from tui_phone.echo_service import EchoService
from tui_phone.history import History
from tui_phone.phone import Phone

CONFIG = """
[accounts.{name}]
uri = "sip:{name}@127.0.0.1"
"""


def make_phone(reactor: Any, name: str = "alice", seed: int = 1, extra: str = "") -> Phone:
    config = parse_config(CONFIG.format(name=name) + extra)
    return Phone(config, reactor, audio="null", listen=("127.0.0.1", 0), rng=random.Random(seed))


def make_app(reactor: Any, tmp_path: Path, *, extra: str = "", echo: bool = True) -> PhoneApp:
    phone = make_phone(reactor, extra=extra)
    return PhoneApp(phone, audio_line="audio: null (tests)",
                    echo=EchoService(reactor, rng=random.Random(2)) if echo else None,
                    history=History(tmp_path / "history.sqlite"), keys=phone.config.keys,
                    recordings_dir=tmp_path)


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Pause the pilot until ``condition()`` holds (AssertionError after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        await pilot.pause(0.05)
