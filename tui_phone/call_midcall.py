"""What happens inside an established call: re-INVITE (hold/resume, RFC 3264 8.4)
with 491 glare handling (RFC 3261 14.1), BYE, INFO DTMF, in-dialog OPTIONS;
REFER and NOTIFY go on to :mod:`tui_phone.call_transfer`.

Split out of :mod:`tui_phone.call` to keep modules small; these functions work
on a :class:`~tui_phone.call.Call` and are its implementation, not a public API.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from .call_auth import send_in_dialog
from .sip.dialog import DialogRequestError
from .sip.errors import LocalProtocolError, SipParseError
from .sip.message import SipRequest, SipResponse
from .sip.responses import build_response
from .sip.offeranswer import OfferAnswerError
from .sip.sdp import SessionDescription
from .sip.transaction_server import ServerTransaction
from .sip.useragent import ALLOW

if TYPE_CHECKING:
    from .call import Call

log = logging.getLogger(__name__)

SDP = "application/sdp"
DTMF_RELAY = "application/dtmf-relay"
DTMF_DIGITS = frozenset("0123456789*#ABCD")
INFO_DURATION_MS = 160

# RFC 3261 14.1: glare backoff. The owner of the Call-ID (the caller) waits
# 2.1-4 s, the other side 0-2 s.
GLARE_OWNER = (2.1, 4.0)
GLARE_OTHER = (0.0, 2.0)


def on_dialog_request(call: Call, request: SipRequest, transaction: ServerTransaction) -> None:
    """Dispatch a request received inside the call's dialog."""
    from . import call_transfer
    from .call import CallState

    ua = call.ua
    dialog = call.dialog
    if dialog is None:
        ua.respond(transaction, build_response(request, 481))
        return
    try:
        dialog.on_request(request)
    except DialogRequestError as error:
        if error.status == 481 and call_transfer.accepts_late_notify(call, request):
            call_transfer.on_notify(call, request, transaction)  # the subscription outlives BYE
            return
        ua.respond(transaction, build_response(request, error.status))
        return
    except LocalProtocolError:
        ua.respond(transaction, build_response(request, 481))
        return
    method = request.method
    if method == "BYE":
        ua.respond(transaction, build_response(request, 200))
        if call.state is CallState.INCOMING:
            call._respond_invite(487)
        call._end(200, "OK", "remote")
    elif method == "INVITE":
        _on_reinvite(call, request, transaction)
    elif method == "INFO":
        _on_info(call, request, transaction)
    elif method == "REFER":
        call_transfer.on_refer(call, request, transaction)
    elif method == "NOTIFY":
        call_transfer.on_notify(call, request, transaction)
    elif method == "OPTIONS":
        response = build_response(request, 200)
        response.headers.add("Allow", ALLOW)
        ua.respond(transaction, response)
    else:
        response = build_response(request, 501)
        response.headers.add("Allow", ALLOW)
        ua.respond(transaction, response)


def _on_reinvite(call: Call, request: SipRequest, transaction: ServerTransaction) -> None:
    from .call import CallState

    ua = call.ua
    if call._reinvite is not None:
        # RFC 3261 14.2: our own re-INVITE is pending: glare.
        ua.respond(transaction, build_response(request, 491))
        return
    if call.state is not CallState.CONNECTED or call._ok is not None or call.sdp is None:
        response = build_response(request, 500)
        response.headers.add("Retry-After", str(random.randint(0, 10)))
        ua.respond(transaction, response)
        return
    sdp = call.sdp
    negotiated = None
    if request.body:
        try:
            offer = SessionDescription.parse(request.body)
            answer, negotiated = sdp.create_answer(offer)
        except OfferAnswerError:
            ua.respond(transaction, build_response(request, 488))
            return
        except SipParseError:
            ua.respond(transaction, build_response(request, 400, "Bad SDP"))
            return
        body = bytes(answer)
    else:
        body = bytes(sdp.create_offer())  # RFC 3261 14.2: offer in the 2xx, answer in the ACK
    response = build_response(request, 200, body=body, content_type=SDP)
    response.headers.add("Contact", ua.contact(call.account.aor.user, call.transport))
    response.headers.add("Allow", ALLOW)
    ua.respond(transaction, response)
    call._source = transaction.destination  # type: ignore[assignment]
    call._start_2xx_retransmit(response)
    if negotiated is not None:
        call.media.apply(negotiated)
        # RFC 3264 8.4: sendonly/inactive (or c=0.0.0.0) from the peer means it holds us.
        remote_hold = not negotiated.remote_direction.receives
        if remote_hold != call.remote_hold:
            call.remote_hold = remote_hold
            call._hold_changed()


def send_reinvite(call: Call, action: str) -> None:
    """Send a hold or resume re-INVITE (a retry after 491 comes back here)."""
    from .call import CallError, CallState

    if call.state is not CallState.CONNECTED or call.dialog is None or call.sdp is None:
        raise CallError(f"cannot {action} a call that is {call.state}")
    if call._reinvite is not None or call._ok is not None:
        raise CallError(f"cannot {action} now: another offer/answer exchange is under way")
    offer = call.sdp.hold() if action == "hold" else call.sdp.resume()
    request = call.dialog.create_reinvite(call.ua.new_branch, body=bytes(offer))
    call._reinvite = (request, action)
    send_in_dialog(
        call, request,
        lambda sent, response: _on_reinvite_response(call, sent, action, response),
        lambda reason: _on_reinvite_timeout(call, request),
    )


def _on_reinvite_response(call: Call, request: SipRequest, action: str, response: SipResponse) -> None:
    from .call import CallState

    status = response.status
    if status < 200 or call.dialog is None or call.sdp is None:
        return
    call._reinvite = None
    if call.state is CallState.ENDED:
        return
    call.dialog.on_response(request, response)
    if status < 300:
        ack = call.dialog.create_ack(request, call.ua.new_branch)
        call._acks[request.cseq.number] = ack
        call.ua.send_stateless(ack, call._dialog_target(call.dialog))
        if response.body and call.sdp.pending_offer is not None:
            try:
                call.media.apply(call.sdp.process_answer(SessionDescription.parse(response.body)))
            except (OfferAnswerError, SipParseError) as error:
                log.warning("bad answer to our re-INVITE: %s", error)
                call.hangup(reason="bad SDP answer")
                return
        call.on_hold = action == "hold"
        call._hold_changed()
        return
    if call.sdp.pending_offer is not None:
        call.sdp.offer_rejected()
    if status == 491:
        low, high = GLARE_OWNER if call.outgoing else GLARE_OTHER
        delay = call.phone.rng.uniform(low, high)
        log.info("491 on %s of %s: retrying in %.2f s", action, call.call_id, delay)
        call._glare_timer = call.reactor.callLater(delay, _retry, call, action)
    elif status in (408, 481):
        call.hangup(status=status, reason=response.reason)


def _retry(call: Call, action: str) -> None:
    from .call import CallError

    call._glare_timer = None
    try:
        send_reinvite(call, action)
    except CallError as error:
        log.info("glare retry of %s dropped: %s", action, error)


def _on_reinvite_timeout(call: Call, request: SipRequest) -> None:
    call._reinvite = None
    if call.sdp is not None and call.sdp.pending_offer is not None:
        call.sdp.offer_rejected()
    call.hangup(status=408, reason="Request Timeout")


# -- DTMF --------------------------------------------------------------------------


def send_dtmf(call: Call, digits: str) -> None:
    """RFC 4733 through the RTP session, or SIP INFO when the account says so
    (or when telephone-event was not negotiated)."""
    from .call import CallError, CallState

    bad = [d for d in digits.upper() if d not in DTMF_DIGITS]
    if bad:
        raise CallError(f"not a DTMF digit: {bad[0]!r}")
    if call.state is not CallState.CONNECTED:
        raise CallError(f"cannot send DTMF in a call that is {call.state}")
    if call.account.dtmf_mode != "info" and call.media.can_send_rfc4733:
        call.media.send_dtmf(digits.upper())
        return
    call._info_queue.extend(digits.upper())
    _next_info(call)


def _next_info(call: Call) -> None:
    from .call import CallState

    if call._info_busy or not call._info_queue or call.dialog is None:
        return
    if call.state is not CallState.CONNECTED:
        call._info_queue.clear()
        return
    digit = call._info_queue.pop(0)
    body = f"Signal={digit}\r\nDuration={INFO_DURATION_MS}\r\n".encode()
    request = call.dialog.create_info(call.ua.new_branch, body, DTMF_RELAY)
    call._info_busy = True

    def done(*_: object) -> None:
        call._info_busy = False
        _next_info(call)

    def on_response(response: SipResponse) -> None:
        if response.status >= 200:
            done()

    send_in_dialog(call, request, lambda _sent, response: on_response(response), done)


def _on_info(call: Call, request: SipRequest, transaction: ServerTransaction) -> None:
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    digit = None
    if content_type == DTMF_RELAY:
        for line in request.body.decode("utf-8", "replace").splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal":
                digit = value.strip().upper()
    elif content_type == "application/dtmf":
        digit = request.body.decode("utf-8", "replace").strip().upper()
    if content_type and digit is None and request.body:
        response = build_response(request, 415)
        response.headers.add("Accept", DTMF_RELAY)
        call.ua.respond(transaction, response)
        return
    call.ua.respond(transaction, build_response(request, 200))
    if digit:
        call._dtmf_received(digit[:1] if digit[:1] in DTMF_DIGITS else digit, "info")
