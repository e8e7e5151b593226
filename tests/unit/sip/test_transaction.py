"""The common part of the transaction layer: timer values, matching keys, TimerQueue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.responses import build_response
from tui_phone.sip.transaction import (
    T1,
    T2,
    T4,
    TIMER_A,
    TIMER_B,
    CancelTimer,
    ClientTransactionKey,
    Rfc2543TransactionKey,
    SendRequest,
    ServerTransactionKey,
    StartTimer,
    TimerConfig,
    TimerQueue,
    TransactionState,
    cancel_target_key,
    client_transaction_key,
    is_rfc3261_branch,
    server_transaction_key,
)
from tui_phone.sip.transaction_client import build_non2xx_ack

TORTURE = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc4475"


def sip(text: str, body: str = "") -> bytes:
    """A message from readable lines: CRLF line ends and a correct Content-Length."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def request(data: bytes) -> SipRequest:
    message = parse_message(data)
    assert isinstance(message, SipRequest)
    return message


def response(data: bytes) -> SipResponse:
    message = parse_message(data)
    assert isinstance(message, SipResponse)
    return message


def torture(name: str) -> SipRequest:
    return request((TORTURE / f"{name}.sip").read_bytes())


INVITE = sip(
    """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP Client.Atlanta.Example.COM:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
    """
)

# RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via.
CANCEL = sip(
    """
    CANCEL sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 CANCEL
    """
)

# The ACK the UAC's dialog sends for a 2xx: a transaction of its own (17.1.1.3).
ACK_2XX = sip(
    """
    ACK sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bd5
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>;tag=314159
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 ACK
    """
)

# The RFC 2543 client's ACK for a non-2xx answer to inv2543.sip: the To tag
# comes from our response, the rest from the INVITE.
ACK_2543 = sip(
    """
    ACK sip:UserB@example.com SIP/2.0
    Via: SIP/2.0/UDP iftgw.example.com
    From: <sip:+13035551111@ift.client.example.net;user=phone>
    To: sip:+16505552222@ss1.example.net;user=phone;tag=8321234356
    Call-ID: inv2543.1717@ift.client.example.com
    CSeq: 56 ACK
    """
)

CANCEL_2543 = sip(
    """
    CANCEL sip:UserB@example.com SIP/2.0
    Via: SIP/2.0/UDP iftgw.example.com
    From: <sip:+13035551111@ift.client.example.net;user=phone>
    To: sip:+16505552222@ss1.example.net;user=phone
    Call-ID: inv2543.1717@ift.client.example.com
    CSeq: 56 CANCEL
    """
)


# -- timer values --------------------------------------------------------------


def test_rfc_default_timer_values() -> None:
    assert (T1, T2, T4) == (0.5, 4.0, 5.0)
    config = TimerConfig()
    assert (config.t1, config.t2, config.t4, config.trying_delay) == (0.5, 4.0, 5.0, 0.2)
    assert config.timeout == 32.0  # B, F, H, J, L, M
    assert (config.timer_d(False), config.timer_d(True)) == (32.0, 0.0)
    assert (config.timer_i(False), config.timer_i(True)) == (5.0, 0.0)
    assert (config.timer_j(False), config.timer_j(True)) == (32.0, 0.0)
    assert (config.timer_k(False), config.timer_k(True)) == (5.0, 0.0)


def test_timer_values_scale() -> None:
    config = TimerConfig(t1=1.0, t2=8.0, t4=10.0)
    assert config.timeout == 64.0
    assert config.timer_d(False) == 64.0  # follows 64*T1, never below 32 s
    assert config.timer_i(False) == 10.0
    assert config.timer_j(False) == 64.0
    assert config.timer_k(False) == 10.0
    assert TimerConfig(t1=0.1).timer_d(False) == 32.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"t1": 0.0}, "T1 must be positive, not 0.0"),
        ({"t1": 5.0}, "T2 (4.0) must not be smaller than T1 (5.0)"),
        ({"t4": -1.0}, "T4 must be positive, not -1.0"),
        ({"trying_delay": -0.1}, "the 100 Trying delay must not be negative, not -0.1"),
    ],
)
def test_timer_config_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as info:
        TimerConfig(**kwargs)
    assert str(info.value) == message


def test_state_names_read_like_the_rfc() -> None:
    assert [s.value for s in TransactionState] == [
        "Calling", "Trying", "Proceeding", "Completed", "Confirmed", "Accepted", "Terminated",
    ]
    assert str(TransactionState.CALLING) == "Calling"


# -- client matching (17.1.3) -----------------------------------------------------


def test_client_key_is_branch_and_cseq_method() -> None:
    invite = request(INVITE)
    ringing = build_response(invite, 180, to_tag="314159")
    assert client_transaction_key(invite) == ClientTransactionKey("z9hG4bK74bf9", "INVITE")
    assert client_transaction_key(ringing) == client_transaction_key(invite)


def test_cancel_response_matches_cancel_not_invite() -> None:
    cancel = request(CANCEL)
    ok = build_response(cancel, 200, to_tag="314159")
    assert client_transaction_key(ok) == ClientTransactionKey("z9hG4bK74bf9", "CANCEL")
    assert client_transaction_key(ok) != client_transaction_key(request(INVITE))


def test_client_key_none_without_branch() -> None:
    stray = response(
        sip(
            """
            SIP/2.0 200 OK
            Via: SIP/2.0/UDP iftgw.example.com
            From: <sip:a@example.com>;tag=1
            To: <sip:b@example.com>;tag=2
            Call-ID: x@example.com
            CSeq: 1 OPTIONS
            """
        )
    )
    assert client_transaction_key(stray) is None


# -- server matching (17.2.3) -------------------------------------------------------


def test_server_key_rfc3261() -> None:
    key = server_transaction_key(request(INVITE))
    # sent-by host compared case-insensitively.
    assert key == ServerTransactionKey(
        "z9hG4bK74bf9", ("client.atlanta.example.com", 5060), "INVITE"
    )


def test_retransmission_has_the_same_server_key() -> None:
    assert server_transaction_key(request(INVITE)) == server_transaction_key(request(INVITE))


def test_ack_for_non_2xx_matches_the_invite_transaction() -> None:
    invite = request(INVITE)
    busy = build_response(invite, 486, to_tag="314159")
    ack = build_non2xx_ack(invite, busy)
    assert server_transaction_key(ack) == server_transaction_key(invite)


def test_ack_for_2xx_has_its_own_branch_and_matches_nothing() -> None:
    assert server_transaction_key(request(ACK_2XX)) != server_transaction_key(request(INVITE))


def test_same_branch_different_method_or_sent_by() -> None:
    invite = request(INVITE)
    cancel = request(CANCEL)
    assert server_transaction_key(cancel) != server_transaction_key(invite)
    moved = request(INVITE.replace(b":5060;branch", b":5070;branch"))
    assert server_transaction_key(moved) != server_transaction_key(invite)


def test_cancel_target_key_finds_the_invite() -> None:
    assert cancel_target_key(request(CANCEL)) == server_transaction_key(request(INVITE))


def test_cancel_target_key_needs_a_cancel() -> None:
    with pytest.raises(LocalProtocolError) as info:
        cancel_target_key(request(INVITE))
    assert str(info.value) == "cancel_target_key needs a CANCEL, not INVITE"


def test_rfc2543_invite_key_from_torture_message() -> None:
    invite = torture("inv2543")
    key = server_transaction_key(invite)
    assert key == Rfc2543TransactionKey(
        request_uri="sip:UserB@example.com",
        to_tag=None,
        from_tag=None,
        call_id="inv2543.1717@ift.client.example.com",
        cseq_number=56,
        method="INVITE",
        top_via=("SIP/2.0", "UDP", "iftgw.example.com", None, ()),
    )
    assert server_transaction_key(torture("inv2543")) == key  # a retransmission


def test_rfc2543_ack_matches_despite_the_new_to_tag() -> None:
    # The INVITE had no To tag; the ACK carries the tag of our response. The key
    # leaves the To tag out for INVITE/ACK; the table checks it against the
    # response (ServerInviteTransaction.matches_ack, see test_transaction_table).
    invite = torture("inv2543")
    ack = request(ACK_2543)
    assert ack.to_addr.tag == "8321234356"
    assert server_transaction_key(ack) == server_transaction_key(invite)


def test_rfc2543_key_differs_on_each_field() -> None:
    base = server_transaction_key(torture("inv2543"))
    data = (TORTURE / "inv2543.sip").read_bytes()
    changes = [
        (b"INVITE sip:UserB@example.com", b"INVITE sip:UserC@example.com"),
        (b"Call-ID: inv2543.1717", b"Call-ID: inv2543.1718"),
        (b"CSeq: 56 INVITE", b"CSeq: 57 INVITE"),
        (b"Via: SIP/2.0/UDP iftgw.example.com", b"Via: SIP/2.0/UDP iftgw2.example.com"),
        (b"user=phone>", b"user=phone>;tag=77"),  # a From tag
    ]
    for old, new in changes:
        assert old in data
        assert server_transaction_key(request(data.replace(old, new, 1))) != base, new


def test_rfc2543_cancel_target() -> None:
    assert cancel_target_key(request(CANCEL_2543)) == server_transaction_key(torture("inv2543"))
    # The CANCEL's own transaction is a different one.
    assert server_transaction_key(request(CANCEL_2543)) != server_transaction_key(
        torture("inv2543")
    )


def test_bare_magic_cookie_branch_uses_rfc2543_matching() -> None:
    # RFC 4475 3.2.1: branch=z9hG4bK identifies nothing; matching must not break.
    options = torture("badbranch")
    assert options.via.branch == "z9hG4bK"
    assert not is_rfc3261_branch("z9hG4bK")
    key = server_transaction_key(options)
    assert isinstance(key, Rfc2543TransactionKey)
    assert key.to_tag is None and key.from_tag == "33242" and key.method == "OPTIONS"
    assert key.top_via == ("SIP/2.0", "UDP", "192.0.2.1", None, (("branch", "z9hG4bK"),))
    assert server_transaction_key(torture("badbranch")) == key
    # Another request with the same bare cookie is another transaction.
    data = (TORTURE / "badbranch.sip").read_bytes().replace(b"CSeq: 8", b"CSeq: 9")
    assert server_transaction_key(request(data)) != key
    # The client side does not break on it either.
    assert client_transaction_key(options) == ClientTransactionKey("z9hG4bK", "OPTIONS")


def test_is_rfc3261_branch() -> None:
    assert is_rfc3261_branch("z9hG4bK74bf9")
    assert not is_rfc3261_branch(None)
    assert not is_rfc3261_branch("74bf9")
    assert not is_rfc3261_branch("z9hg4bk74bf9")  # the cookie is case-sensitive


def test_rfc2543_non_invite_keeps_the_to_tag() -> None:
    data = (TORTURE / "badbranch.sip").read_bytes()
    tagged = data.replace(b"To: sip:user@example.com", b"To: sip:user@example.com;tag=abc")
    assert server_transaction_key(request(tagged)).to_tag == "abc"  # type: ignore[union-attr]
    assert server_transaction_key(request(tagged)) != server_transaction_key(request(data))


# -- TimerQueue -------------------------------------------------------------------


def test_timer_queue_orders_by_due_time_then_start_order() -> None:
    queue = TimerQueue()
    queue.apply("x", [StartTimer(TIMER_B, 32.0), StartTimer(TIMER_A, 0.5)], 0.0)
    queue.apply("y", [StartTimer("E", 0.5)], 0.0)
    assert len(queue) == 3 and queue.next_due() == 0.5
    assert queue.pop_due(0.4) is None
    assert queue.pop_due(1.0) == (0.5, "x", "A")
    assert queue.pop_due(1.0) == (0.5, "y", "E")
    assert queue.pop_due(1.0) is None
    assert queue.pop_due(32.0) == (32.0, "x", "B")
    assert queue.next_due() is None and len(queue) == 0


def test_timer_queue_restart_and_cancel() -> None:
    queue = TimerQueue()
    queue.apply("x", [StartTimer("A", 0.5)], 0.0)
    queue.apply("x", [StartTimer("A", 1.0)], 0.2)  # restarted: due 1.2, not 0.5
    assert queue.next_due() == 1.2
    queue.apply("x", [CancelTimer("A"), CancelTimer("never started")], 0.3)
    assert queue.next_due() is None
    queue.apply("x", [StartTimer("A", 1.0), SendRequest(request(INVITE), None)], 0.0)
    queue.apply("y", [StartTimer("A", 2.0)], 0.0)
    queue.cancel_all("x")
    assert queue.pop_due(10.0) == (2.0, "y", "A")
