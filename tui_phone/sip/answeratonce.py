"""Answering a new INVITE before its transaction is made (``tui-phone answer``).

The part of the :class:`~tui_phone.sip.useragent.UserAgent` edge that offers a
new INVITE over UDP to ``answer_at_once`` and sends the answer it gives straight
to the socket, then makes the server transaction (RFC 6026 Accepted) that
absorbs the INVITE's retransmissions. Two ways in:

* a parsed INVITE that passed every check (:meth:`AnswersAtOnce._answered_at_once`);
* the datagram of an INVITE of a shape answered so before
  (:class:`~.plaininvite.InviteShapes`), before it is parsed
  (:meth:`AnswersAtOnce._plain_invite_at_once`, the transport's ``on_datagram``).

An I/O edge like the user agent it is part of: it sends through the transport
and reads the reactor's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import SipParseError
from .message import SipRequest, SipResponse, parse_message
from .plaininvite import InviteShapes, PlainInvite
from .routing import RoutingError, Source, may_need_stamp, reply_via, response_target, stamp_via
from .transaction import Effect, SendResponse, TimerConfig, Transaction
from .transaction_server import ServerInviteTransaction, ServerTransaction
from .transaction_table import TransactionTable
from .transport.base import TransportError

if TYPE_CHECKING:
    from .transport import TransportLayer

log = logging.getLogger(__name__)


class AnswerAtOnce(NamedTuple):
    """A response to a new INVITE, made before its transaction (see ``answer_at_once``).

    ``data`` must carry a Server or User-Agent field (:meth:`UserAgent.respond`
    adds one). ``answered(request, transaction, response)`` runs once it left,
    with the INVITE parsed, the transaction made for it and ``data`` parsed.
    """

    data: bytes
    answered: Callable[[SipRequest, ServerInviteTransaction, SipResponse], None]


#: Asked for an :class:`AnswerAtOnce` to a new INVITE: a parsed one, or one read from
#: its datagram by its shape (the same for what an answer needs: ``uri``,
#: ``call_id``, ``body``, and the bytes of a response).
AnswerAtOnceHandler = Callable[[SipRequest | PlainInvite, Source], AnswerAtOnce | None]


class AnswersAtOnce:
    """The answer-at-once path of :class:`~tui_phone.sip.useragent.UserAgent` (its base).

    It uses what the user agent holds: the reactor, the transport, the
    transaction table, the sessions, the timers and the shapes learned so far.
    """

    reactor: Any
    transport: TransportLayer
    table: TransactionTable
    sessions: dict[str, Any]
    timers: TimerConfig
    invite_shapes: InviteShapes
    _answer_at_once: AnswerAtOnceHandler | None

    if TYPE_CHECKING:  # the user agent's own, used here
        def _refusal(self, request: SipRequest) -> tuple[int, list[tuple[str, str]]] | None: ...
        def _invite_refusal(self, request: SipRequest,
                            session: Any) -> tuple[int, list[tuple[str, str]]] | None: ...
        def _perform(self, transaction: Transaction, effects: list[Effect]) -> None: ...
        def respond(self, transaction: ServerTransaction, response: SipResponse) -> None: ...

    @property
    def answer_at_once(self) -> AnswerAtOnceHandler | None:
        """Answers a new INVITE over UDP before anything else (``tui-phone answer``):
        given the INVITE and its source, an :class:`AnswerAtOnce` or None for the
        usual way (on_invite). Asked only for an INVITE that passed every check,
        with a Contact and no Record-Route or Replaces: one of a shape answered
        so before (:attr:`invite_shapes`) before it is even parsed, any other once
        it is."""
        return self._answer_at_once

    @answer_at_once.setter
    def answer_at_once(self, handler: AnswerAtOnceHandler | None) -> None:
        self._answer_at_once = handler
        self.transport.on_datagram = None if handler is None else self._plain_invite_at_once

    def _answered_at_once(self, request: SipRequest, source: Source, key: Any,
                          now: float) -> bool:
        """Answer a new INVITE through :attr:`answer_at_once`: its response goes to the
        socket before the transaction is made; True if it was answered so."""
        headers = request.headers
        if (self._refusal(request) is not None or request.to_addr.tag is not None
                or self._invite_refusal(request, self.sessions.get(request.call_id or ""))
                or "replaces" in headers or "record-route" in headers or not request.contacts):
            return False  # the usual way refuses it, or it takes the call in another way
        assert self.answer_at_once is not None
        answer = self.answer_at_once(request, source)
        if answer is None:
            return False
        try:
            target = response_target(reply_via(request.via, source), source)
            sent = self.transport.send_now(answer.data, target)
        except (RoutingError, TransportError, OSError):
            sent = False  # respond() below reports it the usual way
        self._after_answer(request, source, key, now, answer, sent)
        if request.raw is not None:
            self.invite_shapes.learn(request.raw, source)
        return True

    def _plain_invite_at_once(self, data: bytes, source: Source) -> bool:
        """The transport's :attr:`~TransportLayer.on_datagram`: a new INVITE of a shape
        answered at once before (:class:`InviteShapes`) whose answer
        :attr:`answer_at_once` gives is answered from its datagram, before it is
        parsed; True if it was.

        Only what decides the answer comes before the send: the shape (every
        check of validate() and of the refusals, made when it was learned), no
        session for its Call-ID (RFC 3261 8.2.2.2), no transaction for its
        branch (a retransmission). The parse, the log and the transaction follow.
        """
        if self._answer_at_once is None or not data.startswith(b"INVITE "):
            return False
        invite = self.invite_shapes.read(data, source)
        if invite is None or invite.call_id in self.sessions:
            return False
        known = self.table.server(invite.key)
        if known is not None and not known.terminated:
            return False
        answer = self._answer_at_once(invite, source)
        if answer is None:
            return False  # the general path parses it and asks again (the media is kept)
        try:
            sent = self.transport.send_now(answer.data, invite.target, log=False)
        except (TransportError, OSError):
            sent = False  # respond() below reports it the usual way
        # The response has left (or will go the usual way): now what the general path
        # does on receiving a request, then the transaction that sent it.
        now = self.reactor.seconds()
        try:
            request = parse_message(data, validate=True)
        except SipParseError as error:  # pragma: no cover - a shape is of a valid INVITE
            log.error("an INVITE answered at once does not parse: %s", error)
            return True
        target = invite.target
        self.transport.log_answered(source, data, answer.data if sent else None,
                                    (target.host, target.port))
        if may_need_stamp(request.via, source.remote[0]):
            stamp_via(request, *source.remote)
        self._after_answer(request, source, invite.key, now, answer, sent)
        return True

    def _after_answer(self, request: SipRequest, source: Source, key: Any, now: float,
                      answer: AnswerAtOnce, sent: bool) -> None:
        """The server transaction of an INVITE answered at once (RFC 6026 Accepted),
        made once ``answer`` left (``sent``: else it is sent here, the usual way)."""
        transaction = ServerInviteTransaction(request, source, reliable=False, timers=self.timers,
                                              rfc6026=True, key=key)
        self.table.add(transaction)
        transaction.start(now)  # its RequestReceived is this answer
        response = parse_message(answer.data)
        if sent:
            effects = transaction.send_response(response, now)
            # The one SendResponse among them is this response.
            self._perform(transaction, [e for e in effects if not isinstance(e, SendResponse)])
        else:
            self.respond(transaction, response)
        answer.answered(request, transaction, response)


__all__ = ["AnswerAtOnce", "AnswerAtOnceHandler", "AnswersAtOnce"]
