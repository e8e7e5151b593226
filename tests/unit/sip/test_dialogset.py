"""Forking: the dialogs of one outgoing INVITE (RFC 3261 12.1.2, 13.2.2.4)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tui_phone.sip.dialogset import InviteDialogSet
from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.message import SipRequest, SipResponse, parse_message
from tui_phone.sip.responses import build_response

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def invite() -> SipRequest:
    message = parse_message(load("f4_invite_alice_to_proxy1.sip"))
    assert isinstance(message, SipRequest)
    return message


def fork_response(invite: SipRequest, status: int, tag: str | None, host: str) -> SipResponse:
    """A response from one of the phones the proxy forked to, as Alice receives it."""
    response = build_response(invite, status, to_tag=tag)
    response.headers.add("Record-Route", "<sip:ss1.atlanta.example.com;lr>")
    if status != 100:
        response.headers.add("Contact", f"<sip:bob@{host}>")
    received = parse_message(bytes(response))
    assert isinstance(received, SipResponse)
    return received


def branches():
    counter = itertools.count(1)
    return lambda: f"z9hG4bKfork{next(counter)}"


def test_two_180s_then_a_200_from_one(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    assert dialogs.on_response(fork_response(invite, 100, None, "x")) is None
    desk = dialogs.on_response(fork_response(invite, 180, "desk", "desk.biloxi.example.com"))
    mobile = dialogs.on_response(fork_response(invite, 180, "mobile", "mobile.biloxi.example.com"))
    assert desk is not None and mobile is not None and desk is not mobile
    assert [d.remote_tag for d in dialogs.early] == ["desk", "mobile"]

    answered = dialogs.on_response(fork_response(invite, 200, "mobile", "10.1.1.1"))
    assert answered is mobile and dialogs.answered is mobile
    assert mobile.is_confirmed
    assert str(mobile.remote_target) == "sip:bob@10.1.1.1"
    assert dialogs.final_status == 200
    assert dialogs.extra == []
    # The desk phone's early dialog lives until the INVITE transaction is over.
    assert desk.is_early
    assert dialogs.terminate_early() == [desk]
    assert desk.is_terminated and mobile.is_confirmed


def test_two_200s_with_different_tags(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    dialogs.on_response(fork_response(invite, 180, "desk", "desk.biloxi.example.com"))
    first = dialogs.on_response(fork_response(invite, 200, "desk", "desk.biloxi.example.com"))
    second = dialogs.on_response(fork_response(invite, 200, "mobile", "mobile.biloxi.example.com"))
    assert first is not None and second is not None
    assert first.is_confirmed and second.is_confirmed
    assert dialogs.answered is first
    assert dialogs.extra == [second]
    assert dialogs.is_extra(second) and not dialogs.is_extra(first)
    # Each is ACKed in its own dialog; the extra one is then hung up.
    new_branch = branches()
    acks = [d.create_ack(invite, new_branch) for d in (first, second)]
    assert [str(a.uri) for a in acks] == ["sip:bob@desk.biloxi.example.com", "sip:bob@mobile.biloxi.example.com"]
    assert [a.headers.get("To") for a in acks] == [
        "Bob <sip:bob@biloxi.example.com>;tag=desk",
        "Bob <sip:bob@biloxi.example.com>;tag=mobile",
    ]
    assert all(str(a.cseq) == "2 ACK" for a in acks)
    bye = second.create_bye(new_branch)
    assert bye.headers.get("To") == "Bob <sip:bob@biloxi.example.com>;tag=mobile"
    assert str(bye.cseq) == "3 BYE"


def test_retransmitted_200_returns_the_same_dialog(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    ok = fork_response(invite, 200, "desk", "desk.biloxi.example.com")
    first = dialogs.on_response(ok)
    assert dialogs.on_response(ok) is first
    assert dialogs.extra == [] and len(dialogs.dialogs) == 1


def test_failure_terminates_every_early_dialog(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    dialogs.on_response(fork_response(invite, 180, "desk", "desk.biloxi.example.com"))
    dialogs.on_response(fork_response(invite, 183, "mobile", "mobile.biloxi.example.com"))
    assert dialogs.on_response(fork_response(invite, 486, "mobile", "x")) is None
    assert dialogs.final_status == 486
    assert all(d.is_terminated for d in dialogs.dialogs)
    assert dialogs.answered is None
    # A stray provisional response after the failure creates nothing.
    assert dialogs.on_response(fork_response(invite, 180, "late", "x")) is None
    assert len(dialogs.dialogs) == 2


def test_later_1xx_updates_the_early_target(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    early = dialogs.on_response(fork_response(invite, 180, "desk", "desk.biloxi.example.com"))
    dialogs.on_response(fork_response(invite, 183, "desk", "10.2.2.2"))
    assert early is not None and str(early.remote_target) == "sip:bob@10.2.2.2"
    assert dialogs.get("desk") is early and dialogs.get("nope") is None


def test_tagless_2xx_from_an_rfc2543_peer(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    dialog = dialogs.on_response(fork_response(invite, 200, None, "old.biloxi.example.com"))
    assert dialog is not None and dialog.remote_tag is None
    assert dialog.create_ack(invite, branches()).headers.get("To") == "Bob <sip:bob@biloxi.example.com>"


def test_2xx_after_the_early_dialog_was_given_up(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    dialogs.on_response(fork_response(invite, 180, "desk", "desk.biloxi.example.com"))
    dialogs.on_response(fork_response(invite, 200, "mobile", "mobile.biloxi.example.com"))
    dialogs.terminate_early()
    late = dialogs.on_response(fork_response(invite, 200, "desk", "desk.biloxi.example.com"))
    assert late is not None and late.is_confirmed
    assert dialogs.extra == [late]


def test_responses_to_another_request_are_refused(invite: SipRequest) -> None:
    dialogs = InviteDialogSet(invite)
    other = fork_response(invite, 180, "desk", "x")
    other.headers.set("CSeq", "3 INVITE")
    with pytest.raises(LocalProtocolError, match="^the response does not answer this INVITE$"):
        dialogs.on_response(other)
    bye = parse_message(load("f19_bye_bob_to_proxy2.sip"))
    assert isinstance(bye, SipRequest)
    with pytest.raises(LocalProtocolError, match="^an InviteDialogSet follows an INVITE, not BYE$"):
        InviteDialogSet(bye)
