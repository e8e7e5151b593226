"""Server transactions (RFC 3261 17.2) driven by a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.responses import build_response
from tui_phone.sip.transaction import (
    CancelTimer,
    Effect,
    RequestReceived,
    SendResponse,
    StartTimer,
    TimerConfig,
    TimerQueue,
    TransactionState,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from tui_phone.sip.transaction_server import (
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    ServerTransaction,
)

SOURCE = ("192.0.2.101", 5060)


def sip(text: str, body: str = "") -> bytes:
    """A message from readable lines: CRLF line ends and a correct Content-Length."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = (
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    "s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"
)

# RFC 3665 3.1, as Bob's UA receives it (the proxy's Via on top).
INVITE = sip(
    """
    INVITE sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP ss1.biloxi.example.com:5060;branch=z9hG4bKb0b0b0;received=192.0.2.222
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
    Max-Forwards: 69
    Record-Route: <sip:ss1.biloxi.example.com;lr>
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
    Content-Type: application/sdp
    """,
    SDP,
)

ACK = sip(
    """
    ACK sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP ss1.biloxi.example.com:5060;branch=z9hG4bKb0b0b0;received=192.0.2.222
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>;tag=314159
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 ACK
    """
)

OPTIONS = sip(
    """
    OPTIONS sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKopt42
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: a84b4c76e66710@client.atlanta.example.com
    CSeq: 63104 OPTIONS
    Accept: application/sdp
    """
)


def request(data: bytes) -> SipRequest:
    message = parse_message(data)
    assert isinstance(message, SipRequest)
    return message


T = TypeVar("T", bound=ServerTransaction)


class Driver(Generic[T]):
    """Runs one transaction on a fake clock and logs every effect with its time."""

    def __init__(self, transaction: T) -> None:
        self.txn = transaction
        self.queue = TimerQueue()
        self.now = 0.0
        self.log: list[tuple[float, Effect]] = []

    def feed(self, effects: list[Effect]) -> list[Effect]:
        self.queue.apply(self.txn, effects, self.now)
        self.log.extend((self.now, effect) for effect in effects)
        return effects

    def at(self, when: float, call: Callable[[float], list[Effect]]) -> list[Effect]:
        self.advance(when)
        return self.feed(call(when))

    def advance(self, until: float) -> None:
        while (item := self.queue.pop_due(until)) is not None:
            due, _owner, name = item
            self.now = due
            self.feed(self.txn.on_timer(name, due))
        self.now = until

    def times(self, kind: type) -> list[float]:
        return [when for when, effect in self.log if isinstance(effect, kind)]

    def sent(self, status: int) -> list[float]:
        return [
            when
            for when, effect in self.log
            if isinstance(effect, SendResponse) and effect.message.status == status
        ]

    def respond(self, when: float, status: int, tag: str | None = "314159") -> SipResponse:
        answer = build_response(self.txn.request, status, to_tag=tag)
        self.at(when, lambda now: self.txn.send_response(answer, now))
        return answer


def invite_txn(
    reliable: bool = False, start: bool = True, **kwargs: Any
) -> Driver[ServerInviteTransaction]:
    txn = ServerInviteTransaction(request(INVITE), SOURCE, reliable=reliable, **kwargs)
    d = Driver(txn)
    if start:
        d.at(0.0, txn.start)
    return d


def options_txn(reliable: bool = False) -> Driver[ServerNonInviteTransaction]:
    d = Driver(ServerNonInviteTransaction(request(OPTIONS), SOURCE, reliable=reliable))
    d.at(0.0, d.txn.start)
    return d


def retransmit(d: Driver[Any], when: float, data: bytes = INVITE) -> list[Effect]:
    return d.at(when, lambda now: d.txn.on_request(request(data), now))


# -- INVITE server transaction (17.2.1) ----------------------------------------


def test_invite_start_passes_request_up_and_arms_100_trying() -> None:
    txn = ServerInviteTransaction(request(INVITE), SOURCE, reliable=False)
    assert txn.state is TransactionState.PROCEEDING
    assert txn.start(0.0) == [RequestReceived(txn.request), StartTimer("Trying", 0.2)]


def test_invite_sends_100_trying_after_200_ms() -> None:
    d = invite_txn()
    d.advance(1.0)
    assert d.sent(100) == [0.2]
    trying = d.txn.last_provisional
    assert trying is not None and trying.status == 100
    assert trying.headers.get_all("Via") == d.txn.request.headers.get_all("Via")
    assert trying.to_addr.tag is None  # RFC 3261 8.2.6.2: no tag needed in 100
    assert trying.cseq == d.txn.request.cseq
    sends = [e for _t, e in d.log if isinstance(e, SendResponse)]
    assert sends[0].destination == SOURCE


def test_invite_100_trying_copies_timestamp() -> None:
    data = INVITE.replace(b"CSeq: 1 INVITE\r\n", b"CSeq: 1 INVITE\r\nTimestamp: 54.2 0.5\r\n")
    d = Driver(ServerInviteTransaction(request(data), SOURCE, reliable=False))
    d.at(0.0, d.txn.start)
    d.advance(0.2)
    assert d.txn.last_provisional is not None
    assert d.txn.last_provisional.headers.get("Timestamp") == "54.2 0.5"


def test_invite_no_100_when_tu_answers_in_time() -> None:
    d = invite_txn()
    ringing = build_response(d.txn.request, 180, to_tag="314159")
    effects = d.at(0.1, lambda now: d.txn.send_response(ringing, now))
    assert effects == [CancelTimer("Trying"), SendResponse(ringing, SOURCE)]
    d.advance(5.0)
    assert d.sent(100) == []


def test_invite_100_trying_can_be_disabled_or_immediate() -> None:
    off = invite_txn(timers=TimerConfig(trying_delay=None), start=False)
    assert off.txn.start(0.0) == [RequestReceived(off.txn.request)]
    now = invite_txn(timers=TimerConfig(trying_delay=0), start=False)
    effects = now.txn.start(0.0)
    assert len(effects) == 2 and isinstance(effects[1], SendResponse)
    assert effects[1].message.status == 100
    slow = invite_txn(timers=TimerConfig(trying_delay=1.5))
    slow.advance(5.0)
    assert slow.sent(100) == [1.5]


def test_invite_retransmission_resends_last_provisional() -> None:
    d = invite_txn()
    d.advance(0.3)
    assert retransmit(d, 0.5) == [SendResponse(d.txn.last_provisional, SOURCE)]  # type: ignore[arg-type]
    ringing = d.respond(1.0, 180)
    assert retransmit(d, 1.5) == [SendResponse(ringing, SOURCE)]
    assert d.txn.state is TransactionState.PROCEEDING
    assert d.times(RequestReceived) == [0.0]  # retransmissions never reach the TU


def test_invite_retransmission_before_any_response_is_absorbed() -> None:
    d = invite_txn(timers=TimerConfig(trying_delay=None))
    assert retransmit(d, 0.5) == []


def test_invite_non_2xx_final_retransmitted_until_timer_h() -> None:
    d = invite_txn()
    d.advance(0.5)
    busy = build_response(d.txn.request, 486, to_tag="314159")
    effects = d.at(1.0, lambda now: d.txn.send_response(busy, now))
    assert effects == [SendResponse(busy, SOURCE), StartTimer("G", 0.5), StartTimer("H", 32.0)]
    assert d.txn.state is TransactionState.COMPLETED
    d.advance(100.0)
    # T1, 2T1, 4T1, then capped at T2 = 4 s, from 1.0 on.
    assert d.sent(486) == [1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    assert [(t, e) for t, e in d.log if isinstance(e, TransactionTimedOut)] == [
        (33.0, TransactionTimedOut("H"))
    ]
    assert d.times(TransactionTerminated) == [33.0]
    assert len(d.queue) == 0


def test_invite_completed_resends_final_on_retransmitted_invite() -> None:
    d = invite_txn()
    busy = d.respond(1.0, 486)
    assert retransmit(d, 1.2) == [SendResponse(busy, SOURCE)]


def test_invite_ack_confirms_and_timer_i() -> None:
    d = invite_txn()
    d.respond(1.0, 486)
    effects = d.at(2.0, lambda now: d.txn.on_ack(request(ACK), now))
    assert effects == [CancelTimer("G"), CancelTimer("H"), StartTimer("I", 5.0)]
    assert d.txn.state is TransactionState.CONFIRMED
    # Confirmed absorbs ACK and INVITE retransmissions.
    assert d.at(2.5, lambda now: d.txn.on_ack(request(ACK), now)) == []
    assert retransmit(d, 3.0) == []
    assert retransmit(d, 3.1, ACK) == []  # an ACK given to on_request goes to on_ack
    d.advance(100.0)
    assert d.sent(486) == [1.0, 1.5]
    assert d.times(TransactionTerminated) == [7.0]
    assert d.times(TransactionTimedOut) == []


def test_invite_ack_before_final_response_is_ignored() -> None:
    d = invite_txn()
    d.respond(0.1, 180)
    assert d.txn.on_ack(request(ACK), 0.5) == []
    assert d.txn.state is TransactionState.PROCEEDING


def test_invite_tcp_final_response_no_timer_g_and_timer_i_zero() -> None:
    d = invite_txn(reliable=True)
    busy = build_response(d.txn.request, 486, to_tag="314159")
    effects = d.at(0.1, lambda now: d.txn.send_response(busy, now))
    assert effects == [CancelTimer("Trying"), SendResponse(busy, SOURCE), StartTimer("H", 32.0)]
    d.advance(10.0)
    assert d.sent(486) == [0.1]
    assert d.at(10.0, lambda now: d.txn.on_ack(request(ACK), now)) == [
        CancelTimer("H"),
        StartTimer("I", 0.0),
    ]
    d.advance(10.0)
    assert d.times(TransactionTerminated) == [10.0]


def test_invite_timers_scale_with_t1() -> None:
    d = invite_txn(timers=TimerConfig(t1=1.0, t2=4.0, t4=8.0))
    d.respond(0.0, 486)
    d.advance(100.0)
    assert d.sent(486) == [0.0, 1.0, 3.0, 7.0, 11.0, 15.0, 19.0, 23.0, 27.0, 31.0, 35.0, 39.0,
                           43.0, 47.0, 51.0, 55.0, 59.0, 63.0]
    assert d.times(TransactionTimedOut) == [64.0]
    d2 = invite_txn(timers=TimerConfig(t1=1.0, t2=4.0, t4=8.0))
    d2.respond(0.0, 486)
    assert StartTimer("I", 8.0) in d2.txn.on_ack(request(ACK), 1.0)


def test_invite_2xx_terminates_rfc3261() -> None:
    d = invite_txn()
    d.respond(0.1, 180)
    ok = build_response(d.txn.request, 200, to_tag="314159")
    effects = d.at(5.0, lambda now: d.txn.send_response(ok, now))
    assert effects == [SendResponse(ok, SOURCE), TransactionTerminated()]
    assert d.txn.terminated
    assert d.txn.final_response is ok
    # Afterwards the TU retransmits the 2xx itself; the transaction ignores it all.
    assert d.txn.send_response(ok, 5.5) == []
    assert retransmit(d, 6.0) == []


def test_invite_rfc6026_accepted_state() -> None:
    d = invite_txn(rfc6026=True)
    ok = build_response(d.txn.request, 200, to_tag="314159")
    effects = d.at(0.1, lambda now: d.txn.send_response(ok, now))
    assert effects == [CancelTimer("Trying"), SendResponse(ok, SOURCE), StartTimer("L", 32.0)]
    assert d.txn.state is TransactionState.ACCEPTED
    assert retransmit(d, 0.6) == []  # absorbed, not passed to the TU
    assert d.at(0.7, lambda now: d.txn.send_response(ok, now)) == [SendResponse(ok, SOURCE)]
    ack = request(ACK)
    assert d.at(0.8, lambda now: d.txn.on_ack(ack, now)) == [RequestReceived(ack)]
    # A transport error is reported, the transaction stays (RFC 6026 figure 7).
    assert d.txn.on_transport_error(0.9) == [TransportFailed()]
    assert d.txn.state is TransactionState.ACCEPTED
    busy = build_response(d.txn.request, 486, to_tag="314159")
    assert d.txn.send_response(busy, 1.0) == []
    d.advance(100.0)
    assert d.times(TransactionTerminated) == [32.1]


def test_invite_responses_after_final_are_discarded() -> None:
    d = invite_txn()
    d.respond(0.1, 486)
    late = build_response(d.txn.request, 200, to_tag="314159")
    assert d.txn.send_response(late, 0.5) == []
    assert d.txn.send_response(build_response(d.txn.request, 180), 0.5) == []


def test_invite_send_response_checks() -> None:
    d = invite_txn()
    other = build_response(request(OPTIONS), 200)
    with pytest.raises(LocalProtocolError) as info:
        d.txn.send_response(other, 0.1)
    assert str(info.value) == "response CSeq 63104 OPTIONS does not match the request CSeq 1 INVITE"
    bogus = SipResponse(99, "Odd", build_response(d.txn.request, 180).headers)
    with pytest.raises(LocalProtocolError) as info:
        d.txn.send_response(bogus, 0.1)
    assert str(info.value) == "status 99 is not a SIP status code"


def test_invite_transport_error() -> None:
    d = invite_txn()
    d.respond(0.1, 486)
    assert d.txn.on_transport_error(0.2) == [
        TransportFailed(),
        CancelTimer("G"),
        CancelTimer("H"),
        TransactionTerminated(),
    ]
    assert d.txn.on_transport_error(0.3) == []


def test_invite_constructor_and_misuse() -> None:
    with pytest.raises(LocalProtocolError) as info:
        ServerInviteTransaction(request(OPTIONS), SOURCE, reliable=False)
    assert str(info.value) == "ServerInviteTransaction needs an INVITE, not OPTIONS"
    d = invite_txn()
    with pytest.raises(LocalProtocolError) as info:
        d.txn.on_request(request(OPTIONS), 0.1)
    assert str(info.value) == "OPTIONS is not a retransmission of INVITE"
    with pytest.raises(LocalProtocolError) as info:
        d.txn.start(0.2)
    assert str(info.value) == "ServerInviteTransaction already started"


# -- non-INVITE server transaction (17.2.2) ------------------------------------


def test_non_invite_start_and_trying_absorbs_retransmissions() -> None:
    txn = ServerNonInviteTransaction(request(OPTIONS), SOURCE, reliable=False)
    assert txn.state is TransactionState.TRYING
    assert txn.start(0.0) == [RequestReceived(txn.request)]
    assert txn.on_request(request(OPTIONS), 0.5) == []


def test_non_invite_proceeding_resends_provisional() -> None:
    d = options_txn()
    trying = d.respond(0.1, 100, tag=None)
    assert d.txn.state is TransactionState.PROCEEDING
    assert retransmit(d, 0.5, OPTIONS) == [SendResponse(trying, SOURCE)]


def test_non_invite_final_response_timer_j_udp() -> None:
    d = options_txn()
    ok = build_response(d.txn.request, 200, to_tag="93810874")
    effects = d.at(0.1, lambda now: d.txn.send_response(ok, now))
    assert effects == [SendResponse(ok, SOURCE), StartTimer("J", 32.0)]
    assert d.txn.state is TransactionState.COMPLETED
    # RFC 3261 17.2.2: every retransmitted request gets the final response again.
    for when in (0.5, 1.5, 3.5):
        assert retransmit(d, when, OPTIONS) == [SendResponse(ok, SOURCE)]
    # Other final responses from the TU are discarded.
    assert d.txn.send_response(build_response(d.txn.request, 500), 4.0) == []
    d.advance(100.0)
    assert d.times(TransactionTerminated) == [32.1]
    assert d.sent(200) == [0.1, 0.5, 1.5, 3.5]
    assert retransmit(d, 101.0, OPTIONS) == []


def test_non_invite_timer_j_tcp_is_zero() -> None:
    d = options_txn(reliable=True)
    ok = build_response(d.txn.request, 200, to_tag="93810874")
    assert d.at(0.1, lambda now: d.txn.send_response(ok, now)) == [
        SendResponse(ok, SOURCE),
        StartTimer("J", 0.0),
    ]
    d.advance(0.1)
    assert d.times(TransactionTerminated) == [0.1]


def test_non_invite_timer_j_scales_with_t1() -> None:
    txn = ServerNonInviteTransaction(
        request(OPTIONS), SOURCE, reliable=False, timers=TimerConfig(t1=1.0)
    )
    txn.start(0.0)
    effects = txn.send_response(build_response(txn.request, 200, to_tag="x"), 0.0)
    assert StartTimer("J", 64.0) in effects


def test_non_invite_transport_error() -> None:
    d = options_txn()
    d.respond(0.1, 200)
    assert d.txn.on_transport_error(0.2) == [
        TransportFailed(),
        CancelTimer("J"),
        TransactionTerminated(),
    ]


def test_non_invite_constructor_and_misuse() -> None:
    with pytest.raises(LocalProtocolError) as info:
        ServerNonInviteTransaction(request(INVITE), SOURCE, reliable=False)
    assert str(info.value) == "ServerNonInviteTransaction cannot serve INVITE (RFC 3261 17)"
    d = options_txn()
    with pytest.raises(LocalProtocolError) as info:
        d.txn.on_request(request(INVITE), 0.1)
    assert str(info.value) == "INVITE is not a retransmission of OPTIONS"


def test_invite_no_100_timer_when_tu_answered_before_start() -> None:
    txn = ServerInviteTransaction(request(INVITE), SOURCE, reliable=False)
    ringing = build_response(txn.request, 180, to_tag="314159")
    assert txn.send_response(ringing, 0.0) == [SendResponse(ringing, SOURCE)]
    assert txn.start(0.0) == [RequestReceived(txn.request)]
    assert txn.running_timers == frozenset()
