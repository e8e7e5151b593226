"""A few RTP sessions whose port pairs are bound before the calls that use them.

Binding the two UDP sockets of a call (RFC 3550 11: RTP on an even port,
RTCP on the odd port above it) cost an incoming call about a third of a
millisecond before its 200 OK could go out. :class:`RtpPortPool` keeps
``size`` :class:`~tui_phone.rtp.session.RtpSession` objects already opened in
the configured port range: :meth:`RtpPortPool.take` hands one out at once, and
:meth:`RtpPortPool.refill_soon`, called once the INVITE is answered, refills
the pool with ``reactor.callLater(0, ...)``: even scheduling a timer is kept
off the path from the INVITE to its answer.

When the pool is empty (calls in a burst) :meth:`take` opens a session on the
spot, as the phone always did; when no pair in the range is free it raises
:class:`~tui_phone.rtp.session.RtpSessionError`, which the phone answers with
503. A refill that finds the range full keeps what it has and tries again at
the next :meth:`take`. A pooled session is an ordinary one: the call closes it
(and its sockets) when it ends; :meth:`close` closes those never handed out.

This is the Twisted edge, like :mod:`tui_phone.rtp.session`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, gatherResults

from .session import DEFAULT_PORT_RANGE, RtpSession, RtpSessionError

log = logging.getLogger(__name__)

#: Sessions kept ready: one for the next call, one for a call that comes
#: while that one is being set up (a transfer's second call, a conference).
DEFAULT_POOL_SIZE = 2

SessionFactory = Callable[[], RtpSession]


class RtpPortPool:
    """Opened RTP sessions on ``host`` in ``port_range``, ready for the next calls.

    ``factory`` makes a fresh, unopened session (the phone's reactor and
    random source); the pool opens it with :meth:`RtpSession.open`, which
    draws an even port at random in the range, so the even/odd pairing and
    the range are the session's own rules.
    """

    def __init__(self, reactor: Any, factory: SessionFactory, *, host: str = "127.0.0.1",
                 port_range: tuple[int, int] = DEFAULT_PORT_RANGE,
                 size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 0:
            raise ValueError(f"a pool size must not be negative, not {size}")
        self._reactor = reactor
        self._factory = factory
        self.host = host
        self.port_range = port_range
        self.size = size
        self._ready: list[tuple[RtpSession, int]] = []  # opened sessions, RTP ports
        self._refill: Any = None  # the pending callLater, if any
        self._closed = False

    def __len__(self) -> int:
        """How many opened sessions wait to be taken."""
        return len(self._ready)

    def fill(self) -> None:
        """Open sessions until ``size`` are ready, or the range has no free pair."""
        self._refill = None
        while not self._closed and len(self._ready) < self.size:
            try:
                self._ready.append(self._open())
            except RtpSessionError as error:
                log.debug("RTP port pool stays at %d: %s", len(self._ready), error)
                return

    def take(self) -> tuple[RtpSession, int]:
        """An opened session and its RTP port: a pooled one, else one opened now.

        Raises :class:`RtpSessionError` when the pool is empty and the range
        has no free port pair (or the pool is closed).
        """
        if self._closed:
            raise RtpSessionError("the RTP port pool is closed")
        return self._ready.pop(0) if self._ready else self._open()

    def refill_soon(self) -> None:
        """Refill on the reactor's next turn, if anything was taken."""
        if (self._refill is None and not self._closed
                and len(self._ready) < self.size):
            self._refill = self._reactor.callLater(0, self.fill)

    def close(self) -> Deferred[Any]:
        """Close the sessions never handed out; fires when their ports are closed."""
        self._closed = True
        if self._refill is not None and self._refill.active():
            self._refill.cancel()
        self._refill = None
        ready, self._ready = self._ready, []
        return gatherResults([session.close() for session, _ in ready], consumeErrors=True)

    def _open(self) -> tuple[RtpSession, int]:
        session = self._factory()
        port, _ = session.open(self.host, self.port_range)
        return session, port


__all__ = ["DEFAULT_POOL_SIZE", "RtpPortPool"]
