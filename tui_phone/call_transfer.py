"""Call transfer on the Twisted edge: REFER, its NOTIFYs, and INVITE with Replaces.

RFC 3515 (REFER), RFC 3891 (Replaces), RFC 3892 (Referred-By), call flows
after RFC 5589. The three roles:

* **transferor** (:func:`transfer`, :func:`transfer_to`): send a REFER in a
  call's dialog, follow the sipfrag NOTIFYs, BYE the call on a final 2xx
  (:class:`TransferCompleted`) or keep it on anything else (:class:`TransferFailed`).
* **transferee** (:func:`on_refer`): answer 202, place the new call (with
  Replaces and Referred-By when the Refer-To carries them), report its
  progress by NOTIFY, then hang up the original call once the new one is up,
  unless the transferor did first.
* **transfer target** (:func:`on_replacing_invite`): an INVITE with Replaces
  matching one of our calls is answered at once and takes that call's place.

What the messages say is read and written by the pure modules
(:mod:`tui_phone.sip.transfer`, :mod:`tui_phone.sip.referral`); this module
only sequences them. Its functions work on a :class:`~tui_phone.call.Call`
and are its implementation (``Call.transfer`` and friends are the API).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .events import (
    CallAnswered,
    CallEnded,
    CallReplaced,
    CallStateChanged,
    PhoneEvent,
    TransferCompleted,
    TransferFailed,
    TransferProgress,
)
from .call_auth import send_in_dialog
from .sip.dialog import DialogRequestError
from .sip.errors import LocalProtocolError, SipParseError
from .sip.message import SipRequest, SipResponse
from .sip.responses import build_response
from .sip.referral import (
    ACCEPTED,
    ReferNotification,
    Referral,
    parse_refer,
    parse_refer_notify,
)
from .sip.replaces import Replaces
from .sip.transaction_server import ServerTransaction
from .sip.transfer import build_refer, build_refer_notify, find_replaced_dialog

if TYPE_CHECKING:
    from .call import Call
    from .phone import Phone
    from .sip.routing import Source

log = logging.getLogger(__name__)

TRANSFEROR = "transferor"
TRANSFEREE = "transferee"
#: How long the transferor waits for the final NOTIFY: the implicit
#: subscription's lifetime we announce as transferee too (RFC 3515 2.4.4).
SUBSCRIPTION_EXPIRES = 60
#: After success, how long the transferee leaves the transferor to send the BYE
#: (RFC 5589 6: the transferor ends the call), and how long an attended
#: transferor leaves the target to BYE the consultation call it replaced.
HANGUP_GRACE = 1.0
CONSULT_GRACE = 2.0


@dataclass
class OutgoingTransfer:
    """A REFER we sent, and what we know of its outcome so far."""

    target: str
    refer: SipRequest
    was_held: bool
    consult: Call | None = None
    accepted: bool = False
    done: bool = False
    timer: Any = None


@dataclass
class IncomingTransfer:
    """A REFER we accepted: the call we placed for it and the NOTIFYs to send."""

    referral: Referral
    refer_cseq: int
    new_call: Call | None = None
    done: bool = False
    notifies: list[tuple[int, str]] = field(default_factory=list)
    sending: bool = False
    unsubscribe: Callable[[], None] | None = None


# -- transferor ----------------------------------------------------------------------


def transfer(call: Call, uri: str) -> None:
    """Blind transfer: REFER the peer of ``call`` to ``uri`` (RFC 5589 6)."""
    from .phone import parse_target

    target = parse_target(uri)
    _send_refer(call, str(target), lambda dialog, branch: build_refer(
        dialog, branch, target, referred_by=call.account.aor))


def transfer_to(call: Call, other: Call) -> None:
    """Attended transfer: REFER the peer of ``call`` to the peer of ``other``,
    with Replaces naming ``other``'s dialog (RFC 5589 7)."""
    from .call import CallError, CallState

    if other is call:
        raise CallError("cannot transfer a call to itself")
    if other.state is not CallState.CONNECTED or other.dialog is None:
        raise CallError(f"cannot transfer to a call that is {other.state}")
    consult = other.dialog
    replaces = consult.replaces()
    target = consult.remote_target
    _send_refer(call, str(target), lambda dialog, branch: build_refer(
        dialog, branch, target, replaces=replaces, referred_by=call.account.aor), consult=other)


def _send_refer(call: Call, target: str, build: Callable[[Any, Any], SipRequest],
                consult: Call | None = None) -> None:
    from .call import CallError, CallState

    if call.state is not CallState.CONNECTED or call.dialog is None:
        raise CallError(f"cannot transfer a call that is {call.state}")
    pending = call._outgoing_transfer
    if pending is not None and not pending.done:
        raise CallError("a transfer of this call is already under way")
    refer = build(call.dialog, call.ua.new_branch)
    state = OutgoingTransfer(target, refer, call.on_hold, consult)
    call._outgoing_transfer = state
    state.timer = call.reactor.callLater(
        SUBSCRIPTION_EXPIRES, _finish_outgoing, call, state, 408, "No final NOTIFY")
    send_in_dialog(
        call, refer,
        lambda _sent, response: _on_refer_response(call, state, response),
        lambda reason: _finish_outgoing(call, state, 408, "Request Timeout"),
    )


def _on_refer_response(call: Call, state: OutgoingTransfer, response: SipResponse) -> None:
    status = response.status
    if status < 200 or state.done:
        return
    if status < 300:
        state.accepted = True
        call.phone.emit(TransferProgress(call, call.call_id, TRANSFEROR, state.target,
                                         status, response.reason))
        return
    _finish_outgoing(call, state, status, response.reason)


def on_notify(call: Call, request: SipRequest, transaction: ServerTransaction) -> None:
    """A NOTIFY in the call's dialog: the progress of our REFER (RFC 3515 2.4.5)."""
    state = call._outgoing_transfer
    try:
        notification = parse_refer_notify(request)
    except SipParseError as error:
        call.ua.respond(transaction, build_response(request, error.status, error.reason[:100]))
        return
    if state is None:
        call.ua.respond(transaction, build_response(request, 481))
        return
    call.ua.respond(transaction, build_response(request, 200))
    if state.done:
        return  # a late or repeated NOTIFY after the outcome
    _notified(call, state, notification)


def accepts_late_notify(call: Call, request: SipRequest) -> bool:
    """True for a NOTIFY that may arrive after the dialog's BYE: the REFER
    subscription outlives the INVITE usage (RFC 5057 5.6)."""
    state = call._outgoing_transfer
    return request.method == "NOTIFY" and state is not None and not state.done


def _notified(call: Call, state: OutgoingTransfer, notification: ReferNotification) -> None:
    status, reason = notification.status, notification.reason
    call.phone.emit(TransferProgress(call, call.call_id, TRANSFEROR, state.target, status, reason))
    if notification.is_final:
        _finish_outgoing(call, state, status, reason)
    elif notification.terminated:
        _finish_outgoing(call, state, status, "subscription terminated before a final status")


def _finish_outgoing(call: Call, state: OutgoingTransfer, status: int, reason: str) -> None:
    from .call import CallError, CallState

    if state.done:
        return
    state.done = True
    if state.timer is not None and state.timer.active():
        state.timer.cancel()
    if 200 <= status < 300:
        call.phone.emit(TransferCompleted(call, call.call_id, TRANSFEROR, state.target))
        call.hangup()  # RFC 5589 6.1: the transferor ends the original call
        consult = state.consult
        if consult is not None:
            # The target BYEs the call its INVITE replaced (RFC 3891 3); if it does not, we do.
            call.reactor.callLater(CONSULT_GRACE, consult.hangup)
        return
    call.phone.emit(TransferFailed(call, call.call_id, TRANSFEROR, state.target, status, reason))
    if state.was_held and call.state is CallState.CONNECTED and call.on_hold:
        try:
            call.resume()
        except CallError as error:
            log.info("could not resume %s after a failed transfer: %s", call.call_id, error)


# -- transferee ----------------------------------------------------------------------


def on_refer(call: Call, request: SipRequest, transaction: ServerTransaction) -> None:
    """A REFER in the call's dialog: accept it and call the target (RFC 3515 2.4.2)."""
    from .call import CallState
    from .phone import PhoneError

    ua = call.ua
    try:
        referral = parse_refer(request)
    except SipParseError as error:
        ua.respond(transaction, build_response(request, error.status, error.reason[:100]))
        return
    pending = call._incoming_transfer
    if call.state is not CallState.CONNECTED or (pending is not None and not pending.done):
        ua.respond(transaction, build_response(request, 491))
        return
    ua.respond(transaction, build_response(request, ACCEPTED))
    state = IncomingTransfer(referral, request.cseq.number)
    call._incoming_transfer = state
    _notify(call, state, 100, "Trying")
    headers: list[tuple[str, str]] = []
    if referral.replaces is not None:
        headers.append(("Replaces", str(referral.replaces)))
    if referral.referred_by is not None:
        headers.append(("Referred-By", referral.referred_by))
    try:
        new_call = call.phone.call(referral.target, call.account.name, headers=headers)
    except PhoneError as error:
        log.info("cannot call the Refer-To target %s: %s", referral.target, error)
        _incoming_failed(call, state, 503, "Service Unavailable")
        return
    state.new_call = new_call
    call.phone.emit(TransferProgress(call, call.call_id, TRANSFEREE, str(referral.target),
                                     100, "Trying", new_call.call_id))
    state.unsubscribe = call.phone.subscribe(lambda event: _watch(call, state, event))


def _watch(call: Call, state: IncomingTransfer, event: PhoneEvent) -> None:
    new_call = state.new_call
    if state.done or new_call is None:
        return
    new_call_id = new_call.call_id
    if getattr(event, "call", None) is not new_call:
        return
    target = str(state.referral.target)
    if isinstance(event, CallStateChanged) and event.new == "ringing":
        _notify(call, state, 180, "Ringing")
        call.phone.emit(TransferProgress(call, call.call_id, TRANSFEREE, target, 180, "Ringing",
                                         new_call_id))
    elif isinstance(event, CallAnswered):
        _stop_watching(state)
        _notify(call, state, 200, "OK")
        call.phone.emit(TransferCompleted(call, call.call_id, TRANSFEREE, target, new_call_id))
        # RFC 5589 6.1: the transferor BYEs us on the final NOTIFY; if it does not, we do.
        call.reactor.callLater(HANGUP_GRACE + 0.5, call.hangup)
    elif isinstance(event, CallEnded):
        _incoming_failed(call, state, event.status or 500, event.reason or "Server Internal Error")


def _incoming_failed(call: Call, state: IncomingTransfer, status: int, reason: str) -> None:
    _stop_watching(state)
    if not 300 <= status <= 699:
        status, reason = 500, "Server Internal Error"
    _notify(call, state, status, reason)
    call.phone.emit(TransferFailed(call, call.call_id, TRANSFEREE, str(state.referral.target),
                                   status, reason))


def _stop_watching(state: IncomingTransfer) -> None:
    state.done = True
    if state.unsubscribe is not None:
        state.unsubscribe()
        state.unsubscribe = None


def _notify(call: Call, state: IncomingTransfer, status: int, reason: str) -> None:
    """Queue a sipfrag NOTIFY; one at a time, in order (RFC 6665 4.2.2)."""
    state.notifies.append((status, reason))
    _next_notify(call, state)


def _next_notify(call: Call, state: IncomingTransfer) -> None:
    if state.sending or not state.notifies:
        return
    dialog = call.dialog
    status, reason = state.notifies.pop(0)
    if dialog is None or dialog.is_terminated:
        log.info("dialog of %s ended: NOTIFY %d not sent", call.call_id, status)
        state.notifies.clear()
        return
    try:
        notify = build_refer_notify(dialog, call.ua.new_branch, refer_cseq=state.refer_cseq,
                                    status=status, reason=reason, expires=SUBSCRIPTION_EXPIRES)
    except LocalProtocolError as error:
        log.info("NOTIFY %d not sent: %s", status, error)
        return
    state.sending = True

    def done(*_: object) -> None:
        state.sending = False
        _next_notify(call, state)

    def on_response(response: SipResponse) -> None:
        if response.status >= 200:
            done()

    send_in_dialog(call, notify, lambda _sent, response: on_response(response), done, dialog)


# -- transfer target -----------------------------------------------------------------


def on_replacing_invite(phone: Phone, request: SipRequest, transaction: Any,
                        source: Source) -> None:
    """An INVITE with Replaces (RFC 3891 3): check it, answer it, end the call it replaces."""
    from .call import CallState

    values = request.headers.get_all("replaces")
    try:
        if len(values) != 1:
            raise SipParseError(f"INVITE needs at most one Replaces, not {len(values)}", status=400)
        replaces = Replaces.parse(values[0])
        dialogs = {id(c.dialog): c for c in phone.calls if c.dialog is not None}
        dialog = find_replaced_dialog(replaces, [c.dialog for c in phone.calls if c.dialog is not None])
    except (SipParseError, DialogRequestError) as error:
        phone.ua.respond(transaction, build_response(request, error.status, error.reason[:100],
                                                     to_tag=phone.ua.ids.tag()))
        return
    old = dialogs[id(dialog)]
    call = phone.incoming_call(request, transaction, source)
    if call.state is not CallState.INCOMING:
        return  # refused already (bad SDP ...)
    call.answer()
    phone.calls.remove(call)
    phone.calls.insert(phone.calls.index(old) if old in phone.calls else len(phone.calls), call)
    old.hangup()
    phone.emit(CallReplaced(call, call.call_id, old.call_id, call.remote))


__all__ = [
    "IncomingTransfer",
    "OutgoingTransfer",
    "accepts_late_notify",
    "on_notify",
    "on_refer",
    "on_replacing_invite",
    "transfer",
    "transfer_to",
]
