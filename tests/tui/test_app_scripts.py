"""User scripts in the TUI (issue 6): hotkeys, hooks, errors and reload, against
in-process Phones on 127.0.0.1."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.tui.helpers import make_phone, until
from tui_phone.app import PhoneApp
from tui_phone.keymap import ACTIONS
from tui_phone.echo_service import EchoService
from tui_phone.history import History

CALL_ECHO = '''
from tui_phone.scripts import hotkey

@hotkey("f13", description="call the echo test")
def call_echo(phone):
    phone.call("echo")

@hotkey("ctrl+p", description="clashes with the command palette")
def clash(phone):
    phone.notify("clash ran")
'''

# The example of issue 6, verbatim: F5 is hold/resume by default.
ISSUE_EXAMPLE = '''
from tui_phone.scripts import hotkey, on

@hotkey("f5", description="Call the echo test")
def call_echo(phone):
    phone.call("echo")

@on("incoming_call")
def answer_friends(phone, call):
    if call.remote_user in {"alice", "bob"}:
        call.answer()
'''

ANSWER = '''
from tui_phone.scripts import on

@on("incoming_call")
def answer(phone, call):
    call.answer()
'''

BROKEN = '''
from tui_phone.scripts import hotkey

@hotkey("f14")
def broken(phone):
    raise RuntimeError("boom from a script")
'''

GREETING = '''
from tui_phone.scripts import hotkey

@hotkey("f15")
def greet(phone):
    phone.notify("{word}")
'''


def _app(reactor: Any, tmp_path: Path, scripts: dict[str, str],
         keys: dict[str, str] | None = None) -> PhoneApp:
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, text in scripts.items():
        (folder / f"{name}.py").write_text(text)
    phone = make_phone(reactor)
    return PhoneApp(phone, audio_line="audio: null (tests)",
                    echo=EchoService(reactor, rng=random.Random(2)),
                    history=History(tmp_path / "history.sqlite"), recordings_dir=tmp_path,
                    script_dirs=[folder], user_scripts=False, keys=keys)


def _messages(app: PhoneApp) -> list[str]:
    return [n.message for n in app._notifications]


def test_script_hotkey_places_a_call_and_textual_keys_win(run: Any, reactor: Any,
                                                          tmp_path: Path) -> None:
    app = _app(reactor, tmp_path, {"call_echo": CALL_ECHO})

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            assert app.script_keys == {"f13": "call_echo.py"}
            assert any("key ctrl+p is set to Textual" in m for m in _messages(app))
            await pilot.press("f13")
            await until(pilot, lambda: any(c.state == "connected" for c in app.calls.values()))
            [call] = app.calls.values()
            assert call.remote.startswith("sip:echo@127.0.0.1:")
            await pilot.press("f5")  # the app's hold: no script took F5 here
            await until(pilot, lambda: call.on_hold)
            assert "clash ran" not in _messages(app)
            await pilot.press("ctrl+q")
        assert app.script_host._unsubscribe is None  # detached on quit

    run(body())


def test_the_issue_example_works_as_written(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = _app(reactor, tmp_path, {"friends": ISSUE_EXAMPLE})

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            assert app.script_keys == {"f5": "friends.py"}
            assert any("key f5 now runs the script's Call the echo test instead of hold"
                       in m for m in _messages(app))
            await pilot.press("f5")
            await until(pilot, lambda: any(c.state == "connected" for c in app.calls.values()))
            [call] = app.calls.values()
            assert call.remote.startswith("sip:echo@127.0.0.1:")
            assert not call.on_hold  # F5 ran the script, not hold
            await pilot.press("ctrl+q")

    run(body())


def test_a_key_set_in_config_stays_the_apps(run: Any, reactor: Any, tmp_path: Path) -> None:
    hold_action = next(a for a, k, _ in ACTIONS if k == "f5")
    app = _app(reactor, tmp_path, {"friends": ISSUE_EXAMPLE}, keys={hold_action: "f5"})

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            assert app.script_keys == {}
            assert any(f"key f5 is set to {hold_action} in [keys]" in m for m in _messages(app))
            await pilot.press("f5")
            await pilot.pause(0.5)
            assert not app.calls
            await pilot.press("ctrl+q")

    run(body())


def test_script_incoming_call_hook_answers(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = _app(reactor, tmp_path, {"answer": ANSWER})
    caller = make_phone(reactor, "carol", seed=7)

    async def body() -> None:
        await caller.start(register=False).asFuture(reactor._asyncioEventloop)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.phone._started)
            host, port = app.phone.local_address()
            call = caller.call(f"sip:alice@{host}:{port}")
            await until(pilot, lambda: call.state == "connected")
            await until(pilot, lambda: [c.state for c in app.calls.values()] == ["connected"])
            call.hangup()
            await until(pilot, lambda: not app.calls)
            await pilot.press("ctrl+q")
        await caller.stop().asFuture(reactor._asyncioEventloop)

    run(body())


def test_script_error_is_shown_and_the_phone_keeps_working(run: Any, reactor: Any,
                                                           tmp_path: Path) -> None:
    app = _app(reactor, tmp_path, {"broken": BROKEN})

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            await pilot.press("f14")
            await until(pilot, lambda: "RuntimeError: boom from a script" in _messages(app))
            [note] = [n for n in app._notifications if "boom" in n.message]
            assert note.severity == "error" and note.title == "script broken.py"
            await pilot.press(*"echo", "enter")
            await until(pilot, lambda: any(c.state == "connected" for c in app.calls.values()))
            await pilot.press("ctrl+q")

    run(body())


def test_reload_picks_up_an_edited_script(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = _app(reactor, tmp_path, {"greet": GREETING.format(word="hello")})
    path = tmp_path / "scripts" / "greet.py"

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.phone._started)
            await pilot.press("f15")
            await until(pilot, lambda: "hello" in _messages(app))
            path.write_text(GREETING.format(word="bonjour"))
            await pilot.press("ctrl+f")
            assert "1 script loaded" in _messages(app)
            await pilot.press("f15")
            await until(pilot, lambda: "bonjour" in _messages(app))
            await pilot.press("ctrl+q")

    run(body())


def test_cli_scripts_option_reaches_run_tui(tmp_path: Path, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    import tui_phone.app
    from tui_phone.cli import cli

    seen: dict[str, Any] = {}

    def fake_run_tui(config: Any, **options: Any) -> int:
        seen.update(options)
        return 0

    monkeypatch.setattr(tui_phone.app, "run_tui", fake_run_tui)
    config = tmp_path / "c.toml"
    config.write_text('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "--scripts", "one",
                                      "--scripts", "two"], obj={})
    assert result.exit_code == 0, result.output
    assert seen["scripts"] == (Path("one"), Path("two"))
