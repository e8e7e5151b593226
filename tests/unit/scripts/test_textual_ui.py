"""The Textual UI adapter (tui_phone.scripts.textual_ui) on a minimal app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Label

from tui_phone.screens.prompt import PromptScreen
from tui_phone.scripts.host import ScriptHost
from tui_phone.scripts.loader import ScriptLoader
from tui_phone.scripts.textual_ui import ScriptDialError, TextualScriptUi
from tui_phone.testing.script_fakes import FakePhone


class MiniApp(App[None]):
    def __init__(self, phone: FakePhone) -> None:
        super().__init__()
        self.phone = phone
        self.notes: list[tuple[str, dict[str, Any]]] = []
        self.dialled: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("phone")

    def notify(self, message: str, **options: Any) -> None:  # type: ignore[override]
        self.notes.append((message, options))

    def dial(self, text: str) -> Any:
        self.dialled.append(text)
        return None if text == "nobody" else self.phone.call(f"sip:{text}@resolved")


def run(coroutine: Any) -> Any:
    return asyncio.new_event_loop().run_until_complete(coroutine)


def test_prompt_answers_from_the_prompt_screen_and_escape_gives_none() -> None:
    async def scenario() -> list[Any]:
        app = MiniApp(FakePhone())
        ui = TextualScriptUi(app)
        answers: list[Any] = []
        async with app.run_test() as pilot:
            ui.prompt("menu.py", "Transfer to?").addCallback(answers.append)
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            await pilot.press("b", "o", "b", "enter")
            await pilot.pause()
            ui.prompt("menu.py", "Again?").addCallback(answers.append)
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, PromptScreen)
        return answers

    assert run(scenario()) == ["bob", None]


def test_a_cancelled_prompt_closes_its_screen() -> None:
    async def scenario() -> None:
        app = MiniApp(FakePhone())
        ui = TextualScriptUi(app)
        async with app.run_test() as pilot:
            asked = ui.prompt("slow.py", "Who?")
            asked.addErrback(lambda failure: None)
            await pilot.pause()
            asked.cancel()
            await pilot.pause()
            assert not isinstance(app.screen, PromptScreen)

    run(scenario())


def test_notify_and_errors_are_toasts_titled_with_the_script() -> None:
    app = MiniApp(FakePhone())
    ui = TextualScriptUi(app)
    ui.notify("a.py", "hello")
    ui.notify_error("a.py", "Traceback (most recent call last):\n  ...\nKeyError: 'x'\n")
    assert app.notes == [("hello", {"title": "a.py", "timeout": 6.0}),
                         ("KeyError: 'x'", {"title": "script a.py", "severity": "error",
                                            "timeout": 10})]


def test_script_calls_go_through_the_apps_dial(tmp_path) -> None:
    phone = FakePhone()
    app = MiniApp(phone)
    host = ScriptHost(phone, ScriptLoader([], include_default=False), ui=TextualScriptUi(app))
    from tui_phone.scripts.handle import ScriptPhone

    handle = ScriptPhone(phone, host, "a.py")
    call = handle.call("echo")
    assert app.dialled == ["echo"] and call.raw is phone.calls[0]
    assert phone.placed == [("sip:echo@resolved", None)]
    with pytest.raises(ScriptDialError, match="could not call 'nobody'"):
        handle.call("nobody")
