"""tui_phone.rtp.ticker.TimerfdPacer: the ptime timer as a periodic timerfd.

On a real asyncio loop (the timer is the kernel's): each call comes no
earlier than its due time, a call for the next period does not re-arm the
timer, a late loop gets the due time of the latest expiry, cancel and close
stop it.  Each test runs on the C core (``_ctick.PacerCore``, which the
test machine builds) and on the Python one it replaces (the reference).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tui_phone.rtp.ticker import AsyncioPacer, PyTimerfdPacer, TimerfdPacer, _timerfd, pacer_for

pytestmark = pytest.mark.skipif(sys.platform != "linux" or _timerfd() is None, reason="timerfd is Linux's")
PERIOD = 0.02


class CountingTimerfd:
    """The real timerfd calls, counting the (re-)arms."""

    def __init__(self) -> None:
        real = _timerfd()
        assert real is not None
        self._real = real
        self.arms: list[tuple[float, float]] = []

    def create(self) -> int:
        return self._real.create()

    def arm(self, fd: int, when: float, period: float) -> None:
        self.arms.append((when, period))
        self._real.arm(fd, when, period)


@pytest.fixture(params=[TimerfdPacer, PyTimerfdPacer], ids=["c", "python"])
def pacer_class(request: pytest.FixtureRequest) -> type[TimerfdPacer] | type[PyTimerfdPacer]:
    if request.param is TimerfdPacer:
        assert type(TimerfdPacer.call_at).__name__ == "method_descriptor", "the C core is not built"
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_periodic_calls_come_at_their_due_times_without_re_arming(
    loop: asyncio.AbstractEventLoop, pacer_class: Any
) -> None:
    timerfd = CountingTimerfd()
    pacer = pacer_class(loop, timerfd)  # type: ignore[arg-type]
    start = pacer.now() + PERIOD
    calls: list[tuple[float, float]] = []  # (now given, loop time)

    def tick(now: float) -> None:
        calls.append((now, loop.time()))
        if len(calls) == 10:
            loop.stop()
        else:
            pacer.call_at(start + len(calls) * PERIOD, tick, PERIOD)

    pacer.call_at(start, tick, PERIOD)
    loop.call_later(2.0, loop.stop)
    loop.run_forever()
    assert len(calls) == 10
    for k, (now, at) in enumerate(calls):
        assert now >= start + k * PERIOD - 1e-9  # never before the due time
        assert at - (start + k * PERIOD) < 0.015  # (a loaded machine: generous)
    # Armed once, then only read; disarmed when the last call did not ask again.
    assert timerfd.arms == [(start, PERIOD), (0.0, 0.0)]
    pacer.close()


def test_a_late_loop_gets_the_latest_due_time(loop: asyncio.AbstractEventLoop, pacer_class: Any) -> None:
    pacer = pacer_class(loop, CountingTimerfd())  # type: ignore[arg-type]
    start = pacer.now() + PERIOD
    seen: list[float] = []
    pacer.call_at(start, seen.append, PERIOD)
    time.sleep(3.5 * PERIOD)  # the loop is busy: expiries at start, +1 and +2 periods pass
    loop.call_later(0.001, loop.stop)
    loop.run_forever()
    assert len(seen) == 1
    assert seen[0] >= start + 2 * PERIOD - 1e-9
    # Asked for the next expiry, the timer is not re-armed.
    pacer.call_at(start + 3 * PERIOD, seen.append, PERIOD)
    assert pacer._next == pytest.approx(start + 3 * PERIOD)
    pacer.close()


def test_cancel_stops_the_timer_and_a_call_not_renewed_stops_it_too(
    loop: asyncio.AbstractEventLoop, pacer_class: Any
) -> None:
    timerfd = CountingTimerfd()
    pacer = pacer_class(loop, timerfd)  # type: ignore[arg-type]
    fired: list[float] = []
    pacer.call_at(pacer.now() + PERIOD, fired.append, PERIOD)
    pacer.cancel()
    loop.call_later(3 * PERIOD, loop.stop)
    loop.run_forever()
    assert fired == []
    pacer.call_at(pacer.now() + PERIOD, fired.append, PERIOD)  # fires once, not asked again
    loop.call_later(4 * PERIOD, loop.stop)
    loop.run_forever()
    assert len(fired) == 1
    assert timerfd.arms[-1] == (0.0, 0.0)  # disarmed after that one
    pacer.close()


def test_close_releases_the_descriptor(loop: asyncio.AbstractEventLoop, pacer_class: Any) -> None:
    pacer = pacer_class(loop, CountingTimerfd())  # type: ignore[arg-type]
    pacer.call_at(pacer.now() + 10, lambda now: None, PERIOD)
    fd = pacer._fd
    os.fstat(fd)
    pacer.close()
    pacer.close()
    with pytest.raises(OSError):
        os.fstat(fd)


def test_call_at_takes_the_period_by_keyword(loop: asyncio.AbstractEventLoop, pacer_class: Any) -> None:
    timerfd = CountingTimerfd()
    pacer = pacer_class(loop, timerfd)
    calls: list[float] = []

    def tick(now: float) -> None:
        calls.append(now)
        if len(calls) < 3:
            pacer.call_at(start + len(calls) * PERIOD, tick, period=PERIOD)
        else:
            loop.stop()

    start = pacer.now() + PERIOD
    assert pacer.call_at(start, tick, period=PERIOD) is pacer
    loop.call_later(2.0, loop.stop)
    loop.run_forever()
    assert len(calls) == 3 and len(timerfd.arms) == 2  # armed once, disarmed at the end
    with pytest.raises(TypeError):
        pacer.call_at(start, tick, PERIOD, 4)
    pacer.close()


def test_pacer_for_takes_the_timerfd_on_a_loop_that_reads_descriptors(loop: asyncio.AbstractEventLoop) -> None:
    class Reactor:
        _asyncioEventloop: Any = loop

    pacer = pacer_for(Reactor())
    assert isinstance(pacer, TimerfdPacer)
    pacer.close()
    Reactor._asyncioEventloop = object()  # no add_reader: the loop's own timers
    assert isinstance(pacer_for(Reactor()), AsyncioPacer)
