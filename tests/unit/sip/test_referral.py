"""Reading REFER and its NOTIFYs (tui_phone.sip.referral; RFC 3515, RFC 3891 7.1).

Requests are built with the tested builders of tui_phone.sip.transfer, sent
through bytes and parsed again, as the transferee and transferor get them.
"""

from __future__ import annotations

import itertools

import pytest

from tui_phone.sip.dialog import Dialog, DialogState
from tui_phone.sip.errors import SipParseError
from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.sip.referral import ReferNotification, parse_refer, parse_refer_notify
from tui_phone.sip.replaces import Replaces
from tui_phone.sip.requests import make_via, new_request
from tui_phone.sip.responses import build_response
from tui_phone.sip.transfer import build_refer, build_refer_notify
from tui_phone.sip.uri import parse_uri


def branches():
    counter = itertools.count(1)
    return lambda: f"z9hG4bKref{next(counter)}"


@pytest.fixture
def dialog() -> Dialog:
    invite = new_request(
        "INVITE", "sip:bob@127.0.0.1:5062", "<sip:alice@127.0.0.1>;tag=a1", "<sip:bob@127.0.0.1>",
        "call-1@127.0.0.1", 1, make_via("127.0.0.1", 5061, "UDP", "z9hG4bKinv"),
        contact="<sip:alice@127.0.0.1:5061>",
    )
    ok = build_response(invite, 200, to_tag="b1")
    ok.headers.add("Contact", "<sip:bob@127.0.0.1:5062>")
    result = Dialog.from_uac(invite, ok)
    assert result.state is DialogState.CONFIRMED
    return result


def received(request: SipRequest) -> SipRequest:
    message = parse_message(bytes(request))
    assert isinstance(message, SipRequest)
    return message


def raw_refer(*headers: str) -> SipRequest:
    lines = ["REFER sip:bob@127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKr",
             "From: <sip:alice@127.0.0.1>;tag=a1", "To: <sip:bob@127.0.0.1>;tag=b1",
             "Call-ID: c1", "CSeq: 2 REFER", "Max-Forwards: 70", *headers, "Content-Length: 0"]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, SipRequest)
    return message


def test_blind_refer_gives_the_target_and_referred_by(dialog: Dialog) -> None:
    refer = build_refer(dialog, branches(), parse_uri("sip:carol@127.0.0.1:5063"),
                        referred_by=parse_uri("sip:alice@127.0.0.1"))
    referral = parse_refer(received(refer))
    assert str(referral.target) == "sip:carol@127.0.0.1:5063"
    assert referral.replaces is None
    assert referral.referred_by == "<sip:alice@127.0.0.1>"
    assert referral.refer_to == "<sip:carol@127.0.0.1:5063>"


def test_attended_refer_carries_replaces_out_of_the_uri(dialog: Dialog) -> None:
    replaces = Replaces("xyz@127.0.0.1", "c9", "a2")
    refer = build_refer(dialog, branches(), parse_uri("sip:carol@127.0.0.1:5063"), replaces=replaces)
    referral = parse_refer(received(refer))
    assert referral.replaces == replaces
    assert str(referral.target) == "sip:carol@127.0.0.1:5063"  # URI headers dropped
    assert referral.referred_by is None


def test_method_parameter_is_dropped_and_only_invite_accepted() -> None:
    referral = parse_refer(raw_refer("Refer-To: <sip:carol@h;method=INVITE;transport=udp>"))
    assert str(referral.target) == "sip:carol@h;transport=udp"
    with pytest.raises(SipParseError, match=r"^Refer-To asks for BYE, not INVITE$") as error:
        parse_refer(raw_refer("Refer-To: <sip:carol@h;method=BYE>"))
    assert error.value.status == 501


@pytest.mark.parametrize(("headers", "status", "message"), [
    ((), 400, "REFER needs exactly one Refer-To, not 0"),
    (("Refer-To: <sip:a@h>", "Refer-To: <sip:b@h>"), 400, "REFER needs exactly one Refer-To, not 2"),
    (("Refer-To: <tel:+15551234>",), 416, "Refer-To is not a SIP URI"),
    (("Refer-To: <sip:a@h?Replaces=abc>",), 400, "bad Replaces in Refer-To: missing to-tag in Replaces"),
])
def test_bad_refer(headers: tuple[str, ...], status: int, message: str) -> None:
    with pytest.raises(SipParseError) as error:
        parse_refer(raw_refer(*headers))
    assert (error.value.status, str(error.value)) == (status, message)


def test_notify_progress_and_final(dialog: Dialog) -> None:
    trying = parse_refer_notify(received(build_refer_notify(
        dialog, branches(), refer_cseq=2, status=100, expires=60)))
    assert trying == ReferNotification(100, "Trying", terminated=False, event_id=2)
    assert not trying.is_final
    ok = parse_refer_notify(received(build_refer_notify(dialog, branches(), refer_cseq=None, status=200)))
    assert ok == ReferNotification(200, "OK", terminated=True, event_id=None)
    busy = parse_refer_notify(received(build_refer_notify(
        dialog, branches(), refer_cseq=2, status=486, reason="Busy Here")))
    assert (busy.status, busy.reason, busy.is_final, busy.terminated) == (486, "Busy Here", True, True)


def raw_notify(event: str | None, body: bytes) -> SipRequest:
    lines = ["NOTIFY sip:alice@127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKn",
             "From: <sip:bob@127.0.0.1>;tag=b1", "To: <sip:alice@127.0.0.1>;tag=a1",
             "Call-ID: c1", "CSeq: 5 NOTIFY", "Max-Forwards: 70",
             *([f"Event: {event}"] if event is not None else []),
             "Subscription-State: active", "Content-Type: message/sipfrag",
             f"Content-Length: {len(body)}"]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    assert isinstance(message, SipRequest)
    return message


@pytest.mark.parametrize(("event", "body", "status", "message"), [
    (None, b"SIP/2.0 200 OK\r\n", 489, "NOTIFY without an Event header"),
    ("presence", b"SIP/2.0 200 OK\r\n", 489, "NOTIFY for event 'presence', not refer"),
    ("refer;id=x", b"SIP/2.0 200 OK\r\n", 400, "bad Event id 'x'"),
    ("refer", b"", 400, "sipfrag without a Status-Line: ''"),
    ("refer", b"INVITE sip:a@h SIP/2.0\r\n", 400, "sipfrag without a Status-Line: 'INVITE sip:a@h SIP/2.0'"),
    ("refer", b"SIP/2.0 099 Odd\r\n", 400, "sipfrag status 99 out of range"),
])
def test_bad_notify(event: str | None, body: bytes, status: int, message: str) -> None:
    with pytest.raises(SipParseError) as error:
        parse_refer_notify(raw_notify(event, body))
    assert (error.value.status, str(error.value)) == (status, message)


def test_sipfrag_with_headers_and_bare_newlines() -> None:
    body = b"SIP/2.0 180 Ringing\nContact: <sip:c@h>\n"
    notification = parse_refer_notify(raw_notify("Refer ; id=7", body))
    assert notification == ReferNotification(180, "Ringing", terminated=False, event_id=7)
