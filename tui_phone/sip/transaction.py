"""SIP transactions, the common part: timers, states, effects, matching keys (RFC 3261 17).

The four state machines live in :mod:`.transaction_client`
(:class:`ClientInviteTransaction`, :class:`ClientNonInviteTransaction`) and
:mod:`.transaction_server` (:class:`ServerInviteTransaction`,
:class:`ServerNonInviteTransaction`); :mod:`.transaction_table` routes incoming
messages to them.

Every machine is sans-I/O: methods take the current time ``now`` and return a
list of effects (:class:`SendRequest`, :class:`StartTimer`,
:class:`ResponseReceived` ...) that the I/O edge performs in order. Timers are
named (:data:`TIMER_A` ...); starting a timer that is already running restarts
it with the new delay, cancelling one that is not running does nothing, and
the edge calls ``on_timer(name, now)`` when one fires. A zero delay (Timer D, I,
J, K on reliable transports) means "fire as soon as possible".

2xx responses to INVITE follow RFC 3261: the client transaction terminates on a
2xx and passes it up (the dialog sends the ACK), the server transaction
terminates when the TU sends a 2xx (the TU retransmits it). RFC 6026's
"Accepted" state is available with ``rfc6026=True``.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from .errors import LocalProtocolError
from .message import SipMessage, SipRequest, SipResponse
from .via import MAGIC_COOKIE, Via

# RFC 3261 17.1.1.1, table 4 (appendix A): the base timer values, in seconds.
T1 = 0.5  # RTT estimate
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum duration a message remains in the network

# RFC 3261 17.1.1.2: Timer D is "at least 32 seconds" on unreliable transports.
TIMER_D_MIN = 32.0
# RFC 3261 17.2.1: send 100 Trying unless the TU answers within 200 ms.
TRYING_DELAY = 0.2
# RFC 3261 17.1.1.3 / 8.1.1.6: Max-Forwards of a request we build.
MAX_FORWARDS = 70

# Timer names (RFC 3261 table 4; RFC 6026 adds L and M).
TIMER_A = "A"  # INVITE request retransmit (client, unreliable)
TIMER_B = "B"  # INVITE transaction timeout (client)
TIMER_D = "D"  # wait for response retransmits (client INVITE, Completed)
TIMER_E = "E"  # non-INVITE request retransmit (client, unreliable)
TIMER_F = "F"  # non-INVITE transaction timeout (client)
TIMER_G = "G"  # INVITE response retransmit (server, unreliable)
TIMER_H = "H"  # wait for ACK (server INVITE, Completed)
TIMER_I = "I"  # wait for ACK retransmits (server INVITE, Confirmed)
TIMER_J = "J"  # wait for request retransmits (server non-INVITE, Completed)
TIMER_K = "K"  # wait for response retransmits (client non-INVITE, Completed)
TIMER_L = "L"  # RFC 6026: wait for 2xx/ACK traffic (server INVITE, Accepted)
TIMER_M = "M"  # RFC 6026: wait for 2xx retransmits (client INVITE, Accepted)
TIMER_TRYING = "Trying"  # RFC 3261 17.2.1: automatic 100 Trying (server INVITE)


class TransactionState(StrEnum):
    """The states of RFC 3261 figures 5-8 and RFC 6026 figures 5 and 7."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"  # RFC 6026 only
    TERMINATED = "Terminated"


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """T1, T2, T4 and the 100 Trying delay; every transaction timer derives from them.

    ``trying_delay`` is how long a server INVITE transaction waits for the TU
    before it sends 100 Trying itself (RFC 3261 17.2.1): ``None`` turns the
    automatic 100 off, ``0`` sends it at once.
    """

    t1: float = T1
    t2: float = T2
    t4: float = T4
    trying_delay: float | None = TRYING_DELAY

    def __post_init__(self) -> None:
        if not self.t1 > 0:
            raise ValueError(f"T1 must be positive, not {self.t1}")
        if not self.t2 >= self.t1:
            raise ValueError(f"T2 ({self.t2}) must not be smaller than T1 ({self.t1})")
        if not self.t4 > 0:
            raise ValueError(f"T4 must be positive, not {self.t4}")
        if self.trying_delay is not None and not self.trying_delay >= 0:
            raise ValueError(f"the 100 Trying delay must not be negative, not {self.trying_delay}")

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, J (unreliable), L and M."""
        return 64 * self.t1

    def timer_d(self, reliable: bool) -> float:
        """Timer D: 0 on reliable transports, else the server's Timer H (64*T1), at least 32 s.

        RFC 3261 17.1.1.2: D "reflects the amount of time that the server
        transaction can remain in the Completed state", i.e. its Timer H, so it
        grows with T1 but never drops below the 32 s the RFC asks for.
        """
        return 0.0 if reliable else max(TIMER_D_MIN, self.timeout)

    def timer_i(self, reliable: bool) -> float:
        """Timer I: T4 on unreliable transports, 0 on reliable ones (17.2.1)."""
        return 0.0 if reliable else self.t4

    def timer_j(self, reliable: bool) -> float:
        """Timer J: 64*T1 on unreliable transports, 0 on reliable ones (17.2.2)."""
        return 0.0 if reliable else self.timeout

    def timer_k(self, reliable: bool) -> float:
        """Timer K: T4 on unreliable transports, 0 on reliable ones (17.1.2.2)."""
        return 0.0 if reliable else self.t4


# -- effects: what a machine asks the edge (or the TU) to do -----------------


@dataclass(frozen=True, slots=True)
class SendRequest:
    """Pass a request (the original, a retransmission, or our ACK) to the transport."""

    message: SipRequest
    destination: object


@dataclass(frozen=True, slots=True)
class SendResponse:
    """Pass a response to the transport (RFC 3261 18.2.2 picks the address from the Via).

    ``destination`` is whatever the edge gave the server transaction (the source
    address or connection of the request), or None.
    """

    message: SipResponse
    destination: object = None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)start the named timer of this transaction to fire after ``delay`` seconds."""

    name: str
    delay: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Stop the named timer of this transaction."""

    name: str


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A client transaction passes a response up to the TU."""

    response: SipResponse


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A server transaction passes a request up to the TU (RFC 6026: also the ACK for a 2xx)."""

    request: SipRequest


@dataclass(frozen=True, slots=True)
class TransactionTimedOut:
    """Timer B, F or H fired: the TU learns of the timeout (a UAC reports it as 408, 8.1.3.1)."""

    kind: str


@dataclass(frozen=True, slots=True)
class TransportFailed:
    """The transport could not send for this transaction (RFC 3261 17.1.4, 17.2.4)."""


@dataclass(frozen=True, slots=True)
class TransactionTerminated:
    """The transaction reached Terminated; the edge drops it and its timers."""


Effect = (
    SendRequest
    | SendResponse
    | StartTimer
    | CancelTimer
    | ResponseReceived
    | RequestReceived
    | TransactionTimedOut
    | TransportFailed
    | TransactionTerminated
)


# -- matching keys (RFC 3261 17.1.3, 17.2.3) ----------------------------------


@dataclass(frozen=True, slots=True)
class ClientTransactionKey:
    """RFC 3261 17.1.3: the top Via branch and the CSeq method."""

    branch: str
    method: str


@dataclass(frozen=True, slots=True)
class ServerTransactionKey:
    """RFC 3261 17.2.3: branch, sent-by of the top Via, and method (ACK counts as INVITE)."""

    branch: str
    sent_by: tuple[str, int | None]
    method: str


@dataclass(frozen=True, slots=True)
class Rfc2543TransactionKey:
    """RFC 3261 17.2.3 fallback for requests without an RFC 3261 branch.

    Request-URI, To tag, From tag, Call-ID, CSeq number, method and top Via.
    For INVITE and ACK (method ``INVITE``) the To tag is left out (``None``):
    the ACK for a non-2xx response carries the To tag of *our* response, which
    the INVITE did not have, so it could never equal the INVITE's. The
    transaction table checks the ACK's To tag against the response instead
    (``ServerInviteTransaction.matches_ack``).
    """

    request_uri: str
    to_tag: str | None
    from_tag: str | None
    call_id: str
    cseq_number: int
    method: str
    top_via: tuple[object, ...]


ServerKey = ServerTransactionKey | Rfc2543TransactionKey


def is_rfc3261_branch(branch: str | None) -> bool:
    """Whether a branch marks an RFC 3261 client transaction (8.1.1.7).

    The branch must start with the magic cookie *and* carry something after
    it: a bare ``z9hG4bK`` (RFC 4475 3.2.1, badbranch) identifies nothing, so
    such a request is matched with the RFC 2543 rules instead of being mixed
    up with every other request that carries the bare cookie.
    """
    return (
        branch is not None
        and branch.startswith(MAGIC_COOKIE)
        and len(branch) > len(MAGIC_COOKIE)
    )


def client_transaction_key(message: SipMessage) -> ClientTransactionKey | None:
    """The client transaction a response belongs to (RFC 3261 17.1.3).

    Works on the request too (it carries the same top Via and CSeq method),
    which is how a client transaction computes its own key. A response to
    CANCEL has the INVITE's branch but the method CANCEL, so it matches the
    CANCEL transaction, not the INVITE one. None when there is no branch.
    """
    branch = message.via.branch
    if branch is None:
        return None
    return ClientTransactionKey(branch, message.cseq.method)


def server_transaction_key(request: SipRequest) -> ServerKey:
    """The server transaction a request belongs to (RFC 3261 17.2.3).

    An ACK maps to the INVITE transaction it acknowledges (for a 2xx it has a
    branch of its own and so matches nothing, which is how the caller learns
    that it belongs to the TU).
    """
    method = "INVITE" if request.method == "ACK" else request.method
    return _server_key(request, method)


def cancel_target_key(cancel: SipRequest) -> ServerKey:
    """The key of the INVITE server transaction a CANCEL applies to (RFC 3261 9.2).

    9.2 matches the CANCEL with 17.2.3 "assuming that the request method is
    anything but CANCEL or ACK"; only INVITE can usefully be cancelled, so the
    key is that of an INVITE with the CANCEL's top Via (9.1 copies the INVITE's
    top Via, Request-URI, Call-ID, From, To and CSeq number into the CANCEL).
    """
    if cancel.method != "CANCEL":
        raise LocalProtocolError(f"cancel_target_key needs a CANCEL, not {cancel.method}")
    return _server_key(cancel, "INVITE")


def _server_key(request: SipRequest, method: str) -> ServerKey:
    via = request.via
    branch = via.branch
    if branch is not None and is_rfc3261_branch(branch):
        return ServerTransactionKey(branch, (via.host.lower(), via.port), method)
    # RFC 3261 17.2.3, second half: RFC 2543 compatible matching.
    to_tag = None if method == "INVITE" else request.to_addr.tag
    return Rfc2543TransactionKey(
        request_uri=str(request.uri),
        to_tag=to_tag,
        from_tag=request.from_addr.tag,
        call_id=request.call_id or "",
        cseq_number=request.cseq.number,
        method=method,
        top_via=_via_identity(via),
    )


def _via_identity(via: Via) -> tuple[object, ...]:
    # RFC 3261 20.42 compares Via fields as a whole; names of parameters and the
    # host are case-insensitive, values of the parameters are kept as written.
    params = tuple((name.lower(), value) for name, value in via.params)
    return (via.protocol.upper(), via.transport.upper(), via.host.lower(), via.port, params)


# -- the machinery the four machines share ------------------------------------


class Transaction:
    """What every transaction has: its request, transport kind, timers and state.

    ``destination`` is opaque to the machine: the edge puts there whatever it
    needs to send (an address, a connection) and gets it back in every send
    effect.
    """

    request: SipRequest
    destination: object
    reliable: bool
    timers: TimerConfig
    rfc6026: bool
    state: TransactionState

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
    ) -> None:
        self.request = request
        self.destination = destination
        self.reliable = reliable
        self.timers = timers if timers is not None else TimerConfig()
        self.rfc6026 = rfc6026
        self._running: set[str] = set()

    @property
    def terminated(self) -> bool:
        """Whether the transaction has reached Terminated (and should be dropped)."""
        return self.state is TransactionState.TERMINATED

    @property
    def running_timers(self) -> frozenset[str]:
        """The names of the timers started and neither fired nor cancelled."""
        return frozenset(self._running)

    def timer_running(self, name: str) -> bool:
        """Whether timer ``name`` is started and neither fired nor cancelled.

        An edge that performs effects in order may reach a StartTimer after
        the TU already acted on the transaction (an INVITE answered while its
        RequestReceived was performed cancels the 100 Trying timer that
        follows it in the list): such a stale StartTimer is skipped.
        """
        return name in self._running

    def on_timer(self, name: str, now: float) -> list[Effect]:
        """A timer fired; a timer that is no longer running (a late fire) is ignored."""
        if name not in self._running:
            return []
        self._running.discard(name)
        return self._timer_fired(name, now)

    def _timer_fired(self, name: str, now: float) -> list[Effect]:  # pragma: no cover
        raise NotImplementedError

    def _start_timer(self, effects: list[Effect], name: str, delay: float) -> None:
        self._running.add(name)
        effects.append(StartTimer(name, delay))

    def _cancel_timer(self, effects: list[Effect], name: str) -> None:
        if name in self._running:
            self._running.discard(name)
            effects.append(CancelTimer(name))

    def _terminate(self, effects: list[Effect]) -> None:
        for name in sorted(self._running):
            effects.append(CancelTimer(name))
        self._running.clear()
        self.state = TransactionState.TERMINATED
        effects.append(TransactionTerminated())

    def __repr__(self) -> str:
        cseq = self.request.cseq
        return f"<{type(self).__name__} {cseq.number} {cseq.method} {self.state}>"


# -- a fake clock's timer list (tests, simulations) ---------------------------


class TimerQueue:
    """Running timers of any number of transactions, in the order they fall due.

    The reactor does this job at the edge; the queue is for tests and for
    in-process simulations (a UAC against a UAS with a fake clock). ``owner`` is
    any hashable object, usually the transaction itself. Timers due at the same
    time fire in the order they were started.
    """

    __slots__ = ("_due", "_heap", "_sequence")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable, str]] = []
        self._due: dict[tuple[Hashable, str], tuple[float, int]] = {}
        self._sequence = 0

    def apply(self, owner: Hashable, effects: Iterable[Effect], now: float) -> None:
        """Apply the StartTimer and CancelTimer effects of ``owner`` (others are ignored)."""
        for effect in effects:
            if isinstance(effect, StartTimer):
                self._sequence += 1
                entry = (now + effect.delay, self._sequence)
                self._due[(owner, effect.name)] = entry
                heapq.heappush(self._heap, (entry[0], entry[1], owner, effect.name))
            elif isinstance(effect, CancelTimer):
                self._due.pop((owner, effect.name), None)

    def cancel_all(self, owner: Hashable) -> None:
        """Forget every timer of ``owner``."""
        for key in [key for key in self._due if key[0] == owner]:
            del self._due[key]

    def next_due(self) -> float | None:
        """When the next timer falls due, or None when none is running."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> tuple[float, Hashable, str] | None:
        """Remove and return ``(due, owner, name)`` of the earliest timer due by ``now``."""
        self._drop_stale()
        if not self._heap or self._heap[0][0] > now:
            return None
        due, _sequence, owner, name = heapq.heappop(self._heap)
        del self._due[(owner, name)]
        return due, owner, name

    def __len__(self) -> int:
        return len(self._due)

    def _drop_stale(self) -> None:
        # Restarted and cancelled timers leave entries behind in the heap.
        heap = self._heap
        while heap:
            due, sequence, owner, name = heap[0]
            if self._due.get((owner, name)) == (due, sequence):
                return
            heapq.heappop(heap)


__all__ = [
    "MAX_FORWARDS",
    "T1",
    "T2",
    "T4",
    "TIMER_A",
    "TIMER_B",
    "TIMER_D",
    "TIMER_D_MIN",
    "TIMER_E",
    "TIMER_F",
    "TIMER_G",
    "TIMER_H",
    "TIMER_I",
    "TIMER_J",
    "TIMER_K",
    "TIMER_L",
    "TIMER_M",
    "TIMER_TRYING",
    "TRYING_DELAY",
    "CancelTimer",
    "ClientTransactionKey",
    "Effect",
    "RequestReceived",
    "ResponseReceived",
    "Rfc2543TransactionKey",
    "SendRequest",
    "SendResponse",
    "ServerKey",
    "ServerTransactionKey",
    "StartTimer",
    "TimerConfig",
    "TimerQueue",
    "Transaction",
    "TransactionState",
    "TransactionTerminated",
    "TransactionTimedOut",
    "TransportFailed",
    "cancel_target_key",
    "client_transaction_key",
    "is_rfc3261_branch",
    "server_transaction_key",
]
