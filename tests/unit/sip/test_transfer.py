"""Call transfer: REFER with Replaces, NOTIFY with sipfrag (RFC 3515, RFC 3891, RFC 3892).

The scenario is an attended transfer (RFC 5589 7.1): Alice talks to Bob
(the RFC 3665 3.2 dialog of the fixtures) and to Carol, then asks Bob to
call Carol with a Replaces naming her dialog with Carol.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tui_phone.sip.dialog import Dialog, DialogRequestError, DialogState
from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.replaces import Replaces
from tui_phone.sip.requests import make_via, new_request
from tui_phone.sip.responses import build_response
from tui_phone.sip.transfer import (
    SIPFRAG_CONTENT_TYPE,
    build_refer,
    build_refer_notify,
    find_replaced_dialog,
    refer_to_value,
    replaces_of_refer_to,
    sipfrag,
)
from tui_phone.sip.uri import parse_uri
from tui_phone.sip.via import Via

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"
AC_CALL_ID = "b84b4c76e66710@client.atlanta.example.com"
CAROL_TAG = "a73kszlfl"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def branches():
    counter = itertools.count(1)
    return lambda: f"z9hG4bKxfer{next(counter)}"


@pytest.fixture
def alice_bob() -> Dialog:
    invite = parse_message(load("f4_invite_alice_to_proxy1.sip"))
    ok = parse_message(load("f14_200_proxy1_to_alice.sip"))
    assert isinstance(invite, SipRequest) and isinstance(ok, SipResponse)
    return Dialog.from_uac(invite, ok)


@pytest.fixture
def bob_alice() -> Dialog:
    invite = parse_message(load("f8_invite_proxy2_to_bob.sip"))
    assert isinstance(invite, SipRequest)
    return Dialog.from_uas(
        invite, "314159", contact="<sip:bob@client.biloxi.example.com;transport=tcp>",
        local_via=Via("TCP", "client.biloxi.example.com", 5060), state=DialogState.CONFIRMED,
    )


@pytest.fixture
def alice_carol_invite() -> SipRequest:
    request = new_request(
        "INVITE", "sip:carol@chicago.example.com", "Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        "Carol <sip:carol@chicago.example.com>", AC_CALL_ID, 1,
        make_via("client.atlanta.example.com", 5060, "TCP", "z9hG4bKac1"),
        contact="<sip:alice@client.atlanta.example.com;transport=tcp>",
    )
    received = parse_message(bytes(request))
    assert isinstance(received, SipRequest)
    return received


@pytest.fixture
def alice_carol(alice_carol_invite: SipRequest) -> Dialog:
    ok = build_response(alice_carol_invite, 200, to_tag=CAROL_TAG)
    ok.headers.add("Contact", "<sip:carol@client.chicago.example.com>")
    return Dialog.from_uac(alice_carol_invite, ok)


@pytest.fixture
def carol_alice(alice_carol_invite: SipRequest) -> Dialog:
    return Dialog.from_uas(
        alice_carol_invite, CAROL_TAG, contact="<sip:carol@client.chicago.example.com>",
        local_via=Via("TCP", "client.chicago.example.com", 5060), state=DialogState.CONFIRMED,
    )


def test_refer_with_replaces_escapes_it_in_refer_to(alice_bob: Dialog, alice_carol: Dialog) -> None:
    refer = build_refer(
        alice_bob, branches(), "<sip:carol@chicago.example.com>",
        replaces=alice_carol.replaces(), referred_by="<sip:alice@atlanta.example.com>",
    )
    assert refer.headers.get("Refer-To") == (
        "<sip:carol@chicago.example.com?Replaces="
        "b84b4c76e66710%40client.atlanta.example.com"
        "%3Bto-tag%3Da73kszlfl%3Bfrom-tag%3D1928301774>"
    )
    assert refer.headers.get("Referred-By") == "<sip:alice@atlanta.example.com>"
    assert refer.headers.get("Contact") == "<sip:alice@client.atlanta.example.com;transport=tcp>"
    assert str(refer.cseq) == "3 REFER"
    assert str(refer.uri) == "sip:bob@client.biloxi.example.com;transport=tcp"


def test_attended_transfer_round_trip(
    alice_bob: Dialog, bob_alice: Dialog, alice_carol: Dialog, carol_alice: Dialog
) -> None:
    refer = parse_message(bytes(build_refer(
        alice_bob, branches(), parse_uri("sip:carol@chicago.example.com"),
        replaces=alice_carol.replaces(),
    )))
    assert isinstance(refer, SipRequest)
    bob_alice.on_request(refer)
    refer_to = refer.headers.get("Refer-To")
    assert refer_to is not None
    replaces = replaces_of_refer_to(refer_to)
    assert replaces == Replaces(AC_CALL_ID, CAROL_TAG, "1928301774")
    # Bob puts it in the Replaces header of his INVITE; Carol finds her dialog.
    header = Replaces.parse(str(replaces))
    assert find_replaced_dialog(header, [alice_carol, carol_alice]) is carol_alice


def test_blind_transfer_refer_to() -> None:
    assert refer_to_value("sip:carol@chicago.example.com") == "<sip:carol@chicago.example.com>"
    assert refer_to_value(parse_uri("tel:+15551234567")) == "<tel:+15551234567>"
    assert replaces_of_refer_to("<sip:carol@chicago.example.com>") is None


def test_replaces_needs_a_sip_uri() -> None:
    with pytest.raises(LocalProtocolError, match="^Replaces can only be embedded in a SIP or SIPS URI$"):
        refer_to_value("<tel:+15551234567>", Replaces("a", "b", "c"))
    with pytest.raises(LocalProtocolError, match="^the Refer-To URI already has a Replaces header$"):
        refer_to_value("<sip:c@h?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2>", Replaces("a", "b", "c"))


def test_refer_keeps_other_uri_headers() -> None:
    value = refer_to_value("Carol <sip:carol@h?Accept-Contact=x>", Replaces("id@h", "1", "2", early_only=True))
    assert value == '"Carol" <sip:carol@h?Accept-Contact=x&Replaces=id%40h%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only>'
    assert replaces_of_refer_to(value) == Replaces("id@h", "1", "2", early_only=True)


def test_notify_progress_then_final_sipfrag(bob_alice: Dialog) -> None:
    trying = build_refer_notify(bob_alice, branches(), refer_cseq=3, status=100)
    assert bytes(trying).decode().split("\r\n") == [
        "NOTIFY sip:alice@client.atlanta.example.com;transport=tcp SIP/2.0",
        "Via: SIP/2.0/TCP client.biloxi.example.com:5060;branch=z9hG4bKxfer1",
        "Max-Forwards: 70",
        "Route: <sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>",
        "To: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl",
        "From: Bob <sip:bob@biloxi.example.com>;tag=314159",
        "Call-ID: 3848276298220188511@atlanta.example.com",
        "CSeq: 1 NOTIFY",
        "Contact: <sip:bob@client.biloxi.example.com;transport=tcp>",
        "Event: refer;id=3",
        "Subscription-State: active",
        "Content-Type: message/sipfrag;version=2.0",
        "Content-Length: 20",
        "",
        "SIP/2.0 100 Trying",
        "",
    ]
    done = build_refer_notify(bob_alice, branches(), refer_cseq=3, status=200)
    assert done.headers.get("Subscription-State") == "terminated;reason=noresource"
    assert done.body == b"SIP/2.0 200 OK\r\n"
    assert str(done.cseq) == "2 NOTIFY"


def test_notify_options(bob_alice: Dialog) -> None:
    ringing = build_refer_notify(bob_alice, branches(), refer_cseq=None, status=180, expires=60)
    assert ringing.headers.get("Event") == "refer"
    assert ringing.headers.get("Subscription-State") == "active;expires=60"
    assert ringing.headers.get("Content-Type") == SIPFRAG_CONTENT_TYPE
    failed = build_refer_notify(
        bob_alice, branches(), refer_cseq=3, status=503, reason="Service Unavailable",
        subscription_state="terminated;reason=rejected",
    )
    assert failed.headers.get("Subscription-State") == "terminated;reason=rejected"
    assert failed.body == b"SIP/2.0 503 Service Unavailable\r\n"


def test_sipfrag_checks_the_status() -> None:
    assert sipfrag(486, "Busy Here") == b"SIP/2.0 486 Busy Here\r\n"
    with pytest.raises(LocalProtocolError, match="^invalid status code 99$"):
        sipfrag(99, "x")


def test_find_replaced_dialog_without_a_match(carol_alice: Dialog) -> None:
    with pytest.raises(DialogRequestError) as info:
        find_replaced_dialog(Replaces(AC_CALL_ID, "wrong", "1928301774"), [carol_alice])
    assert (info.value.status, str(info.value)) == (481, "Replaces matches no dialog")
