"""Shared fixtures: script folders in tmp_path and a ScriptHost on a FakePhone."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock

from tui_phone.scripts.host import ScriptHost
from tui_phone.scripts.loader import ScriptLoader
from tui_phone.testing.script_fakes import FakeCall, FakePhone, FakeUi

WriteScript = Callable[..., Path]


@pytest.fixture
def write_script(tmp_path: Path) -> WriteScript:
    """``write_script("a.py", code, folder="one")``: a dedented script file."""

    def write(name: str, code: str, folder: str = "scripts") -> Path:
        path = tmp_path / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
        return path

    return write


@dataclass
class Rig:
    """A host on a fake phone, with what it reported."""

    phone: FakePhone
    host: ScriptHost
    ui: FakeUi
    clock: Clock
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    now: list[float] = field(default_factory=lambda: [0.0])


@pytest.fixture
def make_rig(tmp_path: Path) -> Callable[..., Rig]:
    """A Rig loading the scripts of ``folders`` (default: tmp_path/scripts)."""

    def make(*folders: Path, call_class: type[FakeCall] = FakeCall, **options: Any) -> Rig:
        clock = Clock()
        phone = FakePhone(clock, call_class=call_class)
        ui = FakeUi()
        dirs = folders or (tmp_path / "scripts",)
        rig = Rig(phone, None, ui, clock)  # type: ignore[arg-type]
        rig.host = ScriptHost(
            phone, ScriptLoader(dirs, include_default=False), ui=ui,
            on_error=lambda s, t: rig.errors.append((s, t)),
            on_warning=lambda s, t: rig.warnings.append((s, t)),
            timer=lambda: rig.now[0], **options)
        rig.host.load()
        rig.host.attach()
        return rig

    return make
