"""Tests of tui_phone.sip.sdpsession: RFC 3264 8 state across exchanges, tested in pairs."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.offeranswer import Codec, LocalMedia, NegotiatedMedia, NoCommonCodec
from tui_phone.sip.sdp import CryptoAttribute, Direction, MediaDescription, SessionDescription
from tui_phone.sip.sdpsession import SdpSession

ALICE = LocalMedia("192.0.2.1", 40000)
BOB = LocalMedia(
    "198.51.100.2", 50000, codecs=(Codec("opus", 48000, 2), Codec("PCMA", 8000, pt=8))
)


def exactly(message: str) -> str:
    """A ``match=`` pattern for exactly ``message``."""
    return f"^{re.escape(message)}$"


def wire(sdp: SessionDescription) -> SessionDescription:
    """What the peer sees: the SDP serialised and parsed again."""
    return SessionDescription.parse(bytes(sdp))


class Pair:
    """Two sessions talking to each other in one process (h11's ConnectionPair idea)."""

    def __init__(self, alice: LocalMedia = ALICE, bob: LocalMedia = BOB) -> None:
        self.alice = SdpSession(alice, 1000)
        self.bob = SdpSession(bob, 2000, sess_version=7)

    @staticmethod
    def exchange(
        offerer: SdpSession, answerer: SdpSession, offer: SessionDescription | None = None
    ) -> tuple[SessionDescription, SessionDescription, NegotiatedMedia, NegotiatedMedia]:
        """One complete exchange; returns (offer, answer, offerer's outcome, answerer's outcome)."""
        offer = offer if offer is not None else offerer.create_offer()
        answer, answerer_media = answerer.create_answer(wire(offer))
        offerer_media = offerer.process_answer(wire(answer))
        return offer, answer, offerer_media, answerer_media


def test_initial_exchange_agrees_on_codec_and_addresses() -> None:
    pair = Pair()
    offer, answer, alice_media, bob_media = pair.exchange(pair.alice, pair.bob)
    assert (offer.origin.sess_id, offer.origin.sess_version) == ("1000", 1000)
    assert (answer.origin.sess_id, answer.origin.sess_version) == ("2000", 7)
    # Alice offered PCMU, PCMA, G722, opus: Bob takes her most preferred that he has.
    assert alice_media.codec.name == bob_media.codec.name == "PCMA"
    assert alice_media.payload_type == bob_media.payload_type == 8
    assert alice_media.dtmf_payload_type == bob_media.dtmf_payload_type == 101
    assert (alice_media.remote_address, alice_media.remote_port) == ("198.51.100.2", 50000)
    assert (bob_media.remote_address, bob_media.remote_port) == ("192.0.2.1", 40000)
    assert alice_media.direction is bob_media.direction is Direction.SENDRECV
    assert pair.alice.negotiated == alice_media and pair.bob.negotiated == bob_media


def test_unchanged_re_offer_keeps_the_version() -> None:
    """RFC 3264 8: same SDP, same version."""
    session = SdpSession(ALICE, 1000)
    first = session.create_offer()
    session.offer_rejected()
    again = session.create_offer()
    assert bytes(again) == bytes(first)
    assert again.origin.sess_version == 1000


def test_changed_re_offer_increments_the_version_by_one() -> None:
    pair = Pair()
    pair.exchange(pair.alice, pair.bob)
    pair.alice.update_local(replace(ALICE, port=40002, address="192.0.2.99"))
    offer, *_ = pair.exchange(pair.alice, pair.bob)
    assert offer.origin.sess_version == 1001
    assert offer.media[0].port == 40002
    # The o= line is otherwise identical, even though our address changed (RFC 3264 8).
    assert (offer.origin.sess_id, offer.origin.address) == ("1000", "192.0.2.1")
    assert str(offer.connection) == "IN IP4 192.0.2.99"


def test_hold_and_resume() -> None:
    """RFC 3264 8.4 / RFC 4317 3.1: hold is a sendonly re-offer, answered recvonly."""
    pair = Pair()
    pair.exchange(pair.alice, pair.bob)
    hold, hold_answer, alice_media, bob_media = pair.exchange(
        pair.alice, pair.bob, pair.alice.hold()
    )
    assert pair.alice.on_hold
    assert hold.media[0].direction(hold) is Direction.SENDONLY
    assert hold.origin.sess_version == 1001
    assert hold_answer.media[0].direction(hold_answer) is Direction.RECVONLY
    assert hold_answer.origin.sess_version == 8
    assert (
        alice_media.direction is Direction.SENDONLY and bob_media.direction is Direction.RECVONLY
    )
    assert wire(hold).media[0].is_on_hold(wire(hold))
    resume, resume_answer, alice_media, bob_media = pair.exchange(
        pair.alice, pair.bob, pair.alice.resume()
    )
    assert not pair.alice.on_hold
    assert resume.media[0].direction(resume) is Direction.SENDRECV
    assert resume.origin.sess_version == 1002
    assert resume_answer.origin.sess_version == 9
    assert alice_media.direction is bob_media.direction is Direction.SENDRECV


def test_hold_of_a_recvonly_stream_is_inactive() -> None:
    session = SdpSession(replace(ALICE, direction=Direction.RECVONLY), 1000)
    assert session.hold().media[0].direction() is Direction.INACTIVE


def test_both_sides_hold() -> None:
    pair = Pair()
    pair.exchange(pair.alice, pair.bob)
    pair.exchange(pair.alice, pair.bob, pair.alice.hold())
    _, answer, bob_media, alice_media = pair.exchange(pair.bob, pair.alice, pair.bob.hold())
    # Alice is holding too, so her answer to Bob's sendonly is inactive (RFC 3264 6.1).
    assert answer.media[0].direction(answer) is Direction.INACTIVE
    assert alice_media.direction is bob_media.direction is Direction.INACTIVE


def test_answering_while_on_hold_keeps_holding() -> None:
    pair = Pair()
    pair.exchange(pair.alice, pair.bob)
    pair.exchange(pair.alice, pair.bob, pair.alice.hold())
    _, answer, _, alice_media = pair.exchange(pair.bob, pair.alice)
    assert answer.media[0].direction(answer) is Direction.SENDONLY
    assert alice_media.direction is Direction.SENDONLY


def test_rejected_hold_restores_state_and_versions_only_grow() -> None:
    pair = Pair()
    pair.exchange(pair.alice, pair.bob)
    hold = pair.alice.hold()
    assert hold.origin.sess_version == 1001
    pair.alice.offer_rejected()  # e.g. 491 Request Pending
    assert not pair.alice.on_hold
    # Not on hold: the offer is that of version 1000 again, but the peer saw 1001 last.
    offer = pair.alice.create_offer()
    assert offer.media[0].direction() is Direction.SENDRECV
    assert offer.origin.sess_version == 1002


def test_failed_answer_processing_withdraws_the_offer() -> None:
    session = SdpSession(ALICE, 1000)
    session.hold()
    answer = SessionDescription.parse(
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 18\r\n"
    )
    with pytest.raises(NoCommonCodec):
        session.process_answer(answer)
    assert session.pending_offer is None
    assert not session.on_hold


def test_offer_answer_order_is_enforced() -> None:
    """RFC 3264 4: one offer at a time."""
    pair = Pair()
    bobs_offer = pair.bob.create_offer()
    with pytest.raises(LocalProtocolError, match=exactly("no offer is pending")):
        pair.alice.process_answer(bobs_offer)
    with pytest.raises(LocalProtocolError, match=exactly("no offer is pending")):
        pair.alice.offer_rejected()
    offer = pair.alice.create_offer()
    assert pair.alice.pending_offer == offer
    with pytest.raises(LocalProtocolError, match=exactly("an offer is already pending")):
        pair.alice.create_offer()
    with pytest.raises(LocalProtocolError, match=exactly("an offer is already pending")):
        pair.alice.hold()
    with pytest.raises(
        LocalProtocolError, match=exactly("cannot answer while our own offer is pending")
    ):
        pair.alice.create_answer(bobs_offer)


def test_returned_sdp_is_a_copy() -> None:
    session = SdpSession(ALICE, 1000)
    offer = session.create_offer()
    offer.media[0].port = 1
    session.offer_rejected()
    assert session.create_offer().origin.sess_version == 1000


def test_re_offer_keeps_declined_streams_and_audio_position() -> None:
    """RFC 3264 8: the re-offer repeats every m= line of the previous SDP, in order."""
    remote = SessionDescription.parse(
        b"v=0\r\no=carol 5 5 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n"
        b"m=video 7000 RTP/AVP 31\r\nm=audio 7002 RTP/AVP 0\r\nm=text 7004 RTP/AVP 98\r\n"
    )
    session = SdpSession(ALICE, 1000)
    answer, negotiated = session.create_answer(remote)
    assert [md.port for md in answer.media] == [0, 40000, 0]
    assert negotiated.remote_port == 7002
    re_offer = session.hold()
    assert [(md.media, md.port) for md in re_offer.media] == [
        ("video", 0),
        ("audio", 40000),
        ("text", 0),
    ]
    assert re_offer.media[1].direction() is Direction.SENDONLY
    assert re_offer.origin.sess_version == 1001
    remote_answer = SessionDescription.parse(
        b"v=0\r\no=carol 5 6 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n"
        b"m=video 0 RTP/AVP 31\r\nm=audio 7002 RTP/AVP 0\r\na=recvonly\r\nm=text 0 RTP/AVP 98\r\n"
    )
    assert session.process_answer(remote_answer).direction is Direction.SENDONLY


def test_dynamic_payload_types_stay_bound_across_exchanges() -> None:
    """RFC 3264 8.3.2: the peer bound opus to 111 and telephone-event to 100; our re-offer keeps them."""
    remote = SessionDescription.parse(
        b"v=0\r\no=carol 5 5 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n"
        b"m=audio 7002 RTP/AVP 111 100\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:100 telephone-event/8000\r\n"
    )
    session = SdpSession(ALICE, 1000)
    session.create_answer(remote)
    offer = session.create_offer()
    md = offer.media[0]
    assert md.formats == ["0", "8", "9", "111", "100"]
    assert md.rtpmap[111].encoding == "opus" and md.rtpmap[100].encoding == "telephone-event"


def test_answer_to_an_unchanged_offer_keeps_its_version() -> None:
    """RFC 3264 8: an offer with the same version is a no-op; the same answer keeps its version."""
    pair = Pair()
    offer, first_answer, *_ = pair.exchange(pair.alice, pair.bob)
    second_answer, _ = pair.bob.create_answer(wire(offer))
    assert bytes(second_answer) == bytes(first_answer)


def test_ipv6_session() -> None:
    pair = Pair(alice=LocalMedia("2001:db8::1", 40000), bob=replace(BOB, address="2001:db8::2"))
    offer, _, alice_media, bob_media = pair.exchange(pair.alice, pair.bob)
    assert bytes(offer).splitlines()[1] == b"o=- 1000 1000 IN IP6 2001:db8::1"
    assert alice_media.remote_address == "2001:db8::2"
    assert bob_media.remote_address == "2001:db8::1"


def test_sdes_call() -> None:
    alice_key = CryptoAttribute(
        1, "AES_CM_128_HMAC_SHA1_80", ("inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj",)
    )
    bob_key = CryptoAttribute(
        9, "AES_CM_128_HMAC_SHA1_80", ("inline:QUJjZGVmZ2hpSktMbW9QUXJzVFVWd3l6MTIzNDU2",)
    )
    pair = Pair(alice=replace(ALICE, crypto=(alice_key,)), bob=replace(BOB, crypto=(bob_key,)))
    offer, answer, alice_media, bob_media = pair.exchange(pair.alice, pair.bob)
    assert offer.media[0].proto == answer.media[0].proto == "RTP/SAVP"
    # Each side sends with its own key and receives with the other's.
    assert alice_media.local_crypto == bob_media.remote_crypto == alice_key
    assert alice_media.remote_crypto == bob_media.local_crypto == replace(bob_key, tag=1)


def test_session_properties() -> None:
    session = SdpSession(ALICE, 1000, sess_version=5)
    assert session.local is ALICE
    assert session.origin.sess_version == 5
    assert session.negotiated is None and session.pending_offer is None and not session.on_hold
    assert isinstance(session.create_offer().media[0], MediaDescription)
