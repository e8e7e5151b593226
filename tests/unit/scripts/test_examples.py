"""The example scripts shipped in tui_phone/scripts/examples, on a fake phone."""

from __future__ import annotations

import csv
import logging
import shutil
from datetime import time
from pathlib import Path

import pytest

import tui_phone
import tui_phone.scripts.examples
from tui_phone.call import Call
from tui_phone.scripts.loader import ScriptLoader
from tui_phone.testing.script_fakes import FakeCall, TransferableCall

EXAMPLES = Path(tui_phone.scripts.examples.__file__).parent


@pytest.fixture
def example_rig(tmp_path: Path, make_rig):
    """``example_rig("whitelist.py")``: a rig running that example only."""

    def make(name: str, call_class: type[FakeCall] = FakeCall):
        folder = tmp_path / f"only-{name}"
        folder.mkdir()
        shutil.copy(EXAMPLES / name, folder / name)
        rig = make_rig(folder, call_class=call_class)
        assert rig.errors == [], rig.errors
        return rig

    return make


def test_all_examples_load_together_without_errors_or_key_clashes() -> None:
    result = ScriptLoader([EXAMPLES], include_default=False).load()
    assert result.errors == ()
    assert [s.name for s in result.scripts] == [
        "answering_machine.py", "cdr_csv.py", "do_not_disturb.py", "dtmf_menu.py",
        "speed_dial.py", "voicemail_key.py", "whitelist.py"]
    keys = [key for script in result.scripts for key in script.registry.hotkeys]
    assert sorted(keys) == ["f4", "f5", "f6", "f7", "f8", "f9"]


def test_the_whitelist_example_is_the_issues_script_verbatim() -> None:
    text = (EXAMPLES / "whitelist.py").read_text()
    assert ('@hotkey("f5", description="Call the echo test")\ndef call_echo(phone):\n'
            '    phone.call("echo")\n\n\n@on("incoming_call")\ndef answer_friends(phone, call):\n'
            '    if call.remote_user in {"alice", "bob"}:\n        call.answer()\n') in text


def test_whitelist_answers_alice_and_bob_and_ignores_carol(example_rig) -> None:
    rig = example_rig("whitelist.py")
    alice = rig.phone.ring('"Alice" <sip:alice@127.0.0.1:5062>')
    bob = rig.phone.ring("sip:bob@10.0.0.2")
    carol = rig.phone.ring("sip:carol@127.0.0.1:5064")
    assert alice.state == bob.state == "connected"
    assert carol.state == "incoming" and carol.actions == []
    assert [(h.key, h.description) for h in rig.host.hotkeys()] == [("f5", "Call the echo test")]
    rig.host.run_hotkey("f5")
    assert rig.phone.placed == [("echo@example.com", None)]
    assert rig.errors == []


@pytest.mark.parametrize(("moment", "quiet"), [
    (time(21, 59), False), (time(22, 0), True), (time(3, 0), True), (time(6, 59), True),
    (time(7, 0), False), (time(12, 0), False),
])
def test_do_not_disturb_quiet_hours_wrap_past_midnight(example_rig, moment: time, quiet: bool) -> None:
    rig = example_rig("do_not_disturb.py")
    module = rig.host.scripts[0].module
    assert module.is_quiet(moment) is quiet
    module.now = lambda: moment
    call = rig.phone.ring("sip:late@h")
    if quiet:
        assert call.actions == [("reject", 480, "Do Not Disturb")] and call.state == "ended"
        assert rig.ui.notes == [("do_not_disturb.py", "quiet hours: refused a call from late")]
    else:
        assert call.actions == [] and call.state == "incoming" and rig.ui.notes == []


def test_do_not_disturb_key_toggles_the_phones_dnd(example_rig) -> None:
    rig = example_rig("do_not_disturb.py")
    rig.host.run_hotkey("f9")
    assert rig.phone.dnd is True
    rig.host.run_hotkey("f9")
    assert rig.phone.dnd is False
    assert [text for _, text in rig.ui.notes] == ["do not disturb is on", "do not disturb is off"]


def test_speed_dial_keys(example_rig) -> None:
    rig = example_rig("speed_dial.py")
    assert [(h.key, h.description) for h in rig.host.hotkeys()] == [
        ("f6", "Call Alice"), ("f7", "Call Bob"), ("f8", "Call the echo test")]
    for key in ("f6", "f7", "f8"):
        rig.host.run_hotkey(key)
    assert rig.phone.placed == [("sip:alice@example.com", None), ("sip:bob@example.com", None),
                                ("echo@example.com", None)]


def test_voicemail_key_says_plainly_that_transfer_is_missing(example_rig, caplog, monkeypatch) -> None:
    monkeypatch.delattr(Call, "transfer", raising=False)  # a tui-phone without blind transfer
    caplog.set_level(logging.WARNING)
    rig = example_rig("voicemail_key.py")
    assert "cannot transfer calls yet (no Call.transfer)" in caplog.text
    rig.host.run_hotkey("f4")
    call = rig.phone.ring("sip:bob@h")
    rig.host.run_hotkey("f4")
    assert call.actions == [] and call.state == "incoming"
    assert [t for _, t in rig.ui.notes] == [
        "no call to send to voicemail",
        "cannot send to voicemail: this tui-phone has no blind transfer yet (Call.transfer is missing)"]
    assert rig.errors == []


def test_voicemail_key_is_quiet_at_load_where_calls_can_transfer(example_rig, caplog, monkeypatch) -> None:
    monkeypatch.setattr(Call, "transfer", lambda self, uri: None, raising=False)
    caplog.set_level(logging.WARNING)
    example_rig("voicemail_key.py")
    assert "cannot transfer" not in caplog.text


def test_voicemail_key_redirects_a_ringing_call_and_transfers_a_connected_one(example_rig) -> None:
    rig = example_rig("voicemail_key.py", call_class=TransferableCall)
    ringing = rig.phone.ring("sip:bob@h")
    rig.host.run_hotkey("f4")
    assert ringing.actions == [("redirect", "sip:voicemail@example.com")]
    talking = rig.phone.ring("sip:ann@h")
    talking.answer()
    rig.host.run_hotkey("f4")
    assert talking.actions == [("answer",), ("transfer", "sip:voicemail@example.com")]
    assert [t for _, t in rig.ui.notes] == ["sent bob to sip:voicemail@example.com",
                                            "sent ann to sip:voicemail@example.com"]


def test_cdr_writes_one_csv_row_per_call(example_rig, tmp_path: Path, monkeypatch) -> None:
    cdr = tmp_path / "cdr" / "calls.csv"
    monkeypatch.setenv("TUI_PHONE_CDR", str(cdr))
    rig = example_rig("cdr_csv.py")
    answered = rig.phone.ring("sip:alice@127.0.0.1:5062")
    answered.answer()
    answered.hangup()
    rig.phone.ring("sip:carol@h").reject(486, "Busy Here")
    rows = list(csv.DictReader(cdr.open(newline="")))
    assert len(rows) == 2
    first, second = rows
    assert first["ended_at"].endswith("+00:00")
    del first["ended_at"], second["ended_at"]
    assert first == {"direction": "in", "remote": "sip:alice@127.0.0.1:5062", "remote_user": "alice",
                     "answered": "True", "status": "200", "reason": "OK", "duration_s": "12.5",
                     "codec": "PCMU", "loss_pct": "0.5", "jitter_ms": "1.25", "mos": "4.3",
                     "ended_by": "local"}
    assert (second["remote_user"], second["answered"], second["status"], second["reason"]) == (
        "carol", "False", "486", "Busy Here")
    assert cdr.read_text().splitlines()[0].startswith("ended_at,direction,remote,remote_user,")


@pytest.mark.parametrize("call_class", [FakeCall, TransferableCall])
def test_answering_machine_answers_records_and_hangs_up(
        example_rig, tmp_path: Path, monkeypatch, call_class: type[FakeCall]) -> None:
    monkeypatch.setenv("TUI_PHONE_MESSAGES", str(tmp_path / "messages"))
    monkeypatch.setenv("TUI_PHONE_MAX_MESSAGE", "20")
    monkeypatch.setenv("TUI_PHONE_GREETING", str(tmp_path / "hello.wav"))
    rig = example_rig("answering_machine.py", call_class=call_class)
    call = rig.phone.ring("sip:bob@h")
    (record, answer, *play) = call.actions
    assert record[0] == "record" and Path(record[1]).parent == tmp_path / "messages"
    assert Path(record[1]).name.endswith("-bob.wav")
    assert answer == ("answer",)
    if call_class is TransferableCall:
        assert play == [("play", str(tmp_path / "hello.wav"))]
    else:
        assert play == [] and "no Call.play" in rig.ui.notes[0][1]
    rig.clock.advance(19.9)
    assert call.state == "connected"
    rig.clock.advance(0.1)
    assert call.state == "ended" and call.actions[-1] == ("hangup",)
    assert rig.ui.notes[-1] == ("answering_machine.py", f"message from bob: {record[1]}")
    assert rig.errors == []


def test_answering_machine_copes_with_a_caller_who_hangs_up_first(example_rig, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TUI_PHONE_MESSAGES", str(tmp_path / "messages"))
    rig = example_rig("answering_machine.py")
    call = rig.phone.ring("sip:bob@h")
    call.end(200, "OK", "remote")
    rig.clock.advance(30)
    assert ("hangup",) not in call.actions and rig.errors == []


def test_dtmf_menu(example_rig) -> None:
    rig = example_rig("dtmf_menu.py")
    call = rig.phone.ring("sip:bob@h")
    assert call.state == "connected"
    for digit in "129":
        rig.phone.dtmf(call, digit)
    assert [t for _, t in rig.ui.notes] == [
        "bob is in the menu",
        "bob pressed 1: cannot play greeting.wav (no Call.play yet)",
        "bob pressed 2: cannot transfer (no Call.transfer yet)",
        "bob pressed 9"]
    rig.phone.dtmf(call, "3")
    assert call.state == "ended"


def test_dtmf_menu_transfers_and_plays_where_the_call_can(example_rig) -> None:
    rig = example_rig("dtmf_menu.py", call_class=TransferableCall)
    call = rig.phone.ring("sip:bob@h")
    rig.phone.dtmf(call, "1")
    rig.phone.dtmf(call, "2")
    assert call.actions == [("answer",), ("play", "greeting.wav"),
                            ("transfer", "sip:operator@example.com")]


def test_dtmf_menu_ignores_calls_it_did_not_answer(example_rig) -> None:
    rig = example_rig("dtmf_menu.py")
    outgoing = rig.phone.call("sip:x@h")
    rig.phone.dtmf(outgoing, "3")
    assert outgoing.actions == [] and [t for _, t in rig.ui.notes] == []


README = Path(tui_phone.__file__).parent.parent / "README.md"


def _scripting_section() -> str:
    text = README.read_text()
    return text.split("## Scripting", 1)[1].split("\n## ", 1)[0]


def test_the_documented_example_loads_and_runs(tmp_path: Path, make_rig) -> None:
    text = _scripting_section()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "friends.py").write_text(code)
    rig = make_rig(folder)
    assert rig.errors == []
    assert [h.key for h in rig.host.hotkeys()] == ["f5", "ctrl+t"]
    alice = rig.phone.ring("sip:alice@h")
    rig.phone.dtmf(alice, "#")
    assert alice.actions == [("answer",), ("hangup",)]
    rig.phone.ring("sip:zed@h").reject(486)
    assert rig.ui.notes == [("friends.py", "missed call from zed")]
    rig.ui.answers.append("sip:tom@h")
    rig.host.run_hotkey("ctrl+t")
    rig.clock.advance(30)
    assert rig.phone.placed == [("sip:tom@h", None)] and rig.errors == []


def test_the_documentation_lists_every_event() -> None:
    from tui_phone.scripts.api import EVENT_ALIASES

    text = _scripting_section()
    assert all(f'"{name}"' in text for name in EVENT_ALIASES)
