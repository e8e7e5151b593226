"""A few media endpoints whose RTP/RTCP port pairs are bound before the calls that use them.

Binding the two UDP sockets of a call (RFC 3550 11: RTP on an even port,
RTCP on the odd port above it) cost an incoming call about a third of a
millisecond before its 200 OK could go out. :class:`RtpPortPool` keeps
``size`` endpoints already opened (an :class:`~tui_phone.rtp.session.RtpSession`,
or the phone's :class:`~tui_phone.media.CallMedia` around one) by a factory
that binds them in the configured port range: :meth:`RtpPortPool.take` hands
one out at once, and :meth:`RtpPortPool.refill_soon`, called once the INVITE
is answered, refills the pool with ``reactor.callLater(0, ...)``: even
scheduling a timer is kept off the path from the INVITE to its answer.

When the pool is empty (calls in a burst) :meth:`take` opens one on the
spot, as the phone always did; when no pair in the range is free the factory
raises :class:`~tui_phone.rtp.session.RtpSessionError`, which the phone
answers with 503. A refill that finds the range full keeps what it has and
tries again at the next :meth:`refill_soon`. A pooled endpoint is an ordinary
one: the call closes it (and its sockets) when it ends; :meth:`close` closes
those never handed out.

This is the Twisted edge, like :mod:`tui_phone.rtp.session`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred

from .session import DEFAULT_PORT_RANGE, RtpSession, RtpSessionError

log = logging.getLogger(__name__)

#: Endpoints kept ready: one for the next call, one for a call that comes
#: while that one is being set up (a transfer's second call, a conference).
DEFAULT_POOL_SIZE = 2


class Endpoint(Protocol):
    """What the pool keeps: something with bound ports that ``close`` releases."""

    def close(self) -> Any: ...


E = TypeVar("E", bound=Endpoint)


def open_session(reactor: Any, host: str = "127.0.0.1",
                 port_range: tuple[int, int] = DEFAULT_PORT_RANGE, **options: Any) -> RtpSession:
    """An :class:`RtpSession` opened on ``host`` in ``port_range`` (a pool factory).

    :meth:`RtpSession.open` draws an even port at random in the range, so the
    even/odd pairing and the range are the session's own rules.
    """
    session = RtpSession(reactor, **options)
    session.open(host, port_range)
    return session


class RtpPortPool(Generic[E]):
    """Opened endpoints, ready for the next calls.

    ``factory`` makes one and binds its ports, raising
    :class:`RtpSessionError` when the range has no free pair.
    """

    def __init__(self, reactor: Any, factory: Callable[[], E], *,
                 size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 0:
            raise ValueError(f"a pool size must not be negative, not {size}")
        self._reactor = reactor
        self._factory = factory
        self.size = size
        self._ready: list[E] = []
        self._refill: Any = None  # the pending callLater, if any
        self._closed = False

    def __len__(self) -> int:
        """How many opened endpoints wait to be taken."""
        return len(self._ready)

    def fill(self) -> None:
        """Open endpoints until ``size`` are ready, or the range has no free pair."""
        self._refill = None
        while not self._closed and len(self._ready) < self.size:
            try:
                self._ready.append(self._factory())
            except RtpSessionError as error:
                log.debug("RTP port pool stays at %d: %s", len(self._ready), error)
                return

    def take(self) -> E:
        """An opened endpoint: a pooled one, else one opened now.

        Raises :class:`RtpSessionError` when the pool is empty and the range
        has no free port pair (or the pool is closed).
        """
        if self._closed:
            raise RtpSessionError("the RTP port pool is closed")
        return self._ready.pop(0) if self._ready else self._factory()

    def refill_soon(self) -> None:
        """Refill on the reactor's next turn, if anything was taken."""
        if (self._refill is None and not self._closed
                and len(self._ready) < self.size):
            self._refill = self._reactor.callLater(0, self.fill)

    def close(self) -> Deferred[Any]:
        """Close the endpoints never handed out; fires when their ports are closed."""
        self._closed = True
        if self._refill is not None and self._refill.active():
            self._refill.cancel()
        self._refill = None
        ready, self._ready = self._ready, []
        return gatherResults([maybeDeferred(endpoint.close) for endpoint in ready],
                             consumeErrors=True)


__all__ = ["DEFAULT_POOL_SIZE", "Endpoint", "RtpPortPool", "open_session"]
