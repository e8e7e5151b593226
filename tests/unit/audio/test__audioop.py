"""tui_phone.audio._audioop: the one audioop import, and the import rules of the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import tui_phone
from tui_phone.audio import _audioop

PACKAGE = Path(tui_phone.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_importing_emits_no_deprecation_warning() -> None:
    code = "import tui_phone.audio._audioop, tui_phone.audio.mixer, tui_phone.audio.codecs"
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True, text=True, cwd=PACKAGE.parent, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "DeprecationWarning" not in result.stderr


def test_only_this_module_imports_audioop() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "audioop" in _imports(path) and path.name != "_audioop.py"
    ]
    assert offenders == []


def test_only_devices_imports_sounddevice() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "sounddevice" in _imports(path) and path.relative_to(PACKAGE) != Path("audio/devices.py")
    ]
    assert offenders == []
    assert "sounddevice" in _imports(PACKAGE / "audio" / "devices.py")


def test_add_saturates_at_16_bits_instead_of_wrapping(signals: SimpleNamespace) -> None:
    a = signals.pcm([32767, -32768, 30000, -30000, 100])
    b = signals.pcm([1, -1, 30000, -30000, -50])
    assert signals.samples(_audioop.add(a, b, 2)) == [32767, -32768, 32767, -32768, 50]


def test_g711_reference_points(signals: SimpleNamespace) -> None:
    # ITU-T G.711: zero encodes as 0xFF in mu-law and 0xD5 in A-law.
    assert _audioop.lin2ulaw(signals.pcm([0]), 2) == b"\xff"
    assert _audioop.lin2alaw(signals.pcm([0]), 2) == b"\xd5"
