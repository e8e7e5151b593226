"""SIP message parsing and serialization (tui_phone.sip.message)."""

from __future__ import annotations

import pytest

from tui_phone.sip import SipParseError, SipRequest, SipResponse, build_response, parse_message
from tui_phone.sip.headers import Headers

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    b"Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)

RESPONSE = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def test_request_fields() -> None:
    m = parse_message(INVITE)
    assert isinstance(m, SipRequest)
    assert m.method == "INVITE"
    assert str(m.uri) == "sip:bob@biloxi.example.com"
    assert m.body == b"v=0\n"
    assert m.call_id == "a84b4c76e66710"
    assert (m.cseq.number, m.cseq.method) == (314159, "INVITE")
    assert m.via.branch == "z9hG4bKnashds8"
    assert m.from_addr.tag == "1928301774"
    assert m.to_addr.tag is None
    assert m.max_forwards == 70
    assert m.content_type == "application/sdp"


def test_response_fields() -> None:
    m = parse_message(RESPONSE)
    assert isinstance(m, SipResponse)
    assert (m.status, m.reason) == (180, "Ringing")
    assert m.to_addr.tag == "a6c85cf"
    assert m.via.received == "192.0.2.1"
    assert m.body == b""


def test_headers_by_long_or_compact_name_case_insensitively() -> None:
    m = parse_message(INVITE.replace(b"Call-ID:", b"i:").replace(b"Via:", b"v:"))
    for name in ("Call-ID", "call-id", "CALL-ID", "i", "I"):
        assert m.headers.get(name) == "a84b4c76e66710"
    assert m.headers.get("v") == m.headers.get("Via")
    assert m.headers.get("Nope") is None
    assert m.headers.get("Nope", "x") == "x"
    assert "f" in m.headers and "from" in m.headers and "X-Nope" not in m.headers


def test_get_all_splits_lists_but_not_inside_quotes_or_brackets() -> None:
    data = INVITE.replace(
        b"Contact: <sip:alice@pc33.atlanta.example.com>\r\n",
        b'Contact: "Doe, John" <sip:a@h;x=1>, <sip:b@h>\r\nContact: sip:c@h\r\n',
    )
    m = parse_message(data)
    assert m.headers.get_all("Contact") == ['"Doe, John" <sip:a@h;x=1>', "<sip:b@h>", "sip:c@h"]
    assert m.headers.get("Contact") == '"Doe, John" <sip:a@h;x=1>'
    assert [c.display_name for c in m.contacts] == ["Doe, John", None, None]
    assert m.headers.get_all("Record-Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]


def test_non_list_headers_keep_their_commas() -> None:
    data = INVITE.replace(
        b"Max-Forwards: 70\r\n",
        b"Max-Forwards: 70\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
        b'WWW-Authenticate: Digest realm="a,b", nonce="n"\r\nX-Custom: a, b\r\n',
    )
    m = parse_message(data)
    assert m.headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert m.headers.get("WWW-Authenticate") == 'Digest realm="a,b", nonce="n"'
    assert m.headers.get_all("X-Custom") == ["a, b"]


def test_folding_is_unfolded_and_kept_for_the_round_trip() -> None:
    data = INVITE.replace(b"Subject", b"").replace(
        b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nSubject: hello\r\n\t  world\r\n"
    )
    m = parse_message(data)
    assert m.headers.get("Subject") == "hello world"
    assert bytes(m) == data


@pytest.mark.parametrize("data", [INVITE, RESPONSE])
def test_round_trip_is_byte_exact(data: bytes) -> None:
    assert bytes(parse_message(data)) == data


@pytest.mark.parametrize("crlfs", [b"\r\n", b"\r\n\r\n", b"\r\n" * 5])
def test_leading_crlfs_are_skipped(crlfs: bytes) -> None:
    m = parse_message(crlfs + INVITE + b"after")
    assert bytes(m) == INVITE and m.body == b"v=0\n"
    assert bytes(parse_message(crlfs + RESPONSE)) == RESPONSE


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\r\n", "empty message"), (b"\r\n\r\n\r\n", "empty message"),
     (b"\r\nINVITE sip:a@b SIP/2.0\r\n", "no empty line after the header section"),
     (b"\r\n\r", "no empty line after the header section")],
)
def test_leading_crlfs_without_a_message(data: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.reason == reason


def test_bytes_after_content_length_are_ignored() -> None:
    m = parse_message(INVITE + b"garbage")
    assert m.body == b"v=0\n"
    assert bytes(m) == INVITE


def test_no_content_length_means_rest_of_datagram() -> None:
    data = RESPONSE.replace(b"Content-Length: 0\r\n", b"") + b"body"
    assert parse_message(data).body == b"body"


def test_modified_message_serializes_from_fields() -> None:
    m = parse_message(INVITE)
    m.headers.add("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1", first=True)
    m.headers.set("Max-Forwards", "69")
    out = parse_message(bytes(m))
    assert [v.host for v in out.vias] == ["proxy.example.com", "pc33.atlanta.example.com"]
    assert out.max_forwards == 69
    assert out.body == b"v=0\n"
    # Untouched fields keep their exact text.
    assert b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n" in bytes(m)


def test_remove_first_drops_the_top_via_of_a_combined_line() -> None:
    m = parse_message(
        RESPONSE.replace(
            b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;received=192.0.2.1",
            b"Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2",
        )
    )
    assert m.headers.remove_first("Via") == "SIP/2.0/UDP a.example.com;branch=z9hG4bK1"
    assert [v.host for v in m.vias] == ["b.example.com"]


def test_set_body_updates_content_length_and_type() -> None:
    m = parse_message(RESPONSE)
    m.set_body(b"hello", "text/plain")
    out = parse_message(bytes(m))
    assert out.body == b"hello"
    assert out.headers.get("Content-Length") == "5"
    assert out.content_type == "text/plain"


def test_start_line_changes_are_serialized() -> None:
    m = parse_message(RESPONSE)
    assert isinstance(m, SipResponse)
    m.status = 183
    m.reason = "Session Progress"
    assert bytes(m).startswith(b"SIP/2.0 183 Session Progress\r\n")
    r = parse_message(INVITE)
    assert isinstance(r, SipRequest)
    r.uri = "sip:carol@chicago.example.com"
    assert bytes(r).startswith(b"INVITE sip:carol@chicago.example.com SIP/2.0\r\n")


def test_build_response_copies_the_rfc_3261_8_2_6_2_headers() -> None:
    request = parse_message(INVITE)
    assert isinstance(request, SipRequest)
    response = build_response(request, 180, to_tag="xyz")
    m = parse_message(bytes(response))
    assert isinstance(m, SipResponse)
    assert (m.status, m.reason) == (180, "Ringing")
    assert m.to_addr.tag == "xyz"
    assert m.headers.get_all("Via") == request.headers.get_all("Via")
    assert m.call_id == request.call_id and m.cseq == request.cseq
    assert m.from_addr.tag == "1928301774"
    assert m.headers.get_all("Record-Route") == request.headers.get_all("Record-Route")
    trying = build_response(request, 100, to_tag="xyz")
    assert parse_message(bytes(trying)).to_addr.tag is None  # 100 carries no tag
    assert "Record-Route" not in trying.headers


def test_build_response_with_body() -> None:
    request = parse_message(INVITE)
    assert isinstance(request, SipRequest)
    ok = build_response(request, 200, to_tag="t", body=b"v=0\r\n", content_type="application/sdp")
    m = parse_message(bytes(ok))
    assert m.body == b"v=0\r\n" and m.content_type == "application/sdp"


def test_constructed_request_serializes() -> None:
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc"),
            ("Max-Forwards", "70"),
            ("From", "<sip:a@127.0.0.1>;tag=1"),
            ("To", "<sip:b@127.0.0.1>"),
            ("Call-ID", "c1"),
            ("CSeq", "1 OPTIONS"),
            ("Content-Length", "0"),
        ]
    )
    request = SipRequest("OPTIONS", "sip:b@127.0.0.1", headers)
    data = bytes(request)
    assert data.startswith(b"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP")
    assert b"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n" in data
    assert data.endswith(b"\r\n\r\n")
    assert parse_message(data) == request


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"", 400, "empty message"),
        (b"\r\n\r\n", 400, "empty message"),
        (b"INVITE sip:a@b SIP/2.0\r\n", 400, "no empty line after the header section"),
        (b"SIP/3.0 200 OK\r\n\r\n", 505, "SIP version 'SIP/3.0' is not supported"),
        (b"SIP/2.0 2000 OK\r\n\r\n", 400, "invalid status code '2000'"),
        (b"SIP/2.0 099 Low\r\n\r\n", 400, "invalid status code '099'"),
        (b"SIPX 200 OK\r\n\r\n", 400, "malformed Request-Line 'SIPX 200 OK': bad SIP-Version"),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: 7a"), 400, "invalid Max-Forwards value '7a'"),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), 400, "header line without a colon: 'Max-Forwards 70'"),
        (INVITE.replace(b"Max-Forwards: 70", b"Max Forwards: 70"), 400, "invalid header name 'Max Forwards'"),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159"), 400, "malformed CSeq '314159': expected a number and a method"),
        (INVITE.replace(b"CSeq: 314159", b"CSeq: x"), 400, "malformed CSeq 'x INVITE': sequence number is not a number"),
        (INVITE.replace(b"Call-ID: a84b4c76e66710", b"Call-ID: a b"), 400, "invalid Call-ID 'a b'"),
        (INVITE.replace(b"\r\nMax", b"\nMax"), 400, "bare CR or LF in the header section"),
        (INVITE.replace(b"INVITE sip:bob", b"INV@TE sip:bob"), 400, "invalid method 'INV@TE'"),
        (INVITE.replace(b"SIP/2.0\r\nVia", b"SIP/2\r\nVia"), 400, "malformed Request-Line 'INVITE sip:bob@biloxi.example.com SIP/2': bad SIP-Version"),
        (INVITE.replace(b"Content-Length: 4", b"Content-Length: 5"), 400, "Content-Length 5 is larger than the body (4 bytes)"),
        (INVITE.replace(b"Contact: <sip", b"Contact: *, <sip"), 400, "Contact '*' must be the only Contact value"),
        (INVITE.replace(b"Via: SIP/2.0/UDP pc33", b"Via: SIP/2.0/UDP pc33, "), 400, "malformed Via '.atlanta.example.com;branch=z9hG4bKnashds8'"),
    ],
)
def test_parse_errors(data: bytes, status: int, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(data, validate=True)
    assert (info.value.status, info.value.reason) == (status, reason)
    assert str(info.value) == reason


def test_wildcard_contact() -> None:
    m = parse_message(INVITE.replace(b"Contact: <sip:alice@pc33.atlanta.example.com>", b"Contact: *"))
    assert m.is_wildcard_contact and m.contacts == []


def test_parse_error_is_a_value_error_and_a_remote_error() -> None:
    from tui_phone.sip import RemoteProtocolError

    with pytest.raises(ValueError):
        parse_message(b"garbage\r\n\r\n", validate=True)
    with pytest.raises(RemoteProtocolError):
        parse_message(b"garbage\r\n\r\n", validate=True)


def test_parsing_is_lazy_and_validate_checks_everything() -> None:
    # A malformed To header does not stop framing or reading other headers...
    data = INVITE.replace(b"To: Bob <sip:bob@biloxi.example.com>", b'To: "Bob <sip:bob@biloxi.example.com>')
    m = parse_message(data)
    assert m.call_id == "a84b4c76e66710"
    assert m.headers.get("To") == '"Bob <sip:bob@biloxi.example.com>'
    # ...but reading it parsed, or validating, raises the exact error.
    with pytest.raises(SipParseError) as info:
        m.to_addr
    assert info.value.reason == "unterminated quoted string"
    with pytest.raises(SipParseError) as info:
        m.validate()
    assert (info.value.status, info.value.reason) == (400, "unterminated quoted string")


def test_framing_errors_are_raised_by_the_lazy_parse_too() -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(INVITE.replace(b"Content-Length: 4", b"Content-Length: -1"))
    assert info.value.reason == "invalid Content-Length '-1'"


def test_lazy_get_matches_the_split_fields() -> None:
    data = INVITE.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nX-A :  spaced value  \r\nx-a: second\r\n")
    lazy = parse_message(data)
    eager = parse_message(data)
    eager.headers.keys()  # splits the section
    for name in ("X-A", "x-a", "Via", "v", "Call-ID", "i", "Contact", "m", "Record-Route", "Nope"):
        assert lazy.headers.get(name) == eager.headers.get(name)
    assert lazy.headers.get("X-A") == "spaced value"


def test_validate_is_cached_and_returns_the_message() -> None:
    m = parse_message(INVITE)
    assert m.validate() is m
    assert m.validate() is m


_TAIL = b"\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n"


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("SIP/2.0 200 OK", (200, "OK")),
        ("sip/2.0 180 Ringing", (180, "Ringing")),
        # re.I and str.upper() fold U+017F to 's', so these are Status-Lines too
        ("\u017fIP/2.0 200 OK", (200, "OK")),
        ("s\u0131p/2.0 200 OK", (200, "OK")),
    ],
)
def test_status_line_detection(first: str, expected: tuple[int, str]) -> None:
    message = parse_message(first.encode() + _TAIL)
    assert isinstance(message, SipResponse) and (message.status, message.reason) == expected


def _start_line_outcome(parse: object, first: str) -> tuple[object, ...]:
    try:
        message = parse(first)  # type: ignore[operator]
    except SipParseError as error:
        return ("error", error.status, error.reason)
    if isinstance(message, SipRequest):
        return ("request", message.method, message._uri)
    return ("response", message.status, message.reason)


def _check_start_lines_agree(lines: object, careful: object, wanted: object) -> None:
    """parse_message's fast paths answer every start line as the careful parser does."""
    from hypothesis import given, settings

    def fast(first: str) -> object:
        return parse_message(first.encode() + _TAIL)

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(lines)
    def check(first: str) -> None:
        if "\r" in first or "\n" in first or not wanted(first):  # type: ignore[operator]
            return
        assert _start_line_outcome(fast, first) == _start_line_outcome(careful, first)

    check()


def test_request_line_fast_path_agrees_with_the_careful_parser() -> None:
    from hypothesis import strategies as st

    from tui_phone.sip.message import _parse_request_line

    lines = st.one_of(
        st.text(alphabet="INVITEBYEinvite SIP/2.0<>:@sipabc\t", max_size=30),
        st.from_regex(r"(INVITE|BYE|ACK|FOO|invite|) ?(<?sip:[a-z@.]{0,6}>?|) ?(SIP/2\.0|sip/2\.0|SIP/3\.0|)",
                      fullmatch=True),
    )
    _check_start_lines_agree(
        lines, _parse_request_line, lambda first: first and first[:1] not in ("S", "s", "\u017f")
    )


@pytest.mark.parametrize(
    "lines",
    [
        # The usual last field, and the careful path for every other shape of it.
        b"Content-Length: 2",
        b"Content-Length: 0002",
        b"Content-Length: 2 \t",
        b"Content-Length:2",
        b"content-length: 2",
        b"l: 2",
        b"Content-Length:\r\n 2",
        b"Content-Length: 2\r\nX-After: 1",
        b"X-Before: 1\r\nContent-Length: 2",
        # Two equal values frame the same way whichever is read.
        b"Content-Length: 2\r\nl: 2",
    ],
)
def test_content_length_frames_the_body_in_every_spelling(lines: bytes) -> None:
    data = INVITE.replace(b"Content-Length: 4", lines) + b"garbage"
    message = parse_message(data)
    assert message.body == b"v="
    assert parse_message(bytes(message)).body == b"v="


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xd9\xa3", "invalid Content-Length '\u0663'"),  # ARABIC-INDIC DIGIT THREE: a digit, not ASCII
        (b"+4", "invalid Content-Length '+4'"),
        (b"4 4", "invalid Content-Length '4 4'"),
        (b"", "invalid Content-Length ''"),
    ],
)
def test_content_length_must_be_ascii_digits(value: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(INVITE.replace(b"Content-Length: 4", b"Content-Length: " + value))
    assert (info.value.status, info.value.reason) == (400, reason)


def test_only_header_is_content_length_and_no_header_at_all() -> None:
    only = parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nabcd")
    assert only.body == b"ab" and only.headers.get("Content-Length") == "2"
    bare = parse_message(b"OPTIONS sip:a@b SIP/2.0\r\n\r\nabcd")
    assert bare.body == b"abcd" and bare.headers.get("Content-Length") is None
    assert bare.headers.keys() == [] and bytes(bare) == b"OPTIONS sip:a@b SIP/2.0\r\n\r\nabcd"


def test_status_line_fast_path_agrees_with_the_careful_parser() -> None:
    from hypothesis import strategies as st

    from tui_phone.sip.message import _parse_status_line

    codes = st.one_of(
        st.sampled_from(["099", "100", "199", "200", "486", "600", "699", "700", "999", "20", "2000",
                         "\u0663\u0660\u0660", "+20", ""]),
        st.from_regex(r"[0-9]{3}", fullmatch=True),
    )
    lines = st.one_of(
        st.text(alphabet="SIP/2.0 1234567890OKok\t\u0663", max_size=24),
        st.builds(
            "".join,
            st.tuples(st.sampled_from(["SIP/2.0", "sip/2.0", "SIP/3.0", "SIP/2.00", "\u017fIP/2.0"]),
                      st.sampled_from([" ", "", "  ", "\t"]), codes,
                      st.sampled_from(["", " ", " OK", "OK", " Busy Here", "  OK", "\tOK", " OK "])),
        ),
    )
    _check_start_lines_agree(lines, _parse_status_line, lambda first: first[:4].upper() == "SIP/")


@pytest.mark.parametrize(
    "first",
    ["SIP/2.0 099 OK", "SIP/2.0 99 OK", "SIP/2.0 100 Trying", "SIP/2.0 699 x", "SIP/2.0 700 OK", "SIP/2.0 200  ",
     "SIP/2.0 200 OK ", "SIP/2.0 200", "SIP/2.0 200 ", "SIP/2.0 2000 OK", "SIP/2.0 \u0663\u0660\u0660 OK",
     "sip/2.0 200 OK", "SIP/2.0  200 OK", "SIP/2.0 486 Busy Here"],
)
def test_status_line_boundaries_agree_with_the_careful_parser(first: str) -> None:
    from tui_phone.sip.message import _parse_status_line

    fast = _start_line_outcome(lambda line: parse_message(line.encode() + _TAIL), first)
    assert fast == _start_line_outcome(_parse_status_line, first)
