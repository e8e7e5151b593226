"""Building requests: out-of-dialog requests, routing, Via, CANCEL.

* :func:`new_request` builds a request outside of a dialog (RFC 3261 8.1.1)
  with the mandatory headers in the usual order.
* :func:`route_request` applies a route set to a target: loose or strict
  routing (RFC 3261 12.2.1.1, 16.12.1.2); dialogs and :func:`new_request` share it.
* :func:`build_cancel` (RFC 3261 9.1) and :func:`build_non2xx_ack` (17.1.1.3)
  copy their fields from the INVITE they belong to.
* :func:`make_via`, :func:`via_template` and :func:`with_branch` write the
  Via of our requests (RFC 3261 8.1.1.7, RFC 3581).

Nothing here picks a random value: branches, tags and Call-IDs are arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .errors import LocalProtocolError
from .headers import Headers, header_key
from .message import SipRequest, SipResponse
from .uri import NameAddress, SipUri, Uri, parse_uri
from .via import MAGIC_COOKIE, Via

#: RFC 3261 8.1.1.6: the initial Max-Forwards.
DEFAULT_MAX_FORWARDS = 70
#: RFC 3261 8.1.1.5: an initial CSeq number must be below 2**31.
MAX_INITIAL_CSEQ = 2**31 - 1
#: RFC 3261 8.1.1.5: a CSeq number fits 32 bits.
MAX_CSEQ = 2**32 - 1

#: Requests that can establish a dialog, so they need a Contact (RFC 3261 8.1.1.8,
#: RFC 6665 4.1.1, RFC 3515 2.4.1).
DIALOG_CREATING_METHODS: frozenset[str] = frozenset({"INVITE", "SUBSCRIBE", "REFER"})

#: URI parameters that may not appear in a Request-URI (RFC 3261 19.1.1 table).
_NOT_IN_REQUEST_URI = ("method",)

# Headers new_request writes itself; extra_headers may not repeat them.
_OWN_HEADERS = frozenset(
    {"via", "max-forwards", "route", "to", "from", "call-id", "cseq", "contact",
     "content-type", "content-length"}
)

_TOKEN_RE = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
# RFC 3261 25.1: callid = word [ "@" word ].
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"{_WORD}(?:@{_WORD})?\Z")

AddressLike = NameAddress | str
ContactLike = NameAddress | SipUri | str


def as_name_address(value: AddressLike | Uri) -> NameAddress:
    """A :class:`NameAddress` from a parsed value, a URI, or header text."""
    if isinstance(value, NameAddress):
        return value
    if isinstance(value, str):
        return NameAddress.parse(value)
    return NameAddress(value)


def request_uri_form(uri: Uri) -> Uri:
    """``uri`` without what a Request-URI may not carry (RFC 3261 19.1.1 table).

    SIP URIs lose their headers and ``method`` parameter; other URIs are
    returned unchanged.
    """
    if not isinstance(uri, SipUri):
        return uri
    params = uri.params
    for name in _NOT_IN_REQUEST_URI:
        params = params.remove(name)
    if not uri.headers and len(params) == len(uri.params):
        return uri
    return uri.replace(params=params, headers=())


def route_request(target: Uri, route_set: Sequence[str]) -> tuple[Uri, list[str]]:
    """The Request-URI and Route values for sending to ``target`` via ``route_set``.

    RFC 3261 12.2.1.1 (and 8.1.1.1 for a preconfigured route set): with an
    empty route set the Request-URI is the target; when the first route has
    ``lr`` the Request-URI is the target and Route is the route set; when it
    does not (a strict router, 16.12.1.2) the Request-URI is the first route's
    URI and Route is the rest of the set followed by the target.
    """
    if not route_set:
        return request_uri_form(target), []
    first = as_name_address(route_set[0]).uri
    if isinstance(first, SipUri) and first.lr:
        return request_uri_form(target), list(route_set)
    return request_uri_form(first), [*route_set[1:], f"<{target}>"]


def _check_branch(branch: str) -> None:
    # RFC 3261 8.1.1.7: the branch starts with the magic cookie and is a token.
    if not branch.startswith(MAGIC_COOKIE) or len(branch) == len(MAGIC_COOKIE):
        raise LocalProtocolError(f"branch {branch!r} must start with {MAGIC_COOKIE!r}")
    if not _TOKEN_RE.match(branch):
        raise LocalProtocolError(f"branch {branch!r} is not a token")


def make_via(
    host: str, port: int | None, transport: str, branch: str, *, rport: bool = False
) -> Via:
    """The Via of a request we send (RFC 3261 8.1.1.7; RFC 3581 3 for ``rport``)."""
    _check_branch(branch)
    params: tuple[tuple[str, str | None], ...] = (("branch", branch),)
    if rport:
        params += (("rport", None),)
    return Via(transport.upper(), host, port, params)


def via_template(via: Via) -> Via:
    """``via`` without what belongs to one transaction or hop: the branch, the
    ``received`` and the ``rport`` value a server filled in (a bare ``rport``
    request stays)."""
    params = tuple(
        (name, None if name.lower() == "rport" else value)
        for name, value in via.params
        if name.lower() not in ("branch", "received")
    )
    return Via(via.transport, via.host, via.port, params, via.protocol)


def with_branch(template: Via, branch: str) -> Via:
    """``template`` (see :func:`via_template`) with ``branch`` as its first parameter."""
    _check_branch(branch)
    base = via_template(template)
    return Via(base.transport, base.host, base.port, (("branch", branch), *base.params), base.protocol)


def contact_text(contact: ContactLike) -> str:
    """A Contact value: a bare SIP URI gets its '<' '>'."""
    if isinstance(contact, SipUri):
        return f"<{contact}>"
    return str(contact)


def new_request(
    method: str,
    request_uri: Uri | str,
    from_addr: AddressLike,
    to_addr: AddressLike,
    call_id: str,
    cseq: int,
    via: Via,
    *,
    contact: ContactLike | None = None,
    route_set: Sequence[str] = (),
    max_forwards: int = DEFAULT_MAX_FORWARDS,
    body: bytes = b"",
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> SipRequest:
    """A request outside of any dialog (RFC 3261 8.1.1).

    ``request_uri`` is the target; a non-empty ``route_set`` (an outbound
    proxy, a Service-Route) is applied by :func:`route_request`. ``via`` comes
    from :func:`make_via`. ``from_addr`` must carry a tag (8.1.1.3) and
    ``to_addr`` must not (8.1.1.2). Headers are written in the order Via,
    Max-Forwards, Route (proxies read these first, 7.3.1), To, From, Call-ID,
    CSeq, Contact, the extra headers, Content-Type, Content-Length.
    """
    target = parse_uri(request_uri) if isinstance(request_uri, str) else request_uri
    sender = as_name_address(from_addr)
    recipient = as_name_address(to_addr)
    if sender.tag is None:
        raise LocalProtocolError("From of a new request needs a tag (RFC 3261 8.1.1.3)")
    if recipient.tag is not None:
        raise LocalProtocolError("To of a request outside a dialog must not have a tag")
    if not 0 <= cseq <= MAX_INITIAL_CSEQ:
        raise LocalProtocolError(f"initial CSeq {cseq} is not in 0..2**31-1")
    if method in DIALOG_CREATING_METHODS and contact is None:
        raise LocalProtocolError(f"{method} needs a Contact (RFC 3261 8.1.1.8)")
    request_uri_value, routes = route_request(target, route_set)
    return assemble_request(
        method, request_uri_value, via, str(sender), str(recipient), call_id, cseq,
        contact=contact, routes=routes, max_forwards=max_forwards, body=body,
        content_type=content_type, extra_headers=extra_headers,
    )


def assemble_request(
    method: str,
    request_uri: Uri,
    via: Via,
    from_value: str,
    to_value: str,
    call_id: str,
    cseq: int,
    *,
    contact: ContactLike | None,
    routes: Sequence[str],
    max_forwards: int,
    body: bytes,
    content_type: str | None,
    extra_headers: Iterable[tuple[str, str]],
) -> SipRequest:
    """A request from its parts, checked, with the headers in the order of
    :func:`new_request`; ``routes`` and ``request_uri`` come from
    :func:`route_request`. Dialogs build their requests with it."""
    if not _TOKEN_RE.match(method):
        raise LocalProtocolError(f"invalid method {method!r}")
    if not _CALL_ID_RE.match(call_id):
        raise LocalProtocolError(f"invalid Call-ID {call_id!r}")
    if not 0 <= cseq <= MAX_CSEQ:
        raise LocalProtocolError(f"CSeq {cseq} does not fit 32 bits")
    if not 0 <= max_forwards <= 255:
        raise LocalProtocolError(f"Max-Forwards {max_forwards} is not in 0..255")
    if isinstance(request_uri, SipUri) and request_uri.headers:
        raise LocalProtocolError("Request-URI must not contain headers")
    if via.branch is None or not via.branch.startswith(MAGIC_COOKIE):
        raise LocalProtocolError(f"Via {via} has no RFC 3261 branch")
    if body and not content_type:
        raise LocalProtocolError("a request with a body needs a Content-Type")
    headers = Headers()
    headers.add("Via", str(via))
    headers.add("Max-Forwards", str(max_forwards))
    if routes:
        headers.add("Route", ", ".join(routes))
    headers.add("To", to_value)
    headers.add("From", from_value)
    headers.add("Call-ID", call_id)
    headers.add("CSeq", f"{cseq} {method}")
    if contact is not None:
        headers.add("Contact", contact_text(contact))
    for name, value in extra_headers:
        if header_key(name) in _OWN_HEADERS:
            raise LocalProtocolError(f"{name} is set by its own argument, not extra_headers")
        headers.add(name, value)
    if content_type:
        headers.add("Content-Type", content_type)
    headers.add("Content-Length", str(len(body)))
    return SipRequest(method, request_uri, headers, body)


def build_cancel(invite: SipRequest, *, max_forwards: int = DEFAULT_MAX_FORWARDS) -> SipRequest:
    """The CANCEL of a pending INVITE (RFC 3261 9.1).

    Request-URI, Call-ID, To, From and the CSeq number are those of the
    INVITE, tags included; the only Via is the INVITE's top Via (so the CANCEL
    matches its transaction at every hop), and the INVITE's Route headers are
    copied.
    """
    if invite.method != "INVITE":
        raise LocalProtocolError(f"only an INVITE can be cancelled, not {invite.method}")
    return _copy_of_invite(invite, "CANCEL", invite.headers.values("to")[0], max_forwards)


def build_non2xx_ack(
    invite: SipRequest, response: SipResponse, *, max_forwards: int = DEFAULT_MAX_FORWARDS
) -> SipRequest:
    """The ACK of a non-2xx final response to ``invite`` (RFC 3261 17.1.1.3).

    Like :func:`build_cancel`, but To is the response's To (with its tag).
    The ACK of a 2xx is a new transaction built by the dialog instead
    (:meth:`Dialog.create_ack`).
    """
    if invite.method != "INVITE":
        raise LocalProtocolError(f"only an INVITE is acknowledged, not {invite.method}")
    if response.status < 300:
        raise LocalProtocolError(f"a {response.status} response is not acknowledged here")
    return _copy_of_invite(invite, "ACK", response.headers.values("to")[0], max_forwards)


def _copy_of_invite(invite: SipRequest, method: str, to_value: str, max_forwards: int) -> SipRequest:
    headers = Headers()
    top_via = invite.headers.get("via")
    if top_via is None:
        raise LocalProtocolError("the INVITE has no Via")
    headers.add("Via", top_via)
    headers.add("Max-Forwards", str(max_forwards))
    for value in invite.headers.values("route"):
        headers.add("Route", value)
    headers.add("To", to_value)
    headers.add("From", invite.headers.values("from")[0])
    headers.add("Call-ID", invite.headers.values("call-id")[0])
    headers.add("CSeq", f"{invite.cseq.number} {method}")
    headers.add("Content-Length", "0")
    return SipRequest(method, invite.uri, headers)


__all__ = [
    "DEFAULT_MAX_FORWARDS",
    "DIALOG_CREATING_METHODS",
    "MAX_CSEQ",
    "MAX_INITIAL_CSEQ",
    "as_name_address",
    "assemble_request",
    "build_cancel",
    "build_non2xx_ack",
    "contact_text",
    "make_via",
    "new_request",
    "request_uri_form",
    "route_request",
    "via_template",
    "with_branch",
]
