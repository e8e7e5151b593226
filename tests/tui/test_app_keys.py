"""The help screen, key overrides from [keys], themes, and keys pressed with no call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from tests.tui.helpers import make_app
from tui_phone.keymap import ACTIONS
from tui_phone.screens.help import HelpScreen
from tui_phone.widgets.ladder import Ladder
from tui_phone.widgets.rtp_stats import RtpStats


def test_help_screen_lists_every_binding(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path, echo=False)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            table = app.screen.query_one("#help-table", DataTable)
            listed = {table.get_row_at(i)[1]: table.get_row_at(i)[0] for i in range(table.row_count)}
            assert listed == {action: key for action, key, _ in ACTIONS}
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("ctrl+q")

    run(body())


def test_key_override_from_config(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path, echo=False, extra='[keys]\nladder = "ctrl+k"\nhelp = "f9"\n')

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            ladder = app.query_one(Ladder)
            assert ladder.display
            await pilot.press("ctrl+k")
            assert not ladder.display
            await pilot.press("ctrl+l")  # the default key no longer toggles it
            assert not ladder.display
            await pilot.press("f9")
            assert isinstance(app.screen, HelpScreen)
            assert ("f9", "help") in {(row[0], row[1]) for row in app.binding_rows()}
            await pilot.press("escape")
            await pilot.press("ctrl+t")
            assert not app.query_one(RtpStats).display
            await pilot.press("ctrl+q")

    run(body())


def test_transfer_and_conference_keys_without_calls_say_why(run: Any, reactor: Any,
                                                            tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path, echo=False)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f8", "f9", "f10", "escape")
            messages = [n.message for n in app._notifications]
            assert messages.count("no call selected") == 2
            assert any("a conference needs two connected calls" in m for m in messages)
            assert not app.query_one("#banner").display
            await pilot.press("ctrl+q")

    run(body())


def test_theme_switch(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path, echo=False)

    async def body() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+y")
            assert app.theme_name == "light" and app.theme == "textual-light"
            await pilot.press("ctrl+y")
            assert app.theme_name == "dark"
            await pilot.resize_terminal(120, 40)
            await pilot.resize_terminal(80, 24)
            await pilot.press("ctrl+q")

    run(body())


def test_doctor_panel_shows_the_running_phones_report(run: Any, reactor: Any,
                                                      tmp_path: Path) -> None:
    from tests.tui.helpers import make_app, until
    from tui_phone.screens.doctor import DoctorScreen

    app = make_app(reactor, tmp_path)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.phone._started)
            await pilot.press("ctrl+d")
            await pilot.pause()
            assert isinstance(app.screen, DoctorScreen)
            checks = {c.name: (c.status, c.detail) for c in app.screen.report.checks}
            host, port = app.phone.local_address()
            assert checks["listen udp"] == ("ok", f"{host}:{port}")
            assert checks["registration"][0] == "off"
            assert checks["nat"][0] == "off"
            assert checks["audio"][1].startswith("audio: ")
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, DoctorScreen)
            await pilot.press("ctrl+q")

    run(body())
