"""Routing decisions (tui_phone.sip.routing): Via stamping, RFC 3261 18.2.2, targets, 400s."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tui_phone.sip import (
    SipParseError,
    SipRequest,
    SipResponse,
    build_response,
    parse_message,
)
from tui_phone.sip.routing import (
    RoutingError,
    Source,
    Target,
    bare_host,
    default_port,
    error_response_for,
    format_host_port,
    ip_address,
    is_ipv6,
    named_transport,
    normalize_host,
    resolve_target,
    response_target,
    source_target,
    stamp_via,
    top_via,
)
from tui_phone.sip.uri import SipUri
from tui_phone.sip.via import Via

RFC4475 = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc4475"


def request(via: str, *, extra_via: str | None = None, compact: bool = False) -> SipRequest:
    name = "v" if compact else "Via"
    lines = [
        "OPTIONS sip:bob@192.0.2.4 SIP/2.0",
        f"{name}: {via}",
        *([f"Via: {extra_via}"] if extra_via else []),
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=a1",
        "To: <sip:bob@example.com>",
        "Call-ID: routing-1",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, SipRequest)
    return message


UDP_SOURCE = Source("UDP", ("192.0.2.1", 5070), ("192.0.2.4", 5060))
TCP_SOURCE = Source("TCP", ("192.0.2.1", 49152), ("192.0.2.4", 5060), connection=7)


# -- stamp_via: RFC 3261 18.2.1, RFC 3581 4 --------------------------------------------


def test_same_address_no_rport_leaves_the_request_untouched() -> None:
    message = request("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1")
    raw = bytes(message)
    assert stamp_via(message, "192.0.2.1", 5070) is message
    assert bytes(message) == raw
    assert message.headers.pristine


def test_different_address_gets_received() -> None:
    message = stamp_via(request("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1"), "198.51.100.9", 5070)
    assert message.headers.get("Via") == (
        "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1;received=198.51.100.9"
    )
    assert message.via.received == "198.51.100.9"
    assert message.via.rport is None


def test_host_name_sent_by_always_gets_received() -> None:
    message = stamp_via(request("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1"), "192.0.2.1", 5060)
    assert message.via.received == "192.0.2.1"


def test_empty_rport_is_filled_and_received_added_even_when_equal() -> None:
    # RFC 3581 4: received is added with rport "even if it is identical to sent-by".
    message = stamp_via(request("SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK1"), "192.0.2.1", 61000)
    assert message.headers.get("Via") == (
        "SIP/2.0/UDP 192.0.2.1:5070;rport=61000;branch=z9hG4bK1;received=192.0.2.1"
    )
    assert message.via.rport == 61000


def test_rfc3581_section6_example() -> None:
    # The NAT example of RFC 3581 6: source 192.0.2.1:9988.
    message = stamp_via(request("SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff"),
                        "192.0.2.1", 9988)
    assert message.via.received == "192.0.2.1"
    assert message.via.rport == 9988


def test_rport_with_a_value_is_left_alone() -> None:
    message = stamp_via(request("SIP/2.0/UDP 192.0.2.1:5070;rport=5070;branch=z9hG4bK1"),
                        "198.51.100.9", 40000)
    assert message.via.rport == 5070
    assert message.via.received == "198.51.100.9"


def test_existing_received_is_replaced() -> None:
    message = stamp_via(
        request("SIP/2.0/UDP host.example.com;received=203.0.113.1;rport;branch=z9hG4bK1"),
        "192.0.2.1", 5060,
    )
    assert message.via.received == "192.0.2.1"
    assert message.headers.get("Via").count("received=") == 1


def test_only_the_top_via_is_stamped_and_order_is_kept() -> None:
    message = request(
        "SIP/2.0/UDP host.example.com;rport;branch=z9hG4bK1, SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0",
        extra_via="SIP/2.0/UDP uac.example.com;branch=z9hG4bKa",
    )
    stamp_via(message, "192.0.2.1", 5062)
    assert [str(v) for v in message.vias] == [
        "SIP/2.0/UDP host.example.com;rport=5062;branch=z9hG4bK1;received=192.0.2.1",
        "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0",
        "SIP/2.0/UDP uac.example.com;branch=z9hG4bKa",
    ]


def test_compact_via_is_stamped() -> None:
    message = stamp_via(request("SIP/2.0/UDP host.example.com;branch=z9hG4bK1", compact=True),
                        "192.0.2.1", 5060)
    assert message.via.received == "192.0.2.1"
    assert len(message.vias) == 1


def test_stamped_request_reparses_and_responses_copy_the_stamp() -> None:
    message = stamp_via(request("SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK1"),
                        "192.0.2.1", 49152)
    again = parse_message(bytes(message))
    assert again.via.received == "192.0.2.1" and again.via.rport == 49152
    response = build_response(message, 200, to_tag="t")
    assert response.via.received == "192.0.2.1" and response.via.rport == 49152


def test_ipv6_same_address_in_brackets() -> None:
    message = request("SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bK1")
    stamp_via(message, "2001:db8:0:0:0:0:9:1", 5060)
    assert message.via.received is None


def test_ipv6_rport_writes_a_bare_received() -> None:
    # RFC 3261 25.1 via-received = IPv6address (no brackets); RFC 5118 4.5.
    message = stamp_via(request("SIP/2.0/UDP [::1]:5060;rport;branch=z9hG4bK1"), "::1", 50000)
    assert message.headers.get("Via") == "SIP/2.0/UDP [::1]:5060;rport=50000;branch=z9hG4bK1;received=::1"
    assert parse_message(bytes(message)).via.received == "::1"


def test_ipv6_different_address() -> None:
    message = stamp_via(request("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1"), "2001:DB8::9:255", 5060)
    assert message.via.received == "2001:db8::9:255"


def test_ipv4_mapped_source_matches_the_ipv4_sent_by() -> None:
    message = request("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1")
    stamp_via(message, "::ffff:192.0.2.1", 5060)
    assert message.via.received is None
    stamp_via(message, "::ffff:192.0.2.2", 5060)
    assert message.via.received == "192.0.2.2"


# -- response_target: RFC 3261 18.2.2, RFC 3581 4 ----------------------------------------


def via(text: str) -> Via:
    return Via.parse(text)


def test_reliable_uses_the_request_connection() -> None:
    target = response_target(via("SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1"), TCP_SOURCE)
    assert target == Target("TCP", "192.0.2.1", 5070, 7)


def test_reliable_fallback_is_received_with_sent_by_port() -> None:
    # 18.2.2: "open a connection to the IP address in the received parameter ...
    # using the port in the sent-by value"; rport does not apply to TCP.
    target = response_target(
        via("SIP/2.0/TCP pc33.example.com:5070;received=192.0.2.1;rport=49152;branch=z9hG4bK1"),
        TCP_SOURCE,
    )
    assert target == Target("TCP", "192.0.2.1", 5070, 7)


def test_reliable_default_ports() -> None:
    assert response_target(via("SIP/2.0/TCP pc33.example.com;branch=z9hG4bK1")) == Target(
        "TCP", "pc33.example.com", 5060)
    assert response_target(via("SIP/2.0/TLS pc33.example.com;branch=z9hG4bK1")) == Target(
        "TLS", "pc33.example.com", 5061)


def test_reliable_without_a_matching_source_has_no_connection() -> None:
    target = response_target(via("SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK1"), TCP_SOURCE)
    assert target.connection is None


def test_udp_maddr_wins() -> None:
    target = response_target(
        via("SIP/2.0/UDP 192.0.2.1:5070;maddr=239.255.255.1;ttl=1;received=192.0.2.9;rport=1234;"
            "branch=z9hG4bK1"),
        UDP_SOURCE,
    )
    assert target == Target("UDP", "239.255.255.1", 5070, None, ("192.0.2.4", 5060))


def test_udp_maddr_without_port_uses_5060() -> None:
    assert response_target(via("SIP/2.0/UDP host.example.com;maddr=192.0.2.7;branch=z9hG4bK1"))[:3] == (
        "UDP", "192.0.2.7", 5060)


def test_udp_received_and_rport() -> None:
    target = response_target(
        via("SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bK1"), UDP_SOURCE)
    assert target == Target("UDP", "192.0.2.1", 9988, None, ("192.0.2.4", 5060))


def test_udp_received_only_uses_sent_by_port_or_5060() -> None:
    assert response_target(via("SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;branch=z9hG4bK1"))[:3] == (
        "UDP", "192.0.2.1", 4540)
    assert response_target(via("SIP/2.0/UDP host.example.com;received=192.0.2.1;branch=z9hG4bK1"))[:3] == (
        "UDP", "192.0.2.1", 5060)


def test_udp_rport_without_received_is_ignored() -> None:
    # RFC 3581 4 applies rport only together with received.
    assert response_target(via("SIP/2.0/UDP 192.0.2.1:5070;rport=9988;branch=z9hG4bK1"))[:3] == (
        "UDP", "192.0.2.1", 5070)


def test_udp_sent_by() -> None:
    assert response_target(via("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1")) == Target(
        "UDP", "192.0.2.1", 5070)
    assert response_target(via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1")) == Target("UDP", "192.0.2.1", 5060)


def test_udp_ipv6_hosts_lose_their_brackets() -> None:
    assert response_target(via("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bK1"))[:3] == (
        "UDP", "2001:db8::9:1", 6050)
    for received in ("[2001:db8::9:255]", "2001:db8::9:255"):  # RFC 5118 4.5: both forms
        target = response_target(
            via(f"SIP/2.0/UDP [2001:db8::9:1];received={received};rport=7000;branch=z9hG4bK1"))
        assert target[:3] == ("UDP", "2001:db8::9:255", 7000)


def test_unsupported_transport_is_an_error() -> None:
    with pytest.raises(RoutingError, match=r"^unsupported transport 'SCTP' in Via$"):
        response_target(via("SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1"))


def test_source_target_goes_straight_back() -> None:
    assert source_target(UDP_SOURCE) == Target("UDP", "192.0.2.1", 5070, None, ("192.0.2.4", 5060))
    assert source_target(TCP_SOURCE) == Target("TCP", "192.0.2.1", 49152, 7, None)
    assert TCP_SOURCE.reliable and not UDP_SOURCE.reliable


# -- resolve_target: RFC 3263 4 without DNS ---------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:bob@192.0.2.4", ("UDP", "192.0.2.4", 5060)),
        ("sip:bob@192.0.2.4:5070", ("UDP", "192.0.2.4", 5070)),
        ("sip:bob@example.com;transport=tcp", ("TCP", "example.com", 5060)),
        ("sip:bob@example.com;transport=TCP", ("TCP", "example.com", 5060)),
        ("sip:bob@example.com;transport=tls", ("TLS", "example.com", 5061)),
        ("sip:bob@example.com;transport=udp", ("UDP", "example.com", 5060)),
        ("sips:bob@example.com", ("TLS", "example.com", 5061)),
        ("sips:bob@example.com:5071", ("TLS", "example.com", 5071)),
        ("sips:bob@example.com;transport=tcp", ("TLS", "example.com", 5061)),
        ("sip:bob@example.com;maddr=192.0.2.9", ("UDP", "192.0.2.9", 5060)),
        ("sip:bob@example.com:5080;maddr=192.0.2.9;transport=tcp", ("TCP", "192.0.2.9", 5080)),
        ("sip:bob@[::1]:5070", ("UDP", "::1", 5070)),
        ("sips:[2001:db8::10]", ("TLS", "2001:db8::10", 5061)),
        ("sip:localhost;transport=tcp", ("TCP", "localhost", 5060)),
    ],
)
def test_resolve_target(uri: str, expected: tuple[str, str, int]) -> None:
    assert resolve_target(SipUri.parse(uri)) == Target(*expected)


@pytest.mark.parametrize(("uri", "expected"), [
    ("sip:bob@example.com", None),
    ("sip:bob@example.com:5070", None),
    ("sip:bob@example.com;transport=TCP", "TCP"),
    ("sip:bob@example.com;transport=udp", "UDP"),
    ("sips:bob@example.com", "TLS"),
    ("sips:bob@example.com;transport=tcp", "TLS"),
])
def test_named_transport(uri: str, expected: str | None) -> None:
    assert named_transport(SipUri.parse(uri)) == expected


def test_named_transport_errors() -> None:
    with pytest.raises(RoutingError, match=r"^unsupported transport 'sctp'"):
        named_transport(SipUri.parse("sip:bob@example.com;transport=sctp"))


def test_resolve_target_errors() -> None:
    with pytest.raises(RoutingError, match=r"^a SIPS URI cannot use transport=udp \(RFC 3261 26\.2\.2\)$"):
        resolve_target(SipUri.parse("sips:bob@example.com;transport=udp"))
    with pytest.raises(RoutingError, match=r"^unsupported transport 'sctp' in sip:bob@example.com;transport=sctp$"):
        resolve_target(SipUri.parse("sip:bob@example.com;transport=sctp"))


# -- address helpers ---------------------------------------------------------------------


def test_address_helpers() -> None:
    assert default_port("udp") == 5060 and default_port("TCP") == 5060 and default_port("tls") == 5061
    assert bare_host("[::1]") == "::1" and bare_host("example.com") == "example.com"
    assert normalize_host("[2001:DB8:0::1]") == "2001:db8::1"
    assert normalize_host("Example.COM") == "example.com"
    assert normalize_host("::ffff:192.0.2.1") == "192.0.2.1"
    assert format_host_port("::1", 5060) == "[::1]:5060"
    assert format_host_port("[::1]", 5060) == "[::1]:5060"
    assert format_host_port("192.0.2.1", 5060) == "192.0.2.1:5060"
    assert format_host_port("example.com") == "example.com"
    assert is_ipv6("[::1]") and is_ipv6("::1") and not is_ipv6("127.0.0.1") and not is_ipv6("localhost")
    assert ip_address("localhost") is None
    assert str(ip_address("127.0.0.1")) == "127.0.0.1"


# -- error_response_for: RFC 4475 invalid messages -------------------------------------------


def _load(name: str) -> bytes:
    path = RFC4475 / f"{name}.sip"
    if not path.exists():
        pytest.fail(f"torture test data missing: {path} (it lives in ../shared/testdata)")
    return path.read_bytes()


def _expected_verdicts() -> dict[str, str]:
    with open(RFC4475 / "EXPECTED.tsv", newline="") as handle:
        return {row["name"]: row["verdict"] for row in csv.DictReader(handle, delimiter="\t")}


# name -> the status line of the stateless answer, or None when it must be dropped.
ERROR_RESPONSES: dict[str, str | None] = {
    "badinv01": "SIP/2.0 400 Bad Request",
    "clerr": "SIP/2.0 400 Bad Request",
    "ncl": "SIP/2.0 400 Bad Request",
    "scalar02": "SIP/2.0 400 Bad Request",
    "quotbal": "SIP/2.0 400 Bad Request",
    "ltgtruri": "SIP/2.0 400 Bad Request",
    "lwsruri": "SIP/2.0 400 Bad Request",
    "lwsstart": "SIP/2.0 400 Bad Request",
    "trws": "SIP/2.0 400 Bad Request",
    "escruri": "SIP/2.0 400 Bad Request",
    "baddate": "SIP/2.0 400 Bad Request",
    "regbadct": "SIP/2.0 400 Bad Request",
    "badaspec": "SIP/2.0 400 Bad Request",
    "baddn": "SIP/2.0 400 Bad Request",
    "badvers": "SIP/2.0 505 Version Not Supported",
    "mismatch01": "SIP/2.0 400 Bad Request",
    "mismatch02": "SIP/2.0 501 Not Implemented",
    "multi01": "SIP/2.0 400 Bad Request",
    "mcl01": "SIP/2.0 400 Bad Request",
    # Responses are never answered (RFC 4475 3.1.2.5, 3.1.2.19).
    "scalarlg": None,
    "bigcode": None,
    # No Call-ID, From, To: nothing to build a response from.
    "insuf": None,
    # No Via: nowhere to send a response.
    "test": None,
}


def test_every_invalid_rfc4475_message_is_covered() -> None:
    invalid = {name for name, verdict in _expected_verdicts().items() if verdict == "invalid"}
    assert invalid == set(ERROR_RESPONSES)


@pytest.mark.parametrize("name", sorted(ERROR_RESPONSES))
def test_error_response_for_rfc4475(name: str) -> None:
    data = _load(name)
    with pytest.raises(SipParseError) as caught:
        parse_message(data, validate=True)
    answer = error_response_for(data, caught.value)
    expected = ERROR_RESPONSES[name]
    if expected is None:
        assert answer is None
        return
    assert answer is not None
    lines = answer.decode("utf-8", "surrogateescape").split("\r\n")
    assert lines[0] == expected
    assert answer.endswith(b"\r\nContent-Length: 0\r\n\r\n")
    names = [line.split(":", 1)[0] for line in lines[1:] if line]
    assert names[-5:] == ["From", "To", "Call-ID", "CSeq", "Content-Length"]
    assert set(names[:-5]) == {"Via"}
    # Deterministic: a retransmission gets the same response (same To tag).
    assert error_response_for(data, caught.value) == answer


def test_error_response_copies_headers_and_adds_a_to_tag() -> None:
    data = _load("ncl")
    answer = error_response_for(data, SipParseError("invalid Content-Length '-999'"))
    assert answer is not None
    response = parse_message(answer)
    assert isinstance(response, SipResponse)
    assert response.status == 400
    assert response.call_id == "ncl.0ha0isndaksdj2193423r542w35"
    assert str(response.cseq) == "0 INVITE"
    assert response.headers.get("Via") == "SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw"
    assert response.from_addr.tag == "32394234"
    assert response.to_addr.tag is not None and len(response.to_addr.tag) == 16
    assert response.body == b""


def test_error_response_keeps_an_existing_to_tag() -> None:
    answer = error_response_for(_load("lwsruri"), SipParseError("x"))
    assert answer is not None
    assert b"To: sip:user@example.com;tag=3xfe-9921883-z9f\r\n" in answer


def test_error_response_reads_compact_and_oddly_spaced_names() -> None:
    data = (b"OPTIONS sip:bob@example.com SIP/7.0\r\n"
            b"v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            b"f: <sip:a@example.com>;tag=1\r\n"
            b"TO : <sip:bob@example.com>\r\n"
            b"i: compact-1\r\n"
            b"CSeq :\r\n 5 OPTIONS\r\n"
            b"\r\n")
    answer = error_response_for(data, SipParseError("SIP version 'SIP/7.0' is not supported", 505))
    assert answer is not None
    response = parse_message(answer)
    assert response.status == 505
    assert response.call_id == "compact-1"
    assert str(response.cseq) == "5 OPTIONS"


@pytest.mark.parametrize(
    "data",
    [
        (b"ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
         b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n"
         b"CSeq: 1 ACK\r\nContent-Length: 99\r\n\r\n"),
        (b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
         b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n"
         b"CSeq: 1 ACK\r\nContent-Length: 99\r\n\r\n"),
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\r\n",
        b"",
        b"\r\n\r\n",
        b"garbage",
    ],
    ids=["ack", "cseq-ack", "response", "empty", "crlf", "garbage"],
)
def test_error_response_is_never_built_for(data: bytes) -> None:
    assert error_response_for(data, SipParseError("bad")) is None


def test_top_via_of_raw_bytes() -> None:
    assert top_via(_load("ncl")) == Via.parse("SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw")
    assert top_via(_load("badinv01")) is None  # 'SIP/2.0/UDP 192.0.2.15;;' does not parse
    assert top_via(_load("test")) is None
