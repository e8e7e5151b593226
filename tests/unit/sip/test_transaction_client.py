"""Client transactions (RFC 3261 17.1) driven by a fake clock."""

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
    ResponseReceived,
    SendRequest,
    StartTimer,
    TimerConfig,
    TimerQueue,
    TransactionState,
    TransactionTerminated,
    TransactionTimedOut,
    TransportFailed,
)
from tui_phone.sip.transaction_client import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ClientTransaction,
    build_non2xx_ack,
)

DEST = ("192.0.2.4", 5060)


def sip(text: str, body: str = "") -> bytes:
    """A message from readable lines: CRLF line ends and a correct Content-Length."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = (
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    "s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)

# RFC 3665 3.1 (Alice calls Bob through a proxy), with a Route set.
INVITE = sip(
    """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    Route: <sip:ss1.atlanta.example.com;lr>
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
    Content-Type: application/sdp
    """,
    SDP,
)

BUSY = sip(
    """
    SIP/2.0 486 Busy Here
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>;tag=314159
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 INVITE
    """
)

EXPECTED_ACK = sip(
    """
    ACK sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    Route: <sip:ss1.atlanta.example.com;lr>
    To: Bob <sip:bob@biloxi.example.com>;tag=314159
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 ACK
    """
)

# RFC 3665 2.1 (registration), sent over UDP.
REGISTER = sip(
    """
    REGISTER sips:ss2.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.biloxi.example.com:5060;branch=z9hG4bKnashds7
    Max-Forwards: 70
    From: Bob <sips:bob@biloxi.example.com>;tag=a73kszlfl
    To: Bob <sips:bob@biloxi.example.com>
    Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com
    CSeq: 1 REGISTER
    Contact: <sips:bob@client.biloxi.example.com>
    """
)


def request(data: bytes) -> SipRequest:
    message = parse_message(data)
    assert isinstance(message, SipRequest)
    return message


def response(data: bytes) -> SipResponse:
    message = parse_message(data)
    assert isinstance(message, SipResponse)
    return message


T = TypeVar("T", bound=ClientTransaction)


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

    def sent(self, method: str) -> list[float]:
        return [
            when
            for when, effect in self.log
            if isinstance(effect, SendRequest) and effect.message.method == method
        ]


def invite_txn(reliable: bool = False, **kwargs: Any) -> Driver[ClientInviteTransaction]:
    txn = ClientInviteTransaction(request(INVITE), DEST, reliable=reliable, **kwargs)
    return Driver(txn)


def register_txn(
    reliable: bool = False, **kwargs: Any
) -> Driver[ClientNonInviteTransaction]:
    txn = ClientNonInviteTransaction(request(REGISTER), DEST, reliable=reliable, **kwargs)
    return Driver(txn)


def reply(req: SipRequest, status: int, tag: str | None = "314159") -> SipResponse:
    return build_response(req, status, to_tag=tag)


# -- INVITE client transaction (17.1.1) ----------------------------------------


def test_invite_start_effects_udp() -> None:
    d = invite_txn()
    effects = d.txn.start(0.0)
    assert effects == [
        SendRequest(d.txn.request, DEST),
        StartTimer("A", 0.5),
        StartTimer("B", 32.0),
    ]
    assert d.txn.state is TransactionState.CALLING


def test_invite_udp_retransmit_schedule_and_timer_b() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    d.advance(100.0)
    assert d.sent("INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert [(t, e) for t, e in d.log if isinstance(e, TransactionTimedOut)] == [
        (32.0, TransactionTimedOut("B"))
    ]
    assert d.times(TransactionTerminated) == [32.0]
    assert d.txn.state is TransactionState.TERMINATED
    assert len(d.queue) == 0 and d.txn.running_timers == frozenset()


def test_invite_retransmissions_resend_the_same_message() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    d.advance(2.0)
    sends = [e for _t, e in d.log if isinstance(e, SendRequest)]
    assert len(sends) == 3
    assert all(e.message is d.txn.request and e.destination == DEST for e in sends)


def test_invite_provisional_stops_retransmissions_and_timer_b() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    ringing = reply(d.txn.request, 180)
    effects = d.at(1.0, lambda now: d.txn.on_response(ringing, now))
    assert effects == [CancelTimer("A"), CancelTimer("B"), ResponseReceived(ringing)]
    assert d.txn.state is TransactionState.PROCEEDING
    d.advance(120.0)
    assert d.sent("INVITE") == [0.0, 0.5]
    assert d.times(TransactionTimedOut) == []
    # More provisional responses are passed up too.
    assert d.txn.on_response(ringing, 121.0) == [ResponseReceived(ringing)]


def test_invite_2xx_terminates_and_is_passed_up_without_ack() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    trying = reply(d.txn.request, 100, tag=None)
    d.at(0.2, lambda now: d.txn.on_response(trying, now))
    ok = reply(d.txn.request, 200)
    effects = d.at(3.0, lambda now: d.txn.on_response(ok, now))
    # RFC 3261 17.1.1.2: the TU sends the ACK for a 2xx, not the transaction.
    assert effects == [ResponseReceived(ok), TransactionTerminated()]
    assert d.sent("ACK") == []
    assert d.txn.terminated
    # A retransmitted 2xx no longer reaches this transaction's TU.
    assert d.txn.on_response(ok, 3.5) == []


def test_invite_2xx_directly_from_calling() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    ok = reply(d.txn.request, 200)
    effects = d.at(0.3, lambda now: d.txn.on_response(ok, now))
    assert effects == [
        CancelTimer("A"),
        CancelTimer("B"),
        ResponseReceived(ok),
        TransactionTerminated(),
    ]


def test_ack_for_non_2xx_exact_bytes() -> None:
    ack = build_non2xx_ack(request(INVITE), response(BUSY))
    assert bytes(ack) == EXPECTED_ACK
    assert isinstance(parse_message(bytes(ack)), SipRequest)


def test_ack_without_route_headers() -> None:
    invite = request(INVITE)
    invite.headers.remove("Route")
    ack = build_non2xx_ack(invite, response(BUSY))
    assert "Route" not in ack.headers
    assert ack.headers.get_all("Via") == [
        "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
    ]


def test_ack_has_a_single_via_when_invite_has_several() -> None:
    invite = request(INVITE)
    invite.headers.add("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKlower")
    ack = build_non2xx_ack(invite, response(BUSY))
    assert ack.headers.get_all("Via") == [invite.headers.get("Via")]


def test_invite_non_2xx_sends_ack_and_starts_timer_d() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    busy = response(BUSY)
    effects = d.at(2.0, lambda now: d.txn.on_response(busy, now))
    assert d.txn.ack is not None
    assert effects == [
        CancelTimer("A"),
        CancelTimer("B"),
        SendRequest(d.txn.ack, DEST),
        StartTimer("D", 32.0),
        ResponseReceived(busy),
    ]
    assert bytes(d.txn.ack) == EXPECTED_ACK
    assert d.txn.state is TransactionState.COMPLETED


def test_timer_d_absorbs_retransmitted_final_responses_by_resending_the_ack() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    d.at(2.0, lambda now: d.txn.on_response(response(BUSY), now))
    ack = d.txn.ack
    for when in (2.5, 3.5, 5.5):
        # Each retransmission is a fresh parse of the same bytes.
        assert d.at(when, lambda now: d.txn.on_response(response(BUSY), now)) == [
            SendRequest(ack, DEST)  # type: ignore[arg-type]
        ]
    assert len(d.times(ResponseReceived)) == 1  # only the first goes to the TU
    d.advance(100.0)
    assert d.sent("ACK") == [2.0, 2.5, 3.5, 5.5]
    assert d.times(TransactionTerminated) == [34.0]
    assert d.sent("INVITE") == [0.0, 0.5, 1.5]
    assert d.txn.on_response(response(BUSY), 101.0) == []


def test_invite_completed_ignores_provisional_and_2xx() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    d.at(1.0, lambda now: d.txn.on_response(response(BUSY), now))
    assert d.txn.on_response(reply(d.txn.request, 180), 1.5) == []
    assert d.txn.on_response(reply(d.txn.request, 200), 1.6) == []


def test_invite_tcp_no_retransmission_and_timer_d_zero() -> None:
    d = invite_txn(reliable=True)
    assert d.at(0.0, d.txn.start) == [SendRequest(d.txn.request, DEST), StartTimer("B", 32.0)]
    d.advance(10.0)
    assert d.sent("INVITE") == [0.0]
    effects = d.at(10.0, lambda now: d.txn.on_response(response(BUSY), now))
    assert StartTimer("D", 0.0) in effects
    d.advance(10.0)
    assert d.times(TransactionTerminated) == [10.0]


def test_invite_tcp_times_out_at_timer_b() -> None:
    d = invite_txn(reliable=True)
    d.at(0.0, d.txn.start)
    d.advance(40.0)
    assert d.sent("INVITE") == [0.0]
    assert d.times(TransactionTimedOut) == [32.0]


def test_invite_timers_scale_with_t1() -> None:
    d = invite_txn(timers=TimerConfig(t1=1.0))
    d.at(0.0, d.txn.start)
    d.advance(100.0)
    assert d.sent("INVITE") == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0]
    assert d.times(TransactionTimedOut) == [64.0]
    # Timer D follows the server's Timer H (64*T1) once that exceeds 32 s.
    d2 = invite_txn(timers=TimerConfig(t1=1.0))
    d2.at(0.0, d2.txn.start)
    assert StartTimer("D", 64.0) in d2.txn.on_response(response(BUSY), 1.0)


def test_invite_small_t1_keeps_timer_d_at_32_seconds() -> None:
    d = invite_txn(timers=TimerConfig(t1=0.1))
    d.at(0.0, d.txn.start)
    d.advance(100.0)
    assert d.times(TransactionTimedOut) == [pytest.approx(6.4)]
    d2 = invite_txn(timers=TimerConfig(t1=0.1))
    d2.at(0.0, d2.txn.start)
    assert StartTimer("D", 32.0) in d2.txn.on_response(response(BUSY), 0.0)


def test_invite_transport_error() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    assert d.txn.on_transport_error(0.0) == [
        TransportFailed(),
        CancelTimer("A"),
        CancelTimer("B"),
        TransactionTerminated(),
    ]
    assert d.txn.terminated
    assert d.txn.on_transport_error(0.1) == []


def test_invite_late_timer_is_ignored() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    d.at(0.2, lambda now: d.txn.on_response(reply(d.txn.request, 180), now))
    assert d.txn.on_timer("A", 0.5) == []
    assert d.txn.on_timer("B", 32.0) == []
    assert d.txn.on_timer("no such timer", 1.0) == []


def test_invite_rfc6026_accepted_state() -> None:
    d = invite_txn(rfc6026=True)
    d.at(0.0, d.txn.start)
    ok = reply(d.txn.request, 200)
    effects = d.at(1.0, lambda now: d.txn.on_response(ok, now))
    assert effects == [
        CancelTimer("A"),
        CancelTimer("B"),
        ResponseReceived(ok),
        StartTimer("M", 32.0),
    ]
    assert d.txn.state is TransactionState.ACCEPTED
    # RFC 6026 7.2: retransmitted (or forked) 2xx still reach the TU.
    other = reply(d.txn.request, 200, tag="fork2")
    assert d.at(2.0, lambda now: d.txn.on_response(other, now)) == [ResponseReceived(other)]
    assert d.txn.on_response(response(BUSY), 2.5) == []
    d.advance(100.0)
    assert d.times(TransactionTerminated) == [33.0]


def test_invite_rejects_foreign_response() -> None:
    d = invite_txn()
    d.at(0.0, d.txn.start)
    cancel_ok = response(BUSY.replace(b"1 INVITE", b"1 CANCEL").replace(b"486 Busy Here", b"200 OK"))
    with pytest.raises(LocalProtocolError) as info:
        d.txn.on_response(cancel_ok, 1.0)
    assert str(info.value) == (
        "response 200 (CSeq 1 CANCEL) does not belong to the INVITE transaction z9hG4bK74bf9"
    )


def test_invite_constructor_checks() -> None:
    with pytest.raises(LocalProtocolError) as info:
        ClientInviteTransaction(request(REGISTER), DEST, reliable=False)
    assert str(info.value) == "ClientInviteTransaction needs an INVITE, not REGISTER"
    no_cookie = request(INVITE.replace(b"branch=z9hG4bK74bf9", b"branch=74bf9"))
    with pytest.raises(LocalProtocolError) as info:
        ClientInviteTransaction(no_cookie, DEST, reliable=False)
    assert str(info.value) == (
        "the top Via of a client request needs an RFC 3261 branch, not '74bf9'"
    )
    bare = request(INVITE.replace(b"branch=z9hG4bK74bf9", b"branch=z9hG4bK"))
    with pytest.raises(LocalProtocolError):
        ClientInviteTransaction(bare, DEST, reliable=False)


def test_start_twice_is_an_error() -> None:
    d = invite_txn()
    d.txn.start(0.0)
    with pytest.raises(LocalProtocolError) as info:
        d.txn.start(0.1)
    assert str(info.value) == "ClientInviteTransaction already started"


# -- non-INVITE client transaction (17.1.2) ------------------------------------


def test_non_invite_start_effects() -> None:
    d = register_txn()
    assert d.txn.start(0.0) == [
        SendRequest(d.txn.request, DEST),
        StartTimer("E", 0.5),
        StartTimer("F", 32.0),
    ]
    assert d.txn.state is TransactionState.TRYING


def test_non_invite_udp_schedule_capped_at_t2_and_timer_f() -> None:
    d = register_txn()
    d.at(0.0, d.txn.start)
    d.advance(100.0)
    assert d.sent("REGISTER") == [
        0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]
    assert [(t, e) for t, e in d.log if isinstance(e, TransactionTimedOut)] == [
        (32.0, TransactionTimedOut("F"))
    ]
    assert d.times(TransactionTerminated) == [32.0]


def test_non_invite_after_provisional_retransmits_every_t2() -> None:
    d = register_txn()
    d.at(0.0, d.txn.start)
    trying = reply(d.txn.request, 100, tag=None)
    assert d.at(0.7, lambda now: d.txn.on_response(trying, now)) == [ResponseReceived(trying)]
    assert d.txn.state is TransactionState.PROCEEDING
    d.advance(100.0)
    # The pending Timer E (due 1.5) still fires; from then on every T2.
    assert d.sent("REGISTER") == [0.0, 0.5, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5]
    assert d.times(TransactionTimedOut) == [32.0]


def test_non_invite_final_response_and_timer_k() -> None:
    d = register_txn()
    d.at(0.0, d.txn.start)
    ok = reply(d.txn.request, 200)
    effects = d.at(1.0, lambda now: d.txn.on_response(ok, now))
    assert effects == [
        CancelTimer("E"),
        CancelTimer("F"),
        StartTimer("K", 5.0),
        ResponseReceived(ok),
    ]
    assert d.txn.state is TransactionState.COMPLETED
    # Completed absorbs retransmitted responses.
    assert d.at(2.0, lambda now: d.txn.on_response(ok, now)) == []
    d.advance(50.0)
    assert d.times(TransactionTerminated) == [6.0]
    assert d.sent("REGISTER") == [0.0, 0.5]


def test_non_invite_final_after_provisional() -> None:
    d = register_txn()
    d.at(0.0, d.txn.start)
    d.at(0.1, lambda now: d.txn.on_response(reply(d.txn.request, 100, tag=None), now))
    unauthorized = reply(d.txn.request, 401)
    effects = d.at(0.3, lambda now: d.txn.on_response(unauthorized, now))
    assert effects[-1] == ResponseReceived(unauthorized)
    assert d.txn.state is TransactionState.COMPLETED


def test_non_invite_tcp() -> None:
    d = register_txn(reliable=True)
    assert d.at(0.0, d.txn.start) == [SendRequest(d.txn.request, DEST), StartTimer("F", 32.0)]
    d.advance(5.0)
    assert d.sent("REGISTER") == [0.0]
    effects = d.at(5.0, lambda now: d.txn.on_response(reply(d.txn.request, 200), now))
    assert StartTimer("K", 0.0) in effects
    d.advance(5.0)
    assert d.times(TransactionTerminated) == [5.0]


def test_non_invite_tcp_timer_f() -> None:
    d = register_txn(reliable=True)
    d.at(0.0, d.txn.start)
    d.advance(40.0)
    assert d.times(TransactionTimedOut) == [32.0]


def test_non_invite_timers_scale() -> None:
    d = register_txn(timers=TimerConfig(t1=1.0, t2=8.0, t4=10.0))
    d.at(0.0, d.txn.start)
    d.advance(100.0)
    assert d.sent("REGISTER") == [0.0, 1.0, 3.0, 7.0, 15.0, 23.0, 31.0, 39.0, 47.0, 55.0, 63.0]
    assert d.times(TransactionTimedOut) == [64.0]
    d2 = register_txn(timers=TimerConfig(t1=1.0, t2=8.0, t4=10.0))
    d2.at(0.0, d2.txn.start)
    assert StartTimer("K", 10.0) in d2.txn.on_response(reply(d2.txn.request, 200), 1.0)


def test_non_invite_t2_changes_the_cap() -> None:
    d = register_txn(timers=TimerConfig(t2=2.0))
    d.at(0.0, d.txn.start)
    d.advance(10.0)
    assert d.sent("REGISTER") == [0.0, 0.5, 1.5, 3.5, 5.5, 7.5, 9.5]


def test_non_invite_transport_error() -> None:
    d = register_txn(reliable=True)
    d.at(0.0, d.txn.start)
    assert d.txn.on_transport_error(0.0) == [
        TransportFailed(),
        CancelTimer("F"),
        TransactionTerminated(),
    ]


def test_non_invite_constructor_checks() -> None:
    with pytest.raises(LocalProtocolError) as info:
        ClientNonInviteTransaction(request(INVITE), DEST, reliable=False)
    assert str(info.value) == "ClientNonInviteTransaction cannot send INVITE (RFC 3261 17)"
    ack = build_non2xx_ack(request(INVITE), response(BUSY))
    with pytest.raises(LocalProtocolError) as info:
        ClientNonInviteTransaction(ack, DEST, reliable=False)
    assert str(info.value) == "ClientNonInviteTransaction cannot send ACK (RFC 3261 17)"


def test_key_of_client_transactions() -> None:
    d = invite_txn()
    assert (d.txn.key.branch, d.txn.key.method) == ("z9hG4bK74bf9", "INVITE")
    assert repr(d.txn) == "<ClientInviteTransaction 1 INVITE Calling>"
