"""A phone that answers every call (Phone.auto_answer) answers an offer it has
answered before at once: its 200 OK is the general path's 200 OK field by field,
and everything the general path does for the call follows it.

Each INVITE shape goes to two phones on fake reactors: one answering at once,
one answering through IncomingCall (the general path). A first call with the
same offer teaches the first phone its answer; the second call is compared.
"""

from __future__ import annotations

import random
import re

import pytest

from tui_phone.call import Call, CallError, CallState
from tui_phone.config import parse_config
from tui_phone.events import (
    CallAnswered,
    CallStateChanged,
    IncomingCall,
    PhoneEvent,
    SipMessageLogged,
)
from tui_phone.phone import Phone
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.routing import Source
from tui_phone.sip.answeratonce import AnswerAtOnce
from tui_phone.testing.fakereactor import FakeReactor, FakeUdpPort

PEER = ("127.0.0.1", 5099)
CONFIG = '[accounts.bob]\nuri = "sip:bob@127.0.0.1"\n[phone]\nrtp_port_range = [30000, 30100]\n'
OFFER = ("v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
         "t=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\n")
NO_COMMON_CODEC = OFFER.replace("RTP/AVP 0 101", "RTP/AVP 97").replace(
    "a=rtpmap:0 PCMU/8000", "a=rtpmap:97 iLBC/8000")


def sipp_like(number: int, body: str = OFFER) -> str:
    return (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {PEER[0]}:{PEER[1]};branch=z9hG4bK-{number}\r\n"
            f"From: sipp <sip:sipp@{PEER[0]}:{PEER[1]}>;tag={number}SIPpTag00\r\n"
            f"To: bob <sip:bob@127.0.0.1:5060>\r\nCall-ID: {number}-1@127.0.0.1\r\n"
            f"CSeq: 1 INVITE\r\nContact: sip:sipp@{PEER[0]}:{PEER[1]}\r\nMax-Forwards: 70\r\n"
            f"Subject: Performance Test\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}")


def many_vias(number: int, body: str = OFFER) -> str:
    return (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {PEER[0]}:{PEER[1]};rport;branch=z9hG4bK-{number}\r\n"
            f"Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-up{number}, "
            f"SIP/2.0/UDP 10.0.0.8;branch=z9hG4bK-up2{number}\r\n"
            f"From: \"Alice\" <sip:alice@127.0.0.1>;tag=f{number}\r\n"
            f"To: <sip:bob@127.0.0.1:5060>\r\nCall-ID: mv{number}@test\r\n"
            f"CSeq: 314 INVITE\r\nContact: <sip:alice@{PEER[0]}:{PEER[1]}>;expires=60\r\n"
            f"Max-Forwards: 68\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}")


def compact(number: int, body: str = OFFER) -> str:
    return (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"v: SIP/2.0/UDP 127.0.0.2:5098;branch=z9hG4bK-{number}\r\n"
            f"f: sip:alice@127.0.0.1;tag=c{number}\r\nt: sip:bob@127.0.0.1:5060\r\n"
            f"i: compact{number}@test\r\nCSeq: 1 INVITE\r\nm: <sip:alice@{PEER[0]}:{PEER[1]}>\r\n"
            f"c: application/sdp\r\nl: {len(body)}\r\n\r\n{body}")


class Side:
    """A started phone on a fake reactor answering every call, at once or not."""

    def __init__(self, *, at_once: bool) -> None:
        self.reactor = FakeReactor()
        self.phone = Phone(parse_config(CONFIG), self.reactor, listen=("127.0.0.1", 5060),
                           rng=random.Random(4), auto_answer=at_once)
        self.events: list[PhoneEvent] = []
        self.phone.subscribe(self._on_event)
        self.phone.start(register=False)
        self.sip: FakeUdpPort = self.reactor.udp_ports[0]

    def _on_event(self, event: PhoneEvent) -> None:
        self.events.append(event)
        if isinstance(event, IncomingCall) and event.call.state is CallState.INCOMING:
            event.call.answer()

    def sent_for(self, call_id: str) -> list[bytes]:
        return [data for data, _ in self.sip.sent if parse_message(data).call_id == call_id]

    def receive(self, text: str) -> list[SipResponse]:
        """Deliver one datagram; the responses it was answered with."""
        before = len(self.sip.sent)
        self.sip.receive(text.encode(), PEER)
        self.reactor.advance(0)
        sent = [parse_message(data) for data, _ in self.sip.sent[before:]]
        return [r for r in sent if isinstance(r, SipResponse)]


def normalized_sdp(body: bytes) -> str:
    """The SDP with the per-call fields blanked: our o= id and version, our port."""
    text = re.sub(r"o=(\S+) \d+ \d+ ", r"o=\1 ID ID ", body.decode())
    return re.sub(r"m=audio [1-9]\d* ", "m=audio PORT ", text)


def fields(response: SipResponse) -> list[tuple[str, str]]:
    out = []
    for name, value in response.headers:
        if name == "To":
            value = re.sub(r";tag=[^;]+", ";tag=TAG", value)
        out.append((name, value))
    return out


@pytest.mark.parametrize("shape", [sipp_like, many_vias, compact])
def test_the_200_ok_given_at_once_is_the_general_one_field_by_field(shape) -> None:  # type: ignore[no-untyped-def]
    fast, general = Side(at_once=True), Side(at_once=False)
    for side in (fast, general):
        [first] = side.receive(shape(1))
        assert first.status == 200
    assert len(fast.phone.answers) == 1  # learned from the first call's general answer
    parsed_first: list[SipRequest] = []
    ask = fast.phone.ua._answered_at_once
    fast.phone.ua._answered_at_once = lambda request, *rest: (  # type: ignore[method-assign]
        parsed_first.append(request) or ask(request, *rest))
    # The second call's INVITE is parsed before its answer; the third one, of a
    # plain shape answered before, is answered from its datagram.
    for number in (2, 3):
        [ok] = fast.receive(shape(number))
        [reference] = general.receive(shape(number))
        assert fast.phone.calls[-1].state is CallState.CONNECTED
        assert (ok.status, ok.reason) == (reference.status, reference.reason) == (200, "OK")
        assert fields(ok) == fields(reference)
        assert ok.to_addr.tag and ok.to_addr.tag == fast.phone.calls[-1].dialog.local_tag
        assert normalized_sdp(ok.body) == normalized_sdp(reference.body)
        call = fast.phone.calls[-1]
        assert f"m=audio {call.media.port} ".encode() in ok.body
        assert ok.body == bytes(call._answer_sdp)  # the offer/answer state is what was sent
        assert call.media.negotiated == general.phone.calls[-1].media.negotiated
        assert call._invite is not None and call._invite.via == general.phone.calls[-1]._invite.via
    plain = shape is sipp_like
    assert len(fast.phone.ua.invite_shapes) == (1 if plain else 0)
    assert [r.call_id for r in parsed_first] == ([f"{2}-1@127.0.0.1"] if plain else
                                                  [parse_message(shape(n).encode()).call_id
                                                   for n in (2, 3)])


def rport(number: int) -> str:
    return sipp_like(number).replace(";branch=", ";rport;branch=").replace(
        f"Via: SIP/2.0/UDP {PEER[0]}", "Via: SIP/2.0/UDP client.invalid")


def test_an_invite_answered_from_its_shape_gets_its_via_stamped() -> None:
    side = Side(at_once=True)
    for number in (1, 2):
        side.receive(rport(number))
    assert len(side.phone.ua.invite_shapes) == 1
    [ok] = side.receive(rport(3))
    assert ok.headers.get_all("via") == [
        f"SIP/2.0/UDP client.invalid:{PEER[1]};rport={PEER[1]};branch=z9hG4bK-3;received={PEER[0]}"]
    assert side.sip.sent[-1][1] == PEER  # to received and rport (RFC 3581 4)


def test_what_an_invite_answered_from_its_shape_leaves_to_the_general_path() -> None:
    side = Side(at_once=True)
    for number in (1, 2, 3):
        side.receive(sipp_like(number))
    calls = len(side.phone.calls)
    # A copy of the last INVITE: its session (and transaction) exists.
    assert side.receive(sipp_like(3)) == []
    # A new Call-ID on a branch in use: the transaction's (RFC 3261 17.2.3), no new call.
    copy = sipp_like(3).replace("Call-ID: 3-1@", "Call-ID: 4-1@")
    side.receive(copy)
    assert len(side.phone.calls) == calls
    # DND: the phone says no at once; the general path answers 486.
    side.phone.dnd = True
    [busy] = side.receive(sipp_like(5))
    assert busy.status == 486


def test_an_invite_answered_from_its_shape_is_logged_before_its_answer() -> None:
    side = Side(at_once=True)
    for number in (1, 2):
        side.receive(sipp_like(number))
    side.events.clear()
    side.receive(sipp_like(3))
    logged = [(e.direction, e.data.split(b"\r\n")[0]) for e in side.events
              if isinstance(e, SipMessageLogged)]
    assert logged == [("received", b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0"),
                      ("sent", b"SIP/2.0 200 OK")]


def test_the_events_come_after_the_answer_for_a_call_already_connected() -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))
    side.events.clear()
    states: list[CallState] = []
    refused: list[Exception] = []

    def on_incoming(event: PhoneEvent) -> None:
        if isinstance(event, IncomingCall):
            states.append(event.call.state)
            try:
                event.call.reject()
            except CallError as error:
                refused.append(error)

    side.phone.subscribe(on_incoming, (IncomingCall,))
    [ok] = side.receive(sipp_like(2))
    assert ok.status == 200
    events = [e for e in side.events if not isinstance(e, SipMessageLogged)]
    assert [type(e) for e in events] == [IncomingCall, CallStateChanged, CallAnswered]
    changed = events[1]
    assert isinstance(changed, CallStateChanged)
    assert (changed.old, changed.new) == ("incoming", "connected")
    assert states == [CallState.CONNECTED] and len(refused) == 1


def call_of(side: Side) -> Call:
    return side.phone.calls[-1]


def test_retransmissions_ack_and_bye_after_an_answer_given_at_once() -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))
    [ok] = side.receive(sipp_like(2))
    call = call_of(side)
    assert side.receive(sipp_like(2)) == []  # RFC 6026 Accepted absorbs the copy
    assert len(side.phone.calls) == 2
    side.reactor.advance(0.5)  # no ACK yet: the 2xx again (RFC 3261 13.3.1.4)
    resent = parse_message(side.sip.sent[-1][0])
    assert bytes(resent) == bytes(ok)
    tag = ok.to_addr.tag
    ack = (sipp_like(2).replace("INVITE sip", "ACK sip").replace("1 INVITE", "1 ACK")
           .replace("branch=z9hG4bK-2", "branch=z9hG4bK-ack2")
           .replace("To: bob <sip:bob@127.0.0.1:5060>", f"To: bob <sip:bob@127.0.0.1:5060>;tag={tag}"))
    side.receive(ack)
    count = len(side.sent_for("2-1@127.0.0.1"))
    side.reactor.advance(4)
    assert len(side.sent_for("2-1@127.0.0.1")) == count  # the ACK stopped the retransmissions
    bye = (ack.replace("ACK sip", "BYE sip").replace("1 ACK", "2 BYE")
           .replace("branch=z9hG4bK-ack2", "branch=z9hG4bK-bye2"))
    bye = bye.split("\r\n\r\n")[0].replace(f"Content-Length: {len(OFFER)}", "Content-Length: 0")
    [bye_ok] = side.receive(bye + "\r\n\r\n")
    assert bye_ok.status == 200 and call.state is CallState.ENDED


def test_a_cancel_after_an_answer_given_at_once_finds_the_dialog_tag() -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))
    [ok] = side.receive(sipp_like(2))
    cancel = (sipp_like(2).split("\r\n\r\n")[0].replace("INVITE sip", "CANCEL sip")
              .replace("1 INVITE", "1 CANCEL").replace(f"Content-Length: {len(OFFER)}",
                                                       "Content-Length: 0"))
    [answer] = side.receive(cancel + "\r\n\r\n")
    assert answer.status == 200 and answer.to_addr.tag == ok.to_addr.tag
    assert call_of(side).state is CallState.CONNECTED  # too late to cancel (RFC 3261 9.2)


@pytest.mark.parametrize("case", ["late-offer", "no-common-codec", "record-route", "new-offer"])
def test_what_takes_the_general_path(case: str) -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))
    taught = len(side.phone.answers)
    text = sipp_like(2)
    if case == "late-offer":
        text = text.split("\r\n\r\n")[0].replace(f"Content-Length: {len(OFFER)}",
                                                 "Content-Length: 0") + "\r\n\r\n"
    elif case == "no-common-codec":
        side.receive(sipp_like(3, NO_COMMON_CODEC))
        text = sipp_like(2, NO_COMMON_CODEC)
    elif case == "record-route":
        text = text.replace("Max-Forwards: 70\r\n",
                            "Max-Forwards: 70\r\nRecord-Route: <sip:10.0.0.1;lr>\r\n")
    else:
        text = sipp_like(2, OFFER.replace("2353687637", "2353687638"))
    at_once: list[bool] = []
    ask = side.phone.ua.answer_at_once
    assert ask is not None

    def spy(request: SipRequest, source: Source) -> AnswerAtOnce | None:
        answer = ask(request, source)
        at_once.append(answer is not None)
        return answer

    side.phone.ua.answer_at_once = spy
    responses = side.receive(text)
    # Asked and refused; an INVITE with a Record-Route is not even asked.
    assert at_once == ([] if case == "record-route" else [False])
    assert side.phone._spare is None  # media taken for the answer at once went to the call
    [response] = responses
    if case == "no-common-codec":
        assert response.status == 488 and len(side.phone.answers) == taught
        return
    assert response.status == 200 and call_of(side).state is CallState.CONNECTED
    if case == "late-offer":
        assert b"m=audio" in response.body  # our offer goes in the 200 (RFC 3261 13.3.1.4)
        assert call_of(side).sdp.pending_offer is not None
    elif case == "record-route":
        assert response.headers.get_all("record-route") == ["<sip:10.0.0.1;lr>"]
        assert call_of(side).dialog.route_set  # type: ignore[union-attr]
    else:
        assert len(side.phone.answers) == taught + 1  # learned for next time


def test_a_phone_that_does_not_answer_by_itself_learns_nothing() -> None:
    side = Side(at_once=False)
    side.receive(sipp_like(1))
    side.receive(sipp_like(2))
    assert len(side.phone.answers) == 0


def test_the_request_objects_are_those_of_the_transaction() -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))
    side.receive(sipp_like(2))
    call = call_of(side)
    assert isinstance(call._invite, SipRequest) and call._server_txn is not None
    assert call._server_txn.final_response is call._ok


@pytest.mark.parametrize("at_once", [True, False])
def test_no_100_trying_timer_is_left_running_after_an_answer(at_once: bool) -> None:
    side = Side(at_once=at_once)
    for number in (1, 2, 3):  # the third one answered from its datagram when at once
        side.receive(sipp_like(number))
    # The answer cancelled Timer Trying while its StartTimer still waited in the
    # effect list (RFC 3261 17.2.1: 100 Trying only when the TU is slow).
    assert [name for _, name in side.phone.ua._timers] == ["L", "L", "L"]
    count = len(side.sip.sent)
    side.reactor.advance(0.3)
    assert all(parse_message(data).status != 100 for data, _ in side.sip.sent[count:])  # type: ignore[union-attr]


def test_a_call_that_cannot_be_set_up_after_its_200_is_dropped_not_left_half_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    side = Side(at_once=True)
    side.receive(sipp_like(1))

    def broken(self: Call, *args: object) -> None:
        raise RuntimeError("a bug after the 200 OK")

    monkeypatch.setattr(Call, "answered_at_once", broken)
    [ok] = side.receive(sipp_like(2))
    assert ok.status == 200
    assert [call.call_id for call in side.phone.calls] == ["1-1@127.0.0.1"]
