"""Tests of tui_phone.sip.sdp (RFC 4566 parsing/serialising) and its attribute values."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.sip.errors import RemoteProtocolError, SipParseError
from tui_phone.sip.sdp import (
    Bandwidth,
    Connection,
    CryptoAttribute,
    Direction,
    MediaDescription,
    Origin,
    RtcpAttribute,
    RtpMap,
    SdpParseError,
    SessionDescription,
    Timing,
)

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"
SIP_PACKAGE = Path(__file__).resolve().parents[3] / "tui_phone" / "sip"


def crlf(text: str) -> bytes:
    """An SDP body written one line per source line, sent with CRLF."""
    return text.replace("\n", "\r\n").encode()


# RFC 4566 5, the example session description.
RFC4566_EXAMPLE = crlf(
    """v=0
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
s=SDP Seminar
i=A Seminar on the session description protocol
u=http://www.example.com/seminars/sdp.pdf
e=j.doe@example.com (Jane Doe)
c=IN IP4 224.2.17.12/127
t=2873397496 2873404696
a=recvonly
m=audio 49170 RTP/AVP 0
m=video 51372 RTP/AVP 99
a=rtpmap:99 h263-1998/90000
"""
)

# RFC 4317 2.1, Alice's offer and Bob's answer.
RFC4317_OFFER = crlf(
    """v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
"""
)
RFC4317_ANSWER = crlf(
    """v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49170 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""
)

# RFC 3264 10.1: an answer declining the first of two video streams.
RFC3264_ANSWER = crlf(
    """v=0
o=bob 2890844730 2890844730 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 49920 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""
)

# RFC 4568 (SDES) style offer: two keys, session parameters, lifetime and MKI.
SRTP_OFFER = crlf(
    """v=0
o=sam 2890844526 2890842807 IN IP4 192.0.2.5
s=SRTP Discussion
c=IN IP4 192.0.2.12
t=0 0
m=audio 49170 RTP/SAVP 0
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4;inline:QUJjZGVmZ2hpSktMbW9QUXJzVFVWd3l6MTIzNDU2|2^20|2:4 KDR=1 UNENCRYPTED_SRTCP
a=rtcp:53020 IN IP4 126.16.64.4
a=sendrecv
"""
)

# Every line type and suffix RFC 4566 defines, in RFC order.
ALL_FIELDS = crlf(
    """v=0
o=- 18446744073709551617 18446744073709551618 IN IP6 2001:db8::1
s=All fields
i=Session information
u=https://example.com/session
e=alice@example.com
e=bob@example.com (Bob)
p=+1 617 555-6011
c=IN IP6 FF15::101/3
b=CT:128
b=AS:64
t=2873397496 2873404696
r=604800 3600 0 90000
r=7d 1h 0 25h
t=0 0
z=2882844526 -1h 2898848070 0
k=prompt
a=tool:tui-phone
a=recvonly
m=audio 49170/2 RTP/AVP 0 96
i=Voice
c=IN IP4 224.2.1.1/127/3
c=IN IP4 224.2.1.4/127
b=AS:80
k=clear:secret
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1; stereo=1
a=ptime:20
a=x-unknown
a=x-empty:
a=sendrecv
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
"""
)

FIXTURES = {
    "rfc4566": RFC4566_EXAMPLE,
    "rfc4317-offer": RFC4317_OFFER,
    "rfc4317-answer": RFC4317_ANSWER,
    "rfc3264-answer": RFC3264_ANSWER,
    "srtp-offer": SRTP_OFFER,
    "all-fields": ALL_FIELDS,
}


def rfc5118_body(name: str) -> bytes:
    """The SDP body (after the blank line) of an RFC 5118 torture message."""
    message = (TESTDATA / "rfc5118" / f"{name}.sip").read_bytes()
    return message.split(b"\r\n\r\n", 1)[1]


def minimal(*media_lines: str, session: str = "") -> bytes:
    """A valid description with extra session lines and media lines."""
    head = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n" + session
    return crlf(head + "".join(f"{line}\n" for line in media_lines))


# Round trips -------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_round_trips_byte_exact_with_crlf(name: str) -> None:
    data = FIXTURES[name]
    assert bytes(SessionDescription.parse(data)) == data


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_round_trips_byte_exact_with_lf(name: str) -> None:
    data = FIXTURES[name].replace(b"\r\n", b"\n")
    sd = SessionDescription.parse(data)
    assert sd.line_ending == "\n"
    assert bytes(sd) == data


@pytest.mark.parametrize("name", FIXTURES)
def test_parse_accepts_str_like_bytes(name: str) -> None:
    data = FIXTURES[name]
    assert SessionDescription.parse(data.decode()) == SessionDescription.parse(data)


@pytest.mark.parametrize("name", ["ipv6-in-sdp", "mult-ip-in-sdp", "ipv4-mapped-ipv6"])
def test_rfc5118_bodies_round_trip(name: str) -> None:
    body = rfc5118_body(name)
    assert bytes(SessionDescription.parse(body)) == body


def test_missing_final_line_ending_is_accepted_and_added() -> None:
    sd = SessionDescription.parse(RFC4317_ANSWER.rstrip(b"\r\n"))
    assert bytes(sd) == RFC4317_ANSWER


def test_trailing_blank_lines_are_tolerated() -> None:
    sd = SessionDescription.parse(RFC4317_ANSWER + b"\r\n\r\n")
    assert bytes(sd) == RFC4317_ANSWER


def test_non_utf8_text_round_trips() -> None:
    data = minimal().replace(b"s=-", b"s=caf\xe9 in Latin-1")
    sd = SessionDescription.parse(data)
    assert sd.session_name == "caf\udce9 in Latin-1"
    assert bytes(sd) == data


def test_built_description_serialises_with_crlf() -> None:
    sd = SessionDescription(
        origin=Origin("-", "42", 7, "IN", "IP4", "192.0.2.1"),
        connection=Connection("IN", "IP4", "192.0.2.1"),
        media=[MediaDescription("audio", 4000, "RTP/AVP", ["0"], attributes=[("sendrecv", None)])],
    )
    assert bytes(sd) == crlf(
        "v=0\no=- 42 7 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
        "m=audio 4000 RTP/AVP 0\na=sendrecv\n"
    )


# Fields ---------------------------------------------------------------------


def test_rfc4566_example_fields() -> None:
    sd = SessionDescription.parse(RFC4566_EXAMPLE)
    assert sd.version == 0
    assert sd.origin == Origin("jdoe", "2890844526", 2890842807, "IN", "IP4", "10.47.16.5")
    assert sd.session_name == "SDP Seminar"
    assert sd.information == "A Seminar on the session description protocol"
    assert sd.uri == "http://www.example.com/seminars/sdp.pdf"
    assert sd.emails == ["j.doe@example.com (Jane Doe)"]
    assert sd.connection == Connection("IN", "IP4", "224.2.17.12", ttl=127)
    assert sd.timings == [Timing(2873397496, 2873404696)]
    assert sd.attributes == [("recvonly", None)]
    assert sd.direction is Direction.RECVONLY
    audio, video = sd.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ["0"],
    )
    assert video.rtpmap == {99: RtpMap("h263-1998", 90000)}
    # The session-level a=recvonly applies to both streams (RFC 4566 6).
    assert audio.direction(sd) is Direction.RECVONLY
    assert audio.direction() is Direction.SENDRECV


def test_all_fields_are_parsed() -> None:
    sd = SessionDescription.parse(ALL_FIELDS)
    assert sd.origin.sess_id == "18446744073709551617"
    assert sd.origin.sess_version == 2**64 + 2
    assert sd.phones == ["+1 617 555-6011"]
    assert sd.connection == Connection("IN", "IP6", "FF15::101", ttl=None, number=3)
    assert sd.bandwidths == [Bandwidth("CT", 128), Bandwidth("AS", 64)]
    assert sd.timings == [
        Timing(2873397496, 2873404696, ["604800 3600 0 90000", "7d 1h 0 25h"]),
        Timing(0, 0),
    ]
    assert sd.zone_adjustments == "2882844526 -1h 2898848070 0"
    assert sd.key == "prompt"
    audio, data = sd.media
    assert (audio.port, audio.port_count) == (49170, 2)
    assert audio.information == "Voice"
    assert audio.connections == [
        Connection("IN", "IP4", "224.2.1.1", ttl=127, number=3),
        Connection("IN", "IP4", "224.2.1.4", ttl=127),
    ]
    assert audio.bandwidths == [Bandwidth("AS", 80)]
    assert audio.key == "clear:secret"
    assert audio.rtpmap == {96: RtpMap("opus", 48000, 2)}
    assert audio.fmtp == {96: "useinbandfec=1; stereo=1"}
    assert audio.ptime == 20
    assert audio.attribute("x-unknown") is None and audio.has_attribute("x-unknown")
    assert audio.attribute("x-empty") == ""
    assert audio.direction(sd) is Direction.SENDRECV  # media level wins
    assert data.formats == ["webrtc-datachannel"]
    assert data.direction(sd) is Direction.RECVONLY


def test_attributes_keep_order_and_unknown_names() -> None:
    sd = SessionDescription.parse(
        minimal("m=audio 4000 RTP/AVP 0", "a=zz:1", "a=aa", "a=zz:2", "a=mm:x:y")
    )
    md = sd.media[0]
    assert md.attributes == [("zz", "1"), ("aa", None), ("zz", "2"), ("mm", "x:y")]
    assert md.attribute_values("zz") == ["1", "2"]


def test_ipv6_addresses_without_brackets() -> None:
    """RFC 5118 4.6: o= and c= carry IP6 addresses without [ ]."""
    sd = SessionDescription.parse(rfc5118_body("ipv6-in-sdp"))
    assert sd.origin.addrtype == "IP6" and sd.origin.address == "2001:db8::20"
    assert sd.origin.sess_id == "971731711378798081"
    assert sd.connection == Connection("IN", "IP6", "2001:db8::20")
    assert [md.connection_address(sd) for md in sd.media] == ["2001:db8::20", "2001:db8::20"]
    assert sd.media[0].rtpmap == {2: RtpMap("G726-32", 8000)}


def test_per_media_connections_ipv4_and_ipv6() -> None:
    """RFC 5118 4.8: a c= per m= line, one IP4 and one IP6; o= with a host name; empty s=."""
    sd = SessionDescription.parse(rfc5118_body("mult-ip-in-sdp"))
    assert sd.session_name == ""
    assert sd.connection is None
    assert sd.origin.address == "host.example.com"
    audio, video = sd.media
    assert audio.connection(sd) == Connection("IN", "IP4", "192.0.2.1")
    assert video.connection(sd) == Connection("IN", "IP6", "2001:db8::1")
    assert audio.rtpmap == {}


def test_ipv4_mapped_ipv6_address() -> None:
    """RFC 5118 4.9."""
    sd = SessionDescription.parse(rfc5118_body("ipv4-mapped-ipv6"))
    assert sd.connection == Connection("IN", "IP6", "::ffff:192.0.2.2")
    assert sd.origin.address == "::ffff:192.0.2.2"
    assert sd.media[1].connection_address(sd) == "::ffff:192.0.2.2"


def test_connection_address_without_any_c_line() -> None:
    sd = SessionDescription.parse(
        crlf("v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
    )
    assert sd.media[0].connection(sd) is None
    assert sd.media[0].connection_address(sd) is None
    assert sd.media[0].is_on_hold(sd) is False


def test_missing_t_line_is_tolerated() -> None:
    data = crlf("v=0\no=- 1 1 IN IP4 h\ns=-\nm=audio 4000 RTP/AVP 0\n")
    sd = SessionDescription.parse(data)
    assert sd.timings == []
    assert bytes(sd) == data


# Accessors ------------------------------------------------------------------


def test_rtpmap_static_and_dynamic_with_channels() -> None:
    md = SessionDescription.parse(
        minimal("m=audio 4000 RTP/AVP 0 96 97", "a=rtpmap:0 PCMU/8000", "a=rtpmap:96 opus/48000/2",
                "a=rtpmap:97 L16/16000/1", "a=rtpmap:96 ignored/8000")
    ).media[0]  # fmt: skip
    assert md.rtpmap == {
        0: RtpMap("PCMU", 8000, 1),
        96: RtpMap("opus", 48000, 2),
        97: RtpMap("L16", 16000),
    }
    assert str(md.rtpmap[96]) == "opus/48000/2" and str(md.rtpmap[0]) == "PCMU/8000"


def test_fmtp_by_payload_type() -> None:
    md = SessionDescription.parse(
        minimal(
            "m=audio 4000 RTP/AVP 101 96",
            "a=fmtp:101 0-16",
            "a=fmtp:96 maxplaybackrate=16000;useinbandfec=1",
        )
    ).media[0]
    assert md.fmtp == {101: "0-16", 96: "maxplaybackrate=16000;useinbandfec=1"}


def test_ptime_absent_and_present() -> None:
    assert SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0")).media[0].ptime is None
    assert (
        SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0", "a=ptime:30")).media[0].ptime
        == 30
    )


def test_rtcp_attribute_port_only_and_with_address() -> None:
    """RFC 3605 2.1."""
    md = SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0", "a=rtcp:53020")).media[0]
    assert md.rtcp == RtcpAttribute(53020)
    sd = SessionDescription.parse(SRTP_OFFER)
    assert sd.media[0].rtcp == RtcpAttribute(53020, "IN", "IP4", "126.16.64.4")
    assert str(sd.media[0].rtcp) == "53020 IN IP4 126.16.64.4"
    assert SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0")).media[0].rtcp is None


def test_crypto_lines_parsed_and_kept_verbatim() -> None:
    """RFC 4568 9.1: tag, suite, key params (verbatim), session params."""
    md = SessionDescription.parse(SRTP_OFFER).media[0]
    first, second = md.crypto
    assert first == CryptoAttribute(
        1,
        "AES_CM_128_HMAC_SHA1_80",
        ("inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",),
        ("FEC_ORDER=FEC_SRTP",),
    )
    assert first.inline_key == "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
    assert second.tag == 2 and len(second.key_params) == 2
    assert second.session_params == ("KDR=1", "UNENCRYPTED_SRTCP")
    assert [str(c) for c in md.crypto] == md.attribute_values("crypto")


def test_crypto_without_inline_key() -> None:
    crypto = CryptoAttribute.parse("7 F8_128_HMAC_SHA1_80 mikey:abc")
    assert crypto.inline_key is None


@pytest.mark.parametrize(
    ("media_attributes", "session_attributes", "expected"),
    [
        ([], [], Direction.SENDRECV),
        (["a=sendonly"], [], Direction.SENDONLY),
        (["a=recvonly"], [], Direction.RECVONLY),
        (["a=inactive"], [], Direction.INACTIVE),
        ([], ["a=inactive"], Direction.INACTIVE),
        (["a=sendrecv"], ["a=inactive"], Direction.SENDRECV),
        (["a=sendonly:x"], [], Direction.SENDRECV),  # has a value: not the flag
    ],
)
def test_direction_media_then_session_then_default(
    media_attributes: list[str], session_attributes: list[str], expected: Direction
) -> None:
    session = "".join(f"{a}\n" for a in session_attributes)
    sd = SessionDescription.parse(
        minimal("m=audio 4000 RTP/AVP 0", *media_attributes, session=session)
    )
    assert sd.media[0].direction(sd) is expected


@pytest.mark.parametrize(
    ("lines", "held"),
    [
        (["a=sendrecv"], False),
        (["a=recvonly"], False),
        (["a=sendonly"], True),
        (["a=inactive"], True),
        (["c=IN IP4 0.0.0.0"], True),  # RFC 2543 hold, RFC 3264 8.4
        (["c=IN IP6 ::"], True),
        (["c=IN IP4 192.0.2.9", "a=sendrecv"], False),
    ],
)
def test_is_on_hold(lines: list[str], held: bool) -> None:
    sd = SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0", *lines))
    assert sd.media[0].is_on_hold(sd) is held


def test_session_level_zero_address_means_hold() -> None:
    sd = SessionDescription.parse(
        crlf("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
    )
    assert sd.media[0].is_on_hold(sd)
    assert not sd.media[0].is_on_hold()


def test_rejected_stream() -> None:
    sd = SessionDescription.parse(RFC3264_ANSWER)
    assert [md.rejected for md in sd.media] == [False, True, False]


@pytest.mark.parametrize(
    ("direction", "sends", "receives", "reverse"),
    [
        (Direction.SENDRECV, True, True, Direction.SENDRECV),
        (Direction.SENDONLY, True, False, Direction.RECVONLY),
        (Direction.RECVONLY, False, True, Direction.SENDONLY),
        (Direction.INACTIVE, False, False, Direction.INACTIVE),
    ],
)
def test_direction_flags(
    direction: Direction, sends: bool, receives: bool, reverse: Direction
) -> None:
    assert (direction.sends, direction.receives) == (sends, receives)
    assert direction.reversed() is reverse
    assert Direction.from_flags(sends, receives) is direction
    assert direction.intersect(Direction.SENDRECV) is direction
    assert direction.intersect(Direction.INACTIVE) is Direction.INACTIVE
    assert str(direction) == direction.value


def test_direction_intersect_sendonly_recvonly_is_inactive() -> None:
    assert Direction.SENDONLY.intersect(Direction.RECVONLY) is Direction.INACTIVE


# Errors ----------------------------------------------------------------------

MALFORMED = [
    (b"", "empty session description"),
    (b"\r\n\r\n", "empty session description"),
    (b"o=- 1 1 IN IP4 h\r\n", "line 1: missing v= line"),
    (b"V=0\r\n", "line 1: expected <type>=<value>, got 'V=0'"),
    (b"v=1\r\n", "line 1: unsupported SDP version '1'"),
    (b"v = 0\r\n", "line 1: expected <type>=<value>, got 'v = 0'"),
    (b"v=0\r\nbogus\r\n", "line 2: expected <type>=<value>, got 'bogus'"),
    (b"v=0\r\n\r\ns=-\r\n", "line 2: expected <type>=<value>, got ''"),
    (b"v=0\r\nx=1\r\n", "line 2: unknown line type 'x'"),
    (b"v=0\r\nv=0\r\n", "line 2: unexpected v= line"),
    (b"v=0\r\ns=a\x00b\r\n", "line 2: forbidden character in 's=a\\x00b'"),
    (b"v=0\r\ns=a\rb\r\n", "line 2: forbidden character in 's=a\\rb'"),
    (b"v=0\r\no=- 1 IN IP4 h\r\n", "line 2: o= line needs 6 fields, got 5"),
    (b"v=0\r\no=- 1 v2 IN IP4 h\r\n", "line 2: o= session version is not a valid number: 'v2'"),
    (b"v=0\r\no=- 1 1 IN IP4 h\r\no=- 1 1 IN IP4 h\r\n", "line 3: duplicate o= line"),
    (b"v=0\r\ns=-\r\n", "missing o= line"),
    (b"v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", "missing s= line"),
    (b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\ns=x\r\n", "line 4: duplicate s= line"),
    (b"v=0\r\nc=IN IP4\r\n", "line 2: c= line needs 3 fields, got 2"),
    (b"v=0\r\nc=IN IP4 224.2.1.1/x\r\n", "line 2: c= address is malformed: '224.2.1.1/x'"),
    (b"v=0\r\nc=IN IP4 224.2.1.1/1/2/3\r\n", "line 2: c= address is malformed: '224.2.1.1/1/2/3'"),
    (b"v=0\r\nc=IN IP6 FF15::101/127/3\r\n", "line 2: c= address is malformed: 'FF15::101/127/3'"),
    (b"v=0\r\nc=IN IP4 /127\r\n", "line 2: c= address is malformed: '/127'"),
    (b"v=0\r\nc=IN IP4 a\r\nc=IN IP4 b\r\n", "line 3: duplicate c= line"),
    (b"v=0\r\nb=AS\r\n", "line 2: b= line must be <bwtype>:<bandwidth>, got 'AS'"),
    (b"v=0\r\nb=AS:x\r\n", "line 2: b= line must be <bwtype>:<bandwidth>, got 'AS:x'"),
    (b"v=0\r\nt=0\r\n", "line 2: t= line must be <start-time> <stop-time>, got '0'"),
    (b"v=0\r\nt=now later\r\n", "line 2: t= line must be <start-time> <stop-time>, got 'now later'"),
    (b"v=0\r\nr=7d 1h 0 25h\r\n", "line 2: r= line without a preceding t= line"),
    (b"v=0\r\na=\r\n", "line 2: a= line has an empty attribute name"),
    (b"v=0\r\na=:x\r\n", "line 2: a= line has an empty attribute name"),
    (b"v=0\r\nm=audio\r\n", "line 2: m= line needs at least 3 fields, got 1"),
    (b"v=0\r\nm=audio x RTP/AVP 0\r\n", "line 2: m= port is not a valid number: 'x'"),
    (b"v=0\r\nm=audio -1 RTP/AVP 0\r\n", "line 2: m= port is not a valid number: '-1'"),
    (b"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", "line 2: m= port out of range: 70000"),
    (b"v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n", "line 2: m= number of ports is not a positive number: '0'"),
    (b"v=0\r\nm=audio 4000/ RTP/AVP 0\r\n", "line 2: m= number of ports is not a positive number: ''"),
    (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", "line 3: t= line not allowed in a media section"),
    (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 h\r\n", "line 3: o= line not allowed in a media section"),
    (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\ni=a\r\ni=b\r\n", "line 4: duplicate i= line"),
    (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\nk=a\r\nk=b\r\n", "line 4: duplicate k= line"),
    (b"v=0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN\r\n", "line 3: c= line needs 3 fields, got 1"),
    (b"v=0\r\no=- 1 " + b"9" * 41 + b" IN IP4 h\r\n", "line 2: o= session version is not a valid number: '" + "9" * 41 + "'"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_description_raises_exact_error(data: bytes, message: str) -> None:
    with pytest.raises(SdpParseError) as info:
        SessionDescription.parse(data)
    assert info.value.reason == message
    assert str(info.value) == message
    assert info.value.status == 400


def test_parse_error_is_the_peers_fault() -> None:
    with pytest.raises(SdpParseError) as info:
        SessionDescription.parse(b"nonsense")
    assert isinstance(info.value, SipParseError)
    assert isinstance(info.value, RemoteProtocolError)
    assert isinstance(info.value, ValueError)


def test_unencodable_str_is_a_parse_error() -> None:
    with pytest.raises(SdpParseError) as info:
        SessionDescription.parse("v=0\ns=\ud800\n")
    assert info.value.reason == "session description is not encodable as UTF-8"


BAD_ATTRIBUTES = [
    ("a=rtpmap:x PCMU/8000", "rtpmap", "bad a=rtpmap value: 'x PCMU/8000'"),
    ("a=rtpmap:0 PCMU", "rtpmap", "bad a=rtpmap value: '0 PCMU'"),
    ("a=rtpmap:0 PCMU/fast", "rtpmap", "bad a=rtpmap value: '0 PCMU/fast'"),
    ("a=rtpmap:0 PCMU/8000/1/2", "rtpmap", "bad a=rtpmap value: '0 PCMU/8000/1/2'"),
    ("a=rtpmap:0 /8000", "rtpmap", "bad a=rtpmap value: '0 /8000'"),
    ("a=rtpmap:0 opus/48000/0", "rtpmap", "bad a=rtpmap value: '0 opus/48000/0'"),
    ("a=rtpmap", "rtpmap", "bad a=rtpmap value: ''"),
    ("a=fmtp:abc x=1", "fmtp", "bad a=fmtp value: 'abc x=1'"),
    ("a=ptime:fast", "ptime", "bad a=ptime value: 'fast'"),
    ("a=ptime:0", "ptime", "bad a=ptime value: '0'"),
    ("a=ptime", "ptime", "bad a=ptime value: ''"),
    ("a=rtcp:port", "rtcp", "bad a=rtcp value: 'port'"),
    ("a=rtcp:70000", "rtcp", "bad a=rtcp value: '70000'"),
    ("a=rtcp:5000 IN IP4", "rtcp", "bad a=rtcp value: '5000 IN IP4'"),
    ("a=rtcp", "rtcp", "bad a=rtcp value: ''"),
    (
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80",
        "crypto",
        "bad a=crypto value: '1 AES_CM_128_HMAC_SHA1_80'",
    ),
    ("a=crypto:x AES inline:k", "crypto", "bad a=crypto value: 'x AES inline:k'"),
    (
        "a=crypto:1234567890 AES inline:k",
        "crypto",
        "bad a=crypto value: '1234567890 AES inline:k'",
    ),
    ("a=crypto:1 AES inlinekey", "crypto", "bad a=crypto value: '1 AES inlinekey'"),
    ("a=crypto:1 AES inline:k;", "crypto", "bad a=crypto value: '1 AES inline:k;'"),
]


@pytest.mark.parametrize(("line", "accessor", "message"), BAD_ATTRIBUTES)
def test_malformed_attribute_raises_when_read(line: str, accessor: str, message: str) -> None:
    sd = SessionDescription.parse(minimal("m=audio 4000 RTP/AVP 0", line))  # lazy: parses fine
    with pytest.raises(SdpParseError) as info:
        getattr(sd.media[0], accessor)
    assert info.value.reason == message
    assert info.value.status == 400


# Properties -------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_sdp_parse_error(data: bytes) -> None:
    try:
        SessionDescription.parse(data)
    except SdpParseError:
        pass


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_random_text_raises_only_sdp_parse_error(data: str) -> None:
    try:
        SessionDescription.parse(data)
    except SdpParseError:
        pass


_LINE_TYPES = st.sampled_from(list("vosiuepcbtrzkamx"))
_VALUE_WORDS = st.sampled_from(
    ["0", "1", "IN", "IP4", "IP6", "0.0.0.0", "::", "224.2.1.1/127/3", "ff::1/3", "audio", "RTP/AVP",
     "49170", "49170/2", "99999", "AS:64", "AS", "rtpmap:0", "PCMU/8000", "crypto:1", "-", "", ":", "/"]
)  # fmt: skip
_PLAUSIBLE_LINES = st.sampled_from(
    ["m=audio 49170 RTP/AVP 0 8 96", "m=video 0 RTP/AVP 31", "m=audio 4000/2 RTP/SAVP 0", "c=IN IP4 0.0.0.0",
     "c=IN IP6 ::1", "b=AS:64", "i=info", "k=prompt", "a=rtpmap:0 PCMU/8000", "a=rtpmap:96 opus/48000/2",
     "a=rtpmap:96", "a=rtpmap:x y", "a=fmtp:96 stereo=1", "a=fmtp:z", "a=ptime:20", "a=ptime:x",
     "a=rtcp:5001", "a=rtcp:1 IN IP4 h", "a=rtcp:x", "a=sendonly", "a=inactive", "a=recvonly:",
     "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:a|2^20|1:4", "a=crypto:1 X", "a=x-unknown:1"]
)  # fmt: skip
_RANDOM_LINES = st.tuples(_LINE_TYPES, st.lists(_VALUE_WORDS, max_size=7)).map(
    lambda t: f"{t[0]}={' '.join(t[1])}"
)
_SDP_LINES = st.lists(_PLAUSIBLE_LINES | _PLAUSIBLE_LINES | _RANDOM_LINES, max_size=25)
_HEADER = ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]


@settings(max_examples=500)
@given(_SDP_LINES, st.sampled_from(["\r\n", "\n"]))
def test_sdp_shaped_garbage_raises_only_sdp_parse_error(lines: list[str], eol: str) -> None:
    text = eol.join([*_HEADER, *lines]) + eol
    try:
        sd = SessionDescription.parse(text)
    except SdpParseError:
        return
    # Whatever parses, serialises and parses back to the same description.
    assert SessionDescription.parse(bytes(sd)) == sd
    for md in sd.media:
        for accessor in ("rtpmap", "fmtp", "ptime", "rtcp", "crypto"):
            try:
                getattr(md, accessor)
            except SdpParseError:
                pass
        md.direction(sd), md.is_on_hold(sd), md.connection_address(sd)


_TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
_NUMBER = st.integers(min_value=0, max_value=2**70)
_ATTRIBUTE = st.tuples(_TOKEN.filter(lambda t: ":" not in t), st.none() | _TEXT)


@st.composite
def _connections(draw: st.DrawFn) -> Connection:
    address = draw(_TOKEN.filter(lambda t: "/" not in t))
    ttl = draw(st.none() | st.integers(0, 255))
    number = draw(st.none() | st.integers(1, 8)) if ttl is not None else None
    return Connection("IN", "IP4", address, ttl, number)


_CONNECTION = _connections()
_MEDIA = st.builds(
    MediaDescription,
    media=st.sampled_from(["audio", "video", "application"]),
    port=st.integers(0, 65535),
    proto=st.sampled_from(["RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF"]),
    formats=st.lists(_TOKEN, max_size=5),
    port_count=st.none() | st.integers(1, 8),
    information=st.none() | _TEXT,
    connections=st.lists(_CONNECTION, max_size=2),
    bandwidths=st.lists(
        st.builds(Bandwidth, _TOKEN.filter(lambda t: ":" not in t), _NUMBER), max_size=2
    ),
    key=st.none() | _TEXT,
    attributes=st.lists(_ATTRIBUTE, max_size=6),
)
_SESSION = st.builds(
    SessionDescription,
    origin=st.builds(
        Origin, _TOKEN, _NUMBER.map(str), _NUMBER, st.just("IN"), st.just("IP4"), _TOKEN
    ),
    session_name=_TEXT,
    information=st.none() | _TEXT,
    uri=st.none() | _TEXT,
    emails=st.lists(_TEXT, max_size=2),
    phones=st.lists(_TEXT, max_size=2),
    connection=st.none() | _CONNECTION,
    bandwidths=st.lists(
        st.builds(Bandwidth, _TOKEN.filter(lambda t: ":" not in t), _NUMBER), max_size=2
    ),
    timings=st.lists(st.builds(Timing, _NUMBER, _NUMBER, st.lists(_TEXT, max_size=2)), max_size=2),
    zone_adjustments=st.none() | _TEXT,
    key=st.none() | _TEXT,
    attributes=st.lists(_ATTRIBUTE, max_size=4),
    media=st.lists(_MEDIA, max_size=3),
    line_ending=st.sampled_from(["\r\n", "\n"]),
)


@settings(max_examples=300)
@given(_SESSION)
def test_generated_descriptions_round_trip(sd: SessionDescription) -> None:
    data = bytes(sd)
    parsed = SessionDescription.parse(data)
    assert parsed == sd
    assert bytes(parsed) == data


def _mutable_parts(sd: SessionDescription) -> list[object]:
    """Every list and dataclass inside ``sd`` that a holder of it could change."""
    parts: list[object] = [sd, sd.origin, sd.emails, sd.phones, sd.bandwidths, *sd.bandwidths,
                           sd.timings, *sd.timings, *(t.repeats for t in sd.timings),
                           sd.attributes, sd.media]
    if sd.connection is not None:
        parts.append(sd.connection)
    for md in sd.media:
        parts += [md, md.formats, md.connections, *md.connections, md.bandwidths,
                  *md.bandwidths, md.attributes]
    return parts


@settings(max_examples=200)
@given(_SESSION)
def test_deepcopy_is_equal_and_shares_nothing_mutable(sd: SessionDescription) -> None:
    copied = copy.deepcopy(sd)
    assert copied == sd and bytes(copied) == bytes(sd)
    originals = {id(part) for part in _mutable_parts(sd)}
    assert not originals & {id(part) for part in _mutable_parts(copied)}


def test_deepcopy_keeps_every_field() -> None:
    sd = SessionDescription.parse(ALL_FIELDS)
    copied = copy.deepcopy(sd)
    for name in (f.name for f in dataclasses.fields(SessionDescription)):
        assert getattr(copied, name) == getattr(sd, name), name
    for ours, theirs in zip(copied.media, sd.media, strict=True):
        for name in (f.name for f in dataclasses.fields(MediaDescription)):
            assert getattr(ours, name) == getattr(theirs, name), name


# Hygiene ------------------------------------------------------------------------

FORBIDDEN_IMPORTS = {"twisted", "textual", "sounddevice", "socket", "time"}


@pytest.mark.parametrize(
    "module", ["sdp.py", "sdpattributes.py", "offeranswer.py", "sdpsession.py"]
)
def test_pure_module_imports_no_io(module: str) -> None:
    """STYLE.md: the pure sip/ modules never import I/O or clock modules."""
    tree = ast.parse((SIP_PACKAGE / module).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN_IMPORTS
    assert "print(" not in (SIP_PACKAGE / module).read_text()
