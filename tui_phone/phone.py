"""The Phone: the UI-free facade over the user agent, registrations and calls.

The TUI, the CLI and user scripts all drive the phone through this class::

    phone = Phone(config, reactor, audio="null")
    await phone.start()                 # listen, REGISTER the accounts that have a registrar
    phone.subscribe(print)              # IncomingCall, CallStateChanged, CallEnded ...
    call = phone.call("sip:bob@127.0.0.1:5080")
    call.hold(); call.resume(); call.send_dtmf("123"); call.hangup()
    call.transfer("sip:carol@host"); call.transfer_to(other_call)   # blind / attended
    conference = phone.conference([call1, call2]); conference.split()
    await phone.stop()                  # hang up, un-REGISTER, close

``start`` and ``stop`` return Deferreds (awaitable from a coroutine run with
``Deferred.fromCoroutine``).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred, DeferredList, succeed

from .audio.backends import AudioBackend, NullBackend
from .audio.selection import choose_backend
from .call import Call, CallState
from .config import Account, Config, resolve_password
from .events import IncomingCall, PhoneEvent, RegistrationChanged, SipMessageLogged
from .media import CallMedia
from .rtp.portpool import RtpPortPool
from .rtp.session import RtpSessionError
from .sip.auth import DigestClient
from .sip.errors import SipParseError
from .sip.ids import IdGenerator
from .sip.message import SipRequest, SipResponse
from .sip.plaininvite import PlainInvite
from .sip.registration import (
    CancelRefreshTimer,
    Registration,
    RegistrationEffect,
    RegistrationState,
    RegistrationStateChanged,
    SendRegister,
    StartRefreshTimer,
)
from .sip.routing import UDP, RoutingError, Source, named_transport
from .sip.sdpanswers import AnswerTemplates
from .sip.transaction import T1
from .sip.transaction_server import ServerInviteTransaction
from .sip.transport.base import LoggedMessage
from .sip.uri import SipUri, parse_uri
from .sip.useragent import AnswerAtOnce, UserAgent

if TYPE_CHECKING:
    from .conference import Conference

log = logging.getLogger(__name__)

Subscriber = Callable[[PhoneEvent], None]
SESSION_LINGER = 64 * T1  # keep a finished call's Call-ID routed, for late retransmissions


class PhoneError(Exception):
    """A Phone operation that cannot be done (bad URI, no such account ...)."""


def parse_target(text: str) -> SipUri:
    """A SIP URI from ``sip:user@host[:port]`` or a bare ``user@host[:port]``."""
    value = text.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not value.lower().startswith(("sip:", "sips:")):
        value = "sip:" + value
    try:
        uri = parse_uri(value)
    except SipParseError as error:
        raise PhoneError(f"bad SIP URI {text!r}: {error}") from None
    if not isinstance(uri, SipUri):
        raise PhoneError(f"not a SIP URI: {text!r}")
    return uri


class Phone:
    """Accounts, registrations and calls on one reactor.

    ``audio`` is a backend spec (``null``, ``wav:IN[,OUT]``, ``tone``, ``auto``)
    or a factory returning a fresh :class:`AudioBackend` per call; ``echo``
    makes every call send back what it receives. ``listen`` overrides
    ``[phone] listen``; ``transports`` are listened on with the same port.
    """

    def __init__(
        self,
        config: Config,
        reactor: Any,
        *,
        audio: str | Callable[[], AudioBackend] = "null",
        echo: bool = False,
        listen: tuple[str, int] | None = None,
        transports: tuple[str, ...] = (UDP,),
        rng: random.Random | None = None,
        dnd: bool | None = None,
        auto_answer: bool = False,
    ) -> None:
        self.config = config
        self.reactor = reactor
        self.rng = rng if rng is not None else random.Random()
        self.echo = echo
        self.dnd = config.phone.dnd if dnd is None else dnd
        self.listen_address = listen if listen is not None else config.phone.listen
        self.transports = tuple(t.upper() for t in transports)
        #: Our SDP answers to offers seen before, for answering at once.
        self.answers = AnswerTemplates()
        self._spare: CallMedia | None = None  # taken for an INVITE that then went the usual way
        self._audio = audio
        self._audio_line: str | None = None
        # on_log is set while a subscriber takes SipMessageLogged (see subscribe).
        self.ua = UserAgent(reactor, ids=IdGenerator(self.rng), user_agent=config.phone.user_agent,
                            on_invite=self._on_invite)
        self.calls: list[Call] = []
        self.registrations: dict[str, Registration] = {}
        self._subscribers: list[tuple[Subscriber, tuple[type[PhoneEvent], ...] | None]] = []
        self._sip_log_wanted = False  # some subscriber takes SipMessageLogged events
        self._digests: dict[str, DigestClient | None] = {}
        self._refresh: dict[str, Any] = {}
        self._registered: dict[str, Deferred[RegistrationChanged]] = {}
        self._linger: list[Any] = []
        self._ports: RtpPortPool[CallMedia] | None = None  # media ready for the next calls
        self._aor_users: dict[str, str | None] = {}  # account URI -> user part of its AOR
        self._started = False
        self._auto_answer = False
        self.auto_answer = auto_answer
        self.nat: Any = None  # a NatManager when [nat] asks for STUN or UPnP (issue 6)
        if config.nat.stun_server is not None or config.nat.upnp:
            from .nat.manager import NatManager  # only then: loopback setups never load STUN/UPnP

            self.nat = NatManager(config.nat, reactor, on_status=self.emit)
            self.ua.advertise = self.nat.advertised

    @property
    def auto_answer(self) -> bool:
        """Answer every incoming call (``tui-phone answer``).

        A new INVITE over UDP whose offer was answered before gets its 200 OK
        before anything else is made for it (:meth:`_answer_at_once`);
        IncomingCall then announces a call already connected, and
        CallStateChanged and CallAnswered follow. Any other INVITE is answered
        the usual way, right after IncomingCall.
        """
        return self._auto_answer

    @auto_answer.setter
    def auto_answer(self, on: bool) -> None:
        self._auto_answer = on
        self.ua.answer_at_once = self._answer_at_once if on else None

    # -- events -----------------------------------------------------------------------
    def subscribe(self, callback: Subscriber,
                  kinds: tuple[type[PhoneEvent], ...] | None = None) -> Callable[[], None]:
        """Deliver every event (or only those of ``kinds``) to ``callback``; returns the
        function that unsubscribes.

        A phone whose subscribers all leave out :class:`SipMessageLogged` does
        not build those events at all (one per SIP message sent or received).
        """
        entry = (callback, kinds)
        self._subscribers.append(entry)
        self._subscribers_changed()

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)
                self._subscribers_changed()

        return unsubscribe

    def _subscribers_changed(self) -> None:
        self._sip_log_wanted = any(kinds is None or SipMessageLogged in kinds
                                   for _, kinds in self._subscribers)
        self.ua.transport.on_log = self._on_log if self._sip_log_wanted else None

    def emit(self, event: PhoneEvent) -> None:
        """Deliver ``event`` to the subscribers (a failing one is logged, not fatal)."""
        for callback, kinds in list(self._subscribers):
            if kinds is not None and not isinstance(event, kinds):
                continue
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a subscriber must not break the phone
                log.exception("subscriber failed on %r", event)

    def _on_log(self, entry: LoggedMessage) -> None:
        if self._sip_log_wanted:
            self.emit(SipMessageLogged(entry.direction, entry.transport, entry.local, entry.remote,
                                       entry.timestamp, entry.data))

    # -- lifecycle --------------------------------------------------------------------
    def start(self, *, register: bool = True) -> Deferred[list[RegistrationChanged]]:
        """Listen, then REGISTER every account with a registrar.

        Fires with the outcome of each registration (registered or failed).
        """
        host, port = self.listen_address
        self.ua.listen(host, port, self.transports)
        self._started = True
        if self._ports is None:
            self._ports = RtpPortPool(self.reactor, self._prepared_media)
            self._ports.fill()
        if self.nat is not None:
            lan_ip, sip_port = self.ua.local_address(self.transports[0])
            started = self.nat.start(sip_port, lan_ip)
            return started.addCallback(lambda _: self._register_all(register))
        return self._register_all(register)

    def _register_all(self, register: bool) -> Deferred[list[RegistrationChanged]]:
        if not register:
            return succeed([])
        waits = [self.register(account.name) for account in self.config.accounts.values()
                 if account.registrar_uri is not None]
        done: Deferred[Any] = DeferredList(waits, consumeErrors=True)
        return done.addCallback(lambda results: [value for ok, value in results if ok])

    def local_address(self, transport: str = UDP) -> tuple[str, int]:
        """Where we listen for ``transport``."""
        return self.ua.local_address(transport)

    def stop(self) -> Deferred[None]:
        """Hang up every call, un-REGISTER, close the transports; fires when done."""
        finished = []
        for call in list(self.calls):
            call.hangup()
            finished.append(call.finished)
        unregistered = [self.unregister(name) for name in list(self.registrations)]
        waits: Deferred[Any] = DeferredList([*finished, *unregistered], consumeErrors=True)
        timeout = self.reactor.callLater(5.0, waits.cancel)

        def close(_: Any) -> Deferred[None]:
            if timeout.active():
                timeout.cancel()
            for handle in self._refresh.values():
                if handle.active():
                    handle.cancel()
            for handle in self._linger:
                if handle.active():
                    handle.cancel()
            stopped = self.ua.stop()
            if self._spare is not None:
                spare, self._spare = self._spare, None
                spare.close()
            if self._ports is not None:
                ports, self._ports = self._ports, None
                stopped.addBoth(lambda outcome: ports.close().addBoth(lambda _: outcome))
            if self.nat is not None:
                stopped.addBoth(lambda outcome: self.nat.stop().addCallback(lambda _: outcome))
            return stopped

        return waits.addBoth(close)

    # -- accounts and registration ----------------------------------------------------
    def account(self, name: str | None = None) -> Account:
        """The account called ``name`` (None: the default one)."""
        return self.config.account(name)

    def digest_for(self, account: Account) -> DigestClient | None:
        """The digest client of an account (None when it has no password)."""
        if account.name not in self._digests:
            password = resolve_password(account)
            self._digests[account.name] = (
                None if password is None else DigestClient(account.auth_username, password,
                                                           cnonce_factory=self.ua.ids.cnonce)
            )
        return self._digests[account.name]

    def transport_for(self, account: Account) -> str:
        """The transport an account uses, if we listen on it (else UDP)."""
        wanted = account.transport.upper()
        return wanted if wanted in self.transports else UDP

    def _call_transport(self, account: Account, first_hop: SipUri) -> str:
        """The transport of a new call: the one the first hop's URI names (RFC 3263 4.1:
        ``transport=``, or TLS for SIPS), else the account's. Via, Contact and the
        connection all use it (RFC 3261 18.1.1)."""
        try:
            named = named_transport(first_hop)
        except RoutingError as error:
            raise PhoneError(f"cannot call {first_hop}: {error}") from None
        if named is None:
            return self.transport_for(account)
        if named not in self.transports:
            raise PhoneError(f"cannot call {first_hop}: it needs {named}, and the phone listens on "
                             f"{', '.join(self.transports)} only")
        return named

    def register(self, name: str) -> Deferred[RegistrationChanged]:
        """REGISTER account ``name``; fires with the first registered/failed outcome."""
        account = self.account(name)
        registrar = account.registrar_uri
        if registrar is None:
            raise PhoneError(f"account {name!r} has no registrar")
        transport = self.transport_for(account)
        registration = self.registrations.get(name)
        if registration is None:
            proxy = account.outbound_proxy_uri
            registration = Registration(
                aor=account.aor, registrar=registrar,
                contact=self.ua.contact(account.aor.user, transport),
                via=self.ua.via(transport), call_id=self.ua.ids.call_id(),
                from_tag=self.ua.ids.tag(), new_branch=self.ua.new_branch,
                digest=self.digest_for(account), expires=account.register_expires,
                user_agent=self.config.phone.user_agent,
                route_set=() if proxy is None else (f"<{proxy};lr>",),
            )
            self.registrations[name] = registration
        waiting: Deferred[RegistrationChanged] = Deferred()
        self._registered[name] = waiting
        self._run_registration(name, registration.start(self.reactor.seconds()))
        return waiting

    def unregister(self, name: str) -> Deferred[Any]:
        """Remove the binding of account ``name`` (Expires: 0); fires when answered."""
        registration = self.registrations.get(name)
        if registration is None or registration.state is not RegistrationState.REGISTERED:
            return succeed(None)
        waiting: Deferred[RegistrationChanged] = Deferred()
        self._registered[name] = waiting
        self._run_registration(name, registration.unregister(self.reactor.seconds()))
        return waiting

    def _run_registration(self, name: str, effects: list[RegistrationEffect]) -> None:
        registration = self.registrations[name]
        account = self.account(name)
        for effect in effects:
            if isinstance(effect, SendRegister):
                target = self.ua.target_for(registration.registrar, registration.route_set,
                                            self.transport_for(account))
                self.ua.send_request(
                    effect.request, target,
                    lambda response: self._run_registration(
                        name, registration.on_response(response, self.reactor.seconds())),
                    lambda reason: self._run_registration(
                        name, registration.on_timeout(self.reactor.seconds())),
                )
            elif isinstance(effect, StartRefreshTimer | CancelRefreshTimer):
                handle = self._refresh.pop(name, None)
                if handle is not None and handle.active():
                    handle.cancel()
                if isinstance(effect, StartRefreshTimer):
                    self._refresh[name] = self.reactor.callLater(
                        effect.delay, lambda: self._run_registration(
                            name, registration.on_refresh_timer(self.reactor.seconds())))
            elif isinstance(effect, RegistrationStateChanged):
                event = RegistrationChanged(name, effect.state.value, effect.status, effect.reason,
                                            effect.expires)
                self.emit(event)
                if effect.state in (RegistrationState.REGISTERED, RegistrationState.FAILED,
                                    RegistrationState.UNREGISTERED):
                    waiting = self._registered.pop(name, None)
                    if waiting is not None:
                        waiting.callback(event)

    # -- calls ------------------------------------------------------------------------
    def call(self, uri: str | SipUri, account: str | None = None, *,
             headers: Sequence[tuple[str, str]] = ()) -> Call:
        """Place a call to ``uri`` (``sip:bob@host:port`` or ``bob@host``);
        ``headers`` go into the INVITE as they are."""
        if not self._started:
            raise PhoneError("the phone is not started")
        chosen = self.account(account)
        target = uri if isinstance(uri, SipUri) else parse_target(uri)
        proxy = chosen.outbound_proxy_uri
        route_set: tuple[str, ...] = () if proxy is None else (f"<{proxy};lr>",)
        transport = self._call_transport(chosen, proxy or target)
        try:
            media = self._new_media(None)
        except RtpSessionError as error:
            raise PhoneError(f"cannot place the call: {error}") from None
        call = Call(self, chosen, outgoing=True, call_id=self.ua.ids.call_id(),
                    remote=str(target), transport=transport, media=media)
        self._track(call)
        call.place(target, route_set, headers)
        self._refill_ports()
        return call

    def conference(self, calls: Sequence[Call]) -> Conference:
        """Mix ``calls`` locally (N-1: each remote hears the others and us; we hear
        all). Held calls are resumed; :meth:`Conference.split` undoes it."""
        from .conference import Conference

        return Conference(self, calls)

    def _media_host(self) -> str:
        return self.ua.local_address(UDP)[0] if UDP in self.transports else self.listen_address[0]

    def _prepared_media(self) -> CallMedia:
        """A CallMedia with its ports bound and our SDP side ready for each account's
        codecs: what the pool keeps for the next calls."""
        media = CallMedia(self.reactor, host=self._media_host(),
                          port_range=self.config.phone.rtp_port_range,
                          audio=self._audio_factory(), echo=self.echo, rng=self.rng)
        for account in self.config.accounts.values():
            media.local_media(account.codecs, srtp=account.srtp)
        return media

    def _new_media(self, call: Call | None) -> CallMedia:
        """The media of a new call, a pooled one (raises RtpSessionError when the
        port range has no free pair)."""
        if self._spare is not None:
            media, self._spare = self._spare, None
            return media
        media = self._ports.take() if self._ports is not None else self._prepared_media()
        if self.nat is not None:
            if self.nat.behind_nat:
                media.advertised = self.nat.advertised(media.host, media.port)
            self.nat.map_rtp((media.port, media.port + 1))
        return media

    @property
    def audio_description(self) -> str:
        """The audio line a UI shows (``audio: null (no sound card found)``): the
        backend calls will use and why (chosen once, then remembered)."""
        if self._audio_line is None:
            audio = self._audio
            if callable(audio):
                self._audio_line = f"audio: {getattr(audio, 'name', None) or 'custom backend'}"
            else:
                choice = choose_backend(audio, call_from_thread=self.reactor.callFromThread)
                choice.backend.close()  # only asked for its description; calls open their own
                self._audio_line = choice.summary
        return self._audio_line

    def _audio_factory(self) -> Callable[[], AudioBackend]:
        audio = self._audio
        if callable(audio):
            return audio
        if audio == "null":
            return NullBackend
        return lambda: choose_backend(audio, call_from_thread=self.reactor.callFromThread).backend

    def _on_invite(self, request: SipRequest, transaction: ServerInviteTransaction,
                   source: Source) -> None:
        if self.dnd and "replaces" not in request.headers:
            from .sip.responses import build_response

            self.ua.respond(transaction, build_response(request, 486, to_tag=self.ua.ids.tag()))
            return
        try:
            self._take_invite(request, transaction, source)
        except RtpSessionError as error:
            # RFC 3261 21.5.4: we cannot take a call now (no free RTP port pair).
            log.warning("refusing an INVITE from %s: %s", source.remote, error)
            from .sip.responses import build_response

            refusal = build_response(request, 503, to_tag=self.ua.ids.tag())
            refusal.headers.add("Warning", f'399 - "{str(error)[:150]}"')
            self.ua.respond(transaction, refusal)
        self._refill_ports()

    def _take_invite(self, request: SipRequest, transaction: ServerInviteTransaction,
                     source: Source) -> None:
        if "replaces" in request.headers:
            # RFC 3891 3: it takes over one of our calls (attended transfer), DND or not.
            from .call_transfer import on_replacing_invite

            on_replacing_invite(self, request, transaction, source)
            return
        call = self.incoming_call(request, transaction, source)
        if call.state is CallState.INCOMING:
            self.emit(IncomingCall(call, call.call_id, call.remote, call.account.name))
            if self.auto_answer and call.state is CallState.INCOMING:
                call.answer()
            # Not answered at once by a subscriber: it rings (RFC 3261 13.3.1.1). A
            # call answered right away gets its 200 OK alone, with no 180 before it.
            call.ring()

    def _refill_ports(self) -> None:
        # After the INVITE went out or was answered: binding is kept off that path.
        if self._ports is not None:
            self._ports.refill_soon()

    def incoming_call(self, request: SipRequest, transaction: ServerInviteTransaction,
                      source: Source) -> Call:
        """A Call for a new INVITE, tracked and ready to answer (or already refused);
        :meth:`Call.ring` sends the 180. Raises RtpSessionError when no RTP port
        pair is free."""
        account = self._account_for(request)
        transport = source.transport if source.transport in self.transports else UDP
        media = self._new_media(None)
        call = Call(self, account, outgoing=False, call_id=request.call_id or "",
                    remote=str(request.from_addr.uri), transport=transport, media=media)
        self._track(call)
        call.incoming(request, transaction, source)
        return call

    def _answer_at_once(self, request: SipRequest | PlainInvite,
                        source: Source) -> AnswerAtOnce | None:
        """The 200 OK for a new INVITE over UDP whose offer we answered before, made
        before the call; the user agent sends it, then :meth:`_answered_at_once` runs.

        None for the usual way: DND, no offer (ours goes in the 200), an offer
        not seen before (the usual way learns it), no free RTP port pair. (The
        user agent asks only for an INVITE with a Contact, and no Record-Route
        or Replaces.)
        """
        if self.dnd or not request.body:
            return None
        account = self._account_for(request)
        try:
            media = self._new_media(None)
        except RtpSessionError:
            return None  # the usual way answers 503
        sess_id = int(time.time())
        local = media.local_media(account.codecs, srtp=account.srtp)
        # Never a template for an answer with SDES keys: each call has its own (RFC 4568 6.1).
        body = None if local.crypto else self.answers.render(request.body, local, sess_id)
        if body is None:
            self._spare = media  # for the call the usual way makes next
            return None
        contact = self.ua.contact(self.aor_user(account), UDP)
        data = Call.ok_bytes(self.ua, request, self.ua.ids.tag(), contact, body)
        return AnswerAtOnce(data, functools.partial(self._answered_at_once, source, account,
                                                    media, sess_id))

    def _answered_at_once(self, source: Source, account: Account, media: CallMedia,
                          sess_id: int, request: SipRequest,
                          transaction: ServerInviteTransaction, ok: SipResponse) -> None:
        call = Call(self, account, outgoing=False, call_id=request.call_id or "",
                    remote=str(request.from_addr.uri), transport=UDP, media=media)
        self._track(call)
        try:
            call.answered_at_once(request, transaction, source, ok, sess_id)
        except Exception:  # noqa: BLE001 - a bug: the 200 OK is out, the call cannot go on
            log.exception("the call %s answered at once could not be set up", call.call_id)
            call.media.close()
            self.forget(call)
            return
        self.emit(IncomingCall(call, call.call_id, call.remote, account.name))
        call.announce_answer()
        self._refill_ports()

    def _account_for(self, request: SipRequest | PlainInvite) -> Account:
        user = request.uri.user if isinstance(request.uri, SipUri) else None
        for account in self.config.accounts.values():
            if self.aor_user(account) == user:
                return account
        return self.account(None)

    def aor_user(self, account: Account) -> str | None:
        """The user part of an account's address of record (parsed once per URI)."""
        try:
            return self._aor_users[account.uri]
        except KeyError:
            user = self._aor_users[account.uri] = account.aor.user
            return user

    def _track(self, call: Call) -> None:
        self.calls.append(call)
        self.ua.sessions[call.call_id] = call

    def forget(self, call: Call) -> None:
        """A call ended: drop it (its Call-ID stays routed a while for retransmissions)."""
        if call in self.calls:
            self.calls.remove(call)
        if self.nat is not None:
            self.nat.unmap_rtp((call.media.port, call.media.port + 1))

        def unroute() -> None:
            if self.ua.sessions.get(call.call_id) is call:
                del self.ua.sessions[call.call_id]

        self._linger = [h for h in self._linger if h.active()]
        self._linger.append(self.reactor.callLater(SESSION_LINGER, unroute))


__all__ = ["Phone", "PhoneError", "parse_target"]
