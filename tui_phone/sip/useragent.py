"""The user agent core: runs the pure transaction machines over a TransportLayer.

This is the thin Twisted edge of RFC 3261 8 and 17: it feeds received
messages to the :class:`~tui_phone.sip.transaction_table.TransactionTable`,
performs the effects the machines return (send, start/cancel timers with
``reactor.callLater``) and passes requests up to the transaction user:

* requests inside a session go to the :class:`SessionHandler` registered for
  their Call-ID (a :class:`~tui_phone.call.Call`), and so do ACKs for 2xx and
  retransmitted 2xx responses that no transaction matches any more;
* a new INVITE goes to ``on_invite`` (over UDP, once it passed the checks, it is
  first offered to ``answer_at_once`` (:mod:`~.answeratonce`), which may answer
  it before its transaction is made: ``tui-phone answer``; one of a shape
  answered so before, see :class:`~.plaininvite.InviteShapes`, is offered
  straight from its datagram, and parsed once its answer left);
* what nobody handles is answered here: OPTIONS 200 (with Allow, Accept,
  Supported), 501 for unknown methods (with Allow), 416 for a Request-URI
  scheme other than sip/sips, 420 for an unsupported Require, 415 for an
  INVITE body that is not SDP or has a Content-Encoding other than identity, 481 for requests of unknown dialogs and
  CANCELs of unknown transactions, and the stateless 400/505/... of
  :func:`~tui_phone.sip.routing.error_response_for` for unparseable requests
  (never for ACKs or responses).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred

from .answeratonce import AnswerAtOnce, AnswerAtOnceHandler, AnswersAtOnce
from .errors import SipParseError
from .ids import IdGenerator
from .message import SipRequest, SipResponse
from .plaininvite import InviteShapes
from .responses import build_response
from .routing import (
    RELIABLE_TRANSPORTS,
    TCP,
    TLS,
    UDP,
    RoutingError,
    Source,
    Target,
    error_response_for,
    format_host_port,
    reply_via,
    resolve_target,
    response_target,
    source_target,
    stamped_via,
    top_via,
)
from .status import KNOWN_METHODS
from .transaction import (
    CancelTimer,
    Effect,
    RequestReceived,
    ResponseReceived,
    SendRequest,
    SendResponse,
    StartTimer,
    TimerConfig,
    Transaction,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from .transaction_client import ClientInviteTransaction, ClientNonInviteTransaction, ClientTransaction
from .transaction_server import ServerInviteTransaction, ServerNonInviteTransaction, ServerTransaction
from .transaction_table import RequestDisposition, TransactionTable
from .transport import TransportLayer
from .transport.base import LoggedMessage, TlsClientConfig, TransportError
from .uri import SipUri, Uri
from .via import Via

log = logging.getLogger(__name__)

#: What we implement (RFC 3261 20.5).
ALLOWED_METHODS = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "REFER", "NOTIFY")
ALLOW = ", ".join(ALLOWED_METHODS)
#: Bodies we understand (RFC 3261 20.1).
ACCEPT = "application/sdp, application/dtmf-relay, message/sipfrag"
#: Option tags we support (RFC 3261 20.37): INVITE with Replaces (RFC 3891 6.1).
SUPPORTED: tuple[str, ...] = ("replaces",)
SIP_SCHEMES = ("sip", "sips")
# Requests that only make sense inside a dialog: 481 when no dialog matches.
_DIALOG_METHODS = frozenset({"BYE", "INFO", "UPDATE", "PRACK", "NOTIFY", "REFER"})


class ClientHandler(Protocol):
    """What a client transaction's user gets: the responses, or the timeout."""

    def on_response(self, response: SipResponse) -> None: ...
    def on_timeout(self, reason: str) -> None: ...


class SessionHandler(Protocol):
    """The owner of a Call-ID: a call. Gets what arrives for it."""

    def on_dialog_request(self, request: SipRequest, transaction: ServerTransaction) -> None: ...
    def on_ack(self, request: SipRequest) -> None: ...
    def on_cancel(self, cancel: SipRequest) -> None: ...
    def on_stray_response(self, response: SipResponse) -> None: ...


InviteHandler = Callable[[SipRequest, ServerInviteTransaction, Source], None]


class _Callbacks:
    """Adapts two plain callables to :class:`ClientHandler`."""

    def __init__(self, on_response: Callable[[SipResponse], None],
                 on_timeout: Callable[[str], None]) -> None:
        self.on_response = on_response
        self.on_timeout = on_timeout


class UserAgent(AnswersAtOnce):
    """Transactions, stateless answers and session routing on one reactor.

    ``on_invite(request, transaction, source)`` receives every new INVITE that
    passed the checks; it must answer it (through :meth:`respond`).
    ``on_log`` sees every SIP message sent and received.
    """

    def __init__(
        self,
        reactor: Any,
        *,
        ids: IdGenerator | None = None,
        user_agent: str = "tui-phone",
        on_invite: InviteHandler | None = None,
        on_log: Callable[[LoggedMessage], None] | None = None,
        timers: TimerConfig | None = None,
    ) -> None:
        self.reactor = reactor
        self.ids = ids if ids is not None else IdGenerator()
        self.user_agent = user_agent
        self.on_invite = on_invite
        self.timers = timers if timers is not None else TimerConfig()
        self.transport = TransportLayer(reactor, self._on_message, self._on_invalid, on_log)
        self.table = TransactionTable()
        self.sessions: dict[str, SessionHandler] = {}
        #: Maps our listening (host, port) to the one Contact advertises (NAT, STUN); None: as is.
        self.advertise: Callable[[str, int], tuple[str, int]] | None = None
        self._answer_at_once: AnswerAtOnceHandler | None = None
        #: The plain INVITEs answered at once so far (read from their datagrams next time).
        self.invite_shapes = InviteShapes()
        self._handlers: dict[ClientTransaction, ClientHandler] = {}
        self._timers: dict[tuple[Transaction, str], Any] = {}
        #: Contact values made so far, by (user, transport, host, port); Vias by the last three.
        self._contacts: dict[tuple[str | None, str, str, int], str] = {}
        self._vias: dict[tuple[str, str, int], Via] = {}
        #: (certificate, key) PEM files for TLS listeners; None: no TLS listener.
        self.tls_certificate: tuple[str, str] | None = None
        #: How outgoing TLS connections check the server (None: verify, system CAs).
        self.tls_client: TlsClientConfig | None = None

    # -- addresses ------------------------------------------------------------------
    def listen(self, host: str, port: int, transports: tuple[str, ...] = (UDP,)) -> int:
        """Listen on ``host:port`` with each transport (the same port); returns the port."""
        for transport in transports:
            if transport.upper() == UDP:
                host, port = self.transport.listen_udp(host, port)
            elif transport.upper() == TCP:
                host, port = self.transport.listen_tcp(host, port)
            elif transport.upper() == TLS and self.tls_certificate is not None:
                host, port = self.transport.listen_tls(host, port, *self.tls_certificate)
            else:
                raise TransportError(f"cannot listen on {transport} without a certificate")
        return port

    def local_address(self, transport: str = UDP) -> tuple[str, int]:
        """Our sent-by address for ``transport``."""
        return self.transport.local_address(transport)

    def via(self, transport: str = UDP) -> Via:
        """The Via template of our requests: sent-by, transport, ``rport`` (RFC 3581)."""
        host, port = self.local_address(transport)
        key = (transport, host, port)
        via = self._vias.get(key)
        if via is None:  # a Via is immutable: one per listener serves every request
            via = self._vias[key] = Via(transport.upper(), format_host_port(host), port,
                                        (("rport", None),))
        return via

    def contact(self, user: str | None, transport: str = UDP) -> str:
        """Our Contact value: the listening address, with the transport when not UDP."""
        host, port = self.local_address(transport)
        if self.advertise is not None:
            host, port = self.advertise(host, port)
        key = (user, transport, host, port)
        text = self._contacts.get(key)
        if text is None:
            uri = SipUri(user=user or None, host=format_host_port(host), port=port)
            if transport.upper() != UDP:
                uri = uri.replace(params={"transport": transport.lower()})
            if len(self._contacts) >= 64:
                self._contacts.clear()
            text = self._contacts[key] = f"<{uri}>"
        return text

    def new_branch(self) -> str:
        """A fresh RFC 3261 branch."""
        return self.ids.branch()

    def target_for(self, uri: Uri, route_set: list[str] | tuple[str, ...] = (),
                   transport: str | None = None) -> Target:
        """Where a request to ``uri`` through ``route_set`` goes (RFC 3261 8.1.2).

        ``transport`` (the account's) applies when the URI names none.
        """
        first = uri
        if route_set:
            from .requests import as_name_address

            first = as_name_address(route_set[0]).uri
        if not isinstance(first, SipUri):
            raise RoutingError(f"cannot send to {first}")
        target = resolve_target(first)
        if transport is not None and first.transport is None and not first.is_secure:
            target = target._replace(transport=transport.upper())
        return target

    # -- sending ----------------------------------------------------------------------
    def send_request(
        self,
        request: SipRequest,
        target: Target,
        on_response: Callable[[SipResponse], None],
        on_timeout: Callable[[str], None],
    ) -> ClientTransaction:
        """Send ``request`` in a new client transaction; responses go to ``on_response``."""
        self._stamp(request)
        reliable = target.transport in RELIABLE_TRANSPORTS
        kind = ClientInviteTransaction if request.method == "INVITE" else ClientNonInviteTransaction
        transaction = kind(request, target, reliable=reliable, timers=self.timers)
        self.table.add(transaction)
        self._handlers[transaction] = _Callbacks(on_response, on_timeout)
        self._perform(transaction, transaction.start(self.reactor.seconds()))
        return transaction

    def send_stateless(self, message: SipRequest | SipResponse, target: Target) -> None:
        """Send without a transaction (the ACK of a 2xx, 2xx retransmissions)."""
        if isinstance(message, SipRequest):
            self._stamp(message)
        self._send(message, target, None)

    def respond(self, transaction: ServerTransaction, response: SipResponse) -> None:
        """Send ``response`` through its server transaction."""
        self._stamp(response)
        self._perform(transaction, transaction.send_response(response, self.reactor.seconds()))

    def response_target(self, response: SipResponse, source: Source | None) -> Target:
        """Where a response goes (RFC 3261 18.2.2), for 2xx retransmissions."""
        return response_target(response.via, source)

    def _stamp(self, message: SipRequest | SipResponse) -> None:
        if "user-agent" not in message.headers and "server" not in message.headers:
            message.headers.add("User-Agent" if isinstance(message, SipRequest) else "Server",
                                self.user_agent)

    def _send(self, message: SipRequest | SipResponse, target: Target,
              transaction: Transaction | None) -> None:
        try:
            if self.transport.send_now(message, target):
                return
            sent = self.transport.send(message, target, tls=self.tls_client)
        except (TransportError, OSError) as error:
            self.reactor.callLater(0, self._send_failed, message, target, transaction, error)
            return
        if isinstance(sent, Deferred):
            sent.addErrback(lambda failure: self._send_failed(message, target, transaction,
                                                              failure.getErrorMessage()))

    def _send_failed(self, message: SipRequest | SipResponse, target: Target,
                     transaction: Transaction | None, reason: Any) -> None:
        log.warning("cannot send %r to %s: %s", message, target, reason)
        if transaction is not None and not transaction.terminated:
            self._perform(transaction, transaction.on_transport_error(self.reactor.seconds()))

    # -- effects ------------------------------------------------------------------------
    def _perform(self, transaction: Transaction, effects: list[Effect]) -> None:
        for effect in effects:
            # The effects on the way to an answer come first.
            if isinstance(effect, RequestReceived):
                self._request_received(effect.request, transaction)  # type: ignore[arg-type]
            elif isinstance(effect, SendResponse):
                source = effect.destination if isinstance(effect.destination, Source) else None
                # A response's top Via is its request's (RFC 3261 8.2.6.2), parsed already.
                via = transaction.request.via
                try:
                    target = response_target(reply_via(via, source), source)
                except RoutingError as error:
                    log.warning("cannot route %r: %s", effect.message, error)
                    continue
                self._send(effect.message, target, transaction)
            elif isinstance(effect, SendRequest):
                self._send(effect.message, effect.destination, transaction)  # type: ignore[arg-type]
            elif isinstance(effect, StartTimer):
                if not transaction.timer_running(effect.name):
                    continue  # stale: the TU answered before we got here
                self._cancel_timer(transaction, effect.name)
                self._timers[(transaction, effect.name)] = self.reactor.callLater(
                    effect.delay, self._timer_fired, transaction, effect.name
                )
            elif isinstance(effect, CancelTimer):
                self._cancel_timer(transaction, effect.name)
            elif isinstance(effect, ResponseReceived):
                handler = self._handlers.get(transaction)  # type: ignore[call-overload]
                if handler is not None:
                    handler.on_response(effect.response)
            elif isinstance(effect, (TransactionTimedOut, TransportFailed)):
                handler = self._handlers.get(transaction)  # type: ignore[call-overload]
                if handler is not None:
                    reason = "timeout" if isinstance(effect, TransactionTimedOut) else "transport"
                    handler.on_timeout(reason)
            elif isinstance(effect, TransactionTerminated):
                self.table.remove(transaction)  # type: ignore[arg-type]
                self._handlers.pop(transaction, None)  # type: ignore[call-overload]
                for key in [key for key in self._timers if key[0] is transaction]:
                    self._cancel_timer(*key)

    def _cancel_timer(self, transaction: Transaction, name: str) -> None:
        call = self._timers.pop((transaction, name), None)
        if call is not None and call.active():
            call.cancel()

    def _timer_fired(self, transaction: Transaction, name: str) -> None:
        self._timers.pop((transaction, name), None)
        self._perform(transaction, transaction.on_timer(name, self.reactor.seconds()))

    # -- receiving ----------------------------------------------------------------------
    def _on_message(self, message: SipRequest | SipResponse, source: Source) -> None:
        now = self.reactor.seconds()
        if isinstance(message, SipResponse):
            transaction = self.table.route_response(message)
            if transaction is not None:
                self._perform(transaction, transaction.on_response(message, now))
                return
            session = self.sessions.get(message.call_id or "")
            if session is not None:
                session.on_stray_response(message)
            return
        route = self.table.route_request(message)
        if route.disposition is RequestDisposition.EXISTING:
            assert route.transaction is not None
            self._perform(route.transaction, route.transaction.on_request(message, now))
            return
        if route.disposition is RequestDisposition.ACK_TO_TU:
            session = self.sessions.get(message.call_id or "")
            if session is not None:
                session.on_ack(message)
            return
        reliable = source.reliable
        if (message.method == "INVITE" and self.answer_at_once is not None and not reliable
                and self._answered_at_once(message, source, route.key, now)):
            return
        transaction: ServerTransaction
        if message.method == "INVITE":
            # RFC 6026: Accepted absorbs retransmissions of an INVITE we answered 2xx
            # (without it a late copy looks like a merged request and gets 482).
            transaction = ServerInviteTransaction(message, source, reliable=reliable,
                                                  timers=self.timers, rfc6026=True, key=route.key)
        else:
            transaction = ServerNonInviteTransaction(message, source, reliable=reliable,
                                                     timers=self.timers, key=route.key)
        self.table.add(transaction)
        self._perform(transaction, transaction.start(now))

    def _on_invalid(self, data: bytes, error: SipParseError, source: Source) -> None:
        answer = error_response_for(data, error)
        if answer is None:
            return
        via = top_via(data)
        if via is not None:
            via = stamped_via(via, *source.remote)
        try:
            target = (response_target(reply_via(via, source), source) if via is not None
                      else source_target(source))
        except RoutingError:
            target = source_target(source)
        self._send(answer, target, None)  # type: ignore[arg-type]

    def _request_received(self, request: SipRequest, transaction: ServerTransaction) -> None:
        """The core of RFC 3261 8.2: checks, then the session, then the defaults."""
        method = request.method
        if method == "CANCEL":
            self._on_cancel(request, transaction)
            return
        refusal = self._refusal(request)
        if refusal is not None:
            self._reject(transaction, *refusal)
            return
        call_id = request.call_id or ""
        session = self.sessions.get(call_id)
        if request.to_addr.tag is not None:
            if session is None:
                self._reject(transaction, 481)
            else:
                session.on_dialog_request(request, transaction)
            return
        if method == "OPTIONS":
            self._answer_options(request, transaction)
            return
        if method in _DIALOG_METHODS:
            self._reject(transaction, 481)
            return
        if method == "INVITE":
            refusal = self._invite_refusal(request, session)
            if refusal is not None:
                self._reject(transaction, *refusal)
                return
            if self.on_invite is None:
                self._reject(transaction, 480)
                return
            self.on_invite(request, transaction, transaction.destination)  # type: ignore[arg-type]
            return
        self._reject(transaction, 501, [("Allow", ALLOW)])

    def _refusal(self, request: SipRequest) -> tuple[int, list[tuple[str, str]]] | None:
        """The status (and its header fields) refusing any request we cannot serve, or None."""
        method = request.method
        if method not in ALLOWED_METHODS:
            # RFC 3261 8.2.1: 405 for a method we know but do not serve (we are
            # no registrar: RFC 4475 3.3.7), 501 for one we do not know.
            return (405 if method in KNOWN_METHODS else 501), [("Allow", ALLOW)]
        uri = request.uri
        if not isinstance(uri, SipUri) or uri.scheme.lower() not in SIP_SCHEMES:
            return 416, []
        required = [tag for tag in _option_tags(request.headers.get_all("require"))
                    if tag not in SUPPORTED]
        if required and method != "ACK":
            return 420, [("Unsupported", ", ".join(required))]
        return None

    def _invite_refusal(self, request: SipRequest,
                        session: SessionHandler | None) -> tuple[int, list[tuple[str, str]]] | None:
        """What refuses a new INVITE (no To tag) that passed :meth:`_refusal`, or None."""
        if session is not None:
            # RFC 3261 8.2.2.2: the same request arrived along another path.
            return 482, []
        if request.body and request.content_type != "application/sdp":
            return 415, [("Accept", "application/sdp")]
        if request.body and not _identity_encoded(request):
            # RFC 3261 8.2.3: an encoding we cannot undo; say which ones we can.
            return 415, [("Accept-Encoding", "identity")]
        if not _accepts_sdp(request.headers.get_all("accept")):
            # RFC 3261 21.4.7 and RFC 4475 3.3.15: we can only answer in SDP.
            host, port = self.local_address()
            return 406, [("Warning", f'399 {format_host_port(host, port)} "only application/sdp"')]
        return None

    def _on_cancel(self, cancel: SipRequest, transaction: ServerTransaction) -> None:
        # RFC 3261 9.2: 200 to the CANCEL; the session answers the INVITE with 487.
        target = self.table.cancel_target(cancel)
        session = self.sessions.get(cancel.call_id or "")
        if target is None or session is None:
            self._reject(transaction, 481)
            return
        self.respond(transaction, build_response(cancel, 200, to_tag=self._tag_of(target)))
        session.on_cancel(cancel)

    def _tag_of(self, transaction: ServerInviteTransaction) -> str | None:
        response = transaction.last_provisional or transaction.final_response
        return None if response is None else response.to_addr.tag

    def _answer_options(self, request: SipRequest, transaction: ServerTransaction) -> None:
        response = build_response(request, 200, to_tag=self.ids.tag())
        response.headers.add("Allow", ALLOW)
        response.headers.add("Accept", ACCEPT)
        response.headers.add("Supported", ", ".join(SUPPORTED))
        self.respond(transaction, response)

    def _reject(self, transaction: ServerTransaction, status: int,
                headers: list[tuple[str, str]] | None = None) -> None:
        response = build_response(transaction.request, status, to_tag=self.ids.tag())
        for name, value in headers or ():
            response.headers.add(name, value)
        self.respond(transaction, response)

    # -- shutting down ----------------------------------------------------------------
    def stop(self) -> Deferred[None]:
        """Cancel every timer and close the transports."""
        for key in list(self._timers):
            self._cancel_timer(*key)
        return self.transport.stop()

    def describe(self) -> str:
        """``UDP 127.0.0.1:5070, TCP ...`` for logs."""
        return ", ".join(f"{item.transport} {format_host_port(item.host, item.port)}"
                         for item in self.transport.listeners)


def _identity_encoded(request: SipRequest) -> bool:
    """True when the body carries no Content-Encoding but ``identity`` (RFC 3261 20.12)."""
    return all(coding.strip().lower() in ("", "identity")
               for coding in request.headers.get_all("content-encoding"))


def _accepts_sdp(values: list[str]) -> bool:
    """True unless an Accept header is present and excludes application/sdp."""
    if not values:
        return True
    types = {item.split(";")[0].strip().lower() for value in values for item in value.split(",")}
    types.discard("")
    return not types or bool(types & {"application/sdp", "application/*", "*/*"})


def _option_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        tags += [tag.strip().lower() for tag in value.split(",") if tag.strip()]
    return tags


__all__ = [
    "ACCEPT",
    "AnswerAtOnce",  # from .answeratonce: tui_phone.phone imports it from here
    "AnswerAtOnceHandler",
    "ALLOW",
    "ALLOWED_METHODS",
    "ClientHandler",
    "SessionHandler",
    "UserAgent",
]
