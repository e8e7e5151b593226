"""Dispatching events and hotkeys to scripts (tui_phone.scripts.host)."""

from __future__ import annotations

from pathlib import Path

from tui_phone.events import (
    CallEnded,
    CallHoldChanged,
    CallStateChanged,
    RegistrationChanged,
)
from tui_phone.scripts.handle import ScriptCall, ScriptPhone
from tui_phone.scripts.host import ScriptHost
from tui_phone.scripts.loader import ScriptLoader
from tui_phone.testing.script_fakes import FakePhone

RECORDER = """
from tui_phone.scripts import on
SEEN = []

@on("incoming_call")
def incoming(phone, call):
    SEEN.append(("incoming_call", phone, call))

@on("call_answered")
def answered(phone, call):
    SEEN.append(("call_answered", phone, call))

@on("call_ended")
def ended(phone, event):
    SEEN.append(("call_ended", phone, event))

@on("dtmf")
def dtmf(phone, call, digit):
    SEEN.append(("dtmf", phone, call, digit))

@on("dtmf_received")
def dtmf_full_name(phone, call, digit):
    SEEN.append(("dtmf_received", phone, call, digit))

@on("registration_changed")
def registration(phone, event):
    SEEN.append(("registration_changed", phone, event))
"""


def test_handlers_get_the_phone_handle_then_the_events_object(make_rig, write_script) -> None:
    write_script("rec.py", RECORDER)
    rig = make_rig()
    seen = rig.host.scripts[0].module.SEEN
    call = rig.phone.ring("sip:alice@127.0.0.1:5062")
    call.answer()
    rig.phone.dtmf(call, "5")
    registration = RegistrationChanged("me", "registered", 200, "OK", 3600)
    rig.phone.emit(registration)
    call.hangup()
    kinds = [entry[0] for entry in seen]
    assert kinds == ["incoming_call", "call_answered", "dtmf", "dtmf_received",
                     "registration_changed", "call_ended"]
    handle = seen[0][1]
    assert isinstance(handle, ScriptPhone) and handle.script == "rec.py"
    assert all(entry[1] is handle for entry in seen)
    wrapped = seen[0][2]
    assert isinstance(wrapped, ScriptCall) and wrapped.raw is call
    assert seen[1][2] is wrapped and seen[2][2] is wrapped  # one wrapper per call
    assert seen[2][3] == "5"
    assert seen[4][2] is registration
    ended = seen[5][2]
    assert isinstance(ended, CallEnded) and ended.call is wrapped and ended.status == 200
    assert wrapped.remote_user == "alice"
    assert rig.errors == []


def test_events_caused_by_a_handler_are_dispatched_after_the_current_one(make_rig, write_script) -> None:
    write_script("order.py", """
        from tui_phone.scripts import on
        ORDER = []

        @on("incoming_call")
        def first(phone, call):
            call.answer()
            ORDER.append("first")

        @on("incoming_call")
        def second(phone, call):
            ORDER.append("second")

        @on("call_answered")
        def answered(phone, call):
            ORDER.append("answered")
    """)
    rig = make_rig()
    rig.phone.ring("sip:bob@h")
    assert rig.host.scripts[0].module.ORDER == ["first", "second", "answered"]


def test_an_exception_is_isolated_and_reported_with_its_traceback(make_rig, write_script) -> None:
    write_script("a_bad.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        def explode(phone, call):
            return {}["missing"]
    """)
    write_script("b_good.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        def answer(phone, call):
            call.answer()
    """)
    rig = make_rig()
    call = rig.phone.ring("sip:bob@h")
    assert call.state == "connected"
    ((script, text),) = rig.errors
    assert script == "a_bad.py"
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'a_bad.py", line 6, in explode' in text
    assert "host.py" not in text
    assert text.rstrip().endswith("KeyError: 'missing'")


def test_async_handlers_are_awaited_on_the_reactor(make_rig, write_script) -> None:
    write_script("later.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        async def answer_after_a_while(phone, call):
            await phone.sleep(2)
            call.answer()
    """)
    rig = make_rig()
    call = rig.phone.ring("sip:bob@h")
    assert call.state == "incoming"
    rig.clock.advance(1.9)
    assert call.state == "incoming"
    rig.clock.advance(0.2)
    assert call.state == "connected"
    assert rig.errors == [] and not rig.host._running


def test_an_async_exception_is_reported_with_its_traceback(make_rig, write_script) -> None:
    write_script("later.py", """
        from tui_phone.scripts import on

        @on("call_ended")
        async def fail_later(phone, event):
            await phone.sleep(1)
            raise ValueError(f"no CDR for {event.status}")
    """)
    rig = make_rig()
    rig.phone.ring("sip:bob@h").hangup()
    assert rig.errors == []
    rig.clock.advance(1)
    ((script, text),) = rig.errors
    assert script == "later.py" and 'later.py", line 7, in fail_later' in text
    assert text.rstrip().endswith("ValueError: no CDR for 200")


def test_a_slow_async_handler_is_cancelled_after_the_timeout(make_rig, write_script) -> None:
    write_script("slow.py", """
        from twisted.internet.defer import CancelledError
        from tui_phone.scripts import on
        STATE = []

        @on("incoming_call")
        async def forever(phone, call):
            try:
                await phone.sleep(3600)
            except CancelledError:
                STATE.append("cancelled")
                raise
            STATE.append("finished")

        @on("call_answered", timeout=20)
        async def patient(phone, call):
            await phone.sleep(10)
            STATE.append("patient done")
    """)
    rig = make_rig()
    call = rig.phone.ring("sip:bob@h")
    rig.clock.advance(4.9)
    assert rig.errors == []
    rig.clock.advance(0.2)
    module = rig.host.scripts[0].module
    assert module.STATE == ["cancelled"]
    assert rig.errors == [("slow.py", "forever (incoming_call) timed out after 5 s and was cancelled\n")]
    call.answer()
    rig.clock.advance(10)
    assert module.STATE == ["cancelled", "patient done"]
    assert len(rig.errors) == 1


def test_the_default_timeout_is_configurable(make_rig, write_script) -> None:
    write_script("slow.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        async def slow(phone, call):
            await phone.sleep(2)
    """)
    rig = make_rig(timeout=1.5)
    rig.phone.ring("sip:bob@h")
    rig.clock.advance(1.6)
    assert rig.errors == [("slow.py", "slow (incoming_call) timed out after 1.5 s and was cancelled\n")]


def test_a_slow_sync_handler_is_warned_about(make_rig, write_script) -> None:
    write_script("blocking.py", """
        from tui_phone.scripts import on
        CLOCK = []

        @on("incoming_call")
        def blocks(phone, call):
            CLOCK[0][0] += 0.75  # as if it had blocked for 0.75 s

        @on("call_ended")
        def quick(phone, event):
            CLOCK[0][0] += 0.1
    """)
    rig = make_rig()
    rig.host.scripts[0].module.CLOCK.append(rig.now)
    rig.phone.ring("sip:bob@h").hangup()
    ((script, text),) = rig.warnings
    assert script == "blocking.py"
    assert text.startswith("blocks (incoming_call) blocked the phone for 0.75 s")
    assert rig.errors == []


def test_hotkeys_are_listed_and_run(make_rig, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import hotkey

        @hotkey("f5", description="Call the echo test")
        def call_echo(phone):
            phone.call("echo")

        @hotkey("Ctrl+T")
        def call_tom(phone):
            phone.call("sip:tom@example.org")
    """)
    write_script("b.py", """
        from tui_phone.scripts import hotkey

        @hotkey("f5", description="Something else")
        def other(phone):
            phone.call("other")

        @hotkey("f2", description="Ask")
        async def ask(phone):
            answer = await phone.prompt("Who?")
            phone.call(answer)

        @hotkey("f3", description="Broken")
        def broken(phone):
            raise RuntimeError("broken key")
    """)
    rig = make_rig()
    listing = [(h.key, h.description, h.script) for h in rig.host.hotkeys()]
    assert listing == [("f5", "Call the echo test", "a.py"), ("ctrl+t", "call tom", "a.py"),
                       ("f2", "Ask", "b.py"), ("f3", "Broken", "b.py")]
    assert rig.errors == [("b.py", "hotkey 'f5' is already bound by a.py; other (hotkey f5) is ignored\n")]
    assert rig.host.run_hotkey("f5") is not None
    assert rig.phone.placed == [("echo@example.com", None)]
    rig.host.hotkeys()[1].run()
    assert rig.phone.placed[-1] == ("sip:tom@example.org", None)
    assert rig.host.run_hotkey("f12") is None
    done = rig.host.run_hotkey("f2")
    assert rig.ui.questions == [("b.py", "Who?")] and not done.called
    rig.ui.pending.callback("sip:zoe@example.org")
    assert done.called and rig.phone.placed[-1] == ("sip:zoe@example.org", None)
    finished = rig.host.run_hotkey("F3")
    assert finished.called and rig.errors[-1][1].rstrip().endswith("RuntimeError: broken key")


def test_reload_replaces_handlers_and_hotkeys_and_drops_removed_ones(
        tmp_path: Path, make_rig, write_script) -> None:
    path = write_script("a.py", """
        from tui_phone.scripts import hotkey, on

        @on("incoming_call")
        def answer(phone, call):
            call.answer()

        @hotkey("f5")
        def five(phone):
            phone.call("five")
    """)
    gone = write_script("b.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        def note(phone, call):
            phone.notify("ringing")
    """)
    rig = make_rig()
    assert rig.host.handles("incoming_call")
    assert rig.phone.ring("sip:x@h").state == "connected"
    assert rig.ui.notes == [("b.py", "ringing")]
    path.write_text(path.read_text().replace("call.answer()", "call.reject(603)")
                    .replace('"f5"', '"f6"'))
    gone.unlink()
    result = rig.host.reload()
    assert [s.name for s in result.scripts] == ["a.py"]
    call = rig.phone.ring("sip:y@h")
    assert call.actions == [("reject", 603, None)]
    assert rig.ui.notes == [("b.py", "ringing")]
    assert [h.key for h in rig.host.hotkeys()] == ["f6"]
    assert rig.host.run_hotkey("f5") is None


def test_a_script_that_breaks_on_reload_is_dropped_and_reported(make_rig, write_script) -> None:
    path = write_script("a.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        def answer(phone, call):
            call.answer()
    """)
    rig = make_rig()
    path.write_text("def broken(:\n")
    result = rig.host.reload()
    assert result.scripts == () and [e.name for e in result.errors] == ["a.py"]
    assert rig.errors[-1][0] == "a.py" and "SyntaxError" in rig.errors[-1][1]
    assert not rig.host.handles("incoming_call")
    assert rig.phone.ring("sip:x@h").state == "incoming"


def test_detach_unsubscribes_and_cancels_running_handlers(make_rig, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import on
        DONE = []

        @on("incoming_call")
        async def wait(phone, call):
            await phone.sleep(3)
            DONE.append(call)
    """)
    rig = make_rig()
    rig.phone.ring("sip:x@h")
    rig.host.detach()
    rig.clock.advance(10)
    rig.phone.ring("sip:y@h")
    assert rig.host.scripts[0].module.DONE == [] and rig.errors == []


def test_a_failing_error_callback_does_not_break_dispatch(tmp_path: Path, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import on

        @on("incoming_call")
        def bad(phone, call):
            raise RuntimeError("x")

        @on("incoming_call")
        def good(phone, call):
            call.answer()
    """)
    phone = FakePhone()

    def broken_ui_callback(script: str, text: str) -> None:
        raise OSError("the UI is gone")

    host = ScriptHost(phone, ScriptLoader([tmp_path / "scripts"], include_default=False),
                      on_error=broken_ui_callback)
    host.load()
    host.attach()
    assert phone.ring("sip:x@h").state == "connected"


def test_call_later_reports_errors_like_a_handler(make_rig, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import on

        def fail(call):
            raise RuntimeError(f"late for {call.remote_user}")

        @on("incoming_call")
        def schedule(phone, call):
            phone.call_later(2, call.answer)
            phone.call_later(3, fail, call)
    """)
    rig = make_rig()
    call = rig.phone.ring("sip:ann@h")
    rig.clock.advance(2)
    assert call.state == "connected"
    rig.clock.advance(1)
    assert rig.errors[0][0] == "a.py" and rig.errors[0][1].rstrip().endswith("late for ann")


def test_other_call_events_get_the_event_with_the_wrapped_call(make_rig, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import on
        SEEN = []

        @on("call_hold_changed")
        def held(phone, event):
            SEEN.append(event)

        @on("call_state_changed")
        def moved(phone, event):
            SEEN.append(event)
    """)
    rig = make_rig()
    call = rig.phone.call("sip:x@h")
    rig.phone.emit(CallHoldChanged(call, call.call_id, True, False))
    rig.phone.emit(CallStateChanged(call, call.call_id, "calling", "ringing", "Ringing"))
    held, moved = rig.host.scripts[0].module.SEEN
    assert isinstance(held.call, ScriptCall) and held.call.raw is call and held.local
    assert moved.call is held.call and (moved.old, moved.new) == ("calling", "ringing")


def test_hotkeys_have_their_own_longer_default_timeout(make_rig, write_script) -> None:
    write_script("a.py", """
        from tui_phone.scripts import hotkey

        @hotkey("f2")
        async def ask(phone):
            await phone.prompt("Who?")

        @hotkey("f3", timeout=2)
        async def quick(phone):
            await phone.sleep(3)
    """)
    rig = make_rig(hotkey_timeout=30)
    asking = rig.host.run_hotkey("f2")
    rig.clock.advance(29)
    assert not asking.called
    rig.clock.advance(1)
    assert asking.called and rig.errors == [("a.py", "ask (hotkey f2) timed out after 30 s and was cancelled\n")]
    rig.host.run_hotkey("f3")
    rig.clock.advance(2)
    assert rig.errors[-1] == ("a.py", "quick (hotkey f3) timed out after 2 s and was cancelled\n")
