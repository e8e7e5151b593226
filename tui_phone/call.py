"""One call: the INVITE session (RFC 3261 13-15, RFC 3264) and its media.

A :class:`Call` is created by the :class:`~tui_phone.phone.Phone`, either for an
outgoing call (:meth:`Call.place`) or for an INVITE that arrived
(:meth:`Call.incoming`). It owns its dialog, its :class:`SdpSession` and its
:class:`~tui_phone.media.CallMedia`, and talks to the network only through the
:class:`~tui_phone.sip.useragent.UserAgent`. What the protocol decides lives in
the pure modules (dialog, sdpsession, requests, registration.authorize); this
class sequences them. Events go out through the phone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from .events import (
    CallAnswered,
    CallEnded,
    CallHoldChanged,
    CallStateChanged,
    DtmfReceived,
    RtpSummary,
)
from .call_auth import send_in_dialog
from .call_watchdog import RtpWatchdog
from .media import CallMedia
from .sip.auth import Credentials, DigestClient
from .sip.dialog import Dialog, DialogRequestError
from .sip.dialogset import InviteDialogSet
from .sip.errors import SipParseError
from .sip.message import SipRequest, SipResponse
from .sip.responses import build_response, response_bytes
from .sip.offeranswer import NegotiatedMedia, OfferAnswerError
from .sip.plaininvite import PlainInvite
from .sip.registration import authorize, request_copy
from .sip.requests import build_cancel, new_request, with_branch
from .sip.routing import Source, Target
from .sip.sdp import SessionDescription
from .sip.sdpsession import SdpSession
from .sip.status import reason_phrase
from .sip.transaction import T1, T2
from .sip.transaction_server import ServerInviteTransaction, ServerTransaction
from .sip.uri import NameAddress, SipUri
from .sip.useragent import ALLOW, SUPPORTED, UserAgent

if TYPE_CHECKING:
    from .call_transfer import IncomingTransfer, OutgoingTransfer
    from .config import Account
    from .phone import Phone

log = logging.getLogger(__name__)

SDP = "application/sdp"
DTMF_RELAY = "application/dtmf-relay"


class CallError(Exception):
    """A call operation that does not fit the call's state (our caller's fault)."""


class CallState(StrEnum):
    """Where a call stands."""

    CALLING = "calling"  # INVITE sent, no provisional response yet
    RINGING = "ringing"  # the callee rings (180/183)
    INCOMING = "incoming"  # an INVITE arrived; we ring
    CONNECTED = "connected"
    ENDED = "ended"


class Call:
    """One call, outgoing or incoming. Use the :class:`~tui_phone.phone.Phone` to make one."""

    def __init__(self, phone: Phone, account: Account, *, outgoing: bool, call_id: str,
                 remote: str, transport: str, media: CallMedia) -> None:
        self.phone = phone
        self.ua = phone.ua
        self.reactor = phone.reactor
        self.account = account
        self.outgoing = outgoing
        self.call_id = call_id
        self.remote = remote
        self.transport = transport
        self.media = media
        self.state = CallState.CALLING if outgoing else CallState.INCOMING
        self.dialog: Dialog | None = None
        self.sdp: SdpSession | None = None
        self.on_hold = False
        self.remote_hold = False
        self.status: int | None = None
        self.reason = ""
        self.started_at = self.reactor.seconds()
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.final_stats: RtpSummary | None = None
        #: Fires once the call is over and its last transaction (BYE) is done.
        self.finished: Deferred[Call] = Deferred()
        self._invite: SipRequest | None = None
        self._target: Target | None = None
        self._dialogs: InviteDialogSet | None = None
        self._provisional = False
        self._ringing = False  # we sent 180 for an incoming call
        self._cancel_wanted = False
        self._auth_sent: dict[str, Credentials] = {}
        self._acks: dict[int, SipRequest] = {}
        self._server_txn: ServerTransaction | None = None
        self._source: Source | None = None
        self._answer_sdp: SessionDescription | None = None
        self._pending_negotiated: NegotiatedMedia | None = None
        self._ok: SipResponse | None = None
        self._retransmit: Any = None
        self._watchdog: RtpWatchdog | None = None
        self._reinvite: tuple[SipRequest, str] | None = None
        self._glare_timer: Any = None
        self._info_queue: list[str] = []
        self._info_busy = False
        self._waiting_bye = False
        self._outgoing_transfer: OutgoingTransfer | None = None  # a REFER we sent
        self._incoming_transfer: IncomingTransfer | None = None  # a REFER we received
        media.session.on_dtmf(lambda digit: self._dtmf_received(digit.digit, "rfc4733"))

    # -- properties -------------------------------------------------------------
    @property
    def codec(self) -> str | None:
        """The negotiated codec name, once there is one."""
        codec = self.media.codec
        return None if codec is None else codec.name

    @property
    def duration(self) -> float:
        """Seconds since the call was answered (0 if it never was)."""
        if self.answered_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self.reactor.seconds()
        return max(end - self.answered_at, 0.0)

    @property
    def muted(self) -> bool:
        """True while :meth:`mute` sends silence instead of our audio."""
        return self.media.muted

    @property
    def recording(self) -> bool:
        """True once :meth:`record` was called."""
        return self.media.recording

    @property
    def encrypted(self) -> bool:
        """True when the call's media is SRTP."""
        return self.media.encrypted

    def __repr__(self) -> str:
        return f"<Call {self.call_id} {self.state} {self.remote}>"

    # -- outgoing ----------------------------------------------------------------
    def place(self, target: SipUri, route_set: tuple[str, ...] = (),
              headers: Sequence[tuple[str, str]] = ()) -> None:
        """Send the INVITE with our SDP offer (RFC 3261 13.2.1); ``headers`` are
        added as they are (Replaces, Referred-By for a transfer)."""
        ids = self.ua.ids
        local = self.media.local_media(self.account.codecs, srtp=self.account.srtp, offer=True)
        self.sdp = SdpSession(local, int(time.time()))
        offer = self.sdp.create_offer()
        local = NameAddress(self.account.aor, self.account.display_name, params=(("tag", ids.tag()),))  # type: ignore[arg-type]
        invite = new_request(
            "INVITE", target, local, NameAddress(target), self.call_id, 1,
            with_branch(self.ua.via(self.transport), ids.branch()),
            contact=self._contact(),
            route_set=route_set, body=bytes(offer), content_type=SDP,
            extra_headers=[("Allow", ALLOW), ("Supported", ", ".join(SUPPORTED)), *headers],
        )
        self._target = self.ua.target_for(target, route_set, self.transport)
        self._send_invite(invite)

    def _send_invite(self, invite: SipRequest) -> None:
        assert self._target is not None
        self._invite = invite
        self._dialogs = InviteDialogSet(invite, over_tls=False)
        self.ua.send_request(invite, self._target, self._on_invite_response, self._on_invite_timeout)

    def _on_invite_response(self, response: SipResponse) -> None:
        invite, dialogs = self._invite, self._dialogs
        assert invite is not None and dialogs is not None
        if response.cseq != invite.cseq:
            return
        status = response.status
        if status < 200:
            self._provisional = True
            dialogs.on_response(response)
            if self._cancel_wanted:
                self._send_cancel()
            elif status > 100 and self.state is CallState.CALLING:
                self._early_media(response)
                self._move(CallState.RINGING, response.reason)
            return
        if status < 300:
            self._on_invite_2xx(response)
            return
        dialogs.on_response(response)
        digest = self._digest()
        if status in (401, 407) and digest is not None and not self._cancel_wanted:
            retry = request_copy(invite, invite.cseq.number + 1, self.ua.new_branch())
            if authorize(retry, response, digest, self._auth_sent):
                self._send_invite(retry)
                return
        self._end(status, response.reason, "remote")

    def _early_media(self, response: SipResponse) -> None:
        # RFC 3261 13.2.1 / RFC 3264: an SDP answer in a reliable-enough 183.
        if self.sdp is None or self.sdp.pending_offer is None or not _is_sdp(response):
            return
        try:
            negotiated = self.sdp.process_answer(SessionDescription.parse(response.body))
        except (OfferAnswerError, SipParseError) as error:
            log.info("unusable early media answer: %s", error)
            return
        self.media.apply(negotiated)

    def _on_invite_2xx(self, response: SipResponse) -> None:
        assert self._invite is not None and self._dialogs is not None
        dialog = self._dialogs.on_response(response)
        if dialog is None:
            return
        ack = dialog.create_ack(self._invite, self.ua.new_branch)
        self._acks[self._invite.cseq.number] = ack
        self.ua.send_stateless(ack, self._dialog_target(dialog))
        if self._dialogs.is_extra(dialog) or self.state is CallState.ENDED:
            # A second fork answered, or we gave up meanwhile: ACK, then BYE (RFC 3261 13.2.2.4).
            self.ua.send_request(dialog.create_bye(self.ua.new_branch), self._dialog_target(dialog),
                                 lambda r: None, lambda r: None)
            return
        self.dialog = dialog
        if self.sdp is not None and self.sdp.pending_offer is not None and _is_sdp(response):
            try:
                self.media.apply(self.sdp.process_answer(SessionDescription.parse(response.body)))
            except (OfferAnswerError, SipParseError) as error:
                self._connected()
                self.hangup(reason=f"bad SDP answer: {error}")
                return
        self._connected()
        if self._cancel_wanted:
            self.hangup()

    def _on_invite_timeout(self, reason: str) -> None:
        if self.state is CallState.ENDED:
            return
        if reason == "transport":
            self._end(503, "Service Unavailable", "local")
        else:
            self._end(408, "Request Timeout", "local")

    def _send_cancel(self) -> None:
        assert self._invite is not None and self._target is not None
        self.ua.send_request(build_cancel(self._invite), self._target, lambda r: None, lambda r: None)
        # RFC 3261 9.1: no final response 64*T1 after the CANCEL: the INVITE is over.
        self.reactor.callLater(64 * T1, self._cancel_expired)

    def _cancel_expired(self) -> None:
        if self.state is not CallState.ENDED and self.state is not CallState.CONNECTED:
            self._end(487, "Request Terminated", "local")

    # -- incoming ----------------------------------------------------------------------
    def incoming(self, request: SipRequest, transaction: ServerTransaction, source: Source) -> None:
        """Take a new INVITE: the dialog and the SDP answer, ready for :meth:`answer`."""
        self._invite, self._server_txn, self._source = request, transaction, source
        local_tag = self.ua.ids.tag()
        try:
            self.dialog = Dialog.from_uas(
                request, local_tag, contact=self._contact(),
                local_via=self.ua.via(self.transport), over_tls=False,
            )
        except DialogRequestError as error:
            self._respond_invite(error.status)
            self._end(error.status, str(error), "local")
            return
        # No offer in the INVITE: ours goes in the 200 OK (RFC 3264 4), as an offer.
        local = self.media.local_media(self.account.codecs, srtp=self.account.srtp,
                                       offer=not request.body)
        sess_id = int(time.time())
        self.sdp = SdpSession(local, sess_id)
        if request.body:
            try:
                offer = SessionDescription.parse(request.body)
                self._answer_sdp, negotiated = self.sdp.create_answer(offer)
            except OfferAnswerError as error:
                self._respond_invite(488, headers=[("Warning", f'304 - "{error.reason}"')])
                self._end(488, reason_phrase(488), "local")
                return
            except SipParseError as error:
                self._respond_invite(400, reason=f"Bad SDP: {error}"[:100])
                self._end(400, "Bad SDP", "local")
                return
            self._pending_negotiated = negotiated
            # The next call with this offer is answered at once; never an answer with
            # SDES keys in it (each call has its own, RFC 4568 6.1).
            if self.phone.auto_answer and not local.crypto:
                self.phone.answers.learn(request.body, local, bytes(self._answer_sdp), sess_id,
                                         self.sdp.origin.sess_version)

    @staticmethod
    def ok_bytes(ua: UserAgent, request: SipRequest | PlainInvite, tag: str, contact: str,
                 body: bytes) -> bytes:
        """The 200 OK with our SDP ``body`` that :meth:`answer` sends for ``request``, as
        bytes: the same fields, with the Server field the user agent adds."""
        extra = (("Contact", contact), ("Allow", ALLOW), ("Supported", ", ".join(SUPPORTED)),
                 ("Server", ua.user_agent))
        if isinstance(request, PlainInvite):
            return request.response_bytes(200, to_tag=tag, body=body, content_type=SDP,
                                          extra=extra)
        return response_bytes(request, 200, to_tag=tag, body=body, content_type=SDP, extra=extra)

    def answered_at_once(self, request: SipRequest, transaction: ServerInviteTransaction,
                         source: Source, ok: SipResponse, sess_id: int) -> None:
        """Take an INVITE the phone answered at once with ``ok`` (see
        ``Phone.auto_answer``): what :meth:`incoming` and :meth:`answer` do, after
        the fact. ``ok`` carries our SDP answer for session ``sess_id``, remembered
        from the same offer; the call is connected when this returns."""
        self._invite, self._server_txn, self._source = request, transaction, source
        local = self.media.local_media(self.account.codecs, srtp=self.account.srtp)
        self.dialog = Dialog.from_uas(request, ok.to_addr.tag or "", contact=self._contact(),
                                      local_via=self.ua.via(self.transport), over_tls=False)
        self.sdp = SdpSession(local, sess_id)
        self._answer_sdp, negotiated = self.sdp.create_answer(SessionDescription.parse(request.body))
        if bytes(self._answer_sdp) != ok.body:  # pragma: no cover - a template that lies is a bug
            log.error("the SDP answer sent for %s differs from the negotiated one", self.call_id)
        self.dialog.on_response_sent(request, ok)
        self._start_2xx_retransmit(ok)
        self.media.apply(negotiated)
        self.answered_at = self.reactor.seconds()
        # Connected before anyone hears of the call: it is answered already.
        self.state = CallState.CONNECTED

    def announce_answer(self) -> None:
        """The events of an answer given at once (:meth:`answered_at_once`), for after
        IncomingCall."""
        if self.state is CallState.CONNECTED:
            self.phone.emit(CallStateChanged(self, self.call_id, CallState.INCOMING.value,
                                             CallState.CONNECTED.value, ""))
        if self.state is CallState.CONNECTED:
            self.phone.emit(CallAnswered(self, self.call_id, self.remote, self.codec))

    def ring(self) -> None:
        """Tell the caller we ring (180), once, unless the call was answered or refused.

        RFC 3261 13.3.1.1: a UAS that answers at once need not send a
        provisional response, so the phone calls this only when the incoming
        call was not answered while it was announced.
        """
        if self.state is CallState.INCOMING and not self._ringing:
            self._ringing = True
            self._respond_invite(180)

    def answer(self) -> None:
        """Answer a ringing incoming call: 200 OK with our SDP (RFC 3261 13.3.1.4)."""
        if self.state is not CallState.INCOMING or self._invite is None:
            raise CallError(f"cannot answer a call that is {self.state}")
        assert self.sdp is not None and self.dialog is not None
        if self._answer_sdp is None:
            body = bytes(self.sdp.create_offer())  # no offer in the INVITE: offer in the 2xx
        else:
            body = bytes(self._answer_sdp)
        response = self._respond_invite(200, body=body)
        self.dialog.on_response_sent(self._invite, response)
        self._start_2xx_retransmit(response)
        if self._pending_negotiated is not None:
            self.media.apply(self._pending_negotiated)
        self._connected()

    def reject(self, status: int = 486, reason: str | None = None) -> None:
        """Refuse a ringing incoming call (486 Busy Here, 603 Decline ...)."""
        if self.state is not CallState.INCOMING:
            raise CallError(f"cannot reject a call that is {self.state}")
        if not 300 <= status <= 699:
            raise CallError(f"a rejection needs a 3xx-6xx status, not {status}")
        response = self._respond_invite(status, reason=reason)
        self._end(status, response.reason, "local")

    def _respond_invite(self, status: int, *, body: bytes = b"", reason: str | None = None,
                        headers: list[tuple[str, str]] | None = None) -> SipResponse:
        assert self._invite is not None and self._server_txn is not None
        tag = self.dialog.local_tag if self.dialog is not None else self.ua.ids.tag()
        response = build_response(self._invite, status, reason, to_tag=tag,
                                  body=body, content_type=SDP if body else None)
        if 100 < status < 300:
            # RFC 3261 13.3.1.4: a 2xx to INVITE SHOULD carry Allow and Supported.
            response.headers.add("Contact", self._contact())
            response.headers.add("Allow", ALLOW)
            response.headers.add("Supported", ", ".join(SUPPORTED))
        for name, value in headers or ():
            response.headers.add(name, value)
        self.ua.respond(self._server_txn, response)
        return response

    def _start_2xx_retransmit(self, response: SipResponse, interval: float = T1,
                              elapsed: float = 0.0) -> None:
        # RFC 3261 13.3.1.4: resend the 2xx at T1, doubling up to T2, until the ACK.
        self._ok = response
        if elapsed == 0.0 and self._source is not None and self._source.reliable:
            interval = 64 * T1  # RFC 3261 13.3.1.4: only the give-up timer on TCP
        self._retransmit = self.reactor.callLater(interval, self._retransmit_2xx, interval,
                                                  elapsed + interval)

    def _retransmit_2xx(self, interval: float, elapsed: float) -> None:
        self._retransmit = None
        if self._ok is None or self.state is CallState.ENDED:
            return
        if elapsed >= 64 * T1:
            log.warning("no ACK for the 2xx of %s: hanging up", self.call_id)
            self._ok = None
            self.hangup(status=408, reason="No ACK")
            return
        self.ua.send_stateless(self._ok, self.ua.response_target(self._ok, self._source))
        nxt = min(interval * 2, T2)
        self._retransmit = self.reactor.callLater(nxt, self._retransmit_2xx, nxt, elapsed + nxt)

    def on_ack(self, request: SipRequest) -> None:
        """The ACK for our 2xx (UA core, RFC 3261 13.3.1.4)."""
        if self._ok is None or request.cseq.number != self._ok.cseq.number:
            return
        self._ok = None
        if self._retransmit is not None and self._retransmit.active():
            self._retransmit.cancel()
        self._retransmit = None
        if self.sdp is not None and self.sdp.pending_offer is not None and _is_sdp(request):
            try:
                self.media.apply(self.sdp.process_answer(SessionDescription.parse(request.body)))
            except (OfferAnswerError, SipParseError) as error:
                self.hangup(reason=f"bad SDP in ACK: {error}")

    def on_cancel(self, cancel: SipRequest) -> None:
        """The caller cancelled before we answered: 487 to the INVITE (RFC 3261 9.2)."""
        if self.state is CallState.INCOMING:
            self._respond_invite(487)
            self._end(487, "Request Terminated", "remote")

    # -- in-dialog requests --------------------------------------------------------------
    def on_dialog_request(self, request: SipRequest, transaction: ServerTransaction) -> None:
        """A request inside our dialog (BYE, re-INVITE, INFO, OPTIONS)."""
        from . import call_midcall

        call_midcall.on_dialog_request(self, request, transaction)

    def on_stray_response(self, response: SipResponse) -> None:
        """A response no transaction wants: a retransmitted 2xx to INVITE gets its ACK again."""
        if response.cseq.method == "INVITE" and 200 <= response.status < 300:
            ack = self._acks.get(response.cseq.number)
            if ack is not None and self.dialog is not None:
                self.ua.send_stateless(ack, self._dialog_target(self.dialog))

    # -- controls -----------------------------------------------------------------------
    def hangup(self, *, status: int = 200, reason: str = "OK") -> None:
        """End the call: CANCEL, BYE or 603, whatever its state needs."""
        if self.state is CallState.ENDED:
            return
        if self.state is CallState.INCOMING:
            self.reject(603)
            return
        if self.state in (CallState.CALLING, CallState.RINGING):
            # RFC 3261 9.1: a CANCEL only once a provisional response arrived.
            if not self._cancel_wanted:
                self._cancel_wanted = True
                if self._provisional:
                    self._send_cancel()
            return
        assert self.dialog is not None
        bye = self.dialog.create_bye(self.ua.new_branch)
        self._waiting_bye = True
        send_in_dialog(self, bye, lambda _sent, response: self._on_bye_response(response),
                       lambda why: self._bye_done())
        self._end(status, reason, "local")

    def _on_bye_response(self, response: SipResponse) -> None:
        if response.status >= 200:
            self._bye_done()

    def _bye_done(self) -> None:
        self._waiting_bye = False
        if self.state is CallState.ENDED and not self.finished.called:
            self.finished.callback(self)

    def hold(self) -> None:
        """Put the call on hold with a sendonly re-INVITE (RFC 3264 8.4)."""
        from . import call_midcall

        call_midcall.send_reinvite(self, "hold")

    def resume(self) -> None:
        """Take the call off hold with a sendrecv re-INVITE."""
        from . import call_midcall

        call_midcall.send_reinvite(self, "resume")

    def send_dtmf(self, digits: str) -> None:
        """Send DTMF: RFC 4733 on the RTP stream, or SIP INFO (account ``dtmf_mode``)."""
        from . import call_midcall

        call_midcall.send_dtmf(self, digits)

    def transfer(self, uri: str) -> None:
        """Blind transfer: ask the peer to call ``uri`` (REFER, RFC 3515).

        Progress comes as ``TransferProgress`` events; on success this call is
        hung up and ``TransferCompleted`` is emitted, otherwise ``TransferFailed``
        (the call stays up, and is resumed if it was on hold).
        """
        from . import call_transfer

        call_transfer.transfer(self, uri)

    def transfer_to(self, other: Call) -> None:
        """Attended transfer: connect this call's peer with ``other``'s peer
        (REFER with Replaces, RFC 5589 7); on success both calls end."""
        from . import call_transfer

        call_transfer.transfer_to(self, other)

    def mute(self, on: bool = True) -> None:
        """Send silence instead of our audio (``on=False`` unmutes)."""
        self.media.mute(on)

    def record(self, path: str) -> None:
        """Record both directions of the call into a stereo WAV file."""
        self.media.record(path)

    def stats(self) -> RtpSummary:
        """The media statistics so far (the final ones once the call ended)."""
        return self.final_stats if self.final_stats is not None else self.media.summary()

    # -- helpers ----------------------------------------------------------------------
    def _digest(self) -> DigestClient | None:
        return self.phone.digest_for(self.account)

    def _contact(self) -> str:
        """Our Contact for this call's account and transport."""
        return self.ua.contact(self.phone.aor_user(self.account), self.transport)

    def _dialog_target(self, dialog: Dialog) -> Target:
        return self.ua.target_for(dialog.remote_target, dialog.route_set, self.transport)

    def _connected(self) -> None:
        self.answered_at = self.reactor.seconds()
        timeout = self.phone.config.phone.rtp_timeout
        if timeout and self._watchdog is None:
            self._watchdog = RtpWatchdog(self, timeout)
            self._watchdog.start()
        self._move(CallState.CONNECTED)
        self.phone.emit(CallAnswered(self, self.call_id, self.remote, self.codec))

    def _move(self, state: CallState, reason: str = "") -> None:
        old, self.state = self.state, state
        if old is not state:
            self.phone.emit(CallStateChanged(self, self.call_id, old.value, state.value, reason))

    def _hold_changed(self) -> None:
        self.phone.emit(CallHoldChanged(self, self.call_id, self.on_hold, self.remote_hold))

    def _dtmf_received(self, digit: str, method: str) -> None:
        self.phone.emit(DtmfReceived(self, self.call_id, digit, method))

    def _end(self, status: int, reason: str, by: str) -> None:
        if self.state is CallState.ENDED:
            return
        self.status, self.reason = status, reason
        self.ended_at = self.reactor.seconds()
        self.final_stats = self.media.summary()
        self.media.close()
        if self._watchdog is not None:
            self._watchdog.stop()
        for timer in (self._retransmit, self._glare_timer):
            if timer is not None and timer.active():
                timer.cancel()
        if self.dialog is not None:
            self.dialog.terminate()
        answered = self.answered_at is not None
        self._move(CallState.ENDED, reason)
        self.phone.emit(CallEnded(
            self, self.call_id, self.remote, status, reason, round(self.duration, 3),
            self.codec, self.final_stats, answered, by,
        ))
        self.phone.forget(self)
        if not self._waiting_bye and not self.finished.called:
            self.finished.callback(self)


def _is_sdp(message: SipRequest | SipResponse) -> bool:
    content_type = (message.content_type or "").split(";")[0].strip().lower()
    return bool(message.body) and content_type == SDP


__all__ = ["Call", "CallError", "CallState"]

