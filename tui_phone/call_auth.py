"""In-dialog requests that the peer or a proxy on the route challenges (401/407).

A carrier or a PBX may ask for credentials on BYE, re-INVITE, REFER, INFO
or NOTIFY, not only on the INVITE that set the call up. Such a request is
sent again with the account's digest answer (RFC 3261 22.2): a new request
of the dialog, with the next CSeq of the dialog (RFC 3261 12.2.1.1) and a new
branch, at most once per realm and nonce (a refused answer is final). The
handler sees the final response and the request it answers, which is the
retried one when there was a retry (the ACK of a 2xx to a re-INVITE needs its
CSeq).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .sip.auth import Credentials
from .sip.dialog import Dialog
from .sip.message import SipRequest, SipResponse
from .sip.registration import authorize, request_copy

if TYPE_CHECKING:
    from .call import Call

ResponseHandler = Callable[[SipRequest, SipResponse], None]


def send_in_dialog(call: Call, request: SipRequest, on_response: ResponseHandler,
                   on_timeout: Callable[[str], None], dialog: Dialog | None = None,
                   *, _sent: dict[str, Credentials] | None = None) -> None:
    """Send ``request``, made by ``dialog`` (the call's), answering a challenge once."""
    dialog = dialog if dialog is not None else call.dialog
    assert dialog is not None
    sent: dict[str, Credentials] = {} if _sent is None else _sent

    def answered(response: SipResponse) -> None:
        digest = call._digest() if response.status in (401, 407) else None
        if digest is not None:
            number = max(dialog.local_cseq or 0, request.cseq.number) + 1
            retry = request_copy(request, number, call.ua.new_branch())
            if authorize(retry, response, digest, sent):
                dialog.local_cseq = number
                send_in_dialog(call, retry, on_response, on_timeout, dialog, _sent=sent)
                return
        on_response(request, response)

    call.ua.send_request(request, call._dialog_target(dialog), answered, on_timeout)


__all__ = ["send_in_dialog"]
