"""Dialogs (RFC 3261 12): creation, requests within, what responses and requests change.

The main flow is RFC 3665 3.2 (Alice calls Bob through two record-routing
proxies), stored under fixtures/dialog/ with LF line ends turned into CRLF
on loading. Alice's UAC dialog and Bob's UAS dialog are driven in pairs, as
h11's ConnectionPair does.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tui_phone.sip.dialog import (
    TARGET_REFRESH_METHODS,
    Dialog,
    DialogId,
    DialogRequestError,
    DialogState,
)
from tui_phone.sip.errors import LocalProtocolError, RemoteProtocolError, SipParseError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.replaces import Replaces
from tui_phone.sip.responses import build_response
from tui_phone.sip.uri import parse_uri
from tui_phone.sip.via import Via

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"
CALL_ID = "3848276298220188511@atlanta.example.com"
BOB_CONTACT = "<sip:bob@client.biloxi.example.com;transport=tcp>"
BOB_VIA = Via("TCP", "client.biloxi.example.com", 5060)


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def parse(name: str) -> SipRequest | SipResponse:
    return parse_message(load(name))


def branches(*values: str):
    """A new_branch callable handing out fixed branches, then numbered ones."""
    counter = itertools.count(1)
    queue = list(values)
    return lambda: queue.pop(0) if queue else f"z9hG4bKtest{next(counter)}"


def wire(message: SipRequest | SipResponse) -> SipRequest | SipResponse:
    """What the other side receives: the bytes, parsed again."""
    return parse_message(bytes(message))


@pytest.fixture
def invite() -> SipRequest:
    message = parse("f4_invite_alice_to_proxy1.sip")
    assert isinstance(message, SipRequest)
    return message


@pytest.fixture
def alice(invite: SipRequest) -> Dialog:
    ok = parse("f14_200_proxy1_to_alice.sip")
    assert isinstance(ok, SipResponse)
    return Dialog.from_uac(invite, ok)


@pytest.fixture
def bob() -> Dialog:
    request = parse("f8_invite_proxy2_to_bob.sip")
    assert isinstance(request, SipRequest)
    return Dialog.from_uas(
        request, "314159", contact=BOB_CONTACT, local_via=BOB_VIA, state=DialogState.CONFIRMED
    )


# ---------------------------------------------------------------- creation


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.sip")))
def test_fixtures_round_trip(name: str) -> None:
    data = load(name)
    assert bytes(parse_message(data)) == data


def test_malformed_record_route_is_the_peers_fault(invite: SipRequest) -> None:
    ok = parse("f14_200_proxy1_to_alice.sip")
    assert isinstance(ok, SipResponse)
    ok.headers.set("Record-Route", "<sip:ss1.atlanta.example.com;lr")
    with pytest.raises(SipParseError, match="^missing '>' in name-addr$"):
        Dialog.from_uac(invite, ok)


def test_uac_dialog_state_from_the_2xx(alice: Dialog) -> None:
    assert alice.id == DialogId(CALL_ID, "9fxced76sl", "314159")
    assert str(alice.local_uri) == "sip:alice@atlanta.example.com"
    assert str(alice.remote_uri) == "sip:bob@biloxi.example.com"
    assert str(alice.remote_target) == "sip:bob@client.biloxi.example.com;transport=tcp"
    assert alice.local_cseq == 2
    assert alice.remote_cseq is None
    assert alice.secure is False
    assert alice.state is DialogState.CONFIRMED and alice.is_confirmed
    assert alice.is_uac and alice.method == "INVITE"
    assert alice.local_contact == "<sip:alice@client.atlanta.example.com;transport=tcp>"
    assert str(alice.local_via) == "SIP/2.0/TCP client.atlanta.example.com:5060"


def test_uac_route_set_is_the_record_route_reversed(alice: Dialog) -> None:
    # RFC 3261 12.1.2: the response lists ss2 then ss1; Alice reaches ss1 first.
    assert alice.route_set == [
        "<sip:ss1.atlanta.example.com;lr>",
        "<sip:ss2.biloxi.example.com;lr>",
    ]


def test_uas_dialog_state_from_the_request(bob: Dialog) -> None:
    assert bob.id == DialogId(CALL_ID, "314159", "9fxced76sl")
    # RFC 3261 12.1.1: the Record-Route of the request, in order.
    assert bob.route_set == [
        "<sip:ss2.biloxi.example.com;lr>",
        "<sip:ss1.atlanta.example.com;lr>",
    ]
    assert str(bob.remote_target) == "sip:alice@client.atlanta.example.com;transport=tcp"
    assert str(bob.local_party) == "Bob <sip:bob@biloxi.example.com>;tag=314159"
    assert str(bob.remote_party) == "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl"
    assert bob.remote_cseq == 2
    assert bob.local_cseq is None
    assert not bob.is_uac


def test_uac_early_dialog_from_a_180(invite: SipRequest) -> None:
    ringing = parse("f11_180_proxy1_to_alice.sip")
    assert isinstance(ringing, SipResponse)
    dialog = Dialog.from_uac(invite, ringing)
    assert dialog.state is DialogState.EARLY and dialog.is_early
    assert dialog.remote_tag == "314159"


def test_uac_requires_a_dialog_creating_pair(invite: SipRequest) -> None:
    trying = build_response(invite, 100)
    with pytest.raises(LocalProtocolError, match="^a 100 response does not create a dialog$"):
        Dialog.from_uac(invite, trying)
    tagless = build_response(invite, 180)
    with pytest.raises(
        LocalProtocolError, match="^a provisional response without a To tag creates no dialog$"
    ):
        Dialog.from_uac(invite, tagless)
    busy = build_response(invite, 486, to_tag="x")
    with pytest.raises(LocalProtocolError, match="^a 486 response does not create a dialog$"):
        Dialog.from_uac(invite, busy)


def test_uac_without_contact_falls_back_to_the_request_uri(invite: SipRequest) -> None:
    ringing = build_response(invite, 180, to_tag="x")
    dialog = Dialog.from_uac(invite, ringing)
    assert str(dialog.remote_target) == "sip:bob@biloxi.example.com"


def test_uas_refuses_a_request_without_contact(invite: SipRequest) -> None:
    invite.headers.remove("Contact")
    with pytest.raises(DialogRequestError) as info:
        Dialog.from_uas(invite, "314159")
    assert info.value.status == 400
    assert str(info.value) == "INVITE without a Contact cannot create a dialog"
    assert isinstance(info.value, RemoteProtocolError)


def test_uas_refuses_an_in_dialog_request(invite: SipRequest) -> None:
    invite.headers.set("To", "Bob <sip:bob@biloxi.example.com>;tag=1")
    with pytest.raises(LocalProtocolError, match=r"already belongs to a dialog"):
        Dialog.from_uas(invite, "314159")


def test_secure_flag_needs_sips_and_tls() -> None:
    data = load("f4_invite_alice_to_proxy1.sip").replace(
        b"INVITE sip:bob@biloxi.example.com", b"INVITE sips:bob@biloxi.example.com"
    )
    request = parse_message(data)
    assert isinstance(request, SipRequest)
    assert Dialog.from_uas(request, "a").secure is True
    assert Dialog.from_uas(request, "a", over_tls=False).secure is False


def test_dialog_id_of_messages(invite: SipRequest) -> None:
    assert DialogId.of_incoming_request(invite) is None
    ok = parse("f14_200_proxy1_to_alice.sip")
    assert isinstance(ok, SipResponse)
    assert DialogId.of_response(ok) == DialogId(CALL_ID, "9fxced76sl", "314159")
    bye = parse("f19_bye_bob_to_proxy2.sip")
    assert isinstance(bye, SipRequest)
    assert DialogId.of_incoming_request(bye) == DialogId(CALL_ID, "9fxced76sl", "314159")


# ---------------------------------------------------------------- sending


def test_ack_for_2xx_is_rfc3665_f16(alice: Dialog, invite: SipRequest) -> None:
    # RFC 3261 13.2.2.4: the INVITE's CSeq number, its credentials, a new branch.
    ack = alice.create_ack(invite, branches("z9hG4bK74b76"))
    assert bytes(ack) == load("f16_ack_alice_to_proxy1.sip")
    assert alice.local_cseq == 2


def test_bye_from_the_uas_is_rfc3665_f19(bob: Dialog) -> None:
    bye = bob.create_bye(branches("z9hG4bKnashds7"))
    assert bytes(bye) == load("f19_bye_bob_to_proxy2.sip")
    assert bob.local_cseq == 1


def test_cseq_increments_per_request_but_not_for_ack(alice: Dialog, invite: SipRequest) -> None:
    new_branch = branches()
    numbers = [alice.create_options(new_branch).cseq.number]
    alice.create_ack(invite, new_branch)
    numbers.append(alice.create_info(new_branch, b"Signal=1\r\n", "application/dtmf-relay").cseq.number)
    numbers.append(alice.create_bye(new_branch).cseq.number)
    assert numbers == [3, 4, 5]
    assert alice.local_cseq == 5


def test_uas_first_local_cseq_is_chosen_by_the_caller() -> None:
    request = parse("f8_invite_proxy2_to_bob.sip")
    assert isinstance(request, SipRequest)
    dialog = Dialog.from_uas(
        request, "314159", contact=BOB_CONTACT, local_via=BOB_VIA,
        state=DialogState.CONFIRMED, first_local_cseq=4711,
    )
    assert dialog.create_options(branches()).headers.get("CSeq") == "4711 OPTIONS"
    assert dialog.create_options(branches()).headers.get("CSeq") == "4712 OPTIONS"


def test_target_refresh_requests_carry_contact(alice: Dialog) -> None:
    new_branch = branches()
    assert alice.create_bye(new_branch).headers.get("Contact") is None
    assert alice.create_options(new_branch).headers.get("Contact") is None
    for method in sorted(TARGET_REFRESH_METHODS):
        request = alice.create_request(method, new_branch, extra_headers=_event_for(method))
        assert request.headers.get("Contact") == alice.local_contact, method


def _event_for(method: str) -> list[tuple[str, str]]:
    return [("Event", "refer")] if method in ("SUBSCRIBE", "NOTIFY") else []


def test_reinvite_request_line_and_headers(alice: Dialog) -> None:
    sdp = b"v=0\r\n"
    reinvite = alice.create_reinvite(branches("z9hG4bKre1"), body=sdp)
    assert bytes(reinvite).decode().split("\r\n")[:12] == [
        "INVITE sip:bob@client.biloxi.example.com;transport=tcp SIP/2.0",
        "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bKre1",
        "Max-Forwards: 70",
        "Route: <sip:ss1.atlanta.example.com;lr>, <sip:ss2.biloxi.example.com;lr>",
        "To: Bob <sip:bob@biloxi.example.com>;tag=314159",
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl",
        f"Call-ID: {CALL_ID}",
        "CSeq: 3 INVITE",
        "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>",
        "Content-Type: application/sdp",
        "Content-Length: 5",
        "",
    ]


def test_loose_routing_keeps_the_remote_target_as_request_uri(alice: Dialog) -> None:
    bye = alice.create_bye(branches())
    assert str(bye.uri) == "sip:bob@client.biloxi.example.com;transport=tcp"
    assert bye.headers.get_all("Route") == [
        "<sip:ss1.atlanta.example.com;lr>",
        "<sip:ss2.biloxi.example.com;lr>",
    ]


def test_strict_routing_puts_the_first_route_in_the_request_uri(alice: Dialog) -> None:
    # RFC 3261 12.2.1.1 / 16.12.1.2: the next hop is an RFC 2543 strict router.
    alice.route_set = [
        "<sip:p2.example.com;method=INVITE;maddr=192.0.2.5>",
        "<sip:p1.example.com;lr>",
    ]
    bye = alice.create_bye(branches())
    # Parameters a Request-URI may not hold (method) are stripped; maddr stays.
    assert str(bye.uri) == "sip:p2.example.com;maddr=192.0.2.5"
    assert bye.headers.get_all("Route") == [
        "<sip:p1.example.com;lr>",
        "<sip:bob@client.biloxi.example.com;transport=tcp>",
    ]


def test_strict_routing_with_a_single_route(alice: Dialog) -> None:
    alice.route_set = ["<sip:strict.example.com>"]
    bye = alice.create_bye(branches())
    assert str(bye.uri) == "sip:strict.example.com"
    assert bye.headers.values("Route") == ["<sip:bob@client.biloxi.example.com;transport=tcp>"]


def test_empty_route_set_sends_straight_to_the_target(alice: Dialog) -> None:
    alice.route_set = []
    bye = alice.create_bye(branches())
    assert str(bye.uri) == "sip:bob@client.biloxi.example.com;transport=tcp"
    assert "Route" not in bye.headers


def test_route_set_parameters_are_kept_in_route(alice: Dialog) -> None:
    alice.route_set = ["<sip:p1.example.com;lr;ftag=abc>;x=1"]
    bye = alice.create_bye(branches())
    assert bye.headers.get("Route") == "<sip:p1.example.com;lr;ftag=abc>;x=1"


def test_uas_may_not_send_bye_in_an_early_dialog() -> None:
    request = parse("f8_invite_proxy2_to_bob.sip")
    assert isinstance(request, SipRequest)
    dialog = Dialog.from_uas(request, "314159", contact=BOB_CONTACT, local_via=BOB_VIA)
    with pytest.raises(LocalProtocolError, match=r"^the callee must not send BYE in an early dialog"):
        dialog.create_bye(branches())
    dialog.on_response_sent(request, build_response(request, 200, to_tag="314159"))
    assert dialog.is_confirmed
    assert dialog.create_bye(branches()).method == "BYE"


def test_uas_failure_response_terminates_the_early_dialog() -> None:
    request = parse("f8_invite_proxy2_to_bob.sip")
    assert isinstance(request, SipRequest)
    dialog = Dialog.from_uas(request, "314159", contact=BOB_CONTACT, local_via=BOB_VIA)
    dialog.on_response_sent(request, build_response(request, 180, to_tag="314159"))
    assert dialog.is_early
    dialog.on_response_sent(request, build_response(request, 486, to_tag="314159"))
    assert dialog.is_terminated


def test_refused_requests_change_nothing(alice: Dialog) -> None:
    alice.secure = True  # a SIPS dialog needs a SIPS Contact (RFC 3261 8.1.1.8)
    with pytest.raises(LocalProtocolError, match="^a secure dialog needs a SIPS Contact$"):
        alice.create_reinvite(branches(), contact="<sip:alice@192.0.2.9>")
    assert alice.local_cseq == 2
    assert alice.local_contact == "<sip:alice@client.atlanta.example.com;transport=tcp>"


def test_misused_builders_raise(alice: Dialog, invite: SipRequest) -> None:
    with pytest.raises(LocalProtocolError, match=r"create_ack"):
        alice.create_request("ACK", branches())
    with pytest.raises(LocalProtocolError, match=r"build_cancel"):
        alice.create_request("CANCEL", branches())
    with pytest.raises(LocalProtocolError, match="^only an INVITE is acknowledged, not BYE$"):
        alice.create_ack(alice.create_bye(branches()), branches())
    with pytest.raises(LocalProtocolError, match=r"must start with 'z9hG4bK'"):
        alice.create_bye(lambda: "1234")
    alice.terminate()
    with pytest.raises(LocalProtocolError, match="^cannot send BYE in a terminated dialog$"):
        alice.create_bye(branches())


def test_info_options_and_notify(alice: Dialog) -> None:
    info = alice.create_info(
        branches(), b"Signal=5\r\nDuration=160\r\n", "application/dtmf-relay", info_package="dtmf"
    )
    assert info.headers.get("Info-Package") == "dtmf"
    assert info.headers.get("Content-Type") == "application/dtmf-relay"
    assert info.headers.get("Content-Length") == "24"
    assert "Contact" not in info.headers
    notify = alice.create_notify(
        branches(), event="dialog", subscription_state="active;expires=60",
        body=b"<x/>", content_type="application/dialog-info+xml",
    )
    assert [name for name, _ in notify.headers] == [
        "Via", "Max-Forwards", "Route", "To", "From", "Call-ID", "CSeq", "Contact",
        "Event", "Subscription-State", "Content-Type", "Content-Length",
    ]


# ---------------------------------------------------------------- receiving


def test_pair_bye_from_alice_is_accepted_and_ends_bobs_dialog(alice: Dialog, bob: Dialog) -> None:
    bye = wire(alice.create_bye(branches()))
    assert isinstance(bye, SipRequest)
    bob.on_request(bye)
    assert bob.remote_cseq == 3
    assert bob.is_terminated
    ok = wire(build_response(bye, 200))
    assert isinstance(ok, SipResponse)
    alice.on_response(bye, ok)
    assert alice.is_terminated


def test_pair_reinvite_refreshes_the_remote_target(alice: Dialog, bob: Dialog) -> None:
    # RFC 3665 3.7: Alice moves to a new address and re-INVITEs.
    moved = "<sip:alice@192.0.2.102;transport=tcp>"
    reinvite = wire(alice.create_reinvite(branches(), body=b"v=0\r\n", contact=moved))
    assert isinstance(reinvite, SipRequest)
    bob.on_request(reinvite)
    assert str(bob.remote_target) == "sip:alice@192.0.2.102;transport=tcp"
    assert bob.remote_cseq == 3
    assert bob.create_bye(branches()).uri == parse_uri("sip:alice@192.0.2.102;transport=tcp")
    assert alice.local_contact == moved


def test_pair_2xx_to_a_reinvite_refreshes_the_uac_target(alice: Dialog, bob: Dialog) -> None:
    reinvite = wire(alice.create_reinvite(branches(), body=b"v=0\r\n"))
    assert isinstance(reinvite, SipRequest)
    bob.on_request(reinvite)
    ok = build_response(reinvite, 200)
    ok.headers.add("Contact", "<sip:bob@192.0.2.222;transport=tcp>")
    alice.on_response(reinvite, wire(ok))  # type: ignore[arg-type]
    assert str(alice.remote_target) == "sip:bob@192.0.2.222;transport=tcp"
    assert alice.create_bye(branches()).uri == parse_uri("sip:bob@192.0.2.222;transport=tcp")


def test_non_refresh_request_does_not_move_the_target(alice: Dialog, bob: Dialog) -> None:
    info = alice.create_request(
        "INFO", branches(), body=b"x", content_type="text/plain", contact="<sip:x@y>"
    )
    assert info.headers.get("Contact") == "<sip:x@y>"
    before = bob.remote_target
    bob.on_request(wire(info))  # type: ignore[arg-type]
    assert bob.remote_target == before


def test_lower_remote_cseq_is_answered_500(alice: Dialog, bob: Dialog) -> None:
    new_branch = branches()
    first = wire(alice.create_options(new_branch))
    second = wire(alice.create_options(new_branch))
    bob.on_request(second)  # type: ignore[arg-type]
    with pytest.raises(DialogRequestError) as info:
        bob.on_request(first)  # type: ignore[arg-type]
    assert info.value.status == 500
    assert str(info.value) == "CSeq 3 is lower than the remote sequence number 4"
    assert bob.remote_cseq == 4


def test_ack_and_cancel_do_not_touch_the_remote_cseq(alice: Dialog, bob: Dialog, invite: SipRequest) -> None:
    bob.on_request(wire(alice.create_options(branches())))  # type: ignore[arg-type]
    assert bob.remote_cseq == 3
    bob.on_request(wire(alice.create_ack(invite, branches())))  # type: ignore[arg-type]
    assert bob.remote_cseq == 3


def test_request_in_a_terminated_dialog_is_answered_481(alice: Dialog, bob: Dialog) -> None:
    bob.terminate()
    with pytest.raises(DialogRequestError) as info:
        bob.on_request(wire(alice.create_options(branches())))  # type: ignore[arg-type]
    assert (info.value.status, info.value.reason) == (481, "dialog is terminated")


def test_request_of_another_dialog_is_our_mistake(alice: Dialog, bob: Dialog) -> None:
    request = alice.create_options(branches())
    request.headers.set("From", "Alice <sip:alice@atlanta.example.com>;tag=other")
    with pytest.raises(LocalProtocolError, match="^the request belongs to another dialog$"):
        bob.on_request(wire(request))  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [408, 481])
def test_408_and_481_terminate_the_dialog(alice: Dialog, status: int) -> None:
    options = alice.create_options(branches())
    alice.on_response(options, build_response(options, status))
    assert alice.is_terminated


def test_other_failures_keep_the_dialog(alice: Dialog) -> None:
    bye = alice.create_bye(branches())
    alice.on_response(bye, build_response(bye, 407))
    assert alice.is_confirmed


def test_timeout_terminates_the_dialog(alice: Dialog) -> None:
    options = alice.create_options(branches())
    alice.on_request_timeout(options)
    assert alice.state is DialogState.TERMINATED


def test_early_dialog_confirmed_by_2xx_recomputes_the_route_set(invite: SipRequest) -> None:
    ringing = parse("f11_180_proxy1_to_alice.sip")
    assert isinstance(ringing, SipResponse)
    dialog = Dialog.from_uac(invite, ringing)
    ok = parse("f14_200_proxy1_to_alice.sip")
    assert isinstance(ok, SipResponse)
    # RFC 3261 13.2.2.4: the 2xx decides the route set and the target.
    ok.headers.set("Record-Route", "<sip:ss3.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>")
    ok.headers.set("Contact", "<sip:bob@192.0.2.201>")
    dialog.on_response(invite, ok)
    assert dialog.is_confirmed
    assert dialog.route_set == ["<sip:ss1.atlanta.example.com;lr>", "<sip:ss3.biloxi.example.com;lr>"]
    assert str(dialog.remote_target) == "sip:bob@192.0.2.201"


def test_early_dialog_ends_when_the_invite_fails(invite: SipRequest) -> None:
    ringing = parse("f11_180_proxy1_to_alice.sip")
    assert isinstance(ringing, SipResponse)
    dialog = Dialog.from_uac(invite, ringing)
    dialog.on_response(invite, build_response(invite, 486, to_tag="314159"))
    assert dialog.is_terminated


def test_response_of_another_dialog_is_our_mistake(alice: Dialog, invite: SipRequest) -> None:
    options = alice.create_options(branches())
    other = build_response(options, 200)
    other.headers.set("To", "Bob <sip:bob@biloxi.example.com>;tag=999")
    with pytest.raises(LocalProtocolError, match="^the response belongs to another dialog$"):
        alice.on_response(options, other)
    with pytest.raises(LocalProtocolError, match="^the response does not answer this request$"):
        alice.on_response(invite, build_response(options, 200))


# ---------------------------------------------------------------- Replaces


def test_replaces_round_trip_between_the_two_sides(alice: Dialog, bob: Dialog) -> None:
    # Alice names her dialog with Bob; Bob, receiving it, must find his own.
    replaces = alice.replaces()
    assert str(replaces) == f"{CALL_ID};to-tag=314159;from-tag=9fxced76sl"
    received = Replaces.parse(str(replaces))
    assert bob.matches_replaces(received)
    assert not alice.matches_replaces(received)
    bob.check_replaces(received)


def test_replaces_checks_per_rfc3891(invite: SipRequest, bob: Dialog) -> None:
    early_only = Replaces(CALL_ID, "314159", "9fxced76sl", early_only=True)
    with pytest.raises(DialogRequestError) as info:
        bob.check_replaces(early_only)
    assert (info.value.status, str(info.value)) == (486, "Replaces is early-only but the dialog is confirmed")

    with pytest.raises(DialogRequestError) as info:
        bob.check_replaces(Replaces(CALL_ID, "9fxced76sl", "314159"))
    assert (info.value.status, str(info.value)) == (481, "Replaces matches no dialog")

    bob.state = DialogState.EARLY  # an early dialog Bob did not initiate
    with pytest.raises(DialogRequestError) as info:
        bob.check_replaces(early_only)
    assert info.value.status == 481

    ringing = parse("f11_180_proxy1_to_alice.sip")
    assert isinstance(ringing, SipResponse)
    alice_early = Dialog.from_uac(invite, ringing)
    alice_early.check_replaces(Replaces(CALL_ID, "9fxced76sl", "314159", early_only=True))

    bob.terminate()
    with pytest.raises(DialogRequestError) as info:
        bob.check_replaces(early_only)
    assert (info.value.status, str(info.value)) == (603, "Replaces matches a terminated dialog")


def test_replaces_of_a_subscription_dialog_is_refused(bob: Dialog) -> None:
    bob.method = "SUBSCRIBE"
    with pytest.raises(DialogRequestError) as info:
        bob.check_replaces(Replaces(CALL_ID, "314159", "9fxced76sl"))
    assert (info.value.status, str(info.value)) == (481, "Replaces matches a dialog not created by an INVITE")


def test_pair_update_refreshes_the_remote_target(alice: Dialog, bob: Dialog) -> None:
    # RFC 3311 5.1: UPDATE is a target refresh request, like a re-INVITE.
    update = alice.create_request("UPDATE", branches(), contact="<sip:alice@192.0.2.103>")
    bob.on_request(wire(update))  # type: ignore[arg-type]
    assert str(bob.remote_target) == "sip:alice@192.0.2.103"


def test_local_cseq_may_not_exceed_32_bits(alice: Dialog) -> None:
    alice.local_cseq = 2**32 - 1
    with pytest.raises(LocalProtocolError, match=r"^the local CSeq number would exceed 2\*\*32-1$"):
        alice.create_bye(branches())
    assert alice.local_cseq == 2**32 - 1
