"""tui_phone.cli: the command group loads the doctor and the call history on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import tui_phone
from tui_phone.cli import cli

ROOT = Path(tui_phone.__file__).parent.parent


def test_importing_the_cli_loads_neither_the_doctor_nor_the_history() -> None:
    code = ("import sys, json; import tui_phone.cli; "
            "print(json.dumps([m for m in ('tui_phone.doctor', 'tui_phone.history', 'sqlite3') "
            "if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert json.loads(result.stdout) == []


def test_the_lazy_commands_are_listed_and_run() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["--help"], obj={})
    assert listing.exit_code == 0
    commands = listing.output.split("Commands:", 1)[1].split()
    assert "doctor" in commands and "history" in commands
    for name, summary in (("doctor", "Check config"), ("history", "The call history")):
        result = runner.invoke(cli, [name, "--help"], obj={})
        assert result.exit_code == 0, result.output
        assert summary in result.output
