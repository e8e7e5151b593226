"""The Phone answering INVITEs on a fake reactor: no 180 before an answer given at
once, 180 when the call rings, 503 when no RTP port pair is free, and the RTP
port pool it keeps (no socket bound on the INVITE path)."""

from __future__ import annotations

import random

import pytest

from tui_phone.call import Call, CallState
from tui_phone.config import parse_config
from tui_phone.events import IncomingCall, PhoneEvent, SipMessageLogged
from tui_phone.phone import Phone
from tui_phone.rtp.session import RtpSession, RtpSessionError
from tui_phone.sip.message import SipResponse, parse_message
from tui_phone.testing.fakereactor import FakeReactor, FakeUdpPort

PEER = ("127.0.0.1", 5099)
CONFIG = '[accounts.bob]\nuri = "sip:bob@127.0.0.1"\n[phone]\nrtp_port_range = [30000, 30100]\n'
OFFER = (b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         b"m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
         b"a=rtpmap:101 telephone-event/8000\r\n")


def invite(number: int) -> bytes:
    head = (f"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {PEER[0]}:{PEER[1]};branch=z9hG4bK-test-{number}\r\n"
            f"From: <sip:alice@127.0.0.1:{PEER[1]}>;tag=a{number}\r\n"
            f"To: <sip:bob@127.0.0.1:5060>\r\nCall-ID: call-{number}@test\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{PEER[1]}>\r\nMax-Forwards: 70\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n")
    return head.encode() + OFFER


class Answering:
    """A started phone on a fake reactor, and what it sent from its SIP port."""

    def __init__(self, *, answer_at_once: bool) -> None:
        self.reactor = FakeReactor()
        self.phone = Phone(parse_config(CONFIG), self.reactor, listen=("127.0.0.1", 5060),
                           rng=random.Random(4))
        self.incoming: list[Call] = []
        self.phone.subscribe(self._on_event, (IncomingCall,))
        self.answer_at_once = answer_at_once
        self.phone.start(register=False)
        self.sip: FakeUdpPort = self.reactor.udp_ports[0]

    def _on_event(self, event: PhoneEvent) -> None:
        if isinstance(event, IncomingCall):
            self.incoming.append(event.call)
            if self.answer_at_once:
                event.call.answer()

    def receive(self, data: bytes) -> None:
        self.sip.receive(data, PEER)

    def statuses(self) -> list[int]:
        responses = [parse_message(data) for data, _ in self.sip.sent]
        return [r.status for r in responses if isinstance(r, SipResponse)]

    def bound(self) -> int:
        return sum(1 for port in self.reactor.udp_ports if port.listening)


def test_an_answer_given_at_once_goes_out_alone_with_no_180() -> None:
    side = Answering(answer_at_once=True)
    side.receive(invite(1))
    assert side.statuses() == [200]
    [call] = side.incoming
    assert call.state is CallState.CONNECTED
    ok = parse_message(side.sip.sent[0][0])
    assert b"m=audio" in ok.body and ok.headers.get("contact") is not None


def test_a_call_not_answered_at_once_rings_then_answers() -> None:
    side = Answering(answer_at_once=False)
    side.receive(invite(1))
    assert side.statuses() == [180]
    [call] = side.incoming
    call.answer()
    assert side.statuses() == [180, 200]
    ringing, ok = (parse_message(data) for data, _ in side.sip.sent)
    assert ringing.to_addr.tag == ok.to_addr.tag  # one dialog (RFC 3261 12.1.1)


def test_a_retransmitted_invite_gets_the_180_again_not_a_second_call() -> None:
    side = Answering(answer_at_once=False)
    side.receive(invite(1))
    side.receive(invite(1))
    assert side.statuses() == [180, 180] and len(side.incoming) == 1


def test_the_invite_path_binds_no_socket_and_the_pool_refills_after() -> None:
    side = Answering(answer_at_once=True)
    bound = side.bound()
    assert bound == 1 + 2 * 2  # SIP, and two RTP/RTCP pairs bound at start
    side.receive(invite(1))
    assert side.bound() == bound  # the call took a pooled pair
    [call] = side.incoming
    assert call.media.port % 2 == 0 and 30000 <= call.media.port < 30100
    side.reactor.advance(0)
    assert side.bound() == bound + 2  # refilled once the answer was out
    call.hangup()
    assert side.bound() == bound  # the call's pair is closed when it ends


def test_no_free_rtp_port_pair_is_answered_503(monkeypatch: pytest.MonkeyPatch) -> None:
    side = Answering(answer_at_once=False)

    def full(self: RtpSession, host: str, port_range: tuple[int, int]) -> tuple[int, int]:
        raise RtpSessionError("no free RTP port pair on 127.0.0.1 in 30000-30100")

    monkeypatch.setattr(RtpSession, "open", full)
    for number in (1, 2, 3):  # two calls take the pooled pairs; the third finds none
        side.receive(invite(number))
    assert side.statuses() == [180, 180, 503]
    refusal = parse_message(side.sip.sent[-1][0])
    assert refusal.headers.get("warning") == '399 - "no free RTP port pair on 127.0.0.1 in 30000-30100"'
    assert len(side.incoming) == 2 and len(side.phone.calls) == 2


def test_stop_closes_the_pooled_pairs() -> None:
    side = Answering(answer_at_once=True)
    side.phone.stop()
    side.reactor.advance(0)
    assert side.bound() == 0


def test_subscribers_get_the_kinds_they_ask_for_and_message_events_only_when_wanted() -> None:
    side = Answering(answer_at_once=True)
    calls: list[PhoneEvent] = []
    side.phone.subscribe(calls.append, (IncomingCall,))
    side.receive(invite(1))
    assert [type(event) for event in calls] == [IncomingCall]
    assert not side.phone._sip_log_wanted  # nobody takes SipMessageLogged: none is built
    logged: list[PhoneEvent] = []
    unsubscribe = side.phone.subscribe(logged.append, (SipMessageLogged,))
    side.receive(invite(2))
    assert [event.direction for event in logged] == ["received", "sent"]  # type: ignore[attr-defined]
    unsubscribe()
    assert not side.phone._sip_log_wanted
