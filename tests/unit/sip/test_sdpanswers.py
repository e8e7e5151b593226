"""AnswerTemplates: an answer learned from the real negotiation renders the same
answer for another session id and port, and nothing else is ever served."""

from __future__ import annotations

from dataclasses import replace

from tui_phone.sip.offeranswer import LocalMedia
from tui_phone.sip.sdp import CryptoAttribute, SessionDescription
from tui_phone.sip.sdpanswers import AnswerTemplates
from tui_phone.sip.sdpsession import SdpSession

OFFER = (b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n"
         b"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
         b"a=rtpmap:101 telephone-event/8000\r\n")
TWO_STREAMS = (b"v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               b"m=video 7000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
               b"m=audio 6000 RTP/AVP 8\r\n")


def answer(offer: bytes, local: LocalMedia, sess_id: int) -> bytes:
    """What the general path answers: SdpSession.create_answer in a fresh session."""
    sdp, _ = SdpSession(local, sess_id).create_answer(SessionDescription.parse(offer))
    return bytes(sdp)


def learned(offer: bytes, local: LocalMedia, sess_id: int = 1700000000) -> AnswerTemplates:
    templates = AnswerTemplates()
    assert templates.learn(offer, local, answer(offer, local, sess_id), sess_id, sess_id)
    return templates


def test_a_learned_answer_renders_for_another_session_and_port() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    templates = learned(OFFER, local)
    other = replace(local, port=30002)
    assert templates.render(OFFER, other, 1700000123) == answer(OFFER, other, 1700000123)


def test_a_declined_stream_before_ours_keeps_its_port_zero() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    templates = learned(TWO_STREAMS, local)
    other = replace(local, port=40000)
    rendered = templates.render(TWO_STREAMS, other, 42)
    assert rendered == answer(TWO_STREAMS, other, 42)
    assert b"m=video 0 " in rendered and b"m=audio 40000 " in rendered  # type: ignore[operator]


def test_another_offer_or_other_media_of_ours_is_not_found() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    templates = learned(OFFER, local)
    assert templates.render(OFFER.replace(b"53655765", b"53655766"), local, 1) is None
    assert templates.render(OFFER.replace(b"6000", b"6002"), local, 1) is None
    assert templates.render(OFFER, replace(local, address="127.0.0.2"), 1) is None
    codecs = tuple(reversed(local.codecs))
    assert templates.render(OFFER, replace(local, codecs=codecs), 1) is None


def test_media_with_keys_and_a_bumped_version_are_not_learned() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    key = CryptoAttribute(1, "AES_CM_128_HMAC_SHA1_80", ("inline:" + "A" * 40,))
    keyed = replace(local, crypto=(key,))
    templates = AnswerTemplates()
    assert not templates.learn(OFFER, keyed, answer(OFFER, local, 5), 5, 5)
    assert templates.render(OFFER, keyed, 5) is None
    assert not templates.learn(OFFER, local, answer(OFFER, local, 5), 5, 6)
    assert len(templates) == 0


def test_an_answer_the_cut_does_not_render_back_is_not_learned() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    text = answer(OFFER, local, 77)
    templates = AnswerTemplates()
    # Two m= lines with our port: which one is ours is not known.
    twice = text + b"m=audio 30000 RTP/AVP 0\r\n"
    assert not templates.learn(OFFER, local, twice, 77, 77)
    assert not templates.learn(OFFER, local, text.replace(b"o=- 77 77", b"o=- 77 78"), 77, 77)
    assert len(templates) == 0


def test_the_table_starts_afresh_when_full() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    templates = AnswerTemplates(size=2)
    for number in range(3):
        offer = OFFER.replace(b"53655765", str(number).encode())
        assert templates.learn(offer, local, answer(offer, local, 9), 9, 9)
    assert len(templates) == 1


def test_several_shapes_of_our_media_per_offer_and_learning_again_replaces() -> None:
    local = LocalMedia("127.0.0.1", 30000)
    other = replace(local, address="127.0.0.2")
    templates = AnswerTemplates(size=3)
    for media in (local, other, local):
        assert templates.learn(OFFER, media, answer(OFFER, media, 9), 9, 9)
    assert len(templates) == 2
    for media in (local, other):
        moved = replace(media, port=30010)
        assert templates.render(OFFER, moved, 11) == answer(OFFER, moved, 11)
    offer2 = OFFER.replace(b"53655765", b"1")
    assert templates.learn(offer2, local, answer(offer2, local, 9), 9, 9)
    assert len(templates) == 3
    offer3 = OFFER.replace(b"53655765", b"2")  # full: starts afresh with this one
    assert templates.learn(offer3, other, answer(offer3, other, 9), 9, 9)
    assert len(templates) == 1 and templates.render(OFFER, local, 1) is None
