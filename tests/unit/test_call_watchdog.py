"""tui_phone.call_watchdog: a silent peer's call is hung up after rtp_timeout, on a fake clock."""

from __future__ import annotations

from types import SimpleNamespace

from twisted.internet.task import Clock

from tui_phone.call_watchdog import TIMEOUT_REASON, TIMEOUT_STATUS, RtpWatchdog


class FakeCall:
    """What the watchdog reads and does: the session's counters, hold flags, hangup."""

    def __init__(self) -> None:
        self.reactor = Clock()
        self.counts = {"rtp": 0, "discarded": 0, "rtcp": 0, "dtmf": 0}
        self.on_hold = False
        self.remote_hold = False
        self.hung_up: list[tuple[int, str]] = []
        self.media = SimpleNamespace(session=SimpleNamespace(packets_heard=self._heard))

    def _heard(self) -> int:
        return sum(self.counts.values())

    def hangup(self, *, status: int, reason: str) -> None:
        self.hung_up.append((status, reason))


def run(call: FakeCall, seconds: float, step: float = 0.5, **every_step: int) -> None:
    for _ in range(int(seconds / step)):
        for kind, count in every_step.items():
            call.counts[kind] += count
        call.reactor.advance(step)


def test_a_silent_peer_is_hung_up_after_the_timeout() -> None:
    call = FakeCall()
    RtpWatchdog(call, 10).start()  # type: ignore[arg-type]
    run(call, 9)
    assert call.hung_up == []
    run(call, 6)  # looks every 5 s: hung up by 15 s at the latest
    assert call.hung_up == [(TIMEOUT_STATUS, TIMEOUT_REASON)] == [(408, "RTP timeout")]
    run(call, 30)
    assert len(call.hung_up) == 1  # and it stopped looking


def test_any_packet_from_the_peer_keeps_the_call() -> None:
    for kind in ("rtp", "discarded", "rtcp", "dtmf"):
        call = FakeCall()
        RtpWatchdog(call, 4).start()  # type: ignore[arg-type]
        run(call, 60, step=1, **{kind: 1})
        assert call.hung_up == [], kind


def test_the_clock_starts_again_when_the_peer_falls_silent() -> None:
    call = FakeCall()
    RtpWatchdog(call, 4).start()  # type: ignore[arg-type]
    run(call, 20, step=0.5, rtp=25)
    run(call, 3)
    assert call.hung_up == []
    run(call, 4)
    assert call.hung_up == [(408, "RTP timeout")]


def test_hold_either_way_pauses_the_clock() -> None:
    for side in ("on_hold", "remote_hold"):
        call = FakeCall()
        RtpWatchdog(call, 4).start()  # type: ignore[arg-type]
        setattr(call, side, True)
        run(call, 60)
        assert call.hung_up == [], side
        setattr(call, side, False)  # resumed, and still nothing comes
        run(call, 7)
        assert call.hung_up == [(408, "RTP timeout")], side


def test_stop_cancels_the_looks() -> None:
    call = FakeCall()
    watchdog = RtpWatchdog(call, 4)  # type: ignore[arg-type]
    watchdog.start()
    watchdog.stop()
    assert call.reactor.getDelayedCalls() == []
    run(call, 30)
    assert call.hung_up == []
