"""tui_phone.rtp.mediathread: RTP ticks on a media thread, in turn with the loop.

On real asyncio loops and real timerfds: the ticks run on the media thread;
a tick and a loop callback never run at the same time; work a tick leaves
for the loop runs at once (the loop is woken); a failing tick is logged and
the ticks go on; the thread ends with its last timer and starts again with
the next; a loop without epoll is left alone.  Each test runs twice: on the
C loop and pacer (``_ctick.run_media``, ``_ctick.PacerCore``, which the test
machine builds) and on the Python ones they replace, the reference.
"""

from __future__ import annotations

import asyncio
import logging
import selectors
import sys
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tui_phone.loop import new_loop
from tui_phone.rtp import mediathread, ticker
from tui_phone.rtp.mediathread import MediaThread, media_thread, take_turns
from tui_phone.rtp.ticker import AsyncioPacer, PyTimerfdPacer, TimerfdPacer, _timerfd, pacer_for

pytestmark = pytest.mark.skipif(sys.platform != "linux" or _timerfd() is None, reason="timerfd is Linux's")
PERIOD = 0.02


@pytest.fixture(autouse=True, params=["c", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(mediathread, "run_media", None)
        monkeypatch.setattr(ticker, "TimerfdPacer", PyTimerfdPacer)
    else:
        assert mediathread.run_media is not None, "_ctick is not built (tests/unit/rtp/test_speedups.py)"
        assert type(TimerfdPacer.call_at).__name__ == "method_descriptor"  # the C core
    return str(request.param)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = new_loop()
    yield loop
    loop.close()


def _pacer(loop: asyncio.AbstractEventLoop) -> TimerfdPacer | PyTimerfdPacer:
    pacer = pacer_for(SimpleNamespace(_asyncioEventloop=loop))
    assert isinstance(pacer, (TimerfdPacer, PyTimerfdPacer))
    return pacer


def _run(loop: asyncio.AbstractEventLoop, limit: float = 3.0) -> float:
    """Run ``loop`` until something stops it (at most ``limit`` s); the time it ran."""
    guard = loop.call_later(limit, loop.stop)
    start = time.monotonic()
    loop.run_forever()
    guard.cancel()
    return time.monotonic() - start


def _settle(loop: asyncio.AbstractEventLoop, media: MediaThread) -> None:
    """Let the loop wait in epoll (giving the turn) until the media thread has ended."""
    deadline = time.monotonic() + 2
    while media.running and time.monotonic() < deadline:
        loop.run_until_complete(asyncio.sleep(0.01))


def test_take_turns_wraps_an_epoll_loop_once_and_leaves_others_alone(loop: asyncio.AbstractEventLoop) -> None:
    media = media_thread(loop)
    assert isinstance(media, MediaThread)
    assert take_turns(loop) is media
    assert not media.running  # no thread before the first timer
    other = asyncio.SelectorEventLoop(selectors.SelectSelector())
    try:
        assert take_turns(other) is None and media_thread(other) is None
        pacer = pacer_for(SimpleNamespace(_asyncioEventloop=other))
        assert isinstance(pacer, (TimerfdPacer, PyTimerfdPacer)) and pacer.hand_over is None  # read by the loop
        pacer.close()
    finally:
        other.close()


def test_ticks_run_on_the_media_thread_and_wake_the_loop(loop: asyncio.AbstractEventLoop) -> None:
    media = media_thread(loop)
    assert media is not None
    pacer = _pacer(loop)
    assert pacer.hand_over is not None
    ticks: list[tuple[str, float]] = []

    def tick(now: float) -> None:
        ticks.append((threading.current_thread().name, now))
        if len(ticks) < 10:
            pacer.call_at(ticks[0][1] + len(ticks) * PERIOD, tick, PERIOD)
        else:
            pacer.hand_over(loop.stop)  # the loop sleeps in epoll: only the wake-up runs this

    first = pacer.now() + PERIOD
    pacer.call_at(first, tick, PERIOD)
    assert media.running
    ran = _run(loop)
    assert [name for name, _ in ticks] == ["tui-phone-media"] * 10
    assert ran < 1.0  # stopped by the tick, not by the 3 s guard
    for index, (_, now) in enumerate(ticks):
        assert now >= first + index * PERIOD - 1e-6
    pacer.close()
    _settle(loop, media)
    assert not media.running


def test_a_timer_a_tick_sets_on_the_loop_is_not_overslept(loop: asyncio.AbstractEventLoop) -> None:
    pacer = _pacer(loop)
    times: dict[str, float] = {}

    def fired() -> None:
        times["fired"] = time.monotonic()
        loop.stop()

    def tick(now: float) -> None:
        times["tick"] = time.monotonic()
        loop.call_later(0.005, fired)  # earlier than the loop's epoll timeout (the guard's 3 s)

    pacer.call_at(pacer.now() + PERIOD, tick)
    _run(loop)
    assert times["fired"] - times["tick"] < 0.5
    pacer.close()


def test_a_tick_never_runs_while_a_loop_callback_does(loop: asyncio.AbstractEventLoop) -> None:
    pacer = _pacer(loop)
    spans: dict[str, list[tuple[float, float]]] = {"tick": [], "loop": []}
    dues: list[float] = []

    def tick(now: float) -> None:
        start = time.perf_counter()
        dues.append(now)
        time.sleep(0.002)
        spans["tick"].append((start, time.perf_counter()))
        if len(dues) < 15:
            pacer.call_at(first + len(dues) * PERIOD, tick, PERIOD)

    def busy() -> None:  # holds the loop (and so the turn) across two frame times
        start = time.perf_counter()
        time.sleep(0.05)
        spans["loop"].append((start, time.perf_counter()))

    first = pacer.now() + PERIOD
    pacer.call_at(first, tick, PERIOD)
    for delay in (0.03, 0.13, 0.21):
        loop.call_later(delay, busy)
    loop.call_later(0.45, loop.stop)
    _run(loop)
    assert len(spans["loop"]) == 3 and len(spans["tick"]) >= 10
    for tick_start, tick_end in spans["tick"]:
        for busy_start, busy_end in spans["loop"]:
            assert tick_end <= busy_start or tick_start >= busy_end
    # A tick held up by the loop comes right after, with the latest expiry's due time.
    assert any(later - earlier > 2.5 * PERIOD for earlier, later in zip(dues, dues[1:]))
    pacer.close()


def test_a_failing_tick_is_logged_and_the_ticks_go_on(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = _pacer(loop)
    calls: list[float] = []

    def tick(now: float) -> None:
        calls.append(now)
        if len(calls) < 4:
            pacer.call_at(calls[0] + len(calls) * PERIOD, tick, PERIOD)
        else:
            pacer.hand_over(loop.stop)
        if len(calls) == 2:
            raise RuntimeError("broken frame source")

    with caplog.at_level(logging.ERROR, logger="tui_phone.rtp.mediathread"):
        pacer.call_at(pacer.now() + PERIOD, tick, PERIOD)
        ran = _run(loop)
    assert len(calls) == 4 and ran < 1.0
    assert "RTP tick failed" in caplog.text and "broken frame source" in caplog.text
    pacer.close()


def test_the_thread_ends_with_its_last_timer_and_starts_again(loop: asyncio.AbstractEventLoop) -> None:
    media = media_thread(loop)
    assert media is not None
    pacers = [_pacer(loop), _pacer(loop)]
    names: list[str] = []
    expected = [2]  # ticks until the loop is stopped

    def tick(now: float) -> None:
        names.append(threading.current_thread().name)
        if len(names) == expected[0]:
            pacers[0].hand_over(loop.stop)

    for pacer in pacers:
        pacer.call_at(pacer.now() + PERIOD, tick)
    _run(loop)
    pacers[0].close()
    _settle(loop, media)
    assert media.running  # the other timer is still read
    pacers[1].close()
    _settle(loop, media)
    assert not media.running
    pacer = _pacer(loop)
    expected[0] = 3
    pacer.call_at(pacer.now() + PERIOD, tick)
    assert media.running
    _run(loop)
    assert names == ["tui-phone-media"] * 3
    pacer.close()
    _settle(loop, media)
    assert not media.running


def test_without_a_media_thread_the_loop_reads_the_timer() -> None:
    loop = asyncio.new_event_loop()  # not take_turns'
    try:
        pacer = pacer_for(SimpleNamespace(_asyncioEventloop=loop))
        assert isinstance(pacer, (TimerfdPacer, PyTimerfdPacer, AsyncioPacer)) and pacer.hand_over is None
        names: list[str] = []

        def tick(now: float) -> None:
            names.append(threading.current_thread().name)
            loop.stop()

        pacer.call_at(pacer.now() + PERIOD, tick)
        _run(loop)
        assert names == [threading.current_thread().name]
        pacer.close()
    finally:
        loop.close()
