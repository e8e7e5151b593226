"""Responses made from the request they answer (RFC 3261 8.2.6.2).

``build_response(request, status)`` makes a :class:`~.message.SipResponse`
whose Via, From, To (with our tag), Call-ID, CSeq and, for a dialog-creating
response, Record-Route are copied from the request. ``response_bytes`` writes
the bytes of that same response as text in one go, for a response that has to
leave at once (an INVITE answered at once) and is parsed back afterwards;
``response_from_copied`` is its tail, shared with
:mod:`~tui_phone.sip.plaininvite`.

:mod:`~tui_phone.sip.message` re-exports the three, where most callers import
them from.
"""

from __future__ import annotations

import functools

from .headers import Headers, header_spelling
from .message import SIP_VERSION, SipRequest, SipResponse
from .status import reason_phrase


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """A response to ``request`` per RFC 3261 8.2.6.2.

    Via, From, Call-ID and CSeq are copied; To is copied and gets ``to_tag``
    when it has none (not for 100 Trying); Record-Route is copied into
    responses that can establish a dialog (12.1.1).
    """
    headers = Headers()
    for value in request.headers.values("via"):
        headers.add("Via", value)
    headers.add("From", request.headers.values("from")[0])
    to_value = request.headers.values("to")[0]
    if to_tag is not None and status != 100 and request.to_addr.tag is None:
        to_value = f"{to_value};tag={to_tag}"
    headers.add("To", to_value)
    headers.add("Call-ID", request.headers.values("call-id")[0])
    headers.add("CSeq", request.headers.values("cseq")[0])
    if 100 < status < 300:
        for value in request.headers.values("record-route"):
            headers.add("Record-Route", value)
    response = SipResponse(status, reason, headers)
    # Content-Length always: RFC 3261 18.3 requires it on stream transports.
    response.set_body(body, content_type)
    return response


def response_bytes(
    request: SipRequest,
    status: int,
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """The bytes of :func:`build_response` with ``extra`` fields added after it.

    Exactly ``bytes(response)`` for the response that :func:`build_response`
    returns once each ``(name, value)`` of ``extra`` went through
    ``response.headers.add``: the same fields in the same order, spelled
    the same way. Made as text in one go, for a response that has to leave
    at once (an INVITE answered at once) and is parsed back afterwards.
    """
    headers = request.headers
    fields = headers._load()
    index = headers._get_index()  # the same values as headers.values(), by position
    to_value = fields[index["to"][0]][2]
    if to_tag is not None and status != 100 and request.to_addr.tag is None:
        to_value = f"{to_value};tag={to_tag}"
    vias = "".join([f"Via: {fields[i][2]}\r\n" for i in index["via"]])
    copied = (f"{vias}From: {fields[index['from'][0]][2]}\r\nTo: {to_value}\r\n"
              f"Call-ID: {fields[index['call-id'][0]][2]}\r\nCSeq: {fields[index['cseq'][0]][2]}\r\n")
    if 100 < status < 300 and "record-route" in index:
        copied += "".join([f"Record-Route: {fields[i][2]}\r\n" for i in index["record-route"]])
    return response_from_copied(status, copied, body=body, content_type=content_type, extra=extra)


def response_from_copied(
    status: int,
    copied: str,
    *,
    body: bytes = b"",
    content_type: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """The bytes of a response whose fields copied from its request (RFC 3261
    8.2.6.2: Via, From, To, Call-ID, CSeq, Record-Route) are the lines ``copied``:
    the status line before them, Content-Type, Content-Length and ``extra`` after
    them, as :func:`response_bytes` writes them."""
    text = f"{SIP_VERSION} {status} {reason_phrase(status)}\r\n{copied}"
    if content_type is not None:
        text += f"Content-Type: {content_type}\r\n"
    text += f"Content-Length: {len(body)}\r\n{_field_lines(extra)}\r\n"
    return text.encode("utf-8", "surrogateescape") + body


@functools.lru_cache(maxsize=64)
def _field_lines(fields: tuple[tuple[str, str], ...]) -> str:
    """``Name: value`` lines as Headers.add spells them (the same few, answer after answer)."""
    return "".join(f"{header_spelling(name)}: {value}\r\n" for name, value in fields)


__all__ = ["build_response", "response_bytes", "response_from_copied"]
