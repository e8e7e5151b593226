"""SIP digest authentication (RFC 3261 22, RFC 7616, RFC 8760), sans-I/O.

* :class:`Challenge` and :class:`Credentials` parse and print the values of
  ``WWW-Authenticate`` / ``Proxy-Authenticate`` and ``Authorization`` /
  ``Proxy-Authorization`` (RFC 3261 25.1 grammar).
* :class:`DigestClient` answers challenges for one account, counts nonces and
  tells the UA whether a retry is allowed (:meth:`DigestClient.should_retry`).
* :class:`DigestVerifier` issues challenges and checks credentials, for our own
  services and for tests.

Nothing here reads a clock or the network: ``now`` is an argument and
randomness comes from injectable factories (``secrets`` by default).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .errors import LocalProtocolError, SipParseError

WWW_AUTHENTICATE = "WWW-Authenticate"
PROXY_AUTHENTICATE = "Proxy-Authenticate"
AUTHORIZATION = "Authorization"
PROXY_AUTHORIZATION = "Proxy-Authorization"

DIGEST = "Digest"
QOP_AUTH = "auth"
QOP_AUTH_INT = "auth-int"

#: How many times in a row a server may say ``stale=true`` with a fresh nonce
#: before :meth:`DigestClient.should_retry` gives up (a guard against loops).
MAX_STALE_RETRIES = 3
#: How many nonces per realm :class:`DigestClient` keeps counting.
NONCES_KEPT = 8

# RFC 8760 2.1 / RFC 7616 6.1 (IANA "HTTP Digest Hash Algorithms"), strongest
# first: (name in the protocol, hashlib name).
_HASHES: tuple[tuple[str, str], ...] = (
    ("SHA-512-256", "sha512_256"),
    ("SHA-256", "sha256"),
    ("MD5", "md5"),
)
_SESS = "-SESS"

# RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
_TOKEN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"
)
# RFC 3261 7.3.1: a CRLF followed by whitespace (a folded line) is one SP.
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NC = re.compile(r"[0-9a-fA-F]{8}")


class UnsupportedChallenge(LocalProtocolError):
    """Asked to answer a challenge we cannot answer.

    Check :attr:`Challenge.supported` (or use :func:`choose_challenge`) first;
    the message is :attr:`Challenge.unsupported_reason`.
    """


# ---------------------------------------------------------------- hashing


def _resolve(algorithm: str | None) -> tuple[str, bool] | None:
    """Return (hashlib name, is-session-variant) for an algorithm, or None."""
    # RFC 3261 22.4: an absent algorithm means MD5; names are case-insensitive.
    name = (algorithm or "MD5").upper()
    sess = name.endswith(_SESS)
    base = name[: -len(_SESS)] if sess else name
    for rfc_name, lib_name in _HASHES:
        if base == rfc_name and lib_name in hashlib.algorithms_available:
            return lib_name, sess
    return None


def _strength(algorithm: str | None) -> int:
    """Rank of an algorithm, 0 being the strongest (RFC 8760 2.1)."""
    base = (algorithm or "MD5").upper().removesuffix(_SESS)
    return next(i for i, (rfc_name, _) in enumerate(_HASHES) if rfc_name == base)


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that also accepts non-ASCII text."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _h(lib_name: str, data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.new(lib_name, raw).hexdigest()


def _hash_of(algorithm: str | None) -> tuple[str, bool]:
    resolved = _resolve(algorithm)
    if resolved is None:
        raise UnsupportedChallenge(f"unsupported algorithm {algorithm!r}")
    return resolved


def digest_response(
    *, algorithm: str | None, username: str, realm: str, password: str, nonce: str,
    method: str, uri: str, qop: str | None = None, nc: int | None = None,
    cnonce: str | None = None, body: bytes = b"",
) -> str:  # fmt: skip
    """Compute the ``response`` value (RFC 7616 3.4.1-3.4.3, RFC 3261 22.4).

    ``username`` is the real user name even when userhash is used. Without
    ``qop`` this is the RFC 2069 form ``H(HA1:nonce:HA2)``.
    """
    lib, sess = _hash_of(algorithm)
    if (sess or qop) and cnonce is None:
        raise LocalProtocolError("cnonce is required with qop or a -sess algorithm")
    if qop and nc is None:
        raise LocalProtocolError("nc is required with qop")
    # RFC 7616 3.4.2: A1, and its -sess variant bound to nonce and cnonce.
    ha1 = _h(lib, f"{username}:{realm}:{password}")
    if sess:
        ha1 = _h(lib, f"{ha1}:{nonce}:{cnonce}")
    # RFC 7616 3.4.3: A2; auth-int adds the hash of the body (empty if none).
    if qop == QOP_AUTH_INT:
        ha2 = _h(lib, f"{method}:{uri}:{_h(lib, body)}")
    elif qop in (None, QOP_AUTH):
        ha2 = _h(lib, f"{method}:{uri}")
    else:
        raise UnsupportedChallenge(f"unsupported qop {qop!r}")
    if qop:
        return _h(lib, f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")
    return _h(lib, f"{ha1}:{nonce}:{ha2}")  # RFC 2069 compatibility


def userhash(algorithm: str | None, username: str, realm: str) -> str:
    """The hashed user name of RFC 7616 3.4.4: ``H(username:realm)``."""
    return _h(_hash_of(algorithm)[0], f"{username}:{realm}")


# ---------------------------------------------------------------- grammar


class _Scanner:
    """A cursor over one header value (RFC 3261 25.1 auth grammar)."""

    def __init__(self, text: str, header_name: str) -> None:
        self.text = _FOLD.sub("", text)
        self.pos = 0
        self.header_name = header_name

    def error(self, message: str) -> SipParseError:
        return SipParseError(f"{self.header_name}: {message}")

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_ws(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1
        return self.pos > start

    def take(self, char: str) -> bool:
        if self.text.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TOKEN_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self, name: str) -> str:
        """Read a quoted-string (qdtext / quoted-pair), return it unescaped."""
        self.pos += 1  # the opening DQUOTE
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(self.text):
                # quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                escaped = self.text[self.pos + 1]
                if escaped in "\r\n" or ord(escaped) > 0x7F:
                    raise self.error(f"invalid quoted-pair in {name!r}")
                out.append(escaped)
                self.pos += 2
                continue
            if (ord(ch) < 0x20 and ch != "\t") or ch == "\x7f":
                raise self.error(f"invalid character {ch!r} in quoted-string of {name!r}")
            out.append(ch)
            self.pos += 1
        raise self.error(f"unterminated quoted-string in {name!r}")


def _parse_value(value: str, header_name: str) -> tuple[str, dict[str, str], str]:
    """Split a challenge or credentials value into (scheme, params, rest).

    Digest params are parsed (names lower-cased, values unquoted); for any
    other scheme the text after the scheme is returned unparsed in ``rest``.
    """
    s = _Scanner(value, header_name)
    s.skip_ws()
    scheme = s.token()
    if not scheme:
        raise s.error("missing auth-scheme")
    had_ws = s.skip_ws()
    if s.at_end():
        return scheme, {}, ""
    if not had_ws:
        raise s.error(f"expected whitespace after auth-scheme {scheme!r}")
    if scheme.lower() != DIGEST.lower():
        return scheme, {}, s.text[s.pos :].rstrip(" \t")
    params: dict[str, str] = {}
    while True:
        # auth-param = auth-param-name EQUAL ( token / quoted-string )
        name = s.token().lower()
        if not name:
            raise s.error(f"expected auth-param name at offset {s.pos}")
        s.skip_ws()
        if not s.take("="):
            raise s.error(f"expected '=' after {name!r}")
        s.skip_ws()
        if s.text.startswith('"', s.pos):
            param_value = s.quoted(name)
        else:
            param_value = s.token()
            if not param_value:
                raise s.error(f"expected token or quoted-string for {name!r}")
        if name in params:  # RFC 3261 7.3.1: a parameter name appears once
            raise s.error(f"duplicate auth-param {name!r}")
        params[name] = param_value
        s.skip_ws()
        if s.at_end():
            return scheme, params, ""
        if not s.take(","):
            raise s.error(f"expected ',' at offset {s.pos}")
        s.skip_ws()


def _quote(text: str) -> str:
    """Quote a value as a quoted-string, escaping '"' and '\\'."""
    if any((ord(ch) < 0x20 and ch != "\t") or ch == "\x7f" for ch in text):
        raise LocalProtocolError(f"cannot quote {text!r}: control character")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token_or_quoted(text: str) -> str:
    return text if text and all(ch in _TOKEN_CHARS for ch in text) else _quote(text)


def _join(scheme: str, extra: tuple[tuple[str, str], ...], parts: list[str | bool]) -> str:
    """Render ``scheme name=value, ...``: parts that are False are left out."""
    items = [part for part in parts if isinstance(part, str)]
    items += [f"{name}={_token_or_quoted(value)}" for name, value in extra]
    return f"{scheme} {', '.join(items)}"


def _canonical(header_name: str, allowed: tuple[str, str]) -> str:
    for name in allowed:
        if header_name.lower() == name.lower():
            return name
    raise LocalProtocolError(f"expected {' or '.join(allowed)}, got {header_name!r}")


def _flag(text: str | None) -> bool:
    # RFC 7616 3.3: anything but a case-insensitive "true" is false.
    return text is not None and text.lower() == "true"


def _require(params: dict[str, str], header_name: str, names: Iterable[str]) -> None:
    for name in names:
        if name not in params:
            raise SipParseError(f"{header_name}: missing {name!r} parameter")


# ---------------------------------------------------------------- wire values


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` / ``Proxy-Authenticate`` value (RFC 3261 22.1).

    Only the Digest scheme is understood: a challenge in another scheme parses
    (its text kept in ``unparsed``) and reports ``supported == False``.
    ``algorithm`` is kept as given (``None`` when absent, meaning MD5), ``qop``
    is the lower-cased option list, ``extra`` the parameters not named here.
    """

    scheme: str = DIGEST
    realm: str = ""
    nonce: str = ""
    opaque: str | None = None
    algorithm: str | None = None
    qop: tuple[str, ...] = ()
    stale: bool = False
    domain: tuple[str, ...] = ()
    userhash: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    unparsed: str = ""
    header_name: str = WWW_AUTHENTICATE

    @classmethod
    def parse(cls, value: str, header_name: str = WWW_AUTHENTICATE) -> Challenge:
        """Parse one challenge; raise :class:`SipParseError` on bad syntax."""
        header_name = _canonical(header_name, (WWW_AUTHENTICATE, PROXY_AUTHENTICATE))
        scheme, params, unparsed = _parse_value(value, header_name)
        if scheme.lower() != DIGEST.lower():
            return cls(scheme=scheme, unparsed=unparsed, header_name=header_name)
        _require(params, header_name, ("realm", "nonce"))  # RFC 7616 3.3
        qop = params.pop("qop", None)
        domain = params.pop("domain", None)
        return cls(
            scheme=scheme,
            realm=params.pop("realm"),
            nonce=params.pop("nonce"),
            opaque=params.pop("opaque", None),
            algorithm=params.pop("algorithm", None),
            # qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
            qop=tuple(q.strip().lower() for q in (qop or "").split(",") if q.strip()),
            stale=_flag(params.pop("stale", None)),
            domain=tuple((domain or "").split()),
            userhash=_flag(params.pop("userhash", None)),
            extra=tuple(params.items()),
            header_name=header_name,
        )

    @property
    def is_digest(self) -> bool:
        """True for the Digest scheme (case-insensitive)."""
        return self.scheme.lower() == DIGEST.lower()

    @property
    def unsupported_reason(self) -> str | None:
        """Why we cannot answer this challenge, or None if we can."""
        if not self.is_digest:
            return f"unsupported auth-scheme {self.scheme!r}"
        resolved = _resolve(self.algorithm)
        if resolved is None:
            return f"unsupported algorithm {self.algorithm!r}"
        if self.qop and self.chosen_qop is None:
            return f"unsupported qop {','.join(self.qop)!r}"
        if resolved[1] and not self.qop:
            return f"algorithm {self.algorithm!r} requires qop"
        return None

    @property
    def supported(self) -> bool:
        """True if :class:`DigestClient` can answer this challenge."""
        return self.unsupported_reason is None

    @property
    def chosen_qop(self) -> str | None:
        """The qop we answer with: ``auth`` if offered, else ``auth-int``."""
        for qop in (QOP_AUTH, QOP_AUTH_INT):
            if qop in self.qop:
                return qop
        return None

    @property
    def answer_header_name(self) -> str:
        """``Authorization`` for a 401, ``Proxy-Authorization`` for a 407 (RFC 3261 22.2, 22.3)."""
        return AUTHORIZATION if self.header_name == WWW_AUTHENTICATE else PROXY_AUTHORIZATION

    def param(self, name: str) -> str | None:
        """Value of an extra (unknown) parameter, by case-insensitive name."""
        return dict(self.extra).get(name.lower())

    def __str__(self) -> str:
        if not self.is_digest:
            return f"{self.scheme} {self.unparsed}".rstrip()
        q, t = _quote, _token_or_quoted
        return _join(self.scheme, self.extra, [
            f"realm={q(self.realm)}",
            bool(self.domain) and f"domain={q(' '.join(self.domain))}",
            f"nonce={q(self.nonce)}",
            self.opaque is not None and f"opaque={q(self.opaque)}",
            self.stale and "stale=true",
            self.algorithm is not None and f"algorithm={t(self.algorithm)}",
            bool(self.qop) and f"qop={q(','.join(self.qop))}",
            self.userhash and "userhash=true",
        ])  # fmt: skip


@dataclass(frozen=True)
class Credentials:
    """One ``Authorization`` / ``Proxy-Authorization`` value (RFC 3261 22.2).

    A value in another scheme than Digest parses with ``is_digest == False``
    and its text in ``unparsed``. ``nc`` is the nonce count as an int.
    """

    scheme: str = DIGEST
    username: str = ""
    realm: str = ""
    nonce: str = ""
    uri: str = ""
    response: str = ""
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: int | None = None
    userhash: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    unparsed: str = ""
    header_name: str = AUTHORIZATION

    @classmethod
    def parse(cls, value: str, header_name: str = AUTHORIZATION) -> Credentials:
        """Parse one credentials value; raise :class:`SipParseError` on bad syntax."""
        header_name = _canonical(header_name, (AUTHORIZATION, PROXY_AUTHORIZATION))
        scheme, params, unparsed = _parse_value(value, header_name)
        if scheme.lower() != DIGEST.lower():
            return cls(scheme=scheme, unparsed=unparsed, header_name=header_name)
        # RFC 3261 25.1 dig-resp; RFC 7616 3.4: cnonce and nc go with qop.
        _require(params, header_name, ("username", "realm", "nonce", "uri", "response"))
        qop = params.pop("qop", None)
        if qop is not None:
            _require(params, header_name, ("cnonce", "nc"))
        nc = params.pop("nc", None)
        if nc is not None and not _NC.fullmatch(nc):
            raise SipParseError(f"{header_name}: invalid nc {nc!r}")
        return cls(
            scheme=scheme,
            username=params.pop("username"),
            realm=params.pop("realm"),
            nonce=params.pop("nonce"),
            uri=params.pop("uri"),
            response=params.pop("response"),
            algorithm=params.pop("algorithm", None),
            cnonce=params.pop("cnonce", None),
            opaque=params.pop("opaque", None),
            qop=qop.lower() if qop is not None else None,
            nc=int(nc, 16) if nc is not None else None,
            userhash=_flag(params.pop("userhash", None)),
            extra=tuple(params.items()),
            header_name=header_name,
        )

    @property
    def is_digest(self) -> bool:
        """True for the Digest scheme (case-insensitive)."""
        return self.scheme.lower() == DIGEST.lower()

    def __str__(self) -> str:
        if not self.is_digest:
            return f"{self.scheme} {self.unparsed}".rstrip()
        q, t = _quote, _token_or_quoted
        # RFC 7616 3.4: algorithm, qop and nc are never quoted.
        return _join(self.scheme, self.extra, [
            f"username={q(self.username)}",
            f"realm={q(self.realm)}",
            f"nonce={q(self.nonce)}",
            f"uri={q(self.uri)}",
            f"response={q(self.response)}",
            self.algorithm is not None and f"algorithm={t(self.algorithm)}",
            self.cnonce is not None and f"cnonce={q(self.cnonce)}",
            self.opaque is not None and f"opaque={q(self.opaque)}",
            self.qop is not None and f"qop={t(self.qop)}",
            self.nc is not None and f"nc={self.nc:08x}",
            self.userhash and "userhash=true",
        ])  # fmt: skip


def choose_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """Pick the challenge to answer among several header values, or None.

    The strongest supported algorithm wins (SHA-512-256, SHA-256, then MD5);
    among equals the topmost. RFC 8760 2.3 has the UAS list its challenges in
    order of preference and 2.4 lets the UAC apply local policy: preferring
    strength also resists a middlebox reordering the headers to downgrade.
    With challenges from several realms (a forking proxy, RFC 3261 22.3) call
    this once per realm.
    """
    usable = [c for c in challenges if c.supported]
    return min(usable, key=lambda c: _strength(c.algorithm), default=None)


# ---------------------------------------------------------------- client


def _random_token() -> str:
    return secrets.token_hex(16)


@dataclass
class _RealmState:
    nonce: str  # the nonce answered last
    stale_streak: int = 0  # answers in a row to stale=true with a new nonce
    counts: dict[str, int] = field(default_factory=dict)  # nonce -> last nc, oldest first


@dataclass
class DigestClient:
    """Answers digest challenges for one account (RFC 3261 22.2-22.4).

    Counts nonces per realm and nonce: every answer to the same nonce
    increments ``nc``, a new nonce starts at 1 (the last
    :data:`NONCES_KEPT` nonces of a realm are remembered, so a UA switching
    between two servers of one realm never repeats an nc).
    ``cnonce_factory`` makes client nonces (inject one for tests).
    """

    username: str
    password: str
    cnonce_factory: Callable[[], str] = _random_token
    use_userhash: bool = True
    _realms: dict[str, _RealmState] = field(default_factory=dict, init=False, repr=False)

    def authorize(
        self, challenge: Challenge, method: str, uri: str, body: bytes = b""
    ) -> Credentials:
        """Answer ``challenge`` for a request; ``str()`` of the result is the header value.

        ``uri`` is the Request-URI as sent (the digest-uri), ``body`` is only
        used for qop=auth-int. Put the result in ``result.header_name``.
        Answering the same challenge again (reusing its nonce for a later
        request, RFC 7616 3.4) is allowed and increments ``nc``.
        """
        reason = challenge.unsupported_reason
        if reason is not None:
            raise UnsupportedChallenge(reason)
        c = challenge
        state = self._realms.setdefault(c.realm, _RealmState(c.nonce))
        if c.nonce != state.nonce:
            state.nonce = c.nonce
            state.stale_streak = state.stale_streak + 1 if c.stale else 0
        else:
            state.stale_streak = 0  # the same nonce reused: a new request begins
        qop = c.chosen_qop
        nc: int | None = None
        cnonce: str | None = None
        if qop is not None:
            nc = state.counts.pop(c.nonce, 0) + 1  # re-inserted below as the newest
            if nc > 0xFFFFFFFF:  # nc-value = 8LHEX
                raise LocalProtocolError(f"nonce count exhausted for realm {c.realm!r}")
            state.counts[c.nonce] = nc
            while len(state.counts) > NONCES_KEPT:
                del state.counts[next(iter(state.counts))]
            cnonce = self.cnonce_factory()
        response = digest_response(
            algorithm=c.algorithm, username=self.username, realm=c.realm,
            password=self.password, nonce=c.nonce, method=method, uri=uri, qop=qop,
            nc=nc, cnonce=cnonce, body=body,
        )  # fmt: skip
        hashed = c.userhash and self.use_userhash  # RFC 7616 3.4.4
        username = userhash(c.algorithm, self.username, c.realm) if hashed else self.username
        return Credentials(
            username=username, realm=c.realm, nonce=c.nonce, uri=uri, response=response,
            algorithm=c.algorithm, cnonce=cnonce, opaque=c.opaque, qop=qop, nc=nc,
            userhash=hashed, header_name=c.answer_header_name,
        )  # fmt: skip

    def should_retry(self, challenge: Challenge, sent: Credentials | None = None) -> bool:
        """May the UA resend the request answering ``challenge``?

        ``sent`` is what the challenged request carried for this realm (None
        if nothing). The rules (RFC 3261 22.2, RFC 7616 3.3):

        * an unsupported challenge: no (nothing we could send);
        * the request carried no credentials for this realm: yes;
        * it did, and the server says ``stale=true`` with a new nonce: yes,
          without asking the user again, at most :data:`MAX_STALE_RETRIES`
          times in a row;
        * otherwise (``stale=false``, or the same nonce again) the credentials
          were rejected: no. Asking the user for a new password and building a
          new client is the UA's call.
        """
        if not challenge.supported:
            return False
        if sent is None or sent.realm != challenge.realm:
            return True
        if not challenge.stale or challenge.nonce == sent.nonce:
            return False
        state = self._realms.get(challenge.realm)
        return state is None or state.stale_streak < MAX_STALE_RETRIES


# ---------------------------------------------------------------- server
