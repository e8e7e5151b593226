"""Tests of tui_phone.sip.offeranswer: RFC 3264 offers, answers and their outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_phone.sip.errors import LocalProtocolError, RemoteProtocolError
from tui_phone.sip.offeranswer import (
    DEFAULT_CODECS,
    STATIC_PAYLOAD_TYPES,
    Codec,
    InvalidAnswer,
    LocalMedia,
    NegotiatedMedia,
    NoAcceptableMedia,
    NoCommonCodec,
    OfferAnswerError,
    assign_payload_types,
    build_answer,
    build_offer,
    process_answer,
)
from tui_phone.sip.sdp import (
    CryptoAttribute,
    Direction,
    Origin,
    RtpMap,
    SdpParseError,
    SessionDescription,
)

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"

ORIGIN = Origin("-", "3724394400", 3724394400, "IN", "IP4", "192.0.2.10")
LOCAL = LocalMedia("192.0.2.10", 40000)
KEY_80 = CryptoAttribute(
    1, "AES_CM_128_HMAC_SHA1_80", ("inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj",)
)
KEY_32 = CryptoAttribute(
    1, "AES_CM_128_HMAC_SHA1_32", ("inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj",)
)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def sdp(text: str) -> SessionDescription:
    return SessionDescription.parse(crlf(text))


def offer_with(
    *media_lines: str, connection: str = "IN IP4 198.51.100.7", session: str = ""
) -> SessionDescription:
    """A remote offer from 198.51.100.7 with the given m= section lines."""
    head = f"v=0\no=bob 1 1 IN IP4 198.51.100.7\ns=-\nc={connection}\nt=0 0\n{session}"
    return sdp(head + "".join(f"{line}\n" for line in media_lines))


# RFC 4317 2.1, Alice's offer (audio PCMU/PCMA/iLBC, video H261/MPV).
RFC4317_OFFER = """v=0
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

# RFC 3264 10.1: an offer with one audio and two video streams.
RFC3264_OFFER = """v=0
o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""


# Building offers ---------------------------------------------------------------


def test_default_offer_exact_bytes() -> None:
    offer = build_offer(LOCAL, ORIGIN)
    assert bytes(offer) == crlf(
        """v=0
o=- 3724394400 3724394400 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 0 8 9 96 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:9 G722/8000
a=rtpmap:96 opus/48000/2
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""
    )


def test_offer_round_trips_through_the_parser() -> None:
    offer = build_offer(LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,), rtcp_port=40005), ORIGIN)
    assert SessionDescription.parse(bytes(offer)) == offer


def test_offer_with_crypto_uses_savp_and_lists_every_key() -> None:
    local = LocalMedia(
        "192.0.2.10", 40000, codecs=(Codec("PCMU", 8000, pt=0),), crypto=(KEY_80, KEY_32)
    )
    md = build_offer(local, ORIGIN).media[0]
    assert md.proto == "RTP/SAVP"
    assert md.attribute_values("crypto") == [str(KEY_80), str(KEY_32)]
    assert md.crypto == [KEY_80, KEY_32]


def test_offer_options_fmtp_rtcp_direction_no_dtmf_no_ptime() -> None:
    local = LocalMedia(
        "192.0.2.10",
        40000,
        codecs=(Codec("opus", 48000, 2, fmtp="useinbandfec=1"), Codec("PCMA", 8000)),
        dtmf_pt=None,
        ptime=None,
        rtcp_port=40009,
        direction=Direction.RECVONLY,
    )
    md = build_offer(local, ORIGIN).media[0]
    # opus gets the first dynamic number; PCMA without pt= still gets its static 8.
    assert md.formats == ["96", "8"]
    assert md.attributes == [
        ("rtpmap", "96 opus/48000/2"),
        ("rtpmap", "8 PCMA/8000"),
        ("fmtp", "96 useinbandfec=1"),
        ("rtcp", "40009"),
        ("recvonly", None),
    ]


def test_offer_in_ipv6() -> None:
    offer = build_offer(
        LocalMedia("2001:db8::10", 40000), replace_origin_address("2001:db8::10", "IP6")
    )
    assert str(offer.connection) == "IN IP6 2001:db8::10"
    assert str(offer.origin) == "- 3724394400 3724394400 IN IP6 2001:db8::10"


def replace_origin_address(address: str, addrtype: str) -> Origin:
    return Origin(ORIGIN.username, ORIGIN.sess_id, ORIGIN.sess_version, "IN", addrtype, address)


def test_dynamic_payload_types_avoid_dtmf_and_bound_numbers() -> None:
    local = LocalMedia(
        "192.0.2.10", 40000, codecs=(Codec("opus", 48000, 2), Codec("iLBC", 8000)), dtmf_pt=96
    )
    codecs, dtmf = assign_payload_types(local, {("speex", 16000, 1): 97})
    assert dtmf == 96
    assert [(pt, c.name) for pt, c in codecs] == [(98, "opus"), (99, "iLBC")]


def test_bound_payload_types_are_kept() -> None:
    """RFC 3264 8.3.2: once bound in the session, a dynamic number stays with its codec."""
    codecs, dtmf = assign_payload_types(
        LOCAL, {("opus", 48000, 2): 111, ("telephone-event", 8000, 1): 100}
    )
    assert [pt for pt, _ in codecs] == [0, 8, 9, 111]
    assert dtmf == 100


def test_payload_type_configured_twice_is_our_error() -> None:
    local = LocalMedia("192.0.2.10", 40000, codecs=(Codec("opus", 48000, 2, pt=101),))
    with pytest.raises(LocalProtocolError) as info:
        assign_payload_types(local)
    assert str(info.value) == "payload type 101 is configured twice"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"codecs": ()}, "no codecs configured"),
        ({"port": 0}, "RTP port out of range: 0"),
        ({"port": 65536}, "RTP port out of range: 65536"),
        ({"dtmf_pt": 8}, "telephone-event needs a dynamic payload type, got 8"),
        ({"srtp_required": True}, "srtp_required needs at least one crypto key"),
    ],
)
def test_local_media_validation(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"address": "192.0.2.10", "port": 40000, **kwargs}
    with pytest.raises(LocalProtocolError) as info:
        LocalMedia(**arguments)  # type: ignore[arg-type]
    assert str(info.value) == message


# Answering ------------------------------------------------------------------------


def test_answer_rfc4317_offer_exact_bytes() -> None:
    """RFC 4317 2.1: accept audio with a common codec, decline the video with port 0."""
    local = LocalMedia("192.0.2.10", 40000, codecs=(Codec("PCMU", 8000, pt=0),))
    answer, negotiated = build_answer(sdp(RFC4317_OFFER), local, ORIGIN)
    assert bytes(answer) == crlf(
        """v=0
o=- 3724394400 3724394400 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
a=sendrecv
m=video 0 RTP/AVP 31 32
"""
    )
    assert negotiated == NegotiatedMedia(
        codec=Codec("PCMU", 8000, pt=0),
        payload_type=0,
        dtmf_payload_type=None,
        remote_address="host.atlanta.example.com",
        remote_port=49170,
        remote_rtcp_address="host.atlanta.example.com",
        remote_rtcp_port=49171,
        direction=Direction.SENDRECV,
        remote_direction=Direction.SENDRECV,
    )
    assert negotiated.sends and negotiated.receives


def test_answer_declines_every_video_stream() -> None:
    """RFC 3264 10.1 offer: audio accepted; both video streams get port 0, formats kept."""
    answer, _ = build_answer(sdp(RFC3264_OFFER), LOCAL, ORIGIN)
    assert [md.media_line for md in answer.media] == [
        "audio 40000 RTP/AVP 0",
        "video 0 RTP/AVP 31",
        "video 0 RTP/AVP 32",
    ]
    assert [md.attributes for md in answer.media[1:]] == [[], []]


def test_answer_copies_the_offers_t_line() -> None:
    """RFC 3264 6: the t= line of the answer equals that of the offer."""
    offer = sdp(
        "v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 198.51.100.7\nt=3338481189 3370017201\n"
        "m=audio 6000 RTP/AVP 0\n"
    )
    answer, _ = build_answer(offer, LOCAL, ORIGIN)
    assert str(answer.timings[0]) == "3338481189 3370017201"


def test_offerers_preference_order_wins() -> None:
    """RFC 3264 6.1: send with the most preferred format of the offer that we support."""
    _, negotiated = build_answer(offer_with("m=audio 6000 RTP/AVP 8 0"), LOCAL, ORIGIN)
    assert negotiated.codec.name == "PCMA" and negotiated.payload_type == 8


def test_static_payload_types_without_rtpmap() -> None:
    """RFC 3551 6: 18 is G729 (unsupported), 9 is G722 whose RTP clock is 8000."""
    answer, negotiated = build_answer(offer_with("m=audio 6000 RTP/AVP 18 9 0"), LOCAL, ORIGIN)
    assert negotiated.codec == Codec("G722", 8000, pt=9)
    assert answer.media[0].formats == ["9"]
    assert answer.media[0].rtpmap == {9: RtpMap("G722", 8000)}


def test_static_table() -> None:
    assert STATIC_PAYLOAD_TYPES[0] == RtpMap("PCMU", 8000)
    assert STATIC_PAYLOAD_TYPES[3] == RtpMap("GSM", 8000)
    assert STATIC_PAYLOAD_TYPES[8] == RtpMap("PCMA", 8000)
    assert STATIC_PAYLOAD_TYPES[9] == RtpMap("G722", 8000)
    assert STATIC_PAYLOAD_TYPES[18] == RtpMap("G729", 8000)
    assert 96 not in STATIC_PAYLOAD_TYPES


def test_encoding_names_match_case_insensitively_and_pt_is_kept() -> None:
    """RFC 4855 3 (names are case-insensitive), RFC 3264 6.1 (the offerer's numbers are kept)."""
    offer = offer_with(
        "m=audio 6000 RTP/AVP 111 97 126",
        "a=rtpmap:111 OPUS/48000/2",
        "a=rtpmap:97 pcmu/8000",
        "a=rtpmap:126 Telephone-Event/8000",
    )
    local = LocalMedia(
        "192.0.2.10", 40000, codecs=(Codec("PCMU", 8000, pt=0), Codec("opus", 48000, 2))
    )
    answer, negotiated = build_answer(offer, local, ORIGIN)
    assert negotiated.payload_type == 111 and negotiated.codec.name == "opus"
    assert negotiated.codec.pt == 111
    assert negotiated.dtmf_payload_type == 126
    md = answer.media[0]
    assert md.formats == ["111", "126"]
    assert md.rtpmap == {111: RtpMap("OPUS", 48000, 2), 126: RtpMap("Telephone-Event", 8000)}


def test_channel_count_must_match() -> None:
    offer = offer_with("m=audio 6000 RTP/AVP 96", "a=rtpmap:96 opus/48000")
    with pytest.raises(NoCommonCodec) as info:
        build_answer(offer, LOCAL, ORIGIN)
    assert (
        str(info.value)
        == "no common codec: offered opus/48000; we support PCMU/8000, PCMA/8000, G722/8000, opus/48000/2"
    )


def test_telephone_event_answered_with_offered_fmtp() -> None:
    offer = offer_with(
        "m=audio 6000 RTP/AVP 0 100", "a=rtpmap:100 telephone-event/8000", "a=fmtp:100 0-15"
    )
    answer, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert negotiated.dtmf_payload_type == 100
    assert answer.media[0].formats == ["0", "100"]
    assert answer.media[0].fmtp == {100: "0-15"}


def test_telephone_event_without_fmtp_is_answered_with_ours() -> None:
    offer = offer_with("m=audio 6000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000")
    answer, _ = build_answer(offer, LOCAL, ORIGIN)
    assert answer.media[0].fmtp == {101: "0-16"}


def test_telephone_event_at_the_codec_clock_rate_is_preferred() -> None:
    """RFC 4733 2.1: events use the clock rate of the audio codec."""
    offer = offer_with(
        "m=audio 6000 RTP/AVP 111 101 110",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:101 telephone-event/8000",
        "a=rtpmap:110 telephone-event/48000",
    )
    _, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert negotiated.dtmf_payload_type == 110


def test_no_telephone_event_when_not_offered_or_disabled() -> None:
    _, negotiated = build_answer(offer_with("m=audio 6000 RTP/AVP 0"), LOCAL, ORIGIN)
    assert negotiated.dtmf_payload_type is None
    offer = offer_with("m=audio 6000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000")
    answer, negotiated = build_answer(offer, LocalMedia("192.0.2.10", 40000, dtmf_pt=None), ORIGIN)
    assert negotiated.dtmf_payload_type is None
    assert answer.media[0].formats == ["0"]


def test_answer_carries_our_codec_fmtp_and_reports_theirs() -> None:
    offer = offer_with(
        "m=audio 6000 RTP/AVP 96", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 stereo=1", "a=ptime:40"
    )
    local = LocalMedia(
        "192.0.2.10", 40000, codecs=(Codec("opus", 48000, 2, fmtp="useinbandfec=1"),)
    )
    answer, negotiated = build_answer(offer, local, ORIGIN)
    assert answer.media[0].fmtp == {96: "useinbandfec=1"}
    assert negotiated.remote_fmtp == "stereo=1"
    assert negotiated.ptime == 40


D = Direction
# RFC 3264 6.1, for every offered direction and every direction we want.
DIRECTION_TABLE = [
    (D.SENDRECV, D.SENDRECV, D.SENDRECV),
    (D.SENDRECV, D.SENDONLY, D.SENDONLY),
    (D.SENDRECV, D.RECVONLY, D.RECVONLY),
    (D.SENDRECV, D.INACTIVE, D.INACTIVE),
    (D.SENDONLY, D.SENDRECV, D.RECVONLY),
    (D.SENDONLY, D.SENDONLY, D.INACTIVE),
    (D.SENDONLY, D.RECVONLY, D.RECVONLY),
    (D.SENDONLY, D.INACTIVE, D.INACTIVE),
    (D.RECVONLY, D.SENDRECV, D.SENDONLY),
    (D.RECVONLY, D.SENDONLY, D.SENDONLY),
    (D.RECVONLY, D.RECVONLY, D.INACTIVE),
    (D.RECVONLY, D.INACTIVE, D.INACTIVE),
    (D.INACTIVE, D.SENDRECV, D.INACTIVE),
    (D.INACTIVE, D.SENDONLY, D.INACTIVE),
    (D.INACTIVE, D.RECVONLY, D.INACTIVE),
    (D.INACTIVE, D.INACTIVE, D.INACTIVE),
]


@pytest.mark.parametrize(("offered", "wanted", "answered"), DIRECTION_TABLE)
def test_answer_direction(offered: Direction, wanted: Direction, answered: Direction) -> None:
    offer = offer_with("m=audio 6000 RTP/AVP 0", f"a={offered}")
    answer, negotiated = build_answer(offer, LOCAL, ORIGIN, direction=wanted)
    assert answer.media[0].direction(answer) is answered
    assert negotiated.direction is answered
    assert negotiated.remote_direction is offered
    assert (negotiated.sends, negotiated.receives) == (answered.sends, answered.receives)


def test_local_direction_is_the_default_wish() -> None:
    local = LocalMedia("192.0.2.10", 40000, direction=Direction.RECVONLY)
    _, negotiated = build_answer(offer_with("m=audio 6000 RTP/AVP 0"), local, ORIGIN)
    assert negotiated.direction is Direction.RECVONLY


def test_session_level_direction_of_the_offer_applies() -> None:
    offer = offer_with("m=audio 6000 RTP/AVP 0", session="a=sendonly\n")
    answer, _ = build_answer(offer, LOCAL, ORIGIN)
    assert answer.media[0].direction(answer) is Direction.RECVONLY


@pytest.mark.parametrize("where", ["session", "media"])
def test_zero_connection_address_in_offer_is_hold(where: str) -> None:
    """RFC 3264 8.4: c=0.0.0.0 from RFC 2543 peers means hold; answer recvonly."""
    if where == "session":
        offer = offer_with("m=audio 6000 RTP/AVP 0", connection="IN IP4 0.0.0.0")
    else:
        offer = offer_with("m=audio 6000 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=sendrecv")
    answer, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert answer.media[0].direction(answer) is Direction.RECVONLY
    assert negotiated.remote_direction is Direction.SENDONLY
    assert not negotiated.sends and negotiated.receives
    assert negotiated.remote_address == "0.0.0.0"


def test_media_level_connection_and_rtcp_attribute() -> None:
    """RFC 3605: a=rtcp gives the RTCP port and address; else RTP port + 1."""
    offer = offer_with(
        "m=audio 6000 RTP/AVP 0", "c=IN IP4 203.0.113.5", "a=rtcp:7000 IN IP4 203.0.113.6"
    )
    _, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert (negotiated.remote_address, negotiated.remote_port) == ("203.0.113.5", 6000)
    assert (negotiated.remote_rtcp_address, negotiated.remote_rtcp_port) == ("203.0.113.6", 7000)
    offer = offer_with("m=audio 6000 RTP/AVP 0", "a=rtcp:7000")
    _, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert (negotiated.remote_rtcp_address, negotiated.remote_rtcp_port) == ("198.51.100.7", 7000)


def test_ipv6_offer_from_rfc5118() -> None:
    """RFC 5118 4.6: IPv6 addresses without brackets; G726-32 audio plus a video stream."""
    message = (TESTDATA / "rfc5118" / "ipv6-in-sdp.sip").read_bytes()
    offer = SessionDescription.parse(message.split(b"\r\n\r\n", 1)[1])
    with pytest.raises(NoCommonCodec) as info:
        build_answer(offer, LOCAL, ORIGIN)
    assert str(info.value) == (
        "no common codec: offered G726-32/8000; we support PCMU/8000, PCMA/8000, G722/8000, opus/48000/2"
    )
    local = LocalMedia("2001:db8::10", 40000, codecs=(Codec("G726-32", 8000),))
    answer, negotiated = build_answer(offer, local, replace_origin_address("2001:db8::10", "IP6"))
    assert negotiated.remote_address == "2001:db8::20"
    assert negotiated.payload_type == 2
    assert str(answer.connection) == "IN IP6 2001:db8::10"
    assert [md.port for md in answer.media] == [40000, 0]


def test_first_supported_audio_stream_is_taken_the_others_declined() -> None:
    offer = offer_with(
        "m=audio 6000 RTP/AVP 18",
        "m=audio 6002 RTP/AVP 0",
        "m=audio 6004 RTP/AVP 0",
        "m=video 6006 RTP/AVP 31",
    )
    answer, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert [md.port for md in answer.media] == [0, 40000, 0, 0]
    assert negotiated.remote_port == 6002


def test_disabled_audio_stream_in_offer_stays_disabled() -> None:
    offer = offer_with("m=audio 0 RTP/AVP 0", "m=audio 6002 RTP/AVP 8")
    answer, negotiated = build_answer(offer, LOCAL, ORIGIN)
    assert [md.port for md in answer.media] == [0, 40000]
    assert negotiated.codec.name == "PCMA"


def test_no_common_codec_message_is_exact() -> None:
    offer = offer_with("m=audio 6000 RTP/AVP 8 18 101", "a=rtpmap:101 telephone-event/8000")
    local = LocalMedia(
        "192.0.2.10", 40000, codecs=(Codec("PCMU", 8000, pt=0), Codec("opus", 48000, 2))
    )
    with pytest.raises(NoCommonCodec) as info:
        build_answer(offer, local, ORIGIN)
    error = info.value
    assert (
        str(error)
        == "no common codec: offered PCMA/8000, G729/8000; we support PCMU/8000, opus/48000/2"
    )
    assert error.reason == str(error)
    assert error.status == 488
    assert error.offered == ("PCMA/8000", "G729/8000")
    assert error.supported == ("PCMU/8000", "opus/48000/2")
    assert isinstance(error, OfferAnswerError) and isinstance(error, RemoteProtocolError)


def test_no_common_codec_names_unknown_dynamic_types() -> None:
    with pytest.raises(NoCommonCodec) as info:
        build_answer(offer_with("m=audio 6000 RTP/AVP 97"), LOCAL, ORIGIN)
    assert str(info.value).startswith("no common codec: offered pt 97; we support ")


@pytest.mark.parametrize(
    ("media", "message"),
    [
        (["m=video 6000 RTP/AVP 31"], "offer has no audio stream"),
        ([], "offer has no audio stream"),
        (["m=audio 0 RTP/AVP 0"], "no acceptable audio stream in offer (stream 1: port 0)"),
        (
            ["m=video 5000 RTP/AVP 31", "m=audio 6000 UDP/TLS/RTP/SAVPF 111"],
            "no acceptable audio stream in offer (stream 2: unsupported transport UDP/TLS/RTP/SAVPF)",
        ),
        (
            ["m=audio 6000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc"],
            "no acceptable audio stream in offer (stream 1: no supported crypto suite)",
        ),
    ],
)
def test_no_acceptable_media(media: list[str], message: str) -> None:
    with pytest.raises(NoAcceptableMedia) as info:
        build_answer(offer_with(*media), LOCAL, ORIGIN)
    assert str(info.value) == message
    assert info.value.status == 488


def test_srtp_required_refuses_plain_rtp() -> None:
    local = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,), srtp_required=True)
    with pytest.raises(NoAcceptableMedia) as info:
        build_answer(offer_with("m=audio 6000 RTP/AVP 0"), local, ORIGIN)
    assert str(info.value) == "no acceptable audio stream in offer (stream 1: SRTP is required)"


def test_plain_rtp_offer_is_answered_without_crypto_when_srtp_is_optional() -> None:
    local = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,))
    answer, negotiated = build_answer(offer_with("m=audio 6000 RTP/AVP 0"), local, ORIGIN)
    assert answer.media[0].proto == "RTP/AVP" and answer.media[0].crypto == []
    assert negotiated.local_crypto is None and negotiated.remote_crypto is None


def test_sdes_answer_picks_the_first_offered_suite_we_have() -> None:
    """RFC 4568: answer one a=crypto with the chosen offered line's tag and our own key."""
    their_80 = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20"
    their_32 = (
        "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20 KDR=1"
    )
    offer = offer_with("m=audio 6000 RTP/SAVP 0", f"a=crypto:{their_80}", f"a=crypto:{their_32}")
    local = LocalMedia("192.0.2.10", 40000, crypto=(KEY_32,))
    answer, negotiated = build_answer(offer, local, ORIGIN)
    md = answer.media[0]
    assert md.proto == "RTP/SAVP"
    assert md.attribute_values("crypto") == [
        "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"
    ]
    assert negotiated.local_crypto == CryptoAttribute(2, KEY_32.suite, KEY_32.key_params)
    assert negotiated.remote_crypto is not None and str(negotiated.remote_crypto) == their_32


@pytest.mark.parametrize(("line", "usable"), [
    ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", True),
    ("1 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31", True),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4", False),  # MKI
    ("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1:4", False),  # MKI
    ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD", False),  # 3 bytes, not 30
    ("1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", False),  # not base64
    ("1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", False),  # suite
    ("1 AES_CM_128_HMAC_SHA1_80 uri:http://x/WVNf", False),  # not inline
])
def test_which_crypto_lines_our_srtp_can_key_with(line: str, usable: bool) -> None:
    assert CryptoAttribute.parse(line).usable is usable


def test_an_offered_key_we_cannot_use_is_passed_over_for_the_next() -> None:
    good = "2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
    offer = offer_with("m=audio 6000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD",
                       f"a=crypto:{good}")
    _, negotiated = build_answer(offer, LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,)), ORIGIN)
    assert str(negotiated.remote_crypto) == good and negotiated.local_crypto.tag == 2


def test_an_answer_whose_key_we_cannot_use_is_invalid() -> None:
    local = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,), srtp_required=True)
    offer = build_offer(local, ORIGIN)
    answer = offer_with("m=audio 7000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD")
    with pytest.raises(InvalidAnswer, match="answer's a=crypto key cannot be used"):
        process_answer(offer, answer, local)


def test_offer_without_c_line_is_malformed() -> None:
    offer = sdp("v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=audio 6000 RTP/AVP 0\n")
    with pytest.raises(SdpParseError) as info:
        build_answer(offer, LOCAL, ORIGIN)
    assert str(info.value) == "no c= line for the audio stream"
    assert info.value.status == 400


# Processing answers ---------------------------------------------------------------


def our_offer(local: LocalMedia = LOCAL) -> SessionDescription:
    return build_offer(local, ORIGIN)


def answer_with(*media_lines: str, connection: str = "IN IP4 198.51.100.7") -> SessionDescription:
    return offer_with(*media_lines, connection=connection)


def test_process_answer_basic() -> None:
    answer = answer_with(
        "m=audio 6000 RTP/AVP 8 101", "a=rtpmap:101 telephone-event/8000", "a=ptime:30"
    )
    negotiated = process_answer(our_offer(), answer, LOCAL)
    assert negotiated == NegotiatedMedia(
        codec=Codec("PCMA", 8000, pt=8),
        payload_type=8,
        dtmf_payload_type=101,
        remote_address="198.51.100.7",
        remote_port=6000,
        remote_rtcp_address="198.51.100.7",
        remote_rtcp_port=6001,
        direction=Direction.SENDRECV,
        remote_direction=Direction.SENDRECV,
        ptime=30,
    )


def test_process_answer_takes_first_supported_format_of_the_answer() -> None:
    answer = answer_with("m=audio 6000 RTP/AVP 18 96 0", "a=rtpmap:96 opus/48000/2")
    negotiated = process_answer(our_offer(), answer, LOCAL)
    assert negotiated.codec.name == "opus" and negotiated.payload_type == 96


def test_process_answer_uses_the_answers_number_and_our_rtpmap_when_it_has_none() -> None:
    # The answer renumbers opus to 111 (RFC 3264 6.1 only says SHOULD keep it): we send 111.
    answer = answer_with("m=audio 6000 RTP/AVP 111", "a=rtpmap:111 opus/48000/2")
    assert process_answer(our_offer(), answer, LOCAL).payload_type == 111
    # No rtpmap in the answer: the number refers to our offer's mapping.
    answer = answer_with("m=audio 6000 RTP/AVP 96")
    assert process_answer(our_offer(), answer, LOCAL).codec == Codec("opus", 48000, 2, pt=96)


@pytest.mark.parametrize(
    ("offered", "answered", "ours"),
    [
        (D.SENDRECV, D.SENDRECV, D.SENDRECV),
        (D.SENDRECV, D.RECVONLY, D.SENDONLY),
        (D.SENDRECV, D.SENDONLY, D.RECVONLY),
        (D.SENDRECV, D.INACTIVE, D.INACTIVE),
        (D.SENDONLY, D.RECVONLY, D.SENDONLY),
        (D.SENDONLY, D.INACTIVE, D.INACTIVE),
        (D.RECVONLY, D.SENDONLY, D.RECVONLY),
        (D.INACTIVE, D.INACTIVE, D.INACTIVE),
    ],
)
def test_process_answer_direction(
    offered: Direction, answered: Direction, ours: Direction
) -> None:
    offer = build_offer(LOCAL, ORIGIN, direction=offered)
    negotiated = process_answer(
        offer, answer_with("m=audio 6000 RTP/AVP 0", f"a={answered}"), LOCAL
    )
    assert negotiated.direction is ours
    assert negotiated.remote_direction is answered


def test_process_answer_zero_address_means_do_not_send() -> None:
    answer = answer_with("m=audio 6000 RTP/AVP 0", connection="IN IP4 0.0.0.0")
    negotiated = process_answer(our_offer(), answer, LOCAL)
    assert negotiated.direction is Direction.RECVONLY
    assert negotiated.remote_direction is Direction.SENDONLY


def test_process_answer_rtcp_attribute() -> None:
    answer = answer_with("m=audio 6000 RTP/AVP 0", "a=rtcp:6010 IN IP6 2001:db8::7")
    negotiated = process_answer(our_offer(), answer, LOCAL)
    assert (negotiated.remote_rtcp_address, negotiated.remote_rtcp_port) == ("2001:db8::7", 6010)


def test_process_answer_with_rejected_video_slot() -> None:
    offer = build_offer(LOCAL, ORIGIN, previous_media=sdp(RFC3264_OFFER).media, audio_index=0)
    assert [md.port for md in offer.media] == [40000, 0, 0]
    answer = answer_with("m=audio 6000 RTP/AVP 0", "m=video 0 RTP/AVP 31", "m=video 0 RTP/AVP 32")
    assert process_answer(offer, answer, LOCAL).remote_port == 6000


@pytest.mark.parametrize(
    ("media", "error", "message"),
    [
        (
            ["m=audio 6000 RTP/AVP 0", "m=video 0 RTP/AVP 31"],
            InvalidAnswer,
            "answer has 2 m= lines, offer had 1",
        ),
        (["m=video 6000 RTP/AVP 31"], InvalidAnswer, "answer stream 1 is video, offer had audio"),
        (["m=audio 0 RTP/AVP 0"], NoAcceptableMedia, "answer rejected the audio stream"),
        (
            ["m=audio 6000 RTP/AVP 18 97", "a=rtpmap:97 iLBC/8000"],
            NoCommonCodec,
            "no common codec: answered G729/8000, iLBC/8000; we support PCMU/8000, PCMA/8000, G722/8000, opus/48000/2",
        ),
    ],
)
def test_process_answer_errors(
    media: list[str], error: type[OfferAnswerError], message: str
) -> None:
    with pytest.raises(error) as info:
        process_answer(our_offer(), answer_with(*media), LOCAL)
    assert str(info.value) == message


def test_process_answer_sdes() -> None:
    local = LocalMedia(
        "192.0.2.10", 40000, crypto=(KEY_80, CryptoAttribute(2, KEY_32.suite, KEY_32.key_params))
    )
    theirs = "2 AES_CM_128_HMAC_SHA1_32 inline:QUJjZGVmZ2hpSktMbW9QUXJzVFVWd3l6MTIzNDU2"
    answer = answer_with("m=audio 6000 RTP/SAVP 0", f"a=crypto:{theirs}")
    negotiated = process_answer(our_offer(local), answer, local)
    assert negotiated.local_crypto == CryptoAttribute(2, KEY_32.suite, KEY_32.key_params)
    assert negotiated.remote_crypto == CryptoAttribute.parse(theirs)


@pytest.mark.parametrize(
    "crypto_line",
    [
        None,
        "3 AES_CM_128_HMAC_SHA1_80 inline:QUJjZGVmZ2hpSktMbW9QUXJzVFVWd3l6MTIzNDU2",  # tag we never offered
        "1 AES_CM_128_HMAC_SHA1_32 inline:QUJjZGVmZ2hpSktMbW9QUXJzVFVWd3l6MTIzNDU2",  # suite of tag 1 differs
    ],
)
def test_process_answer_sdes_mismatch(crypto_line: str | None) -> None:
    local = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,))
    lines = ["m=audio 6000 RTP/SAVP 0"] + ([f"a=crypto:{crypto_line}"] if crypto_line else [])
    with pytest.raises(InvalidAnswer) as info:
        process_answer(our_offer(local), answer_with(*lines), local)
    assert str(info.value) == "answer has no a=crypto line matching our offer"


def test_process_answer_downgrade_to_plain_rtp() -> None:
    required = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,), srtp_required=True)
    with pytest.raises(InvalidAnswer) as info:
        process_answer(our_offer(required), answer_with("m=audio 6000 RTP/AVP 0"), required)
    assert str(info.value) == "answer downgraded RTP/SAVP to RTP/AVP"
    optional = LocalMedia("192.0.2.10", 40000, crypto=(KEY_80,))
    negotiated = process_answer(
        our_offer(optional), answer_with("m=audio 6000 RTP/AVP 0"), optional
    )
    assert negotiated.local_crypto is None


def test_default_codecs() -> None:
    assert [c.label for c in DEFAULT_CODECS] == [
        "PCMU/8000",
        "PCMA/8000",
        "G722/8000",
        "opus/48000/2",
    ]
    assert Codec("pcmu", 8000).matches(RtpMap("PCMU", 8000))
    assert not Codec("opus", 48000, 2).matches(RtpMap("opus", 48000, 1))


def test_answers_to_offers_of_one_shape_differ_in_what_is_per_call() -> None:
    # The codec part of an answer is remembered per offered stream shape; the
    # ports, addresses and directions still come from each offer and each LocalMedia.
    first = offer_with("m=audio 49170 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000")
    second = offer_with("m=audio 50000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000",
                        "a=sendonly", connection="IN IP4 203.0.113.9")
    answer1, negotiated1 = build_answer(first, LOCAL, ORIGIN)
    answer2, negotiated2 = build_answer(second, LocalMedia("192.0.2.10", 40002), ORIGIN)
    assert (negotiated1.remote_address, negotiated1.remote_port) == ("198.51.100.7", 49170)
    assert (negotiated2.remote_address, negotiated2.remote_port) == ("203.0.113.9", 50000)
    assert (answer1.media[0].port, answer2.media[0].port) == (40000, 40002)
    assert (negotiated1.direction, negotiated2.direction) == (Direction.SENDRECV,
                                                              Direction.RECVONLY)
    assert answer1.media[0].formats == answer2.media[0].formats == ["0", "101"]
    answer1.media[0].attributes.append(("x-mine", None))  # an answer is the caller's to change
    assert ("x-mine", None) not in build_answer(first, LOCAL, ORIGIN)[0].media[0].attributes
    # ... and other codecs of ours give another codec part.
    pcma_only = LocalMedia("192.0.2.10", 40000, codecs=(Codec("PCMA", 8000, pt=8),))
    with pytest.raises(NoCommonCodec):
        build_answer(first, pcma_only, ORIGIN)


def test_a_malformed_rtpmap_fails_every_time_it_is_offered() -> None:
    offer = offer_with("m=audio 49170 RTP/AVP 96", "a=rtpmap:96 opus")
    for _ in range(2):
        with pytest.raises(SdpParseError, match="bad a=rtpmap value"):
            build_answer(offer, LOCAL, ORIGIN)
