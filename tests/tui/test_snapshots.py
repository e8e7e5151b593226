"""SVG snapshots of the main screen (idle, in a call, consulting for an attended transfer),
the ladder and the help screen.

The app runs on a fake Phone (fixed Call-IDs, durations, statistics and SIP
messages) with the periodic refresh turned off and driven by hand, so every
pixel is stable.  Update with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

from tests.tui.fakes import FakePhone
from tui_phone.app import PhoneApp
from tui_phone.widgets.ladder import Ladder

SIZE = (100, 30)


def _app() -> PhoneApp:
    return PhoneApp(FakePhone(), audio_line="audio: null (no sound card found)",
                    refresh_s=3600.0)


async def _in_call(pilot: Any) -> None:
    app = pilot.app
    call = app.dial("sip:bob@127.0.0.1:5070")
    call.connect()
    await pilot.pause()
    for _ in range(20):
        app._tick()
    await pilot.pause()


def test_snapshot_idle(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE)


def test_snapshot_in_call(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_in_call)


def test_snapshot_ladder(snap_compare: Any) -> None:
    async def ladder(pilot: Any) -> None:
        await _in_call(pilot)
        pilot.app.phone.log_ladder()
        await pilot.pause()
        pilot.app.action_stats()
        pilot.app.query_one("#ladder-list").focus()
        await pilot.pause()
        assert "<redacted>" in str(pilot.app.query_one(Ladder).query_one("#ladder-detail").render())

    assert snap_compare(_app(), terminal_size=(100, 40), run_before=ladder)


def test_snapshot_help(snap_compare: Any) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, press=["f1"])


def test_snapshot_attended_transfer(snap_compare: Any) -> None:
    async def consulting(pilot: Any) -> None:
        await _in_call(pilot)
        app = pilot.app
        original = app.selected_call()
        app.start_consultation(original, "sip:carol@127.0.0.1:5080")
        app.consultation.consult.connect()
        await pilot.pause()
        app._tick()
        await pilot.pause()
        assert original.on_hold

    assert snap_compare(_app(), terminal_size=SIZE, run_before=consulting)
