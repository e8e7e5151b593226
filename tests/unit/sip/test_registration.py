"""The registration machine on a fake clock, against a registrar built from the
pure verifier (RFC 3261 10.2, 22; RFC 7616 3.3)."""

from __future__ import annotations

import itertools
import random

from tui_phone.sip.auth import DigestClient
from tui_phone.sip.auth_server import DigestVerifier
from tui_phone.sip.ids import IdGenerator
from tui_phone.sip.message import SipRequest
from tui_phone.sip.registration import (
    CancelRefreshTimer,
    Registration,
    RegistrationState,
    RegistrationStateChanged,
    SendRegister,
    StartRefreshTimer,
    refresh_delay,
)
from tui_phone.sip.responses import build_response
from tui_phone.sip.uri import SipUri
from tui_phone.sip.via import Via

PASSWORDS = {"alice": "alicepw"}


def make_registration(password: str = "alicepw", expires: int = 600) -> Registration:
    ids = IdGenerator(random.Random(7))
    counter = itertools.count(1)
    return Registration(
        aor=SipUri.parse("sip:alice@127.0.0.1"),
        registrar=SipUri.parse("sip:127.0.0.1:5090"),
        contact="<sip:alice@127.0.0.1:5070>",
        via=Via("UDP", "127.0.0.1", 5070, (("rport", None),)),
        call_id="reg-1@127.0.0.1",
        from_tag="ftag",
        new_branch=lambda: f"z9hG4bK-{next(counter)}",
        digest=DigestClient("alice", password, cnonce_factory=ids.cnonce),
        expires=expires,
    )


class Registrar:
    """A digest-authenticating registrar, pure: request in, response out."""

    def __init__(self, grant: int | None = None) -> None:
        self.verifier = DigestVerifier("127.0.0.1", b"secret", PASSWORDS.get)
        self.grant = grant
        self.requests: list[SipRequest] = []
        self.stale_next = False

    def answer(self, request: SipRequest, now: float):  # noqa: ANN201 - a response
        self.requests.append(request)
        credentials = request.headers.get("authorization")
        if credentials is None or self.stale_next:
            stale = credentials is not None
            self.stale_next = self.stale_next and credentials is None
            response = build_response(request, 401, to_tag="rtag")
            for challenge in self.verifier.challenge(now, stale=stale):
                response.headers.add("WWW-Authenticate", str(challenge))
            return response
        result = self.verifier.verify(credentials, "REGISTER", now, uri=str(request.uri))
        if not result.ok:
            return build_response(request, 403, "Forbidden - wrong password", to_tag="rtag")
        response = build_response(request, 200, to_tag="rtag")
        expires = request.headers.get("expires")
        granted = self.grant if self.grant is not None and expires != "0" else int(expires or 0)
        response.headers.add("Contact", f"<sip:alice@127.0.0.1:5070>;expires={granted}")
        return response


def run(registration: Registration, registrar: Registrar, effects: list, now: float) -> list:
    """Deliver every SendRegister to the registrar until none is left; return all effects."""
    seen = list(effects)
    queue = [e for e in effects if isinstance(e, SendRegister)]
    while queue:
        request = queue.pop(0).request
        more = registration.on_response(registrar.answer(request, now), now)
        seen += more
        queue += [e for e in more if isinstance(e, SendRegister)]
    return seen


def states(effects: list) -> list[tuple[str, int | None]]:
    return [(e.state.value, e.status) for e in effects if isinstance(e, RegistrationStateChanged)]


def test_401_then_credentials_then_200_and_refresh_scheduled() -> None:
    registration, registrar = make_registration(), Registrar(grant=300)
    effects = run(registration, registrar, registration.start(0.0), 0.0)
    assert states(effects) == [("registering", None), ("registered", 200)]
    assert registration.state is RegistrationState.REGISTERED
    assert registration.granted_expires == 300
    assert [e for e in effects if isinstance(e, StartRefreshTimer)] == [StartRefreshTimer(270.0)]
    first, second = registrar.requests
    assert "authorization" not in first.headers
    assert second.headers.get("authorization").startswith("Digest ")
    # RFC 3261 22.2: the retry is a new transaction with a higher CSeq.
    assert second.cseq.number == first.cseq.number + 1
    assert second.via.branch != first.via.branch
    assert first.call_id == second.call_id and first.headers.get("expires") == "600"


def test_refresh_reuses_call_id_and_increments_cseq() -> None:
    registration, registrar = make_registration(), Registrar(grant=600)
    run(registration, registrar, registration.start(0.0), 0.0)
    before = len(registrar.requests)
    effects = run(registration, registrar, registration.on_refresh_timer(570.0), 570.0)
    refresh = registrar.requests[before]
    assert refresh.call_id == registrar.requests[0].call_id
    assert refresh.cseq.number > registrar.requests[before - 1].cseq.number
    # A refresh does not go back through "registering".
    assert states(effects) == [("registered", 200)]


def test_refresh_delay_rule() -> None:
    assert refresh_delay(3600) == 3570
    assert refresh_delay(120) == 90
    assert refresh_delay(60) == 30
    assert refresh_delay(4) == 5


def test_wrong_password_fails_with_403_and_reason() -> None:
    registration, registrar = make_registration(password="wrong"), Registrar()
    effects = run(registration, registrar, registration.start(0.0), 0.0)
    assert states(effects)[-1] == ("failed", 403)
    assert registration.state is RegistrationState.FAILED
    assert registration.last_reason == "Forbidden - wrong password"
    assert not any(isinstance(e, StartRefreshTimer) for e in effects)


def test_challenge_after_rejected_credentials_is_not_answered_again() -> None:
    registration = make_registration(password="wrong")
    registrar = Registrar()
    effects = registration.start(0.0)
    request = effects[-1].request
    response = registrar.answer(request, 0.0)
    retry = registration.on_response(response, 0.0)[-1].request
    # The server challenges again with a fresh nonce, stale=false: give up.
    again = build_response(retry, 401, to_tag="rtag")
    for challenge in registrar.verifier.challenge(1.0):
        again.headers.add("WWW-Authenticate", str(challenge))
    final = registration.on_response(again, 1.0)
    assert states(final) == [("failed", 401)]


def test_stale_nonce_is_retried_without_failing() -> None:
    registration, registrar = make_registration(), Registrar(grant=600)
    registrar.stale_next = True  # the first answer with credentials gets stale=true
    effects = run(registration, registrar, registration.start(0.0), 0.0)
    assert states(effects) == [("registering", None), ("registered", 200)]
    # no credentials, 401; credentials, 401 stale=true; new credentials, 200
    assert len(registrar.requests) == 3
    nonces = [r.headers.get("authorization").split("nonce=")[1][:20] for r in registrar.requests[1:]]
    assert nonces[0] != nonces[1]


def test_unregister_sends_expires_zero() -> None:
    registration, registrar = make_registration(), Registrar(grant=600)
    run(registration, registrar, registration.start(0.0), 0.0)
    effects = run(registration, registrar, registration.unregister(10.0), 10.0)
    assert isinstance(effects[0], CancelRefreshTimer)
    assert registrar.requests[-1].headers.get("expires") == "0"
    assert states(effects) == [("unregistering", None), ("unregistered", 200)]
    assert registration.state is RegistrationState.UNREGISTERED


def test_timeout_is_a_408_failure() -> None:
    registration = make_registration()
    registration.start(0.0)
    effects = registration.on_timeout(32.0)
    assert states(effects) == [("failed", 408)]
    assert registration.last_reason == "Request Timeout"


def test_unregister_when_not_registered_sends_nothing() -> None:
    registration = make_registration()
    assert not any(isinstance(e, SendRegister) for e in registration.unregister(0.0))
