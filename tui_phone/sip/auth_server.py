"""Server side of SIP digest authentication (RFC 7616, RFC 8760): the verifier.

Issues challenges with HMAC-signed, timestamped nonces (so stale nonces are
recognised without keeping state per nonce), and checks Authorization or
Proxy-Authorization answers against a password lookup. Used by our own
services and by the tests; the client side is :mod:`tui_phone.sip.auth`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Callable

from .auth import (
    PROXY_AUTHENTICATE,
    QOP_AUTH,
    QOP_AUTH_INT,
    WWW_AUTHENTICATE,
    Challenge,
    Credentials,
    _random_token,
    _resolve,
    _same,
    digest_response,
)
from .errors import LocalProtocolError, SipParseError


class AuthStatus(enum.Enum):
    """Outcome of :meth:`DigestVerifier.verify`."""

    OK = "ok"
    STALE = "stale"  # right digest, expired or unknown nonce: re-challenge, stale=true
    REPLAY = "replay"  # right digest, nc already seen: re-challenge, stale=true
    WRONG_PASSWORD = "wrong password"
    UNKNOWN_USER = "unknown user"
    WRONG_REALM = "wrong realm"
    UNSUPPORTED = "unsupported"  # another scheme, algorithm or qop than we offer
    MALFORMED = "malformed"  # answer 400


@dataclass(frozen=True)
class VerifyResult:
    """What :meth:`DigestVerifier.verify` found, with an exact ``reason``."""

    status: AuthStatus
    reason: str
    username: str | None = None

    @property
    def ok(self) -> bool:
        """True if the request is authenticated."""
        return self.status is AuthStatus.OK

    @property
    def stale(self) -> bool:
        """True if the re-challenge should say ``stale=true`` (RFC 7616 3.3)."""
        return self.status in (AuthStatus.STALE, AuthStatus.REPLAY)


@dataclass
class DigestVerifier:
    """Issues digest challenges and verifies answers (RFC 3261 22.4, RFC 7616 3.3).

    Nonces are ``<ms>.<salt>.<mac>``: the issue time in milliseconds, a
    random salt from ``salt_factory`` and an HMAC-SHA-256 over both and the
    realm with ``secret``, so no table of issued nonces is needed and age is
    checked against the ``now`` passed in. ``lookup`` maps a user name to its
    password (None if unknown); ``userhash_lookup`` maps an RFC 7616 3.4.4
    userhash back to a user name and enables ``userhash=true`` challenges.
    Nonce counts seen are remembered per nonce to refuse replays; without qop
    there is no nc and a nonce may be reused until it expires.
    """

    realm: str
    secret: bytes
    lookup: Callable[[str], str | None]
    algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    qop: tuple[str, ...] = (QOP_AUTH,)
    nonce_lifetime: float = 300.0
    opaque: str | None = None
    proxy: bool = False
    salt_factory: Callable[[], str] = _random_token
    userhash_lookup: Callable[[str], str | None] | None = None
    _highest_nc: dict[str, tuple[float, int]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.secret:
            raise LocalProtocolError("the nonce secret must not be empty")
        if not self.algorithms:
            raise LocalProtocolError("at least one algorithm is required")
        for algorithm in self.algorithms:
            resolved = _resolve(algorithm)
            if resolved is None:
                raise LocalProtocolError(f"unsupported algorithm {algorithm!r}")
            if resolved[1] and not self.qop:
                raise LocalProtocolError(f"algorithm {algorithm!r} requires qop")
        for qop in self.qop:
            if qop not in (QOP_AUTH, QOP_AUTH_INT):
                raise LocalProtocolError(f"unsupported qop {qop!r}")

    def _mac(self, stamp: str, salt: str) -> str:
        message = f"{stamp}.{salt}.{self.realm}".encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def make_nonce(self, now: float) -> str:
        """A fresh nonce stamped with ``now`` (seconds)."""
        stamp = str(round(now * 1000))
        salt = self.salt_factory()
        return f"{stamp}.{salt}.{self._mac(stamp, salt)}"

    def _nonce_problem(self, nonce: str, now: float) -> str | None:
        stamp, _, rest = nonce.partition(".")
        salt, _, mac = rest.rpartition(".")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 16) or not _same(
            mac, self._mac(stamp, salt)
        ):
            return "nonce was not issued by this verifier"
        age = now - int(stamp) / 1000
        if age < 0 or age > self.nonce_lifetime:
            return "nonce expired"
        return None

    def challenge(self, now: float, stale: bool = False) -> list[Challenge]:
        """Challenges to send, one per algorithm, most preferred first (RFC 8760 2.3).

        All share one nonce. Header name per ``proxy``: 401 with
        WWW-Authenticate, or 407 with Proxy-Authenticate.
        """
        nonce = self.make_nonce(now)
        return [
            Challenge(
                realm=self.realm,
                nonce=nonce,
                opaque=self.opaque,
                algorithm=algorithm,
                qop=self.qop,
                stale=stale,
                userhash=self.userhash_lookup is not None,
                header_name=PROXY_AUTHENTICATE if self.proxy else WWW_AUTHENTICATE,
            )
            for algorithm in self.algorithms
        ]

    def verify(
        self,
        credentials: Credentials | str,
        method: str,
        now: float,
        *,
        uri: str | None = None,
        body: bytes = b"",
    ) -> VerifyResult:
        """Check one ``Authorization`` / ``Proxy-Authorization`` value.

        ``uri`` is the Request-URI of the request; when given, the digest-uri
        must equal it (RFC 3261 22.4 has the server check they match).
        A successful check records the nonce count, so the same answer fails
        as a replay the second time.
        """
        status = AuthStatus
        if isinstance(credentials, str):
            try:
                credentials = Credentials.parse(credentials)
            except SipParseError as exc:
                return VerifyResult(status.MALFORMED, exc.reason)
        c = credentials
        if not c.is_digest:
            return VerifyResult(status.UNSUPPORTED, f"unsupported auth-scheme {c.scheme!r}")
        if c.realm != self.realm:
            return VerifyResult(status.WRONG_REALM, f"unknown realm {c.realm!r}")
        offered = {a.upper() for a in self.algorithms}
        if (c.algorithm or "MD5").upper() not in offered:
            return VerifyResult(status.UNSUPPORTED, f"algorithm {c.algorithm!r} not offered")
        if c.qop is None and self.qop:
            return VerifyResult(status.MALFORMED, "qop missing")
        if c.qop is not None and c.qop not in self.qop:
            return VerifyResult(status.UNSUPPORTED, f"qop {c.qop!r} not offered")
        if uri is not None and c.uri != uri:
            return VerifyResult(status.MALFORMED, "digest-uri does not match the Request-URI")
        if self.opaque is not None and c.opaque != self.opaque:
            return VerifyResult(status.MALFORMED, "opaque does not match")
        username: str | None = c.username
        if c.userhash:
            username = self.userhash_lookup(c.username) if self.userhash_lookup else None
        password = self.lookup(username) if username is not None else None
        if username is None or password is None:
            return VerifyResult(status.UNKNOWN_USER, f"unknown user {c.username!r}")
        expected = digest_response(
            algorithm=c.algorithm, username=username, realm=self.realm, password=password,
            nonce=c.nonce, method=method, uri=c.uri, qop=c.qop, nc=c.nc, cnonce=c.cnonce,
            body=body,
        )  # fmt: skip
        if not _same(expected, c.response.lower()):
            return VerifyResult(status.WRONG_PASSWORD, "wrong response", username)
        # The digest is right: a bad nonce now only means "stale" (RFC 7616 3.3).
        problem = self._nonce_problem(c.nonce, now)
        if problem is not None:
            return VerifyResult(status.STALE, problem, username)
        self._highest_nc = {
            n: seen for n, seen in self._highest_nc.items() if now - seen[0] <= self.nonce_lifetime
        }
        if c.nc is not None:
            issued = int(c.nonce.partition(".")[0]) / 1000
            highest = self._highest_nc.get(c.nonce, (issued, 0))[1]
            if c.nc <= highest:
                return VerifyResult(status.REPLAY, f"nc {c.nc:08x} already used", username)
            self._highest_nc[c.nonce] = (issued, c.nc)
        return VerifyResult(status.OK, "ok", username)
