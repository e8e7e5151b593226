"""Client transactions: INVITE (RFC 3261 17.1.1) and non-INVITE (17.1.2).

The TU builds the request (with a fresh RFC 3261 branch in its top Via),
creates the transaction and calls :meth:`start`; responses that
:func:`~.transaction.client_transaction_key` routes here go to
:meth:`on_response`, fired timers to :meth:`on_timer`, send failures to
:meth:`on_transport_error`. Every method returns the effects to perform.
"""

from __future__ import annotations

from .errors import LocalProtocolError
from .message import SipRequest, SipResponse
from .requests import build_non2xx_ack
from .transaction import (
    TIMER_A,
    TIMER_B,
    TIMER_D,
    TIMER_E,
    TIMER_F,
    TIMER_K,
    TIMER_M,
    ClientTransactionKey,
    Effect,
    ResponseReceived,
    SendRequest,
    TimerConfig,
    Transaction,
    TransactionState,
    TransactionTimedOut,
    TransportFailed,
    client_transaction_key,
    is_rfc3261_branch,
)

State = TransactionState


class ClientTransaction(Transaction):
    """Common part of the two client transactions."""

    key: ClientTransactionKey

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
    ) -> None:
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026
        )
        branch = request.via.branch
        # RFC 3261 8.1.1.7: our requests always carry a cookie branch.
        if branch is None or not is_rfc3261_branch(branch):
            raise LocalProtocolError(
                f"the top Via of a client request needs an RFC 3261 branch, not {branch!r}"
            )
        self.key = ClientTransactionKey(branch, request.cseq.method)
        self._started = False

    def start(self, now: float) -> list[Effect]:
        """Send the request and start the timers."""
        if self._started:
            raise LocalProtocolError(f"{type(self).__name__} already started")
        self._started = True
        return self._start(now)

    def _start(self, now: float) -> list[Effect]:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_response(self, response: SipResponse, now: float) -> list[Effect]:
        """A response routed to this transaction by its key."""
        raise NotImplementedError  # pragma: no cover - overridden

    def _check_response(self, response: SipResponse) -> None:
        if client_transaction_key(response) != self.key:
            raise LocalProtocolError(
                f"response {response.status} (CSeq {response.cseq}) "
                f"does not belong to the {self.request.method} transaction {self.key.branch}"
            )

    def _send_request(self, effects: list[Effect]) -> None:
        effects.append(SendRequest(self.request, self.destination))

    def on_transport_error(self, now: float) -> list[Effect]:
        """The transport failed to send: tell the TU and terminate (17.1.4)."""
        if self.terminated:
            return []
        effects: list[Effect] = [TransportFailed()]
        self._terminate(effects)
        return effects


class ClientInviteTransaction(ClientTransaction):
    """RFC 3261 17.1.1 (figure 5); RFC 6026 figure 5 with ``rfc6026=True``.

    States: Calling, Proceeding, Completed, (Accepted), Terminated. Timers A
    and B run in Calling only: once a provisional response arrived no timer
    runs, and a UAS that never answers finally is the TU's business (it
    CANCELs after the INVITE's Expires or its own timer, RFC 3261 13.2.1, 9.1).
    """

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
    ) -> None:
        if request.method != "INVITE":
            raise LocalProtocolError(
                f"ClientInviteTransaction needs an INVITE, not {request.method}"
            )
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026
        )
        self.state = State.CALLING
        self._interval_a = self.timers.t1
        self.ack: SipRequest | None = None

    def _start(self, now: float) -> list[Effect]:
        # RFC 3261 17.1.1.2: send; Timer A only on unreliable transports; Timer B always.
        effects: list[Effect] = []
        self._send_request(effects)
        if not self.reliable:
            self._start_timer(effects, TIMER_A, self._interval_a)
        self._start_timer(effects, TIMER_B, self.timers.timeout)
        return effects

    def on_response(self, response: SipResponse, now: float) -> list[Effect]:
        """A response routed to this transaction by its key."""
        self._check_response(response)
        status = response.status
        state = self.state
        effects: list[Effect] = []
        if state in (State.CALLING, State.PROCEEDING):
            self._cancel_timer(effects, TIMER_A)
            self._cancel_timer(effects, TIMER_B)
            if status < 200:
                # RFC 3261 17.1.1.2: no more retransmissions once the server is alive.
                self.state = State.PROCEEDING
                effects.append(ResponseReceived(response))
            elif status < 300:
                self._accept(effects, response)
            else:
                self._complete(effects, response)
        elif state is State.COMPLETED:
            # RFC 3261 17.1.1.2: a retransmitted final response is answered with
            # the ACK again and not passed up.
            if status >= 300 and self.ack is not None:
                effects.append(SendRequest(self.ack, self.destination))
        elif state is State.ACCEPTED and 200 <= status < 300:
            # RFC 6026 7.2: further 2xx (retransmissions, other forks) go to the TU.
            effects.append(ResponseReceived(response))
        return effects

    def _accept(self, effects: list[Effect], response: SipResponse) -> None:
        effects.append(ResponseReceived(response))
        if self.rfc6026:
            self.state = State.ACCEPTED
            self._start_timer(effects, TIMER_M, self.timers.timeout)
        else:
            # RFC 3261 17.1.1.2: the TU (the dialog) acknowledges the 2xx itself.
            self._terminate(effects)

    def _complete(self, effects: list[Effect], response: SipResponse) -> None:
        # RFC 3261 17.1.1.2, 17.1.1.3.
        self.ack = build_non2xx_ack(self.request, response)
        self.state = State.COMPLETED
        effects.append(SendRequest(self.ack, self.destination))
        self._start_timer(effects, TIMER_D, self.timers.timer_d(self.reliable))
        effects.append(ResponseReceived(response))

    def _timer_fired(self, name: str, now: float) -> list[Effect]:
        effects: list[Effect] = []
        state = self.state
        if name == TIMER_A and state is State.CALLING:
            # RFC 3261 17.1.1.2: retransmit, doubling the interval every time.
            self._send_request(effects)
            self._interval_a *= 2
            self._start_timer(effects, TIMER_A, self._interval_a)
        elif name == TIMER_B and state is State.CALLING:
            effects.append(TransactionTimedOut(TIMER_B))
            self._terminate(effects)
        elif (name == TIMER_D and state is State.COMPLETED) or (
            name == TIMER_M and state is State.ACCEPTED
        ):
            self._terminate(effects)
        return effects


class ClientNonInviteTransaction(ClientTransaction):
    """RFC 3261 17.1.2 (figure 6). States: Trying, Proceeding, Completed, Terminated.

    ``rfc6026`` is accepted for a uniform constructor and has no effect here.
    """

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
    ) -> None:
        if request.method in ("INVITE", "ACK"):
            raise LocalProtocolError(
                f"ClientNonInviteTransaction cannot send {request.method} (RFC 3261 17)"
            )
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026
        )
        self.state = State.TRYING
        self._interval_e = self.timers.t1

    def _start(self, now: float) -> list[Effect]:
        # RFC 3261 17.1.2.2: send; Timer E only on unreliable transports; Timer F always.
        effects: list[Effect] = []
        self._send_request(effects)
        if not self.reliable:
            self._start_timer(effects, TIMER_E, self._interval_e)
        self._start_timer(effects, TIMER_F, self.timers.timeout)
        return effects

    def on_response(self, response: SipResponse, now: float) -> list[Effect]:
        """A response routed to this transaction by its key."""
        self._check_response(response)
        effects: list[Effect] = []
        if self.state not in (State.TRYING, State.PROCEEDING):
            # RFC 3261 17.1.2.2: Completed absorbs retransmitted responses.
            return effects
        if response.status < 200:
            # Timer E keeps running; from its next firing on it uses T2.
            self.state = State.PROCEEDING
            effects.append(ResponseReceived(response))
            return effects
        self._cancel_timer(effects, TIMER_E)
        self._cancel_timer(effects, TIMER_F)
        self.state = State.COMPLETED
        self._start_timer(effects, TIMER_K, self.timers.timer_k(self.reliable))
        effects.append(ResponseReceived(response))
        return effects

    def _timer_fired(self, name: str, now: float) -> list[Effect]:
        effects: list[Effect] = []
        state = self.state
        active = state in (State.TRYING, State.PROCEEDING)
        if name == TIMER_E and active:
            # RFC 3261 17.1.2.2: double up to T2 while Trying, T2 once Proceeding.
            self._send_request(effects)
            if state is State.TRYING:
                self._interval_e = min(2 * self._interval_e, self.timers.t2)
            else:
                self._interval_e = self.timers.t2
            self._start_timer(effects, TIMER_E, self._interval_e)
        elif name == TIMER_F and active:
            effects.append(TransactionTimedOut(TIMER_F))
            self._terminate(effects)
        elif name == TIMER_K and state is State.COMPLETED:
            self._terminate(effects)
        return effects


__all__ = [
    "ClientInviteTransaction",
    "ClientNonInviteTransaction",
    "ClientTransaction",
    "build_non2xx_ack",
]
