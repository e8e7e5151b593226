"""Registration of one account with its registrar (RFC 3261 10.2), sans-I/O.

:class:`Registration` builds the REGISTER requests, answers digest challenges
(401/407, once per challenge; a ``stale=true`` challenge is answered again,
RFC 7616 3.3), schedules the refresh and the final un-REGISTER (``Expires:
0``). It never sends or waits: every method takes ``now`` and returns effects
(:class:`SendRegister`, :class:`StartRefreshTimer`, :class:`RegistrationStateChanged`)
that the edge performs. The edge gives each :class:`SendRegister` to a client
transaction and calls :meth:`Registration.on_response` with the final
response, :meth:`Registration.on_timeout` when there is none, and
:meth:`Registration.on_refresh_timer` when the refresh timer fires.

The refresh comes ``REFRESH_MARGIN`` seconds before the granted expiry, or at
half of it for short registrations (under ``2 * REFRESH_MARGIN`` ... 120 s),
so that a refresh that needs a challenge round trip still lands in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .auth import Challenge, Credentials, DigestClient, choose_challenge
from .errors import SipParseError
from .message import SipRequest, SipResponse
from .requests import new_request, with_branch
from .uri import NameAddress, SipUri
from .via import Via

REFRESH_MARGIN = 30.0  # seconds before expiry a refresh is sent
MIN_REFRESH = 5.0  # never refresh more often than this
RETRY_AFTER_FAILURE = 60.0  # a failed refresh is retried after this long

NewBranch = Callable[[], str]


class RegistrationState(StrEnum):
    """Where a registration stands."""

    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    UNREGISTERING = "unregistering"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendRegister:
    """Send this REGISTER in a new client transaction."""

    request: SipRequest


@dataclass(frozen=True, slots=True)
class StartRefreshTimer:
    """(Re)start the refresh timer: call ``on_refresh_timer`` after ``delay`` s."""

    delay: float


@dataclass(frozen=True, slots=True)
class CancelRefreshTimer:
    """Stop the refresh timer."""


@dataclass(frozen=True, slots=True)
class RegistrationStateChanged:
    """The state moved; ``status``/``reason`` is the response that moved it (if any)."""

    state: RegistrationState
    status: int | None = None
    reason: str = ""
    expires: int | None = None


RegistrationEffect = SendRegister | StartRefreshTimer | CancelRefreshTimer | RegistrationStateChanged


def refresh_delay(expires: int) -> float:
    """When to refresh a registration granted for ``expires`` seconds."""
    if expires >= 4 * REFRESH_MARGIN:
        return expires - REFRESH_MARGIN
    return max(expires / 2, MIN_REFRESH)


def authorize(
    request: SipRequest,
    response: SipResponse,
    digest: DigestClient,
    sent: dict[str, Credentials],
) -> bool:
    """Put credentials answering a 401/407 ``response`` into ``request``.

    ``sent`` maps realm to the credentials already sent for this request, and
    is updated. Returns False when the challenge must not be answered again
    (the same credentials were refused, RFC 3261 22.2; unsupported
    challenges); the caller then reports the 401/407 as a failure.
    """
    header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
    name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
    challenges = []
    for value in response.headers.get_all(header):
        try:
            challenges.append(Challenge.parse(value, name))
        except SipParseError:
            continue
    challenge = choose_challenge(challenges)
    if challenge is None or not digest.should_retry(challenge, sent.get(challenge.realm)):
        return False
    credentials = digest.authorize(challenge, request.method, str(request.uri), request.body)
    sent[challenge.realm] = credentials
    request.headers.remove(credentials.header_name)
    for realm_credentials in sent.values():
        request.headers.add(realm_credentials.header_name, str(realm_credentials))
    return True


class Registration:
    """The registration of one contact of one address of record.

    ``via`` is the Via template of our requests (sent-by, transport, rport);
    ``contact`` our Contact value; ``digest`` answers challenges (None: no
    password, a challenge fails the registration).
    """

    def __init__(
        self,
        *,
        aor: SipUri,
        registrar: SipUri,
        contact: str,
        via: Via,
        call_id: str,
        from_tag: str,
        new_branch: NewBranch,
        digest: DigestClient | None = None,
        expires: int = 600,
        user_agent: str | None = None,
        route_set: tuple[str, ...] = (),
    ) -> None:
        self.aor = aor
        self.registrar = registrar
        self.contact = contact
        self.via = via
        self.call_id = call_id
        self.from_tag = from_tag
        self.new_branch = new_branch
        self.digest = digest
        self.requested_expires = expires
        self.user_agent = user_agent
        self.route_set = route_set
        self.state = RegistrationState.UNREGISTERED
        self.granted_expires: int | None = None
        self.last_status: int | None = None
        self.last_reason = ""
        self._cseq = 0
        self._pending: SipRequest | None = None
        self._sent: dict[str, Credentials] = {}

    # -- commands ----------------------------------------------------------------
    def start(self, now: float) -> list[RegistrationEffect]:
        """Register (or refresh) now."""
        effects: list[RegistrationEffect] = []
        if self.state is not RegistrationState.REGISTERED:
            self._move(effects, RegistrationState.REGISTERING)
        self._send(effects, self.requested_expires)
        return effects

    def unregister(self, now: float) -> list[RegistrationEffect]:
        """Remove our binding (``Expires: 0``); nothing to do when not registered."""
        effects: list[RegistrationEffect] = [CancelRefreshTimer()]
        if self.state not in (RegistrationState.REGISTERED, RegistrationState.REGISTERING):
            return effects
        self._move(effects, RegistrationState.UNREGISTERING)
        self._send(effects, 0)
        return effects

    # -- events ------------------------------------------------------------------
    def on_response(self, response: SipResponse, now: float) -> list[RegistrationEffect]:
        """A final response to the pending REGISTER (provisional ones are ignored)."""
        request = self._pending
        if request is None or response.status < 200 or response.cseq != request.cseq:
            return []
        effects: list[RegistrationEffect] = []
        status = response.status
        self.last_status, self.last_reason = status, response.reason
        if status in (401, 407) and self.digest is not None:
            retry = request_copy(request, self._next_cseq(), self.new_branch())
            if authorize(retry, response, self.digest, self._sent):
                self._pending = retry
                effects.append(SendRegister(retry))
                return effects
        self._pending = None
        unregistering = self.state is RegistrationState.UNREGISTERING
        if 200 <= status < 300:
            if unregistering:
                self.granted_expires = None
                self._move(effects, RegistrationState.UNREGISTERED, status, response.reason)
                return effects
            expires = self._granted(response)
            self.granted_expires = expires
            self._move(effects, RegistrationState.REGISTERED, status, response.reason, expires)
            effects.append(StartRefreshTimer(refresh_delay(expires)))
            return effects
        if status == 423 and not unregistering:
            # RFC 3261 10.2.8: Interval Too Brief; retry with the Min-Expires.
            minimum = response.headers.get("min-expires")
            if minimum is not None and minimum.strip().isdigit():
                self.requested_expires = int(minimum.strip())
                self._send(effects, self.requested_expires)
                return effects
        if unregistering:
            self._move(effects, RegistrationState.UNREGISTERED, status, response.reason)
        else:
            self._move(effects, RegistrationState.FAILED, status, response.reason)
        return effects

    def on_timeout(self, now: float) -> list[RegistrationEffect]:
        """No response at all (Timer F, or a transport failure): 408."""
        if self._pending is None:
            return []
        self._pending = None
        self.last_status, self.last_reason = 408, "Request Timeout"
        effects: list[RegistrationEffect] = []
        if self.state is RegistrationState.UNREGISTERING:
            self._move(effects, RegistrationState.UNREGISTERED, 408, "Request Timeout")
        else:
            self._move(effects, RegistrationState.FAILED, 408, "Request Timeout")
        return effects

    def on_refresh_timer(self, now: float) -> list[RegistrationEffect]:
        """The refresh timer fired: register again (a failed one retries too)."""
        if self.state in (RegistrationState.UNREGISTERING, RegistrationState.UNREGISTERED):
            return []
        return self.start(now)

    # -- helpers -----------------------------------------------------------------
    def _next_cseq(self) -> int:
        self._cseq += 1
        return self._cseq

    def _send(self, effects: list[RegistrationEffect], expires: int) -> None:
        self._sent = {}
        request = new_request(
            "REGISTER",
            self.registrar,
            NameAddress(self.aor, params=(("tag", self.from_tag),)),  # type: ignore[arg-type]
            NameAddress(self.aor),
            self.call_id,
            self._next_cseq(),
            with_branch(self.via, self.new_branch()),
            contact=self.contact,
            route_set=self.route_set,
            extra_headers=self._extra_headers(expires),
        )
        self._pending = request
        effects.append(SendRegister(request))

    def _extra_headers(self, expires: int) -> list[tuple[str, str]]:
        headers = [("Expires", str(expires))]
        if self.user_agent:
            headers.append(("User-Agent", self.user_agent))
        return headers

    def _granted(self, response: SipResponse) -> int:
        """The expiry the registrar granted our contact (RFC 3261 10.2.4)."""
        ours = NameAddress.parse(self.contact).uri
        for contact in response.contacts:
            value = contact.params.get("expires")
            if contact.uri == ours and value is not None and value.strip().isdigit():
                return int(value)
        header = response.headers.get("expires")
        if header is not None and header.strip().isdigit():
            return int(header.strip())
        return self.requested_expires

    def _move(
        self,
        effects: list[RegistrationEffect],
        state: RegistrationState,
        status: int | None = None,
        reason: str = "",
        expires: int | None = None,
    ) -> None:
        if state is self.state and status is None:
            return
        self.state = state
        effects.append(RegistrationStateChanged(state, status, reason, expires))


def request_copy(request: SipRequest, cseq: int, branch: str) -> SipRequest:
    """``request`` again with a new CSeq number and Via branch (RFC 3261 22.2:
    a request resent with credentials is a new transaction)."""
    headers = request.headers.copy()
    headers.set("CSeq", f"{cseq} {request.method}")
    headers.set("Via", str(with_branch(request.via, branch)))
    return SipRequest(request.method, request.uri, headers, request.body)


__all__ = [
    "REFRESH_MARGIN",
    "CancelRefreshTimer",
    "Registration",
    "RegistrationEffect",
    "RegistrationState",
    "RegistrationStateChanged",
    "SendRegister",
    "StartRefreshTimer",
    "authorize",
    "refresh_delay",
    "request_copy",
]
