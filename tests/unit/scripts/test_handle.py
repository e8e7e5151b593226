"""The phone handle, call wrappers and UI adapters (tui_phone.scripts.handle)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from twisted.internet.defer import Deferred

from tui_phone.scripts.handle import HeadlessUi, ScriptCall, ScriptPhone, uri_user
from tui_phone.scripts.host import ScriptHost
from tui_phone.scripts.loader import ScriptLoader
from tui_phone.testing.script_fakes import FakeCall, FakePhone, FakeUi


def handle(ui=None, phone=None) -> tuple[ScriptPhone, FakePhone, ScriptHost]:
    phone = phone or FakePhone()
    host = ScriptHost(phone, ScriptLoader([], include_default=False), ui=ui or FakeUi())
    return ScriptPhone(phone, host, "mine.py"), phone, host


def test_notify_and_prompt_go_to_the_ui_adapter_with_the_script_name() -> None:
    ui = FakeUi(answers=["yes"])
    script_phone, _, _ = handle(ui)
    script_phone.notify("hello")
    answers: list[object] = []
    script_phone.prompt("Really?").addCallback(answers.append)
    late = script_phone.prompt("And now?")
    late.addCallback(answers.append)
    assert ui.notes == [("mine.py", "hello")]
    assert ui.questions == [("mine.py", "Really?"), ("mine.py", "And now?")]
    assert answers == ["yes"]
    ui.pending.callback(None)
    assert answers == ["yes", None]


def test_prompt_accepts_coroutines_and_plain_values_from_the_adapter() -> None:
    class Adapter:
        def notify(self, script: str, text: str) -> None: ...

        def prompt(self, script: str, question: str):
            async def answer() -> str:
                return question.upper()
            return answer() if question.startswith("a") else "plain"

    script_phone, _, _ = handle(Adapter())
    results: list[object] = []
    script_phone.prompt("async?").addCallback(results.append)
    script_phone.prompt("sync?").addCallback(results.append)
    assert results == ["ASYNC?", "plain"]


def test_headless_ui_logs_notifications_and_answers_prompts_with_none(caplog) -> None:
    script_phone, _, _ = handle(HeadlessUi())
    caplog.set_level(logging.WARNING, logger="tui_phone.scripts.notify")
    script_phone.notify("voicemail from bob")
    answered: list[object] = []
    result = script_phone.prompt("Transfer to?")
    assert isinstance(result, Deferred)
    result.addCallback(answered.append)
    assert answered == [None]
    assert [r.getMessage() for r in caplog.records] == [
        "[mine.py] voicemail from bob",
        "[mine.py] prompt 'Transfer to?': no UI in headless mode, answering None",
    ]


def test_the_handle_forwards_the_phone_api_and_wraps_calls() -> None:
    script_phone, phone, _host = handle()
    call = script_phone.call("sip:bob@example.org", account="me")
    assert isinstance(call, ScriptCall) and phone.placed == [("sip:bob@example.org", "me")]
    assert script_phone.calls == [call] and script_phone.calls[0] is call
    assert list(script_phone.accounts) == ["me"]
    with pytest.raises(TypeError):
        script_phone.accounts["x"] = None  # type: ignore[index]
    assert script_phone.account().aor.host == "example.com"
    phone.registrations["me"] = SimpleNamespace(state=SimpleNamespace(value="registered"))
    assert script_phone.registrations == {"me": "registered"}
    assert script_phone.raw is phone and script_phone.reactor is phone.reactor
    script_phone.dnd = True
    assert phone.dnd is True and script_phone.dnd is True
    with pytest.raises(AttributeError, match="no settable attribute 'calls'"):
        script_phone.calls = []  # type: ignore[misc]


@pytest.mark.parametrize(("target", "placed"), [
    ("echo", "echo@example.com"),
    ("sip:echo", "sip:echo"),
    ("echo@other.org", "echo@other.org"),
    ("<sip:x@y>", "<sip:x@y>"),
])
def test_a_bare_user_is_called_at_the_accounts_domain(target: str, placed: str) -> None:
    script_phone, phone, _ = handle()
    script_phone.call(target)
    assert phone.placed == [(placed, None)]


def test_bare_user_keeps_the_account_port() -> None:
    script_phone, phone, _ = handle()
    phone.config.accounts["me"].aor = phone.config.accounts["me"].aor.__class__(
        host="127.0.0.1", user="me", port=5070)
    script_phone.call("echo")
    assert phone.placed == [("echo@127.0.0.1:5070", None)]


def test_script_call_adds_remote_user_data_and_can() -> None:
    raw = FakeCall(FakePhone(), '"Alice" <sip:alice@127.0.0.1:5062>;tag=1')
    call = ScriptCall(raw)
    assert call.remote_user == "alice"
    assert call.state == "incoming" and call.remote is raw.remote
    assert call.can("answer") and not call.can("transfer") and not call.can("state")
    with pytest.raises(AttributeError, match=r"calls have no 'transfer' in this tui-phone version"):
        call.transfer("sip:vm@h")
    call.data["seen"] = True
    call.note = "mine"
    assert call.note == "mine" and not hasattr(raw, "note")
    assert call == raw and call == ScriptCall(raw) and hash(call) == hash(ScriptCall(raw))
    call.answer()
    assert raw.actions == [("answer",)]


def test_remote_user_prefers_the_calls_own_attribute() -> None:
    raw = SimpleNamespace(remote="sip:x@y", remote_user="from-call")
    assert ScriptCall(raw).remote_user == "from-call"


@pytest.mark.parametrize(("text", "user"), [
    ("sip:alice@127.0.0.1:5062", "alice"),
    ("sips:bob@example.org;transport=tls", "bob"),
    ('"Bob" <sip:bob@h>;tag=x', "bob"),
    ("tel:+15551234", "+15551234"),
    ("sip:example.org", None),
    ("", None),
])
def test_uri_user(text: str, user: str | None) -> None:
    assert uri_user(text) == user


def test_sleep_and_call_later_use_the_hosts_reactor() -> None:
    script_phone, phone, _ = handle()
    fired: list[object] = []
    script_phone.sleep(3).addCallback(lambda _: fired.append("slept"))
    delayed = script_phone.call_later(1, fired.append, "later")
    assert delayed.active()
    phone.reactor.advance(1)
    assert fired == ["later"]
    phone.reactor.advance(2)
    assert fired == ["later", "slept"]
