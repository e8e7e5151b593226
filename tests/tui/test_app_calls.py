"""Call flows driven by keys against in-process Phones on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from tests.tui.helpers import make_app, make_phone, until
from tui_phone.widgets.rtp_stats import RtpStats


def test_dial_echo_stats_hold_resume_hangup_and_history(run: Any, reactor: Any,
                                                        tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            assert app.focused is app.query_one("#dial-input", Input)
            await pilot.press(*"echo", "enter")
            await until(pilot, lambda: any(c.state == "connected" for c in app.calls.values()))
            call = next(iter(app.calls.values()))
            stats = app.query_one(RtpStats)
            await until(pilot, lambda: stats.last is not None and stats.last.rx_packets > 0, 2.0)
            first = stats.last.rx_packets
            await until(pilot, lambda: stats.last.rx_packets > first + 10, 2.0)
            assert len(stats.jitter) >= 2
            await pilot.press("f5")
            await until(pilot, lambda: call.on_hold)
            assert "held" in str(app.query_one("#call-list").get_row_at(0))
            await pilot.press("f5")
            await until(pilot, lambda: not call.on_hold)
            await pilot.press("f4")
            await until(pilot, lambda: not app.calls)
            rows = app.history.rows()
            assert len(rows) == 1
            assert rows[0].direction == "outgoing" and rows[0].answered
            assert rows[0].rx_packets > 0 and rows[0].remote.startswith("sip:echo@127.0.0.1:")
            await pilot.press("ctrl+q")
        assert app.phone.calls == []

    run(body())


def _incoming(run: Any, reactor: Any, tmp_path: Path, key: str) -> dict[str, Any]:
    app = make_app(reactor, tmp_path, echo=False)
    caller = make_phone(reactor, "carol", seed=7)
    seen: list[Any] = []
    caller.subscribe(seen.append)
    result: dict[str, Any] = {}

    async def body() -> None:
        await caller.start(register=False).asFuture(reactor._asyncioEventloop)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.phone._started)
            host, port = app.phone.local_address()
            call = caller.call(f"sip:alice@{host}:{port}")
            await until(pilot, lambda: any(c.state == "incoming" for c in app.calls.values()))
            await pilot.press(key)
            if key == "f2":
                await until(pilot, lambda: call.state == "connected")
                result["state"] = call.state
                call.hangup()
            await until(pilot, lambda: call.state == "ended" and not app.calls)
            result["status"] = call.status
            result["rows"] = app.history.rows()
            await pilot.press("ctrl+q")
        await caller.stop().asFuture(reactor._asyncioEventloop)

    run(body())
    return result


def test_incoming_call_answered(run: Any, reactor: Any, tmp_path: Path) -> None:
    result = _incoming(run, reactor, tmp_path, "f2")
    assert result["state"] == "connected" and result["status"] == 200
    assert result["rows"][0].direction == "incoming" and result["rows"][0].answered


def test_incoming_call_rejected(run: Any, reactor: Any, tmp_path: Path) -> None:
    result = _incoming(run, reactor, tmp_path, "f3")
    assert result["status"] == 486
    assert not result["rows"][0].answered and result["rows"][0].status == 486


def test_dtmf_completion_mute_quit_during_call_and_redial(run: Any, reactor: Any,
                                                          tmp_path: Path) -> None:
    from tui_phone.events import DtmfReceived

    app = make_app(reactor, tmp_path)
    digits: list[str] = []

    async def body() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            app.echo.phone.subscribe(
                lambda e: digits.append(e.digit) if isinstance(e, DtmfReceived) else None)
            field = app.query_one("#dial-input", Input)
            await pilot.press("e", "c")
            await until(pilot, lambda: field._suggestion == "echo")
            await pilot.press("right", "enter")
            await until(pilot, lambda: any(c.state == "connected" for c in app.calls.values()))
            await pilot.press("f12")
            assert app.focused is app.query_one("#call-list")
            await pilot.press("1", "#")
            await until(pilot, lambda: digits == ["1", "#"], 5.0)
            await pilot.press("f6")
            assert "muted" in str(app.query_one("#call-list").get_row_at(0))
            await pilot.press("ctrl+q")  # quitting hangs the call up; its row is written
        rows = app.history.rows()
        assert len(rows) == 1 and rows[0].answered and rows[0].ended_by == "local"

    run(body())

    again = make_app(reactor, tmp_path)

    async def redial() -> None:
        async with again.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: again.phone._started)
            await pilot.press("ctrl+r")
            await until(pilot, lambda: len(again.calls) == 1)
            assert next(iter(again.calls.values())).remote == rows_remote
            await pilot.press("ctrl+q")

    rows_remote = app.history.rows()[0].remote
    run(redial())
