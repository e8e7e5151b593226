"""The sans-I/O line (STYLE.md): pure protocol modules load no I/O or UI library.

Each pure module is imported in a fresh interpreter, and the test fails if any
forbidden module got loaded along with it.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import tui_phone

FORBIDDEN = ("twisted", "textual", "sounddevice", "socket", "time", "asyncio", "select")
# I/O edges that are allowed to touch the network or the clock.
IO_EDGES = {"tui_phone.sip.transport", "tui_phone.sip.useragent", "tui_phone.sip.answeratonce",
            "tui_phone.rtp.session", "tui_phone.rtp.srtp",
            "tui_phone.nat.stun", "tui_phone.nat.igd", "tui_phone.nat.upnp", "tui_phone.nat.manager",
            "tui_phone.rtp.portpool", "tui_phone.rtp.ticker", "tui_phone.rtp.mediathread",
            "tui_phone.rtp._ctick", "tui_phone.rtp._crecv"}
# The C speed-ups of pure modules (tui_phone/rtp/_c*.c) include no I/O or clock headers.
FORBIDDEN_HEADERS = ("sys/socket.h", "netinet/in.h", "arpa/inet.h", "netdb.h", "time.h", "sys/time.h",
                     "sys/epoll.h", "sys/timerfd.h", "sys/eventfd.h", "unistd.h", "poll.h", "sys/select.h")


def _pure_modules() -> list[str]:
    root = Path(tui_phone.__file__).parent
    names = []
    for package in ("sip", "rtp", "nat"):
        for info in pkgutil.iter_modules([str(root / package)]):
            name = f"tui_phone.{package}.{info.name}"
            if name not in IO_EDGES:
                names.append(name)
    return sorted(names)


PURE_MODULES = _pure_modules()


def test_there_are_pure_modules_to_check() -> None:
    assert "tui_phone.sip.message" in PURE_MODULES
    assert len(PURE_MODULES) >= 5


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_loads_no_io(module: str) -> None:
    code = (
        "import sys, json\n"
        f"before = set(sys.modules)\n"
        f"import {module}\n"
        f"loaded = set(sys.modules) - before\n"
        f"print(json.dumps(sorted(m for m in loaded if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(tui_phone.__file__).parent.parent,
    )
    forbidden = json.loads(result.stdout.strip().splitlines()[-1])
    assert forbidden == [], f"{module} pulled in {forbidden}"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_source_imports_nothing_forbidden(module: str) -> None:
    # `time` is loaded by the interpreter itself before any test code runs, so
    # the subprocess check cannot see it; read the imports from the source too.
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    origin = Path(spec.origin)
    if origin.suffix != ".py":  # a C speed-up: its source's headers
        source = (origin.parent / module.rsplit(".", 1)[1]).with_suffix(".c").read_text()
        headers = {line.split()[1].strip("<>\"") for line in source.splitlines() if line.startswith("#include")}
        assert headers.isdisjoint(FORBIDDEN_HEADERS), f"{module} includes {headers & set(FORBIDDEN_HEADERS)}"
        return
    tree = ast.parse(origin.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert imported.isdisjoint(FORBIDDEN), f"{module} imports {imported & set(FORBIDDEN)}"
