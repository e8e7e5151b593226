"""Fixtures shared by the RTP session tests."""

from __future__ import annotations

import pytest

from tui_phone.rtp import session as session_module


@pytest.fixture(params=["c", "python"])
def tick_implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test runs on the C ptime tick (``_ctick.SendTick``), then on
    ``RtpSession._send_tick``, its reference."""
    if request.param == "python":
        monkeypatch.setattr(session_module, "SendTick", None)
    else:
        assert session_module.SendTick is not None, "_ctick is not built (tests/unit/rtp/test_speedups.py)"
    return str(request.param)
