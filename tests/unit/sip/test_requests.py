"""Out-of-dialog requests, routing, Via, CANCEL and the non-2xx ACK (RFC 3261 8.1.1, 9.1, 12.2.1.1, 17.1.1.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.sip.requests import (
    build_cancel,
    build_non2xx_ack,
    make_via,
    new_request,
    request_uri_form,
    route_request,
    via_template,
    with_branch,
)
from tui_phone.sip.responses import build_response
from tui_phone.sip.uri import parse_uri
from tui_phone.sip.via import Via

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"
CALL_ID = "3848276298220188511@atlanta.example.com"
ALICE = "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl"
BOB = "Bob <sip:bob@biloxi.example.com>"
ALICE_CONTACT = "<sip:alice@client.atlanta.example.com;transport=tcp>"
SDP = (
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    b"s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def invite(**changes: object) -> SipRequest:
    args: dict[str, object] = {
        "contact": ALICE_CONTACT, "body": SDP, "content_type": "application/sdp",
    }
    args.update(changes)
    return new_request(
        "INVITE", "sip:bob@biloxi.example.com", ALICE, BOB, CALL_ID, 1,
        make_via("client.atlanta.example.com", 5060, "tcp", "z9hG4bK74bf9"),
        **args,  # type: ignore[arg-type]
    )


def test_new_invite_is_rfc3665_f1() -> None:
    expected = (
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n"
        "Max-Forwards: 70\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
        f"Call-ID: {CALL_ID}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: 151\r\n"
        "\r\n"
    ).encode() + SDP
    request = invite()
    assert bytes(request) == expected
    assert bytes(parse_message(expected)) == expected


def test_header_order_with_route_and_extra_headers() -> None:
    request = invite(
        route_set=["<sip:ss1.atlanta.example.com;lr>"],
        extra_headers=[("Allow", "INVITE, ACK, CANCEL, BYE"), ("Supported", "replaces")],
        max_forwards=10,
    )
    assert [name for name, _ in request.headers] == [
        "Via", "Max-Forwards", "Route", "To", "From", "Call-ID", "CSeq", "Contact",
        "Allow", "Supported", "Content-Type", "Content-Length",
    ]
    assert request.headers.get("Max-Forwards") == "10"


def test_rport_flag_on_the_via() -> None:
    via = make_via("192.0.2.4", 5060, "udp", "z9hG4bKabc", rport=True)
    assert str(via) == "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKabc;rport"
    request = new_request(
        "OPTIONS", "sip:bob@biloxi.example.com", ALICE, BOB, CALL_ID, 7, via
    )
    assert request.headers.get("Via") == "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKabc;rport"
    assert "Contact" not in request.headers
    assert request.headers.get("Content-Length") == "0"


def test_outbound_proxy_loose_route() -> None:
    request = invite(route_set=["<sip:ss1.atlanta.example.com;lr>"])
    assert str(request.uri) == "sip:bob@biloxi.example.com"
    assert request.headers.get("Route") == "<sip:ss1.atlanta.example.com;lr>"


def test_outbound_proxy_strict_route() -> None:
    request = invite(route_set=["<sip:ss1.atlanta.example.com>"])
    assert str(request.uri) == "sip:ss1.atlanta.example.com"
    assert request.headers.get_all("Route") == ["<sip:bob@biloxi.example.com>"]


@pytest.mark.parametrize(
    ("route_set", "uri", "routes"),
    [
        ([], "sip:bob@client.biloxi.example.com;transport=tcp", []),
        (
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com>"],
            "sip:bob@client.biloxi.example.com;transport=tcp",
            ["<sip:p1.example.com;lr>", "<sip:p2.example.com>"],
        ),
        (
            ["<sip:p1.example.com>", "<sip:p2.example.com;lr>"],
            "sip:p1.example.com",
            ["<sip:p2.example.com;lr>", "<sip:bob@client.biloxi.example.com;transport=tcp>"],
        ),
        (
            ["<sip:p1.example.com;transport=udp;method=BYE?Subject=x>"],
            "sip:p1.example.com;transport=udp",
            ["<sip:bob@client.biloxi.example.com;transport=tcp>"],
        ),
    ],
)
def test_route_request(route_set: list[str], uri: str, routes: list[str]) -> None:
    target = parse_uri("sip:bob@client.biloxi.example.com;transport=tcp")
    got_uri, got_routes = route_request(target, route_set)
    assert (str(got_uri), got_routes) == (uri, routes)


def test_request_uri_form_strips_method_and_headers() -> None:
    uri = parse_uri("sip:bob@example.com;method=REFER;maddr=192.0.2.1?Subject=hi")
    assert str(request_uri_form(uri)) == "sip:bob@example.com;maddr=192.0.2.1"
    plain = parse_uri("sip:bob@example.com;lr")
    assert request_uri_form(plain) is plain
    tel = parse_uri("tel:+15551234567")
    assert request_uri_form(tel) is tel


def test_via_template_and_with_branch() -> None:
    sent = Via.parse("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKold;received=203.0.113.1;rport=6000")
    template = via_template(sent)
    assert str(template) == "SIP/2.0/UDP 192.0.2.4:5060;rport"
    assert str(with_branch(template, "z9hG4bKnew")) == "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnew;rport"
    assert str(with_branch(Via("TCP", "h.example.com"), "z9hG4bK1")) == "SIP/2.0/TCP h.example.com;branch=z9hG4bK1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contact": None}, "INVITE needs a Contact (RFC 3261 8.1.1.8)"),
        ({"content_type": None}, "a request with a body needs a Content-Type"),
        ({"extra_headers": [("Call-ID", "x")]}, "Call-ID is set by its own argument, not extra_headers"),
        ({"extra_headers": [("m", "<sip:x@y>")]}, "m is set by its own argument, not extra_headers"),
        ({"max_forwards": 256}, "Max-Forwards 256 is not in 0..255"),
    ],
)
def test_new_request_refuses_misuse(changes: dict[str, object], message: str) -> None:
    with pytest.raises(LocalProtocolError) as info:
        invite(**changes)
    assert str(info.value) == message


def test_new_request_checks_tags_cseq_and_call_id() -> None:
    via = make_via("h.example.com", None, "UDP", "z9hG4bK1")
    with pytest.raises(LocalProtocolError, match=r"^From of a new request needs a tag"):
        new_request("OPTIONS", "sip:b@h", "<sip:a@h>", "<sip:b@h>", "c1", 1, via)
    with pytest.raises(LocalProtocolError, match="^To of a request outside a dialog must not have a tag$"):
        new_request("OPTIONS", "sip:b@h", "<sip:a@h>;tag=1", "<sip:b@h>;tag=2", "c1", 1, via)
    with pytest.raises(LocalProtocolError, match=r"^initial CSeq 2147483648 is not in 0..2\*\*31-1$"):
        new_request("OPTIONS", "sip:b@h", "<sip:a@h>;tag=1", "<sip:b@h>", "c1", 2**31, via)
    with pytest.raises(LocalProtocolError, match="^invalid Call-ID 'a b'$"):
        new_request("OPTIONS", "sip:b@h", "<sip:a@h>;tag=1", "<sip:b@h>", "a b", 1, via)


def test_make_via_needs_an_rfc3261_branch() -> None:
    with pytest.raises(LocalProtocolError, match="^branch '1234' must start with 'z9hG4bK'$"):
        make_via("h", 5060, "UDP", "1234")
    with pytest.raises(LocalProtocolError, match="^branch 'z9hG4bK' must start with 'z9hG4bK'$"):
        make_via("h", 5060, "UDP", "z9hG4bK")
    with pytest.raises(LocalProtocolError, match="^branch 'z9hG4bK a' is not a token$"):
        make_via("h", 5060, "UDP", "z9hG4bK a")


# ---------------------------------------------------------------- CANCEL and ACK


def test_cancel_copies_the_invite_per_9_1() -> None:
    request = parse_message(load("f4_invite_alice_to_proxy1.sip"))
    assert isinstance(request, SipRequest)
    cancel = build_cancel(request)
    assert bytes(cancel) == load("cancel_alice_to_proxy1.sip")
    assert "Proxy-Authorization" not in cancel.headers
    assert "Contact" not in cancel.headers


def test_cancel_keeps_the_routes_and_only_the_top_via() -> None:
    request = invite(route_set=["<sip:ss1.atlanta.example.com;lr>", "<sip:ss2.biloxi.example.com;lr>"])
    request.headers.add("Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower")
    received = parse_message(bytes(request))
    assert isinstance(received, SipRequest)
    cancel = parse_message(bytes(build_cancel(received)))
    assert isinstance(cancel, SipRequest)
    assert cancel.method == "CANCEL"
    assert cancel.uri == received.uri
    assert [str(v) for v in cancel.vias] == [
        "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
    ]
    assert cancel.headers.get_all("Route") == [
        "<sip:ss1.atlanta.example.com;lr>", "<sip:ss2.biloxi.example.com;lr>",
    ]
    assert str(cancel.cseq) == "1 CANCEL"
    for name in ("To", "From", "Call-ID"):
        assert cancel.headers.get(name) == received.headers.get(name)


def test_only_an_invite_is_cancelled() -> None:
    options = new_request(
        "OPTIONS", "sip:b@h", "<sip:a@h>;tag=1", "<sip:b@h>", "c1", 1,
        make_via("h", None, "UDP", "z9hG4bK1"),
    )
    with pytest.raises(LocalProtocolError, match="^only an INVITE can be cancelled, not OPTIONS$"):
        build_cancel(options)


def test_non2xx_ack_takes_the_to_tag_of_the_response() -> None:
    request = invite()
    busy = build_response(request, 486, to_tag="8321234356")
    ack = build_non2xx_ack(request, busy)
    assert bytes(ack).decode().split("\r\n") == [
        "ACK sip:bob@biloxi.example.com SIP/2.0",
        "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356",
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl",
        f"Call-ID: {CALL_ID}",
        "CSeq: 1 ACK",
        "Content-Length: 0",
        "",
        "",
    ]
    with pytest.raises(LocalProtocolError, match="^a 200 response is not acknowledged here$"):
        build_non2xx_ack(request, build_response(request, 200, to_tag="x"))
