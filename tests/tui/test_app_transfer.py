"""Transfers and the conference driven by keys: the app (alice) with two in-process
peers, bob and carol, on 127.0.0.1, both answering every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from tests.tui.helpers import make_app, make_phone, until
from tui_phone.call_control import CONFERENCE, CONSULTING, TRANSFERRING
from tui_phone.events import IncomingCall
from tui_phone.widgets.banner import Banner
from tui_phone.widgets.call_list import CallList, CallRow


class Peer:
    """A Phone that answers every call, and the calls it has had."""

    def __init__(self, reactor: Any, name: str, seed: int) -> None:
        self.reactor = reactor
        self.phone = make_phone(reactor, name, seed=seed)
        self.incoming: list[Any] = []
        self.phone.subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, IncomingCall):
            self.incoming.append(event.call)
            self.reactor.callLater(0, event.call.answer)

    async def start(self) -> None:
        await self.phone.start(register=False).asFuture(self.reactor._asyncioEventloop)

    async def stop(self) -> None:
        await self.phone.stop().asFuture(self.reactor._asyncioEventloop)

    def uri(self) -> str:
        host, port = self.phone.local_address()
        return f"sip:{self.phone.account().name}@{host}:{port}"

    def connected(self) -> list[Any]:
        return [c for c in self.phone.calls if c.state == "connected"]


def _record_labels(app: Any) -> list[str]:
    """Every state word the call list is asked to show, in order."""
    seen: list[str] = []
    table = app.query_one(CallList)
    show = table.show

    def recording(rows: list[CallRow]) -> None:
        seen.extend(row.state for row in rows)
        show(rows)

    table.show = recording  # type: ignore[method-assign]
    return seen


async def _answer_prompt(pilot: Any, text: str) -> None:
    await until(pilot, lambda: pilot.app.screen.id == "prompt-screen")
    pilot.app.screen.query_one("#prompt-input", Input).value = text
    await pilot.press("enter")


def _labels(app: Any) -> list[str]:
    table = app.query_one(CallList)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def _scenario(run: Any, reactor: Any, tmp_path: Path, steps: Any) -> None:
    app = make_app(reactor, tmp_path, echo=False)
    bob, carol = Peer(reactor, "bob", 11), Peer(reactor, "carol", 12)

    async def body() -> None:
        await bob.start()
        await carol.start()
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: app.phone._started)
                await steps(app, pilot, bob, carol)
                await pilot.press("ctrl+q")
        finally:
            await bob.stop()
            await carol.stop()

    run(body())


def test_blind_transfer_connects_bob_with_carol_and_ends_our_call(run: Any, reactor: Any,
                                                                  tmp_path: Path) -> None:
    async def steps(app: Any, pilot: Any, bob: Peer, carol: Peer) -> None:
        labels = _record_labels(app)
        app.dial(bob.uri())
        await until(pilot, lambda: len(bob.connected()) == 1 and _labels(app) == ["active"])
        await pilot.press("f8")
        await _answer_prompt(pilot, carol.uri())
        await until(pilot, lambda: not app.calls, 10.0)
        assert TRANSFERRING in labels
        await until(pilot, lambda: len(carol.connected()) == 1)
        [bob_call] = bob.connected()
        assert bob_call.remote.startswith("sip:carol@") and bob_call is not bob.incoming[0]
        assert carol.connected()[0].remote.startswith("sip:bob@")
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("transferred to sip:carol@") for m in messages)
        assert app.history.rows()[0].ended_by == "local"

    _scenario(run, reactor, tmp_path, steps)


async def _consult(app: Any, pilot: Any, bob: Peer, carol: Peer) -> tuple[Any, Any]:
    original = app.dial(bob.uri())
    await until(pilot, lambda: original.state == "connected")
    await pilot.press("f9")
    await _answer_prompt(pilot, carol.uri())
    await until(pilot, lambda: len(carol.connected()) == 1 and original.on_hold)
    consult = app.consultation.consult
    await until(pilot, lambda: consult.state == "connected")
    await pilot.pause()
    assert _labels(app) == [CONSULTING, CONSULTING]
    banner = app.query_one(Banner)
    assert banner.display and banner.text == "attended transfer: F9 complete · esc abort"
    return original, consult


def test_attended_transfer_complete(run: Any, reactor: Any, tmp_path: Path) -> None:
    async def steps(app: Any, pilot: Any, bob: Peer, carol: Peer) -> None:
        await _consult(app, pilot, bob, carol)
        await pilot.press("f9")
        await until(pilot, lambda: not app.calls, 10.0)
        assert not app.query_one(Banner).display and app.consultation is None
        # bob's new call replaced carol's consultation call: bob and carol talk
        await until(pilot, lambda: len(bob.connected()) == 1 and len(carol.connected()) == 1)
        assert bob.connected()[0].remote.startswith("sip:carol@")
        assert carol.connected()[0].remote.startswith("sip:bob@")

    _scenario(run, reactor, tmp_path, steps)


def test_attended_transfer_abort_resumes_the_original(run: Any, reactor: Any,
                                                      tmp_path: Path) -> None:
    async def steps(app: Any, pilot: Any, bob: Peer, carol: Peer) -> None:
        original, consult = await _consult(app, pilot, bob, carol)
        await pilot.press("escape")
        await until(pilot, lambda: consult.state == "ended" and not original.on_hold)
        await until(pilot, lambda: _labels(app) == ["active"] and not carol.connected())
        assert list(app.calls.values()) == [original] and original.state == "connected"
        assert not app.query_one(Banner).display and app.consultation is None
        assert len(bob.connected()) == 1

    _scenario(run, reactor, tmp_path, steps)


def test_conference_of_two_calls_and_split(run: Any, reactor: Any, tmp_path: Path) -> None:
    async def steps(app: Any, pilot: Any, bob: Peer, carol: Peer) -> None:
        first = app.dial(bob.uri())
        second = app.dial(carol.uri())
        await until(pilot, lambda: first.state == second.state == "connected")
        await pilot.press("f10")
        await pilot.pause()
        assert _labels(app) == [CONFERENCE, CONFERENCE]
        assert sorted(c.call_id for c in app.conference.calls) == sorted(app.calls)
        app.query_one(CallList).select(second.call_id)
        await pilot.press("f10")
        await until(pilot, lambda: first.on_hold)
        await until(pilot, lambda: _labels(app) == ["held", "active"])
        assert app.conference is None and not second.on_hold

    _scenario(run, reactor, tmp_path, steps)
