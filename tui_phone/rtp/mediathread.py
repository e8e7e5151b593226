"""RTP ticks on a thread of their own, taking turns with the asyncio loop.

Why: with the ptime timer on the asyncio loop (:class:`~tui_phone.rtp.ticker.TimerfdPacer`
read by ``loop.add_reader``), every frame of every call goes through one
iteration of the loop: ``EpollSelector.select`` building its key list,
``_process_events``, the ready queue, ``Handle._run`` and the timer heap.  A
call is woken 50 times a second, and on an idle machine each of those wake-ups
runs on cold caches, so that machinery costs about as much as the tick itself
(bench/percall.py).  A media thread blocking in its own epoll on the timers
goes straight from the wake-up to the tick.

Turns, not locks in every class: the loop thread holds the *turn* whenever it
runs Python and gives it away only while it waits in epoll (the wrapper around
its epoll object, :class:`TurnTakingEpoll`).  The media thread takes the turn
for each tick.  So a tick and any loop callback never run at the same time,
exactly as when both ran on the loop: the RTP session, the jitter buffer, the
statistics, the mixer and the call objects need no locks of their own.  A tick
waits for the loop only while the loop is busy, as it did on the loop.

What a tick leaves for the loop (``call_soon``, a Twisted ``callLater``, a
Textual message) is noticed when the tick ends, and the loop is woken to run
it, since it computed its epoll timeout before.  Callbacks that reach user
code (DTMF digits) are handed to the loop with :meth:`MediaThread.call_soon`.

Only for a ``SelectorEventLoop`` on epoll (Linux), the loop the CLI and the
TUI create; :func:`take_turns` leaves any other loop alone and RTP is then
ticked on the loop, as before.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

try:  # the media thread's loop in C (setup.py; optional)
    from ._ctick import run_media
except ImportError:  # no compiler at install: the Python loop below
    run_media = None

log = logging.getLogger(__name__)


class TurnTakingEpoll:
    """The loop selector's ``select.epoll``, giving the turn away while it waits.

    Everything but :meth:`poll` is the epoll object's own (register, modify,
    unregister, close, fileno...).  Holds the loop's :class:`MediaThread`.
    """

    def __init__(self, epoll: Any, media: MediaThread) -> None:
        self._epoll = epoll
        self.media = media

    def poll(self, timeout: float = -1, maxevents: int = -1) -> list[tuple[int, int]]:
        turn = self.media.turn
        turn.release()
        try:
            return self._epoll.poll(timeout, maxevents)  # type: ignore[no-any-return]
        finally:
            turn.acquire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._epoll, name)


class MediaThread:
    """A thread reading timer descriptors (``add_reader``), in turn with the loop.

    It has the two methods of the loop that :class:`~tui_phone.rtp.ticker.TimerfdPacer`
    uses, so a pacer runs on it unchanged.  The thread starts with the first
    reader and ends when the last one is removed; both methods are called with
    the turn held (from the loop, or from a tick).
    """

    def __init__(self, loop: Any) -> None:
        self.turn = threading.Lock()
        self._loop = loop
        self._readers: dict[int, Callable[[], None]] = {}
        self._epoll: Any = None
        self._wake = -1  # an eventfd: tells the thread its last reader is gone
        self._thread: threading.Thread | None = None

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` on the media thread whenever ``fd`` is readable."""
        if self._thread is None:
            self._start()
        if fd in self._readers:
            self._epoll.modify(fd, select.EPOLLIN)
        else:
            self._epoll.register(fd, select.EPOLLIN)
        self._readers[fd] = callback

    def remove_reader(self, fd: int) -> bool:
        """Stop reading ``fd`` (before it is closed); True if it was read."""
        if self._readers.pop(fd, None) is None:
            return False
        try:
            self._epoll.unregister(fd)
        except (OSError, ValueError):  # already closed
            pass
        if not self._readers:
            os.eventfd_write(self._wake, 1)  # the thread ends (and closes its epoll)
        return True

    def call_soon(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` on the loop thread (from a tick: the loop is woken after it)."""
        self._loop.call_soon(function, *args)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _start(self) -> None:
        self._epoll = select.epoll()
        self._wake = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._epoll.register(self._wake, select.EPOLLIN)
        self._thread = threading.Thread(
            target=self._run, args=(self._epoll, self._wake), name="tui-phone-media", daemon=True
        )
        self._thread.start()

    def _run(self, epoll: Any, wake: int) -> None:
        if run_media is None:
            self._run_in_python(epoll, wake)
            return
        loop = self._loop
        run_media(epoll.fileno(), wake, self._readers, self.turn, loop._ready, loop._scheduled,
                  loop._write_to_self, _tick_failed)
        try:  # the last reader is gone; run_media returned with the turn held
            self._thread = None
            epoll.close()
            os.close(wake)
        finally:
            self.turn.release()

    def _run_in_python(self, epoll: Any, wake: int) -> None:
        """:meth:`_run` in Python: the reference for ``_ctick.run_media``, and the fallback."""
        poll, readers, turn, loop = epoll.poll, self._readers, self.turn, self._loop
        ready, scheduled = loop._ready, loop._scheduled  # deque and heap of the loop's handles
        while True:
            try:
                events = poll()
            except InterruptedError:
                continue
            with turn:
                queued, head = len(ready), scheduled[0] if scheduled else None
                for fd, _mask in events:
                    if fd == wake:
                        os.eventfd_read(wake)
                        continue
                    callback = readers.get(fd)
                    if callback is None:  # removed meanwhile
                        continue
                    try:
                        callback()
                    except Exception as error:
                        _tick_failed(error)
                if len(ready) != queued or (scheduled[0] if scheduled else None) is not head:
                    # The loop chose its epoll timeout without this work: wake it.
                    loop._write_to_self()
                if not readers:
                    self._thread = None
                    epoll.close()
                    os.close(wake)
                    return


def _tick_failed(error: BaseException) -> None:
    log.error("RTP tick failed", exc_info=error)


def take_turns(loop: Any) -> MediaThread | None:
    """Let RTP ticks of ``loop``'s sessions run on a media thread (see the module).

    Call it on the thread that will run ``loop``, before the loop runs; that
    thread takes the turn now.  Returns None (and changes nothing) for a loop
    without an epoll selector; idempotent.
    """
    media = media_thread(loop)
    if media is not None:
        return media
    selector = getattr(loop, "_selector", None)
    epoll = getattr(selector, "_selector", None)
    if not (isinstance(epoll, select.epoll) and hasattr(loop, "_ready") and hasattr(loop, "_scheduled")
            and hasattr(loop, "_write_to_self")):
        return None
    media = MediaThread(loop)
    media.turn.acquire()
    selector._selector = TurnTakingEpoll(epoll, media)
    return media


def media_thread(loop: Any) -> MediaThread | None:
    """The media thread :func:`take_turns` gave ``loop``, if any."""
    epoll = getattr(getattr(loop, "_selector", None), "_selector", None)
    return epoll.media if isinstance(epoll, TurnTakingEpoll) else None
