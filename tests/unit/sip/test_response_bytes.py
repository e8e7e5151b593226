"""response_bytes: the bytes of build_response plus extra fields, made in one go,
for every shape of request the general path copies from (RFC 3261 8.2.6.2)."""

from __future__ import annotations

import pytest

from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.sip.responses import build_response, response_bytes

SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
PLAIN = (b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
         b"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1\r\n"
         b"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
         b"Call-ID: c1@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5099>\r\n"
         b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
MANY_VIAS = (b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
             b"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-2;rport=5099;received=127.0.0.1\r\n"
             b"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-p1, SIP/2.0/TCP 10.0.0.2:5070;branch=z9hG4bK-p2\r\n"
             b"Record-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.2;lr>\r\n"
             b"Record-Route: <sip:10.0.0.3;lr>\r\n"
             b"From: \"Alice A\" <sip:alice@127.0.0.1>;tag=a2\r\n"
             b"To: Bob <sip:bob@127.0.0.1>\r\nCall-ID: c2@test\r\nCSeq: 7 INVITE\r\n"
             b"Contact: <sip:alice@127.0.0.1:5099>\r\nContent-Length: 0\r\n\r\n")
COMPACT = (b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
           b"v: SIP/2.0/UDP 127.0.0.1:5099;rport;branch=z9hG4bK-3\r\n"
           b"f: sip:alice@127.0.0.1;tag=a3\r\nt: sip:bob@127.0.0.1\r\n"
           b"i: c3@test\r\nCSeq:   1   INVITE\r\nm: <sip:alice@127.0.0.1:5099>\r\n"
           b"c: application/sdp\r\nl: 0\r\n\r\n")
FOLDED = (b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"
          b"Via: SIP/2.0/UDP 127.0.0.1:5099\r\n ;branch=z9hG4bK-4\r\n"
          b"From: <sip:alice@127.0.0.1>;tag=a4\r\nTo: <sip:bob@127.0.0.1>;tag=already\r\n"
          b"Call-ID: c4@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5099>\r\n"
          b"Content-Length: 0\r\n\r\n")
EXTRA = (("Contact", "<sip:bob@127.0.0.1:5060>"), ("Allow", "INVITE, ACK, BYE"),
         ("supported", "replaces"), ("Server", "tui-phone"))


def general(request: SipRequest, status: int, **options: object) -> bytes:
    extra = options.pop("extra", ())
    response = build_response(request, status, **options)  # type: ignore[arg-type]
    for name, value in extra:  # type: ignore[attr-defined]
        response.headers.add(name, value)
    return bytes(response)


@pytest.mark.parametrize("data", [PLAIN, MANY_VIAS, COMPACT, FOLDED],
                         ids=["plain", "many-vias", "compact", "folded"])
@pytest.mark.parametrize("status", [100, 180, 200, 486])
def test_the_bytes_are_those_of_build_response(data: bytes, status: int) -> None:
    request = parse_message(data, validate=True)
    assert isinstance(request, SipRequest)
    for options in ({}, {"to_tag": "t1"},
                    {"to_tag": "t2", "body": SDP, "content_type": "application/sdp", "extra": EXTRA},
                    {"body": SDP, "extra": EXTRA[:1]}):
        fast = response_bytes(request, status, **options)  # type: ignore[arg-type]
        assert fast == general(request, status, **options)
        assert bytes(parse_message(fast)) == fast


def test_two_hundred_to_invite_copies_what_rfc_3261_names() -> None:
    request = parse_message(MANY_VIAS, validate=True)
    assert isinstance(request, SipRequest)
    response = parse_message(response_bytes(request, 200, to_tag="xyz", body=SDP,
                                            content_type="application/sdp", extra=EXTRA))
    assert response.headers.values("via") == request.headers.values("via")
    assert response.headers.get_all("record-route") == request.headers.get_all("record-route")
    assert response.from_addr == request.from_addr and response.call_id == request.call_id
    assert response.cseq == request.cseq and response.to_addr.tag == "xyz"
    assert response.body == SDP and response.headers.get("content-length") == str(len(SDP))
