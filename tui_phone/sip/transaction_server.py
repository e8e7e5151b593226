"""Server transactions: INVITE (RFC 3261 17.2.1) and non-INVITE (17.2.2).

The edge creates a server transaction for a new request (the transaction table
says when) and calls :meth:`start`, which passes the request up to the TU.
Retransmitted requests go to :meth:`on_request`, the ACK for a non-2xx
response to :meth:`ServerInviteTransaction.on_ack`, the TU's responses to
:meth:`send_response`, fired timers to :meth:`on_timer`. Every method returns
the effects to perform.

Responses the TU sends once a final response went out are discarded, as
RFC 3261 17.2.2 requires for non-INVITE ("MUST be discarded") and as follows
for INVITE from figure 7 (no such transition exists). A response that belongs
to another request is a bug in the TU and raises :class:`LocalProtocolError`.
"""

from __future__ import annotations

from .errors import LocalProtocolError
from .message import SipRequest, SipResponse
from .responses import build_response
from .transaction import (
    TIMER_G,
    TIMER_H,
    TIMER_I,
    TIMER_J,
    TIMER_L,
    TIMER_TRYING,
    Effect,
    RequestReceived,
    Rfc2543TransactionKey,
    SendResponse,
    ServerKey,
    TimerConfig,
    Transaction,
    TransactionState,
    TransactionTimedOut,
    TransportFailed,
    server_transaction_key,
)

State = TransactionState


class ServerTransaction(Transaction):
    """Common part of the two server transactions."""

    key: ServerKey

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
        key: ServerKey | None = None,
    ) -> None:
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026
        )
        # ``key``: what the table computed for the request already (route_request).
        self.key = key if key is not None else server_transaction_key(request)
        self.last_provisional: SipResponse | None = None
        self.final_response: SipResponse | None = None
        self._started = False

    def start(self, now: float) -> list[Effect]:
        """Pass the request that created the transaction up to the TU."""
        if self._started:
            raise LocalProtocolError(f"{type(self).__name__} already started")
        self._started = True
        effects: list[Effect] = [RequestReceived(self.request)]
        self._on_start(effects)
        return effects

    def _on_start(self, effects: list[Effect]) -> None:
        """Hook for the INVITE server's automatic 100 Trying."""

    def on_request(self, request: SipRequest, now: float) -> list[Effect]:
        """A retransmission of the request (or, for INVITE, the ACK)."""
        raise NotImplementedError  # pragma: no cover - overridden

    def send_response(self, response: SipResponse, now: float) -> list[Effect]:
        """The TU answers the request."""
        raise NotImplementedError  # pragma: no cover - overridden

    def _check_response(self, response: SipResponse) -> None:
        status = response.status
        if not 100 <= status <= 699:
            raise LocalProtocolError(f"status {status} is not a SIP status code")
        text = response.headers.get("cseq")
        if text is not None and text == self.request.headers.get("cseq"):
            return  # copied as it was (RFC 3261 8.2.6.2): no need to parse it again
        cseq = response.cseq
        if cseq != self.request.cseq:
            raise LocalProtocolError(
                f"response CSeq {cseq} does not match the request CSeq {self.request.cseq}"
            )

    def _send(self, effects: list[Effect], response: SipResponse) -> None:
        effects.append(SendResponse(response, self.destination))

    def _resend_last(self) -> list[Effect]:
        # RFC 3261 17.2.1, 17.2.2: a retransmitted request gets the last response again.
        effects: list[Effect] = []
        if self.state is State.COMPLETED and self.final_response is not None:
            self._send(effects, self.final_response)
        elif self.state is State.PROCEEDING and self.last_provisional is not None:
            self._send(effects, self.last_provisional)
        return effects

    def on_transport_error(self, now: float) -> list[Effect]:
        """A response could not be sent: tell the TU and terminate (17.2.4).

        RFC 6026 figure 7: in Accepted the TU is told and the transaction stays,
        since the TU retransmits the 2xx and may still get the ACK.
        """
        if self.terminated:
            return []
        effects: list[Effect] = [TransportFailed()]
        if self.state is not State.ACCEPTED:
            self._terminate(effects)
        return effects


class ServerInviteTransaction(ServerTransaction):
    """RFC 3261 17.2.1 (figure 7); RFC 6026 figure 7 with ``rfc6026=True``.

    States: Proceeding, Completed, Confirmed, (Accepted), Terminated. Unless
    ``timers.trying_delay`` is None, the transaction sends 100 Trying itself
    when the TU has not sent a response within that delay.
    """

    def __init__(
        self,
        request: SipRequest,
        destination: object = None,
        *,
        reliable: bool,
        timers: TimerConfig | None = None,
        rfc6026: bool = False,
        key: ServerKey | None = None,
    ) -> None:
        if request.method != "INVITE":
            raise LocalProtocolError(
                f"ServerInviteTransaction needs an INVITE, not {request.method}"
            )
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026, key=key
        )
        self.state = State.PROCEEDING
        self._interval_g = self.timers.t1

    def _on_start(self, effects: list[Effect]) -> None:
        delay = self.timers.trying_delay
        if delay is None or self.state is not State.PROCEEDING:
            return
        if self.last_provisional is not None:
            return
        if delay == 0:
            self._send_trying(effects)
        else:
            self._start_timer(effects, TIMER_TRYING, delay)

    def _send_trying(self, effects: list[Effect]) -> None:
        # RFC 3261 8.2.6.1: a 100 Trying copies the Timestamp of the request.
        trying = build_response(self.request, 100)
        timestamp = self.request.headers.get("timestamp")
        if timestamp is not None:
            trying.headers.add("Timestamp", timestamp)
        self.last_provisional = trying
        self._send(effects, trying)

    def matches_ack(self, ack: SipRequest) -> bool:
        """Whether an ACK routed here by its key really acknowledges our final response.

        RFC 3261 17.2.3: with RFC 2543 matching the ACK's To tag must equal
        the To tag of the response the transaction sent (the key leaves it
        out). With an RFC 3261 branch the key decides alone.
        """
        if not isinstance(self.key, Rfc2543TransactionKey):
            return True
        if self.final_response is None:
            return False
        return ack.to_addr.tag == self.final_response.to_addr.tag

    def on_request(self, request: SipRequest, now: float) -> list[Effect]:
        """A retransmitted INVITE (an ACK is handed to :meth:`on_ack`)."""
        if request.method == "ACK":
            return self.on_ack(request, now)
        if request.method != "INVITE":
            raise LocalProtocolError(
                f"{request.method} is not a retransmission of INVITE"
            )
        # Confirmed and Accepted absorb the retransmission (RFC 3261 17.2.1, RFC 6026 8.5).
        return self._resend_last()

    def on_ack(self, ack: SipRequest, now: float) -> list[Effect]:
        """The ACK for our final response (RFC 3261 17.2.1)."""
        effects: list[Effect] = []
        if self.state is State.COMPLETED:
            # Stop retransmitting; absorb ACK retransmissions for Timer I.
            self._cancel_timer(effects, TIMER_G)
            self._cancel_timer(effects, TIMER_H)
            self.state = State.CONFIRMED
            self._start_timer(effects, TIMER_I, self.timers.timer_i(self.reliable))
        elif self.state is State.ACCEPTED:
            # RFC 6026 8.7: the ACK for a 2xx is passed up to the TU.
            effects.append(RequestReceived(ack))
        return effects

    def send_response(self, response: SipResponse, now: float) -> list[Effect]:
        """The TU answers the INVITE."""
        self._check_response(response)
        status = response.status
        effects: list[Effect] = []
        if self.state is State.PROCEEDING:
            self._cancel_timer(effects, TIMER_TRYING)
            self._send(effects, response)
            if status < 200:
                self.last_provisional = response
            elif status < 300:
                self.final_response = response
                if self.rfc6026:
                    self.state = State.ACCEPTED
                    self._start_timer(effects, TIMER_L, self.timers.timeout)
                else:
                    # RFC 3261 17.2.1: the TU retransmits the 2xx, not us.
                    self._terminate(effects)
            else:
                self.final_response = response
                self.state = State.COMPLETED
                if not self.reliable:
                    self._start_timer(effects, TIMER_G, self._interval_g)
                self._start_timer(effects, TIMER_H, self.timers.timeout)
        elif self.state is State.ACCEPTED and 200 <= status < 300:
            # RFC 6026 8.7: the TU's 2xx retransmissions pass through.
            self._send(effects, response)
        return effects

    def _timer_fired(self, name: str, now: float) -> list[Effect]:
        effects: list[Effect] = []
        state = self.state
        if name == TIMER_TRYING:
            if state is State.PROCEEDING and self.last_provisional is None:
                self._send_trying(effects)
        elif name == TIMER_G and state is State.COMPLETED:
            # RFC 3261 17.2.1: retransmit, doubling the interval up to T2.
            if self.final_response is not None:
                self._send(effects, self.final_response)
            self._interval_g = min(2 * self._interval_g, self.timers.t2)
            self._start_timer(effects, TIMER_G, self._interval_g)
        elif name == TIMER_H and state is State.COMPLETED:
            # The ACK never came: the TU learns of it (e.g. to end the dialog).
            effects.append(TransactionTimedOut(TIMER_H))
            self._terminate(effects)
        elif (name == TIMER_I and state is State.CONFIRMED) or (
            name == TIMER_L and state is State.ACCEPTED
        ):
            self._terminate(effects)
        return effects


class ServerNonInviteTransaction(ServerTransaction):
    """RFC 3261 17.2.2 (figure 8). States: Trying, Proceeding, Completed, Terminated.

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
        key: ServerKey | None = None,
    ) -> None:
        if request.method in ("INVITE", "ACK"):
            raise LocalProtocolError(
                f"ServerNonInviteTransaction cannot serve {request.method} (RFC 3261 17)"
            )
        super().__init__(
            request, destination, reliable=reliable, timers=timers, rfc6026=rfc6026, key=key
        )
        self.state = State.TRYING

    def on_request(self, request: SipRequest, now: float) -> list[Effect]:
        """A retransmission of the request (RFC 3261 17.2.2).

        Trying absorbs it; Proceeding resends the last provisional response and
        Completed the final one.
        """
        if request.method != self.request.method:
            raise LocalProtocolError(
                f"{request.method} is not a retransmission of {self.request.method}"
            )
        return self._resend_last()

    def send_response(self, response: SipResponse, now: float) -> list[Effect]:
        """The TU answers the request."""
        self._check_response(response)
        effects: list[Effect] = []
        if self.state not in (State.TRYING, State.PROCEEDING):
            return effects
        self._send(effects, response)
        if response.status < 200:
            self.last_provisional = response
            self.state = State.PROCEEDING
        else:
            self.final_response = response
            self.state = State.COMPLETED
            self._start_timer(effects, TIMER_J, self.timers.timer_j(self.reliable))
        return effects

    def _timer_fired(self, name: str, now: float) -> list[Effect]:
        effects: list[Effect] = []
        if name == TIMER_J and self.state is State.COMPLETED:
            self._terminate(effects)
        return effects


__all__ = [
    "ServerInviteTransaction",
    "ServerNonInviteTransaction",
    "ServerTransaction",
]
