"""tui_phone.call_auth: an in-dialog request challenged with 401/407 goes again, once,
with credentials, the dialog's next CSeq and a new branch; a refused answer is final."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

from tui_phone.call_auth import send_in_dialog
from tui_phone.sip.auth import DigestClient
from tui_phone.sip.dialog import Dialog
from tui_phone.sip.message import SipRequest, parse_message
from tui_phone.sip.responses import build_response
from tui_phone.sip.via import Via

INVITE = (b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n"
          b"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-auth-1\r\n"
          b"From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
          b"Call-ID: auth-1@test\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@127.0.0.1:5099>\r\n"
          b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


class FakeCall:
    """A call whose user agent records what it is asked to send."""

    def __init__(self, password: str | None = "pw") -> None:
        invite = parse_message(INVITE)
        assert isinstance(invite, SipRequest)
        self.dialog = Dialog.from_uas(invite, "b1", contact="<sip:bob@127.0.0.1:5060>",
                                      local_via=Via("UDP", "127.0.0.1", 5060, (("rport", None),)))
        self.dialog.on_response_sent(invite, build_response(invite, 200, to_tag="b1"))  # confirmed
        self.sent: list[tuple[SipRequest, Any]] = []
        branches = (f"z9hG4bK-new-{n}" for n in itertools.count())
        self.ua = SimpleNamespace(send_request=self._send, new_branch=lambda: next(branches))
        self.digest = None if password is None else DigestClient("bob", password, cnonce_factory=lambda: "c0ffee")

    def _send(self, request: SipRequest, target: object, on_response: Any, on_timeout: Any) -> None:
        self.sent.append((request, on_response))

    def _digest(self) -> DigestClient | None:
        return self.digest

    def _dialog_target(self, dialog: Dialog) -> str:
        return "peer"

    def answer(self, status: int, nonce: str = "n1") -> None:
        request, on_response = self.sent[-1]
        response = build_response(request, status)
        if status == 407:
            response.headers.add("Proxy-Authenticate", f'Digest realm="r", nonce="{nonce}", qop="auth"')
        on_response(response)


def run(call: FakeCall) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    bye = call.dialog.create_bye(call.ua.new_branch)
    send_in_dialog(call, bye, lambda request, response: seen.append(  # type: ignore[arg-type]
        (request.cseq.number, response.status)), lambda why: None)
    return seen


def test_a_challenge_is_answered_once_with_the_next_cseq_and_a_new_branch() -> None:
    call = FakeCall()
    seen = run(call)
    call.answer(407)
    assert len(call.sent) == 2 and seen == []
    first, retry = call.sent[0][0], call.sent[1][0]
    assert retry.cseq.number == first.cseq.number + 1 == call.dialog.local_cseq
    assert retry.via.branch != first.via.branch
    credentials = retry.headers.get("Proxy-Authorization")
    assert credentials is not None and 'username="bob"' in credentials and 'realm="r"' in credentials
    call.answer(200)
    assert seen == [(retry.cseq.number, 200)]  # the handler sees the request answered
    later = call.dialog.create_bye(call.ua.new_branch)
    assert later.cseq.number == retry.cseq.number + 1  # the dialog counts on from the retry


def test_the_same_challenge_again_is_final() -> None:
    call = FakeCall()
    seen = run(call)
    call.answer(407, nonce="n1")
    call.answer(407, nonce="n1")  # our credentials were refused (RFC 3261 22.2)
    assert len(call.sent) == 2 and seen == [(call.sent[1][0].cseq.number, 407)]


def test_without_a_password_the_challenge_goes_to_the_handler() -> None:
    call = FakeCall(password=None)
    seen = run(call)
    call.answer(407)
    assert len(call.sent) == 1 and seen == [(call.sent[0][0].cseq.number, 407)]


def test_other_responses_pass_straight_through() -> None:
    call = FakeCall()
    seen = run(call)
    call.answer(481)
    assert len(call.sent) == 1 and seen == [(call.sent[0][0].cseq.number, 481)]
