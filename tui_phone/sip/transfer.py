"""Call transfer: REFER, its NOTIFYs and Replaces (RFC 3515, RFC 3891, RFC 3892).

* :func:`build_refer` asks the peer of a dialog to call a target; with a
  :class:`~tui_phone.sip.replaces.Replaces` (attended transfer) the Refer-To
  URI carries it as an escaped URI header (:func:`refer_to_value`).
* :func:`build_refer_notify` reports the progress of the referred call as a
  message/sipfrag NOTIFY (RFC 3515 2.4.4, 2.4.5).
* :func:`find_replaced_dialog` picks the dialog an incoming INVITE with
  Replaces replaces, or raises the status to answer (RFC 3891 3).
"""

from __future__ import annotations

from collections.abc import Iterable

from .dialog import Dialog, DialogRequestError, NewBranch
from .errors import LocalProtocolError
from .message import SipRequest
from .replaces import Replaces
from .requests import AddressLike, as_name_address
from .status import reason_phrase
from .uri import NameAddress, SipUri, Uri

#: The Content-Type of the NOTIFY bodies of a REFER subscription (RFC 3515 2.4.5).
SIPFRAG_CONTENT_TYPE = "message/sipfrag;version=2.0"


def refer_to_value(target: Uri | AddressLike, replaces: Replaces | None = None) -> str:
    """A Refer-To value (RFC 3515 2.1), always as a name-addr.

    With ``replaces`` (attended transfer, RFC 3891 7.1) the value is added to
    the target SIP URI as the ``Replaces`` URI header; the URI layer escapes
    the characters a URI header may not hold (';' '=' '@' as %3B %3D %40).
    """
    address = as_name_address(target)
    if replaces is None:
        text = str(address)
        # An addr-spec is written again from its fields, which encloses it.
        return text if "<" in text else str(address.replace())
    uri = address.uri
    if not isinstance(uri, SipUri):
        raise LocalProtocolError("Replaces can only be embedded in a SIP or SIPS URI")
    if any(name.lower() == "replaces" for name, _ in uri.headers):
        raise LocalProtocolError("the Refer-To URI already has a Replaces header")
    uri = uri.replace(headers=(*uri.headers, ("Replaces", str(replaces))))
    return str(address.replace(uri=uri))


def replaces_of_refer_to(refer_to: str) -> Replaces | None:
    """The Replaces embedded in a Refer-To value, or None (RFC 3891 7.1).

    The transferee copies it into the Replaces header of its INVITE.
    """
    uri = NameAddress.parse(refer_to).uri
    if isinstance(uri, SipUri):
        for name, value in uri.headers:
            if name.lower() == "replaces":
                return Replaces.parse(value)
    return None


def sipfrag(status: int, reason: str) -> bytes:
    """A message/sipfrag body holding only a Status-Line (RFC 3420, RFC 3515 2.4.5)."""
    if not 100 <= status <= 699:
        raise LocalProtocolError(f"invalid status code {status}")
    return f"SIP/2.0 {status} {reason}\r\n".encode()


def build_refer(
    dialog: Dialog,
    new_branch: NewBranch,
    refer_to: Uri | AddressLike,
    *,
    replaces: Replaces | None = None,
    referred_by: Uri | AddressLike | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipRequest:
    """A REFER within ``dialog`` asking the peer to contact ``refer_to`` (RFC 3515 2.4.1).

    ``replaces`` (attended transfer: ``other_dialog.replaces()``) goes into
    the Refer-To URI; ``referred_by`` adds Referred-By (RFC 3892).
    """
    headers = [("Refer-To", refer_to_value(refer_to, replaces))]
    if referred_by is not None:
        headers.append(("Referred-By", str(as_name_address(referred_by))))
    return dialog.create_request("REFER", new_branch, extra_headers=[*headers, *extra_headers])


def build_refer_notify(
    dialog: Dialog,
    new_branch: NewBranch,
    *,
    refer_cseq: int | None,
    status: int,
    reason: str | None = None,
    subscription_state: str | None = None,
    expires: int | None = None,
) -> SipRequest:
    """A NOTIFY reporting the progress of a REFER (RFC 3515 2.4.4, 2.4.5).

    ``Event: refer;id=<refer_cseq>`` (``id`` names the REFER when a dialog
    carries several; just ``refer`` when None) and a message/sipfrag body
    with the Status-Line of the referred request. The subscription is
    ``terminated;reason=noresource`` once ``status`` is final and ``active``
    (with ``expires`` if given) before, unless ``subscription_state`` is given.
    """
    event = "refer" if refer_cseq is None else f"refer;id={refer_cseq}"
    if subscription_state is None:
        if status >= 200:
            subscription_state = "terminated;reason=noresource"
        elif expires is not None:
            subscription_state = f"active;expires={expires}"
        else:
            subscription_state = "active"
    body = sipfrag(status, reason_phrase(status) if reason is None else reason)
    return dialog.create_notify(
        new_branch, event=event, subscription_state=subscription_state,
        body=body, content_type=SIPFRAG_CONTENT_TYPE,
    )


def find_replaced_dialog(replaces: Replaces, dialogs: Iterable[Dialog]) -> Dialog:
    """The dialog an INVITE with ``replaces`` replaces, checked by
    :meth:`Dialog.check_replaces`; 481 when none matches (RFC 3891 3)."""
    for dialog in dialogs:
        if dialog.matches_replaces(replaces):
            dialog.check_replaces(replaces)
            return dialog
    raise DialogRequestError("Replaces matches no dialog", 481)


__all__ = [
    "SIPFRAG_CONTENT_TYPE",
    "build_refer",
    "build_refer_notify",
    "find_replaced_dialog",
    "refer_to_value",
    "replaces_of_refer_to",
    "sipfrag",
]
