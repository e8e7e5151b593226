"""What the app reads from the Phone API for a call's media: the stats panel's
fields and its unexpected-RTP-source warning, and the call's own flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.tui.fakes import FakePhone
from tests.tui.helpers import make_app, until
from tui_phone.app import PhoneApp
from tui_phone.widgets.rtp_stats import RtpStats


def test_stats_panel_warns_when_rtp_comes_from_elsewhere(run: Any) -> None:
    app = PhoneApp(FakePhone(), refresh_s=3600.0)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            call = app.dial("sip:bob@127.0.0.1:5070")
            call.connect()
            call.summary = dataclasses.replace(
                call.summary, bitrate_kbps=64.0, jitter_buffer_ms=40.0,
                jitter_buffer_target_ms=60.0, concealed_frames=2,
                rtp_source="127.0.0.1:5070", rtp_expected_source="127.0.0.1:5070")
            app._tick()
            await pilot.pause()
            stats = app.query_one(RtpStats)
            warning = stats.query_one("#stats-warning", Static)
            assert stats.last.bitrate_kbps == 64.0 and stats.last.concealed_frames == 2
            assert not warning.display
            call.summary = dataclasses.replace(call.summary, rtp_source="10.0.0.9:4000")
            app._tick()
            await pilot.pause()
            assert warning.display
            assert str(warning.render()) == "⚠ RTP from 10.0.0.9:4000, expected 127.0.0.1:5070"

    run(body())


def test_real_call_flags_and_stats_fields(run: Any, reactor: Any, tmp_path: Path) -> None:
    app = make_app(reactor, tmp_path)

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.echo.running and app.phone._started)
            assert app.phone.audio_description.startswith("audio: null")
            call = app.dial("echo")
            await until(pilot, lambda: call.state == "connected")
            await until(pilot, lambda: call.stats().rx_packets > 20)
            summary = call.stats()
            assert summary.rtp_source == summary.rtp_expected_source is not None
            assert summary.bitrate_kbps and summary.jitter_buffer_target_ms is not None
            assert not (call.muted or call.recording or call.encrypted)
            await pilot.press("f6", "f7")
            assert call.muted and call.recording
            await until(pilot, lambda: "muted rec" in str(app.query_one("#call-list").get_row_at(0)))
            await pilot.press("ctrl+q")

    run(body())


def test_nat_status_and_symmetric_nat_warning_reach_the_ui(run: Any) -> None:
    from tui_phone.events import NatStatusChanged
    from tui_phone.widgets.status_bar import StatusBar

    app = PhoneApp(FakePhone(), refresh_s=3600.0)
    warning = "symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy"

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            app._on_phone_event(NatStatusChanged("203.0.113.9", 5060, "symmetric", "",
                                                 (warning,)))
            await pilot.pause()
            assert app.nat_line == "nat: symmetric, public 203.0.113.9:5060"
            assert warning in [n.message for n in app._notifications]
            assert "nat: symmetric" in str(app.query_one(StatusBar).render())

    run(body())
