"""CallMedia and SRTP: the account's srtp mode shapes our SDP, the negotiated keys drive
the RTP session, and an auto-answering phone never reuses an answer with keys in it."""

from __future__ import annotations

import random

import pytest

from tui_phone.config import parse_config
from tui_phone.events import IncomingCall, PhoneEvent
from tui_phone.media import CallMedia
from tui_phone.phone import Phone
from tui_phone.rtp.packet import RtpPacket
from tui_phone.rtp.srtp import SrtpContext
from tui_phone.sip.message import SipResponse, parse_message
from tui_phone.sip.offeranswer import RTP_AVP, RTP_SAVP, NoAcceptableMedia
from tui_phone.sip.sdp import SessionDescription
from tui_phone.sip.sdpsession import SdpSession
from tui_phone.testing.fakereactor import FakeReactor


def media() -> CallMedia:
    return CallMedia(FakeReactor())


def test_the_srtp_mode_shapes_our_side() -> None:
    m = media()
    off = m.local_media(("PCMU",))
    assert off.crypto == () and off.proto == RTP_AVP
    mandatory = m.local_media(("PCMU",), srtp="mandatory", offer=True)
    assert mandatory.proto == RTP_SAVP and mandatory.srtp_required
    assert [c.suite for c in mandatory.crypto] == ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
    # optional: plain RTP offered (every peer takes it), SRTP accepted when offered
    assert m.local_media(("PCMU",), srtp="optional", offer=True).crypto == ()
    answering = m.local_media(("PCMU",), srtp="optional")
    assert answering.crypto == mandatory.crypto and not answering.srtp_required
    # the keys belong to this call: another media has others
    assert media().local_media(("PCMU",), srtp="mandatory").crypto[0].key_params != mandatory.crypto[0].key_params


def negotiate(offerer: str, answerer: str) -> tuple[CallMedia, CallMedia, SessionDescription]:
    a, b = media(), media()
    sa = SdpSession(a.local_media(("PCMU",), srtp=offerer, offer=True), 1)
    sb = SdpSession(b.local_media(("PCMU",), srtp=answerer), 2)
    offer = sa.create_offer()
    answer, negotiated_b = sb.create_answer(SessionDescription.parse(bytes(offer)))
    a.apply(sa.process_answer(SessionDescription.parse(bytes(answer))))
    b.apply(negotiated_b)
    return a, b, answer


def test_negotiated_keys_protect_one_way_and_unprotect_the_other() -> None:
    a, b, answer = negotiate("mandatory", "optional")
    assert answer.media[0].proto == RTP_SAVP
    assert isinstance(a.session.srtp, SrtpContext) and isinstance(b.session.srtp, SrtpContext)
    packet = bytes(RtpPacket(payload_type=0, sequence_number=7, timestamp=160, ssrc=5, payload=b"x" * 160))
    protected = a.session.srtp.protect(packet)
    assert protected != packet and b.session.srtp.unprotect(protected) == packet
    back = b.session.srtp.protect(packet)
    assert a.session.srtp.unprotect(back) == packet


def test_plain_rtp_when_nobody_asks_for_srtp_and_keys_kept_across_exchanges() -> None:
    a, b, answer = negotiate("optional", "optional")  # plain offer: plain answer
    assert answer.media[0].proto == RTP_AVP and a.session.srtp is None and b.session.srtp is None
    a, b, _ = negotiate("mandatory", "mandatory")
    context = a.session.srtp
    assert context is not None
    a.apply(a.negotiated)  # e.g. a re-INVITE naming the same keys: same context, counters kept
    assert a.session.srtp is context


KEY = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"  # 30 bytes


@pytest.mark.parametrize(("crypto", "keyed"), [
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}", True),
    (f"7 AES_CM_128_HMAC_SHA1_32 inline:{KEY}|2^31 UNENCRYPTED_SRTCP", True),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|", False),  # empty lifetime
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^100", False),  # lifetime out of range
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4", False),  # MKI
    ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD", False),  # 3 bytes
    (f"1 AES_256_CM_HMAC_SHA1_80 inline:{KEY}", False),  # suite
])
def test_an_offered_key_is_refused_before_the_answer_or_keys_the_media(crypto: str, keyed: bool) -> None:
    """The offer/answer and the SRTP layer read a=crypto as one object with one check:
    a key refused is refused with 488 before any answer, a key taken keys the RTP."""
    offer = SessionDescription.parse(
        b"v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 6000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n" + f"a=crypto:{crypto}\r\n".encode())
    b = media()
    session = SdpSession(b.local_media(("PCMU",), srtp="optional"), 2)
    if not keyed:
        with pytest.raises(NoAcceptableMedia, match="no supported crypto suite"):
            session.create_answer(offer)
        return
    answer, negotiated = session.create_answer(offer)
    b.apply(negotiated)
    assert b.session.srtp is not None and b.session.srtp.remote is negotiated.remote_crypto
    assert answer.media[0].crypto[0].tag == int(crypto.split()[0])


OFFER = (b"v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         b"m=audio 6000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
         b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")


def invite(number: int) -> bytes:
    return (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-srtp-{number}\r\n"
            f"From: <sip:alice@127.0.0.1:5099>;tag=a{number}\r\nTo: <sip:bob@127.0.0.1:5060>\r\n"
            f"Call-ID: srtp-{number}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5099>\r\n"
            f"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n"
            ).encode() + OFFER


def test_an_auto_answering_phone_gives_every_srtp_call_its_own_keys() -> None:
    reactor = FakeReactor()
    config = parse_config('[accounts.bob]\nuri = "sip:bob@127.0.0.1"\nsrtp = "mandatory"\n'
                          '[phone]\nrtp_port_range = [30000, 30100]\n')
    phone = Phone(config, reactor, listen=("127.0.0.1", 5060), rng=random.Random(4), auto_answer=True)
    calls: list[PhoneEvent] = []
    phone.subscribe(calls.append, (IncomingCall,))
    phone.start(register=False)
    sip = reactor.udp_ports[0]
    for number in (1, 2, 3):  # the very same offer bytes, call after call
        sip.receive(invite(number), ("127.0.0.1", 5099))
    answers = [parse_message(data) for data, _ in sip.sent]
    oks = [r for r in answers if isinstance(r, SipResponse) and r.status == 200]
    assert len(oks) == 3 and len(calls) == 3
    keys = [SessionDescription.parse(ok.body).media[0].crypto[0].key_params for ok in oks]
    assert len(set(keys)) == 3, keys
