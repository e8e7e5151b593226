"""The ptime tick of an RTP session: its timer, and the reads done on it.

The Twisted edge, like :mod:`tui_phone.rtp.session`, which uses it:

* a *pacer* sets the timer for the next frame's due time: on Twisted's
  asyncio reactor a periodic timerfd the loop reads (:class:`TimerfdPacer`,
  Linux) or else a timer straight on the asyncio loop (:class:`AsyncioPacer`),
  on any other reactor (and the unit tests' fake clock) with the reactor's
  delayed calls (:class:`ReactorPacer`);
* :class:`DatagramPoller` reads the RTP socket when that timer fires
  instead of whenever a datagram arrives.

Why poll: a call wakes the process once per frame for the send timer and,
if the socket is read on readiness, once more for every datagram the peer
sends.  On a shared machine a wake-up of an idle process costs more than the
little work it does (asyncio's loop iteration, cold caches), so reading at
the tick halves the wake-ups of a call (see bench/percall.py).  The kernel
stamps each datagram when it arrives (``SO_TIMESTAMPNS``), and that time,
not the tick's, is its arrival time: the RFC 3550 interarrival jitter, the
jitter buffer's transit times and the RTCP round-trip time stay those of
the wire.  A datagram waits at most one ptime in the socket, and the jitter
buffer plays out on the same tick right after it is read, so nothing is
heard later than before.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from .mediathread import MediaThread, media_thread

try:  # the C speed-ups of DatagramPoller.drain and TimerfdPacer (setup.py; optional)
    from ._crecv import Drainer
    from ._ctick import PacerCore
except ImportError:  # no compiler at install: the Python code below
    Drainer = PacerCore = None

log = logging.getLogger(__name__)

# On the asyncio reactor the ptime timer is set this long before a frame is
# due, and the frame is sent when the timer fires, as if on time.  epoll takes
# its timeout in whole milliseconds, rounded up, so a loop timer fires 0 to 1 ms
# after its time: waking half a millisecond early centres the send on the due
# time (within +-0.5 ms plus scheduling noise).  Nothing sleeps or spins on the
# loop: with hundreds of calls, a pacer that slept the remainder would hold up
# every other call and the SIP signalling.
PACING_EARLY_WAKE = 0.0005
_PACER_ROUNDING = 1e-6  # seconds; RtpSender counts a frame due 20 us (2e-5 s) early
# Two due times this close (seconds) are the same timer expiry (float sums of periods).
_SAME_EXPIRY = 1e-6

# At most this many datagrams are read per tick; a flood beyond it waits in
# the socket (and the kernel drops what does not fit) rather than starving
# the send that follows.  A call brings one or two per 20 ms.
MAX_DATAGRAMS_PER_TICK = 64

_TIMESPEC = struct.Struct("@ll")  # struct timespec: tv_sec, tv_nsec (native longs)
# Python's socket module does not name these.  Linux's asm-generic values
# (include/uapi/asm-generic/socket.h: SO_TIMESTAMPNS_OLD, SCM_TIMESTAMPNS ==
# SO_TIMESTAMPNS), which the machines listed use; elsewhere (other kernels,
# parisc, sparc, alpha...) the reactor keeps reading on readiness.
_GENERIC_SOCKET_MACHINES = frozenset(
    {"x86_64", "amd64", "i386", "i686", "aarch64", "arm64", "armv7l", "armv6l", "riscv64"}
)
_SO_TIMESTAMPNS = (
    35 if sys.platform == "linux" and platform.machine().lower() in _GENERIC_SOCKET_MACHINES else None
)
_SCM_TIMESTAMPNS = _SO_TIMESTAMPNS
if _SO_TIMESTAMPNS is not None:
    import fcntl
    import termios

    # ioctl(FIONREAD) on a UDP socket: the size of the next datagram, 0 if none
    # (Linux udp(7) SIOCINQ).  Asking it after a read is cheaper than a read
    # that fails with EAGAIN (an exception) on every tick.
    _FIONREAD = termios.FIONREAD
    _ioctl = fcntl.ioctl
_NOTHING = bytes(4)

Address = tuple[str, int]
ArrivalHandler = Callable[[bytes, Address, "float | None"], None]


class ReactorPacer:
    """The ptime timer on the reactor's own clock and delayed calls.

    For any reactor, and for the fake ``task.Clock`` of the unit tests.  A
    timer for an absolute time is a delayed call for the time left; it is
    set a hair early (well within the sender's due slack) so that float
    rounding of a fake clock advanced in ptime steps never misses a frame.
    """

    polls = False  # the reactor reads the sockets
    hand_over = None  # ticks run where the listeners do

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def now(self) -> float:
        return float(self._reactor.seconds())

    def call_at(self, when: float, function: Callable[[], None], period: float | None = None) -> Any:
        """Call ``function()`` at ``when`` (it reads :meth:`now` itself); ``period`` is a hint."""
        delay = when - self._reactor.seconds() - _PACER_ROUNDING
        return self._reactor.callLater(max(delay, 0.0), function)

    def close(self) -> None:
        """Nothing to release."""


class AsyncioPacer:
    """The ptime timer straight on the asyncio loop under Twisted's asyncio reactor.

    Times are on the loop's monotonic clock. :meth:`call_at` fires
    :data:`PACING_EARLY_WAKE` early and calls ``function(now)`` with ``now``
    no earlier than the due time, so the sender sends the frame then.
    """

    polls = True  # a sending session reads its RTP socket on the tick
    hand_over = None  # ticks run on the loop

    def __init__(self, loop: Any) -> None:
        self._loop = loop

    def now(self) -> float:
        return float(self._loop.time())

    def call_at(self, when: float, function: Callable[[float], None], period: float | None = None) -> Any:
        """Call ``function(now)`` at ``when``; ``period`` is a hint."""
        return self._loop.call_at(when - PACING_EARLY_WAKE, self._fire, when, function)

    def close(self) -> None:
        """Nothing to release."""

    def _fire(self, when: float, function: Callable[[float], None]) -> None:
        now = self._loop.time()
        function(now if now >= when else when)


class _PyPacerCore:
    """The every-ptime part of :class:`TimerfdPacer` in Python: its fields,
    :meth:`_fire` and :meth:`call_at` for the expiry already armed.  The
    reference for the C core (``_ctick.PacerCore``) and the fallback."""

    _fd: int
    _function: Callable[[float], None] | None
    _period: float
    _first: float
    _expiries: int
    _next: float
    _reading: bool
    _clock: Callable[[], float]
    _read: Callable[[int, int], bytes]
    _arm: Callable[[float, float], None]  # (TimerfdPacer)
    _call_at_general: Callable[..., Any]

    def call_at(self, when: float, function: Callable[[float], None], period: float | None = None) -> Any:
        """Call ``function(now)`` at ``when`` (``now`` no earlier than ``when``).

        ``period``: the caller will ask again every ``period`` after it, so the
        timer is armed to repeat (nothing to re-arm on those calls).
        """
        if self._reading and self._period and abs(when - self._next) < _SAME_EXPIRY:
            self._function = function  # the expiry armed: nothing else to do (every ptime)
            return self
        return self._call_at_general(when, function, period)

    def _fire(self) -> None:
        try:
            count = int.from_bytes(self._read(self._fd, 8), sys.byteorder)
        except BlockingIOError:  # re-armed since it became readable
            return
        function = self._function
        self._function = None
        if self._period:
            # The due time of the latest expiry, computed as RtpSender does
            # (start + n x period), and the next one.
            expiries = self._expiries + count
            self._expiries = expiries
            due = self._first + (expiries - 1) * self._period
            self._next = self._first + expiries * self._period
        else:
            due = self._next
        if function is None:  # nobody asked for this expiry
            self._arm(0.0, 0.0)
            return
        now = self._clock()
        function(now if now >= due else due)
        if self._function is None and self._period:  # not asked again: stop waking up
            self._arm(0.0, 0.0)


_PacerCore = PacerCore if PacerCore is not None else _PyPacerCore


class _TimerfdPacerMethods:
    """All of :class:`TimerfdPacer` but its every-ptime part, which is on the
    core: the same methods over the C fields or the Python ones."""

    polls = True  # as AsyncioPacer

    def __init__(self, loop: Any, timerfd: _Timerfd) -> None:
        self._loop = loop
        self.hand_over: Callable[..., Any] | None = (
            loop.call_soon if isinstance(loop, MediaThread) else None
        )
        # CLOCK_MONOTONIC, the timerfd's clock, read straight (asyncio's loop.time()
        # reads the same clock through one more Python call).
        self._clock = time.monotonic
        self._timerfd = timerfd
        self._fd = timerfd.create()
        self._read = os.read
        self._function: Callable[[float], None] | None = None
        self._period = 0.0  # the interval armed (0: disarmed)
        self._first = 0.0  # the first expiry armed
        self._expiries = 0  # expiries since then
        self._next = 0.0  # the expiry the timer heads for
        self._reading = False

    def now(self) -> float:
        return self._clock()

    def _call_at_general(self, when: float, function: Callable[[float], None], period: float | None = None) -> Any:
        """:meth:`call_at` when it must arm the timer or start reading it."""
        self._function = function
        if not (self._period and abs(when - self._next) < _SAME_EXPIRY):
            self._arm(when, period or 0.0)
        if not self._reading:
            self._loop.add_reader(self._fd, self._fire)
            self._reading = True
        return self

    def cancel(self) -> None:
        """Forget the pending call and stop the timer."""
        self._function = None
        self._arm(0.0, 0.0)

    def close(self) -> None:
        """Stop and release the timer (idempotent)."""
        if self._fd < 0:
            return
        self._function = None
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        os.close(self._fd)
        self._fd = -1

    def _arm(self, when: float, period: float) -> None:
        if self._fd < 0:
            return
        self._timerfd.arm(self._fd, when, period)
        self._period = period
        self._first = self._next = when
        self._expiries = 0


class TimerfdPacer(_TimerfdPacerMethods, _PacerCore):  # type: ignore[misc,valid-type]
    """The ptime timer as a periodic Linux timerfd, read by the asyncio loop.

    A frame timer set on the asyncio loop costs every tick a timer handle,
    heap pushes and pops and the loop's timeout arithmetic, and epoll's
    millisecond timeout makes it early or late (hence
    :data:`PACING_EARLY_WAKE`).  A timerfd armed once with the frame period
    (``timerfd_settime(2)``: absolute first expiry on CLOCK_MONOTONIC, the
    loop's clock, and an interval) wakes the loop by readiness at each due
    time, to the kernel's timer precision; each tick then costs one read of
    the expiry count.  :meth:`call_at` for the expiry the timer already
    heads for only notes the function; another time re-arms it.

    ``loop`` is the asyncio loop, or the loop's
    :class:`~tui_phone.rtp.mediathread.MediaThread` (its ``add_reader``), which
    then runs the ticks; :attr:`hand_over` is how a tick hands work that
    reaches user code to the loop thread (None: call it on the spot).

    A pacer serves one stream; :meth:`close` releases its descriptor.
    """


class PyTimerfdPacer(_TimerfdPacerMethods, _PyPacerCore):
    """:class:`TimerfdPacer` on the Python core, whatever is built: the tests' reference."""


class _Timerfd:
    """timerfd_create(2) and timerfd_settime(2) through ctypes (os has them from 3.13)."""

    _CLOCK_MONOTONIC = 1
    _TFD_NONBLOCK = os.O_NONBLOCK
    _TFD_CLOEXEC = os.O_CLOEXEC
    _TFD_TIMER_ABSTIME = 1

    def __init__(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        self._create = libc.timerfd_create
        self._settime = libc.timerfd_settime
        self._ctypes = ctypes
        self._spec = (ctypes.c_long * 4)()  # struct itimerspec: interval, then first expiry
        self._spec_ref = ctypes.byref(self._spec)

    def create(self) -> int:
        fd = int(self._create(self._CLOCK_MONOTONIC, self._TFD_NONBLOCK | self._TFD_CLOEXEC))
        if fd < 0:
            raise OSError(self._ctypes.get_errno(), "timerfd_create failed")
        return fd

    def arm(self, fd: int, when: float, period: float) -> None:
        """First expiry at ``when`` (monotonic seconds; 0 disarms), then every ``period``."""
        spec = self._spec
        interval = round(period * 1e9)
        spec[0], spec[1] = divmod(interval, 1_000_000_000)
        first = max(round(when * 1e9), 1) if when > 0 else 0
        spec[2], spec[3] = divmod(first, 1_000_000_000)
        if self._settime(fd, self._TFD_TIMER_ABSTIME, self._spec_ref, None) != 0:
            raise OSError(self._ctypes.get_errno(), "timerfd_settime failed")


@functools.lru_cache(maxsize=1)
def _timerfd() -> _Timerfd | None:
    """The timerfd calls, or None where there are none (not Linux, no libc)."""
    if sys.platform != "linux":
        return None
    try:
        return _Timerfd()
    except (OSError, AttributeError) as error:
        log.debug("no timerfd (%s): RTP pacing on the asyncio loop's timers", error)
        return None


def pacer_for(reactor: Any) -> ReactorPacer | AsyncioPacer | TimerfdPacer:
    """On Twisted's asyncio reactor a timerfd (Linux) read by the loop's media
    thread (:func:`~tui_phone.rtp.mediathread.take_turns`) or by the loop, else
    the loop's timers; on any other reactor the reactor's own timers."""
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is None:
        return ReactorPacer(reactor)
    if hasattr(loop, "add_reader"):
        timerfd = _timerfd()
        if timerfd is not None:
            try:
                return TimerfdPacer(media_thread(loop) or loop, timerfd)
            except OSError as error:
                log.debug("no timerfd (%s): RTP pacing on the asyncio loop's timers", error)
    return AsyncioPacer(loop)


class DatagramPoller:
    """Reads a Twisted UDP port's socket on the tick, with kernel arrival times.

    :meth:`attach` takes the port's reading away from the reactor;
    :meth:`drain` (on every tick) reads what arrived since the last one and
    passes each datagram to ``handler(data, source, arrival)``, ``arrival``
    being the kernel's receive time in Unix seconds; :meth:`detach` gives
    reading back to the reactor.  Should a datagram come without its time,
    that one is handed over with ``arrival`` None and the reactor reads
    again from then on (a tick's time would hide the jitter).  :meth:`sendto`
    writes straight to the socket, without the per-datagram address checks
    of Twisted's ``Port.write`` (done once per destination here).
    """

    def __init__(self, port: Any, sock: socket.socket, handler: ArrivalHandler, max_datagram: int) -> None:
        self._port = port
        self._socket = sock
        self._handler = handler
        self._max_datagram = max_datagram
        self._recvmsg = sock.recvmsg
        self._sendto = sock.sendto
        self._space = socket.CMSG_SPACE(_TIMESPEC.size)
        self._checked: Address | None = None  # the last destination found to be an IP literal
        self._fileno = sock.fileno()
        self._pending = bytearray(4)  # FIONREAD's answer
        self.polling = True
        # The same reads in C, when built (_crecv.c); the Python loop is the reference.
        self._drainer = (
            Drainer(self._fileno, handler, max_datagram, MAX_DATAGRAMS_PER_TICK) if Drainer is not None else None
        )
        if self._drainer is not None:  # (the methods below are the reference)
            self.drain = functools.partial(self._drainer.drain, self)  # type: ignore[method-assign]
            self.sendto = self._drainer.sendto  # type: ignore[method-assign]

    @classmethod
    def attach(cls, port: Any, handler: ArrivalHandler, max_datagram: int) -> DatagramPoller | None:
        """Poll ``port`` from now on; None when it is no real socket (a test's fake)."""
        sock = getattr(port, "socket", None)
        if not isinstance(sock, socket.socket) or _SO_TIMESTAMPNS is None:
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        except OSError as error:
            log.debug("no kernel receive timestamps (%s): the reactor reads RTP", error)
            return None
        port.stopReading()
        return cls(port, sock, handler, max_datagram)

    def serve(self, session: Any) -> None:
        """Let the C drainer take ``session``'s usual RTP packets itself.

        ``_crecv.c``'s ``receive_fast`` does what the handler
        (``session._on_rtp_datagram``, the reference) does with a plain packet
        its latch takes in the steady case; every other datagram still goes to
        the handler.  Nothing without the C drainer.
        """
        if self._drainer is not None:
            self._drainer.set_session(session)

    def detach(self) -> None:
        """Give reading back to the reactor (unless the port was closed meanwhile)."""
        if self.polling and getattr(self._port, "connected", False):
            self._port.startReading()
        self.polling = False
        if self._drainer is not None:
            self._drainer.set_session(None)  # (the session holds this poller)

    def _drain_ended(self, count: int, data: bytes | None, detail: Any) -> int:
        """How the C drainer's drain ends a drain that met the unusual: a read
        error (``data`` None, ``detail`` its errno) or a datagram without its
        kernel timestamp (``detail`` its source); as the Python loop does."""
        if data is None:
            log.debug("RTP socket read failed: %s", os.strerror(detail))
            return count
        log.info("RTP datagram without a kernel timestamp: the reactor reads RTP again")
        self.detach()
        self._handler(data, detail, None)
        return count + 1

    def drain(self) -> int:
        """Read and hand over every datagram waiting (up to the per-tick bound).

        With the C drainer built, each poller's ``drain`` is the drainer's,
        which does the same reads (see ``_crecv.c``); this is the reference."""
        if not self.polling:
            return 0
        recvmsg, handler, space, size = self._recvmsg, self._handler, self._space, self._max_datagram
        pending = self._pending
        for count in range(1, MAX_DATAGRAMS_PER_TICK + 1):
            try:
                data, ancillary, _flags, source = recvmsg(size, space)
            except (BlockingIOError, InterruptedError):
                return count - 1
            except OSError as error:  # an ICMP error queued on the socket, or it was closed
                log.debug("RTP socket read failed: %s", error)
                return count - 1
            arrival = None
            for level, kind, value in ancillary:
                if kind == _SCM_TIMESTAMPNS and level == socket.SOL_SOCKET:
                    seconds, nanoseconds = _TIMESPEC.unpack(value)
                    arrival = seconds + nanoseconds * 1e-9
            if arrival is None:
                log.info("RTP datagram without a kernel timestamp: the reactor reads RTP again")
                self.detach()
                handler(data, (source[0], source[1]), None)
                return count
            handler(data, (source[0], source[1]), arrival)
            if not self.polling:  # the handler stopped the stream: the reactor reads now
                return count
            try:
                _ioctl(self._fileno, _FIONREAD, pending, True)
            except OSError:
                return count
            if pending == _NOTHING:
                return count
        return MAX_DATAGRAMS_PER_TICK

    def sendto(self, data: bytes, destination: Address) -> None:
        """Send one datagram to an IP literal (raises OSError as the socket does).

        With the C drainer built, each poller's ``sendto`` is the drainer's,
        which does the same with the destination's address kept from the last
        datagram (no parsing of the address on every ptime)."""
        if destination != self._checked:
            _check_literal(destination[0], self._socket.family)
            self._checked = destination
        self._sendto(data, destination)


def _check_literal(host: str, family: int) -> None:
    """Refuse a host name (sendto would resolve it, blocking) or the wrong family."""
    try:
        socket.inet_pton(family, host)
    except OSError:
        raise OSError(f"{host!r} is not an IP address of the socket's family") from None
