"""read_plain_invite and InviteShapes: what they read of an INVITE is what the
general path (parse_message(validate=True), stamp_via, the refusals) makes of
it, byte for byte in the response; anything else is None, for the general path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.sip.errors import SipParseError
from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.sip.plaininvite import MAX_SHAPES, InviteShapes, PlainInvite, read_plain_invite
from tui_phone.sip.responses import response_bytes
from tui_phone.sip.routing import may_need_stamp, response_target, stamp_via, udp_source
from tui_phone.sip.transaction import server_transaction_key

SOURCE = udp_source(("127.0.0.1", 5099), ("127.0.0.1", 5060))
OFFER = ("v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
         "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
EXTRA = (("Contact", "<sip:bob@127.0.0.1:5060>"), ("Allow", "INVITE, ACK, BYE"),
         ("Supported", "replaces"), ("Server", "tui-phone"))
TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"


def invite(branch: str = "z9hG4bK-1", tag: str = "1SIPpTag001", call_id: str = "1-1@127.0.0.1",
           number: str = "1", *, via: str = "SIP/2.0/UDP 127.0.0.1:5099;branch={branch}",
           from_: str = "sipp <sip:sipp@127.0.0.1:5099>;tag={tag}",
           to: str = "bob <sip:bob@127.0.0.1:5060>", length: str | None = None,
           extra: str = "", body: str = OFFER) -> bytes:
    """A sipp uac INVITE (its Content-Length padded as sipp pads it), with changes."""
    length = f"  {len(body)}" if length is None else length
    return (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: {via.format(branch=branch)}\r\nFrom: {from_.format(tag=tag)}\r\nTo: {to}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {number} INVITE\r\nContact: sip:sipp@127.0.0.1:5099\r\n"
            f"Max-Forwards: 70\r\nSubject: Performance Test\r\n{extra}"
            f"Content-Type: application/sdp\r\nContent-Length: {length}\r\n\r\n{body}").encode()


def general(data: bytes) -> tuple[SipRequest, bytes]:
    """The request as the transport delivers it, and the 200 OK the UA makes of it."""
    request = parse_message(data, validate=True)
    assert isinstance(request, SipRequest)
    if may_need_stamp(request.via, SOURCE.remote[0]):
        stamp_via(request, *SOURCE.remote)
    ok = response_bytes(request, 200, to_tag="ours", body=b"answer", content_type="application/sdp",
                        extra=EXTRA)
    return request, ok


def assert_same(plain: PlainInvite | None, data: bytes) -> None:
    assert plain is not None
    request, ok = general(data)
    assert plain.response_bytes(200, to_tag="ours", body=b"answer",
                                content_type="application/sdp", extra=EXTRA) == ok
    assert plain.key == server_transaction_key(request)
    assert plain.target == response_target(request.via, SOURCE)
    assert (plain.uri, plain.call_id, plain.body) == (request.uri, request.call_id, request.body)


PLAIN = {
    "sipp": invite(),
    "rport": invite(via="SIP/2.0/UDP 127.0.0.1:5099;rport;branch={branch}"),
    "rport-last": invite(via="SIP/2.0/UDP 127.0.0.1:5099;branch={branch};rport"),
    "host-name": invite(via="SIP/2.0/UDP client.example.com:5099;branch={branch}"),
    "other-address": invite(via="SIP/2.0/UDP 10.0.0.7;branch={branch}"),
    "lower-case-udp": invite(via="SIP/2.0/udp 127.0.0.1:5099;branch={branch}"),
    "quoted-names": invite(from_='"Alice \\"A\\"" <sip:alice@127.0.0.1>;tag={tag};x=1',
                           to="<sip:bob@127.0.0.1:5060>"),
    "addr-spec": invite(from_="sip:alice@127.0.0.1;tag={tag}", to="sip:bob@127.0.0.1"),
    "unpadded-length": invite(length=str(len(OFFER))),
    "more-fields": invite(extra="User-Agent: x/1.0\r\nAllow: INVITE, ACK\r\nSupported: 100rel\r\n"),
}


@pytest.mark.parametrize("data", PLAIN.values(), ids=PLAIN.keys())
def test_it_reads_what_the_general_path_makes_of_the_invite(data: bytes) -> None:
    assert_same(read_plain_invite(data, SOURCE), data)


def test_a_100_trying_gets_no_tag() -> None:
    plain = read_plain_invite(invite(), SOURCE)
    assert plain is not None
    assert plain.response_bytes(100) == response_bytes(general(invite())[0], 100)


SIPP = invite().decode()
OTHERS = {
    "compact": SIPP.replace("\r\nVia: ", "\r\nv: "),
    "other-spelling": SIPP.replace("\r\nCall-ID: ", "\r\nCall-Id: "),
    "no-space": SIPP.replace("\r\nTo: ", "\r\nTo:"),
    "folded": SIPP.replace(";branch=", "\r\n ;branch="),
    "repeated": SIPP.replace("Subject: Performance Test\r\n", "Subject: a\r\nSubject: b\r\n"),
    "two-vias": SIPP.replace("\r\nFrom: ", "\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-p\r\nFrom: "),
    "via-list": SIPP.replace(";branch=z9hG4bK-1", ";branch=z9hG4bK-1, SIP/2.0/UDP 10.0.0.1"),
    "require": invite(extra="Require: 100rel\r\n").decode(),
    "accept": invite(extra="Accept: text/plain\r\n").decode(),
    "content-encoding": invite(extra="Content-Encoding: gzip\r\n").decode(),
    "record-route": invite(extra="Record-Route: <sip:10.0.0.1;lr>\r\n").decode(),
    "replaces": invite(extra="Replaces: a@b;to-tag=1;from-tag=2\r\n").decode(),
    "date": invite(extra="Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n").decode(),
    "unknown-field": invite(extra="X-Anything: 1\r\n").decode(),
    "to-tag": invite(to="bob <sip:bob@127.0.0.1:5060>;tag=x").decode(),
    "tcp-via": invite(via="SIP/2.0/TCP 127.0.0.1:5099;branch={branch}").decode(),
    "rfc2543-branch": invite(branch="1234").decode(),
    "bare-cookie": invite(branch="z9hG4bK").decode(),
    "maddr": invite(via="SIP/2.0/UDP 127.0.0.1:5099;maddr=10.0.0.1;branch={branch}").decode(),
    "received": invite(via="SIP/2.0/UDP 127.0.0.1:5099;received=10.0.0.1;branch={branch}").decode(),
    "short-body": invite(length=str(len(OFFER) - 1)).decode(),
    "long-body": invite(length=str(len(OFFER) + 1)).decode(),
    "no-body": invite(length="0", body="").decode(),
    "not-sdp": SIPP.replace("application/sdp", "text/plain"),
    "sdp-with-parameter": SIPP.replace("application/sdp", "application/sdp;x=1"),
    "bad-from": invite(from_="sipp <sip:sipp@127.0.0.1:5099;tag={tag}").decode(),
    "bad-via": invite(via="SIP/2.0/UDP 127.0.0.1:5099;;branch={branch}").decode(),
    "bad-to": invite(to="bob sip:bob@127.0.0.1").decode(),
    "empty-call-id": invite(call_id="").decode(),
    "cseq-method": SIPP.replace("1 INVITE", "1 OPTIONS"),
    "cseq-number": invite(number="x").decode(),
    "max-forwards": SIPP.replace("Max-Forwards: 70", "Max-Forwards: seventy"),
    "tel-uri": SIPP.replace("INVITE sip:bob@127.0.0.1:5060", "INVITE tel:+123"),
    "uri-headers": SIPP.replace("INVITE sip:bob@127.0.0.1:5060", "INVITE sip:bob@h?x=1"),
    "version": SIPP.replace(" SIP/2.0\r\n", " SIP/3.0\r\n", 1),
    "bare-lf": SIPP.replace("Subject: Performance Test\r\n", "Subject: Performance\nTest\r\n"),
    "non-ascii": SIPP.replace("Performance Test", "Performance Tést"),
    "no-contact": SIPP.replace("Contact: sip:sipp@127.0.0.1:5099\r\n", ""),
    "wildcard-contact": SIPP.replace("Contact: sip:sipp@127.0.0.1:5099", "Contact: *"),
    "two-contacts": SIPP.replace("Contact: sip:sipp@127.0.0.1:5099", "Contact: <sip:a@b>, <sip:c@d>"),
    "no-header-end": SIPP.split("\r\n\r\n")[0],
    "ack": SIPP.replace("INVITE sip", "ACK sip").replace("1 INVITE", "1 ACK"),
}


@pytest.mark.parametrize("text", OTHERS.values(), ids=OTHERS.keys())
def test_anything_else_is_left_to_the_general_path(text: str) -> None:
    assert read_plain_invite(text.encode(), SOURCE) is None


def test_no_torture_message_is_read_unless_the_general_path_takes_it() -> None:
    files = sorted(TESTDATA.glob("rfc*/*.sip"))
    assert files, f"torture test data missing: {TESTDATA}"
    for path in files:
        data = path.read_bytes()
        if read_plain_invite(data, SOURCE) is not None:
            assert_same(read_plain_invite(data, SOURCE), data)


# -- InviteShapes ----------------------------------------------------------------------


@pytest.mark.parametrize("data", PLAIN.values(), ids=PLAIN.keys())
def test_a_shape_reads_the_next_invite_as_read_plain_invite_does(data: bytes) -> None:
    shapes = InviteShapes()
    assert shapes.learn(data, SOURCE) and len(shapes) == 1
    assert not shapes.learn(data, SOURCE)  # known already
    text = data.decode()
    following = (text.replace("z9hG4bK-1", "z9hG4bKnext.2").replace("1SIPpTag001", "2~tag")
                 .replace("1-1@127.0.0.1", "x!y@[::1]").replace("1 INVITE", "123456789 INVITE"))
    assert following != text
    assert_same(shapes.read(following.encode(), SOURCE), following.encode())


TOKEN = st.text("abcXYZ019.!%*_+`'~-", min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(branch=TOKEN, tag=TOKEN, call_id=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E),
                                                min_size=1, max_size=30),
       number=st.integers(0, 999_999_999))
def test_any_values_of_their_grammar_read_as_the_general_path_reads_them(
        branch: str, tag: str, call_id: str, number: int) -> None:
    shapes = InviteShapes()
    shapes.learn(PLAIN["rport"], SOURCE)
    data = invite("z9hG4bK" + branch, tag, call_id, str(number),
                  via="SIP/2.0/UDP 127.0.0.1:5099;rport;branch={branch}")
    assert_same(shapes.read(data, SOURCE), data)


@pytest.mark.parametrize("data", [
    invite(branch="z9hG4bK-2;x=1"),  # a parameter more
    invite(branch="z9hG4bK-2 "),  # not a token
    invite(branch="abc"),  # no magic cookie
    invite(tag="a;b"),
    invite(tag=""),
    invite(call_id="a b"),
    invite(call_id=""),
    invite(number="1234567890"),  # beyond CSeq.parse's usual path
    invite(number=""),
    invite(body=OFFER.replace("6000", "6002")),  # another offer
    invite(extra="User-Agent: x\r\n"),  # another field
    invite().replace(b"\r\n\r\n", b"\r\n\r\nmore", 1),
], ids=["param", "space", "cookie", "tag-param", "empty-tag", "call-id-space", "empty-call-id",
        "long-number", "no-number", "other-offer", "other-field", "trailing-bytes"])
def test_what_differs_otherwise_is_not_read(data: bytes) -> None:
    shapes = InviteShapes()
    shapes.learn(invite(), SOURCE)
    assert shapes.read(data, SOURCE) is None


def test_a_peer_s_shapes_are_kept_up_to_a_limit() -> None:
    shapes = InviteShapes()
    for number in range(MAX_SHAPES + 1):
        shapes.learn(invite(body=OFFER.replace("6000", str(6000 + 2 * number))), SOURCE)
    assert len(shapes) == 1  # the table started afresh


def test_a_shape_is_the_peer_s_and_ours() -> None:
    shapes = InviteShapes()
    shapes.learn(invite(), SOURCE)
    data = invite(branch="z9hG4bK-2")
    assert shapes.read(data, udp_source(("127.0.0.1", 5098), SOURCE.local)) is None
    assert shapes.read(data, udp_source(SOURCE.remote, ("127.0.0.1", 5070))) is None
    assert shapes.read(data, SOURCE) is not None


def test_an_invite_without_a_plain_shape_or_a_from_tag_is_not_learned() -> None:
    shapes = InviteShapes()
    assert not shapes.learn(OTHERS["compact"].encode(), SOURCE)
    assert not shapes.learn(invite(from_="<sip:alice@127.0.0.1>"), SOURCE)
    assert not shapes.learn(invite(from_="<sip:alice@127.0.0.1;tag=u>;tag={tag}"), SOURCE)
    assert len(shapes) == 0


def test_every_shape_is_of_a_valid_invite() -> None:
    # What a shape reads parses: the general path after the send cannot fail.
    for data in PLAIN.values():
        shapes = InviteShapes()
        shapes.learn(data, SOURCE)
        following = data.replace(b"z9hG4bK-1", b"z9hG4bK-9")
        assert shapes.read(following, SOURCE) is not None
        try:
            parse_message(following, validate=True)
        except SipParseError as error:  # pragma: no cover - the failure being tested for
            pytest.fail(str(error))
