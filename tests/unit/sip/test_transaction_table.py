"""Routing messages to transactions; a UAC against a UAS over a lossy fake network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.responses import build_response
from tui_phone.sip.transaction import (
    CancelTimer,
    Effect,
    RequestReceived,
    ResponseReceived,
    SendRequest,
    SendResponse,
    StartTimer,
    TimerQueue,
    TransactionState,
    TransactionTerminated,
    TransactionTimedOut,
)
from tui_phone.sip.transaction_client import (
    ClientInviteTransaction,
    ClientNonInviteTransaction,
    ClientTransaction,
)
from tui_phone.sip.transaction_server import (
    ServerInviteTransaction,
    ServerNonInviteTransaction,
    ServerTransaction,
)
from tui_phone.sip.transaction_table import (
    RequestDisposition,
    RequestRoute,
    TransactionTable,
)

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


INVITE = sip(
    """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 1 INVITE
    Contact: <sip:alice@client.atlanta.example.com;transport=udp>
    """
)

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

OPTIONS = sip(
    """
    OPTIONS sip:bob@biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKopt42
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
    To: Bob <sip:bob@biloxi.example.com>
    Call-ID: a84b4c76e66710@client.atlanta.example.com
    CSeq: 63104 OPTIONS
    """
)


def ack_2543(tag: str) -> SipRequest:
    return request(
        sip(
            f"""
            ACK sip:UserB@example.com SIP/2.0
            Via: SIP/2.0/UDP iftgw.example.com
            From: <sip:+13035551111@ift.client.example.net;user=phone>
            To: sip:+16505552222@ss1.example.net;user=phone;tag={tag}
            Call-ID: inv2543.1717@ift.client.example.com
            CSeq: 56 ACK
            """
        )
    )


def server_for(table: TransactionTable, req: SipRequest) -> ServerTransaction:
    route = table.route_request(req)
    assert route == RequestRoute(RequestDisposition.NEW)
    cls = ServerInviteTransaction if req.method == "INVITE" else ServerNonInviteTransaction
    txn = cls(req, "peer", reliable=False)
    table.add(txn)
    txn.start(0.0)
    return txn


# -- server side --------------------------------------------------------------------


def test_new_request_then_retransmission() -> None:
    table = TransactionTable()
    txn = server_for(table, request(INVITE))
    assert table.route_request(request(INVITE)) == RequestRoute(
        RequestDisposition.EXISTING, txn
    )
    assert len(table) == 1 and list(table) == [txn]


def test_ack_for_non_2xx_goes_to_the_invite_transaction() -> None:
    table = TransactionTable()
    txn = server_for(table, request(INVITE))
    busy = build_response(txn.request, 486, to_tag="314159")
    txn.send_response(busy, 0.1)
    client = ClientInviteTransaction(request(INVITE), None, reliable=False)
    client.start(0.0)
    client.on_response(response(bytes(busy)), 0.2)
    assert client.ack is not None
    ack = request(bytes(client.ack))
    route = table.route_request(ack)
    assert route == RequestRoute(RequestDisposition.EXISTING, txn)
    assert route.transaction is not None
    route.transaction.on_request(ack, 0.3)
    assert txn.state is TransactionState.CONFIRMED


def test_ack_for_2xx_is_for_the_tu() -> None:
    table = TransactionTable()
    txn = server_for(table, request(INVITE))
    txn.send_response(build_response(txn.request, 200, to_tag="314159"), 0.1)
    assert table.route_request(request(ACK_2XX)) == RequestRoute(RequestDisposition.ACK_TO_TU)
    # Even before the terminated transaction is dropped.
    assert table.remove_terminated() == [txn]
    assert table.route_request(request(ACK_2XX)) == RequestRoute(RequestDisposition.ACK_TO_TU)


def test_rfc2543_invite_and_ack_matching() -> None:
    table = TransactionTable()
    invite = request((TORTURE / "inv2543.sip").read_bytes())
    txn = server_for(table, invite)
    assert isinstance(txn, ServerInviteTransaction)
    # A retransmission matches by the RFC 2543 rules.
    again = request((TORTURE / "inv2543.sip").read_bytes())
    assert table.route_request(again).transaction is txn
    # Before a final response, no ACK belongs to the transaction.
    assert table.route_request(ack_2543("8321234356")).disposition is RequestDisposition.ACK_TO_TU
    txn.send_response(build_response(invite, 404, to_tag="8321234356"), 0.1)
    # The ACK carries our To tag, which the INVITE had not: still a match.
    good = ack_2543("8321234356")
    assert table.route_request(good) == RequestRoute(RequestDisposition.EXISTING, txn)
    # An ACK with another To tag acknowledges some other response.
    assert table.route_request(ack_2543("other")).disposition is RequestDisposition.ACK_TO_TU
    txn.on_request(good, 0.2)
    assert txn.state is TransactionState.CONFIRMED


def test_bad_branch_request_is_matched_rfc2543_style() -> None:
    table = TransactionTable()
    options = request((TORTURE / "badbranch.sip").read_bytes())
    txn = server_for(table, options)
    assert table.route_request(request((TORTURE / "badbranch.sip").read_bytes())).transaction is txn
    other = (TORTURE / "badbranch.sip").read_bytes().replace(b"CSeq: 8", b"CSeq: 9")
    assert table.route_request(request(other)).disposition is RequestDisposition.NEW


def test_cancel_gets_its_own_transaction_and_finds_its_invite() -> None:
    table = TransactionTable()
    invite_txn = server_for(table, request(INVITE))
    cancel = request(CANCEL)
    cancel_txn = server_for(table, cancel)  # asserts the route is NEW
    assert cancel_txn is not invite_txn
    assert table.cancel_target(cancel) is invite_txn
    assert table.route_request(request(CANCEL)).transaction is cancel_txn
    # Once the INVITE transaction is over, the CANCEL finds nothing (481).
    invite_txn.send_response(build_response(invite_txn.request, 200, to_tag="314159"), 1.0)
    assert table.cancel_target(cancel) is None


def test_rfc2543_cancel_finds_its_invite() -> None:
    table = TransactionTable()
    invite_txn = server_for(table, request((TORTURE / "inv2543.sip").read_bytes()))
    cancel = request(
        sip(
            """
            CANCEL sip:UserB@example.com SIP/2.0
            Via: SIP/2.0/UDP iftgw.example.com
            From: <sip:+13035551111@ift.client.example.net;user=phone>
            To: sip:+16505552222@ss1.example.net;user=phone
            Call-ID: inv2543.1717@ift.client.example.com
            CSeq: 56 CANCEL
            """
        )
    )
    assert table.cancel_target(cancel) is invite_txn
    assert table.route_request(cancel).disposition is RequestDisposition.NEW


def test_cancel_for_unknown_invite() -> None:
    assert TransactionTable().cancel_target(request(CANCEL)) is None


def test_add_rejects_a_live_duplicate_key() -> None:
    table = TransactionTable()
    txn = server_for(table, request(OPTIONS))
    duplicate = ServerNonInviteTransaction(request(OPTIONS), "peer", reliable=False)
    with pytest.raises(LocalProtocolError) as info:
        table.add(duplicate)
    assert str(info.value).startswith("a live transaction already has the key ")
    txn.on_transport_error(0.0)  # terminated: the key is free again
    assert table.route_request(request(OPTIONS)).disposition is RequestDisposition.NEW
    table.add(duplicate)
    assert table.server(duplicate.key) is duplicate
    with pytest.raises(LocalProtocolError) as info:
        table.add("not a transaction")  # type: ignore[arg-type]
    assert str(info.value) == "not a transaction: 'not a transaction'"


# -- client side ----------------------------------------------------------------------


def test_responses_route_to_invite_or_cancel_client_transaction() -> None:
    table = TransactionTable()
    invite = ClientInviteTransaction(request(INVITE), "proxy", reliable=False)
    cancel = ClientNonInviteTransaction(request(CANCEL), "proxy", reliable=False)
    table.add(invite)
    table.add(cancel)
    terminated = build_response(invite.request, 487, to_tag="314159")
    cancel_ok = build_response(cancel.request, 200, to_tag="314159")
    assert table.route_response(response(bytes(terminated))) is invite
    assert table.route_response(response(bytes(cancel_ok))) is cancel
    assert table.client(invite.key) is invite


def test_stray_responses_match_nothing() -> None:
    table = TransactionTable()
    invite = ClientInviteTransaction(request(INVITE), "proxy", reliable=False)
    table.add(invite)
    other = request(INVITE.replace(b"z9hG4bK74bf9", b"z9hG4bKother"))
    assert table.route_response(build_response(other, 200, to_tag="1")) is None
    no_branch = request(INVITE.replace(b";branch=z9hG4bK74bf9", b""))
    assert table.route_response(build_response(no_branch, 200, to_tag="1")) is None
    invite.start(0.0)
    invite.on_transport_error(0.1)
    assert table.route_response(build_response(invite.request, 200, to_tag="1")) is None
    table.remove(invite)
    table.remove(invite)  # removing twice is harmless
    assert len(table) == 0


# -- a UAC against a UAS over a lossy fake network --------------------------------------


class Network:
    """Two transaction tables, one clock, and a wire that loses chosen packets."""

    def __init__(self, lose: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.queue = TimerQueue()
        self.uac = TransactionTable()
        self.uas = TransactionTable()
        self.now = 0.0
        self.lose = lose
        self.counts: dict[str, int] = {}
        self.wire: list[tuple[float, str, bool]] = []  # (time, first word(s), delivered)
        self.tu: list[tuple[float, str, Effect]] = []

    def run(self, owner: ClientTransaction | ServerTransaction, effects: list[Effect]) -> None:
        self.queue.apply(owner, effects, self.now)
        side = "uac" if isinstance(owner, ClientTransaction) else "uas"
        for effect in effects:
            if isinstance(effect, SendRequest):
                self.transmit(effect.message, self.receive_request)
            elif isinstance(effect, SendResponse):
                self.transmit(effect.message, self.receive_response)
            elif isinstance(effect, TransactionTerminated):
                (self.uac if side == "uac" else self.uas).remove(owner)
                self.tu.append((self.now, side, effect))
            elif not isinstance(effect, (StartTimer, CancelTimer)):
                self.tu.append((self.now, side, effect))

    def transmit(
        self, message: SipRequest | SipResponse, deliver: Callable[[Any], None]
    ) -> None:
        data = bytes(message)
        label = message.method if isinstance(message, SipRequest) else str(message.status)
        self.counts[label] = self.counts.get(label, 0) + 1
        delivered = (label, self.counts[label]) not in self.lose
        self.wire.append((self.now, label, delivered))
        if delivered:
            deliver(parse_message(data))

    def receive_request(self, req: SipRequest) -> None:
        route = self.uas.route_request(req)
        if route.disposition is RequestDisposition.NEW:
            cls = ServerInviteTransaction if req.method == "INVITE" else ServerNonInviteTransaction
            txn = cls(req, "uac", reliable=False)
            self.uas.add(txn)
            self.run(txn, txn.start(self.now))
        elif route.transaction is not None:
            self.run(route.transaction, route.transaction.on_request(req, self.now))
        else:
            self.tu.append((self.now, "uas", RequestReceived(req)))

    def receive_response(self, resp: SipResponse) -> None:
        txn = self.uac.route_response(resp)
        if txn is None:
            self.tu.append((self.now, "uac core", ResponseReceived(resp)))
        else:
            self.run(txn, txn.on_response(resp, self.now))

    def send(self, txn: ClientTransaction) -> None:
        self.uac.add(txn)
        self.run(txn, txn.start(self.now))

    def advance(self, until: float) -> None:
        while (item := self.queue.pop_due(until)) is not None:
            due, owner, name = item
            self.now = due
            assert isinstance(owner, (ClientTransaction, ServerTransaction))
            self.run(owner, owner.on_timer(name, due))
        self.now = until

    def uas_transaction(self) -> ServerTransaction:
        (txn,) = list(self.uas)
        assert isinstance(txn, ServerTransaction)
        return txn

    def events(self, side: str) -> list[tuple[float, str]]:
        out = []
        for when, who, effect in self.tu:
            if who != side:
                continue
            if isinstance(effect, ResponseReceived):
                out.append((when, str(effect.response.status)))
            elif isinstance(effect, RequestReceived):
                out.append((when, effect.request.method))
            elif isinstance(effect, TransactionTimedOut):
                out.append((when, f"timeout {effect.kind}"))
            else:
                out.append((when, type(effect).__name__))
        return out


def test_pair_rejected_call_with_lost_invite_and_lost_486() -> None:
    net = Network(lose=frozenset({("INVITE", 1), ("486", 1)}))
    net.send(ClientInviteTransaction(request(INVITE), "uas", reliable=False))
    net.advance(2.0)
    uas = net.uas_transaction()
    busy = build_response(uas.request, 486, to_tag="314159")
    net.run(uas, uas.send_response(busy, net.now))
    net.advance(100.0)
    assert net.wire == [
        (0.0, "INVITE", False),
        (0.5, "INVITE", True),
        (0.7, "100", True),
        (2.0, "486", False),
        (2.5, "486", True),
        (2.5, "ACK", True),
    ]
    assert net.events("uac") == [(0.7, "100"), (2.5, "486"), (34.5, "TransactionTerminated")]
    assert net.events("uas") == [(0.5, "INVITE"), (7.5, "TransactionTerminated")]
    assert len(net.uac) == len(net.uas) == 0 and len(net.queue) == 0


def test_pair_answered_call_2xx_and_its_ack_bypass_the_transactions() -> None:
    net = Network()
    net.send(ClientInviteTransaction(request(INVITE), "uas", reliable=False))
    net.advance(0.1)
    uas = net.uas_transaction()
    ok = build_response(uas.request, 200, to_tag="314159")
    net.run(uas, uas.send_response(ok, net.now))
    assert len(net.uac) == len(net.uas) == 0
    # The UAS TU retransmits the 2xx (13.3.1.4): no transaction, so the UAC core gets it.
    net.transmit(ok, net.receive_response)
    # The UAC dialog's ACK has a branch of its own: the UAS TU gets it.
    net.transmit(request(ACK_2XX), net.receive_request)
    assert net.events("uac") == [(0.1, "200"), (0.1, "TransactionTerminated")]
    assert net.events("uac core") == [(0.1, "200")]
    assert net.events("uas") == [(0.0, "INVITE"), (0.1, "TransactionTerminated"), (0.1, "ACK")]


def test_pair_options_with_lost_response() -> None:
    net = Network(lose=frozenset({("200", 1)}))
    net.send(ClientNonInviteTransaction(request(OPTIONS), "uas", reliable=False))
    uas = net.uas_transaction()
    net.run(uas, uas.send_response(build_response(uas.request, 200, to_tag="93810874"), 0.0))
    net.advance(100.0)
    assert net.wire == [
        (0.0, "OPTIONS", True),
        (0.0, "200", False),
        (0.5, "OPTIONS", True),
        (0.5, "200", True),
    ]
    assert net.events("uac") == [(0.5, "200"), (5.5, "TransactionTerminated")]
    assert net.events("uas") == [(0.0, "OPTIONS"), (32.0, "TransactionTerminated")]
