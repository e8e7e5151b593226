"""URIs and name-addr values: SIP/SIPS (RFC 3261 19.1, 25.1; RFC 5118), tel (RFC 3966).

``parse_uri(text)`` returns a :class:`SipUri`, a :class:`~.teluri.TelUri` or, for any
other scheme, an :class:`AbsoluteUri`. ``NameAddress.parse(text)`` reads one
From/To/Contact/Route/Record-Route/Refer-To value (the header layer splits
comma lists). Bad input raises :class:`SipParseError` (400) with an exact reason.

Parsed objects are frozen and keep the text they came from: ``str()`` of an
unmodified parsed object returns it exactly. ``replace(**changes)`` returns a
copy that serializes from its fields, escaping only what must be escaped.
Field values are unescaped: ``sip:%61lice@h`` has user ``'alice'``. Bytes that
are not UTF-8 (``%C3`` alone) become lone surrogates (``errors='surrogateescape'``),
so serializing gives the same escapes back.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Union

from ._uri_syntax import (
    GEN_VALUE_RE,
    HNV_CHARS,
    HOSTNAME,
    IPV4,
    IPV6_CHARS_RE,
    OPAQUE_CHARS,
    PARAM_CHARS,
    PASSWORD_CHARS,
    TOKEN,
    TOKEN_RE,
    USER_CHARS,
    WS,
    Charset,
    Parameters,
    fold,
    host_error,
    host_key,
    parse_header_params,
    quote_string,
    slot_setters,
    split_name_addr,
    split_simple_params,
    unquote_string,
)
from .errors import LocalProtocolError, SipParseError
from .teluri import TelUri, parse_tel

__all__ = [
    "AbsoluteUri",
    "NameAddress",
    "Parameters",
    "SipUri",
    "TelUri",  # from .teluri: scripts/handle.py imports it from here
    "Uri",
    "parse_uri",
    "quote_string",
    "unquote_string",
]

# The common shapes, parsed by one match: no escapes, password, IPv6 or headers.
_SIMPLE_PARAMS = rf"(?:;[{PARAM_CHARS}]+(?:=[{PARAM_CHARS}]+)?)*"
# Only the scheme needs IGNORECASE (scoped: case-folding classes is slower);
# every other class spells out both cases, and re.ASCII keeps them ASCII.
_FAST_SIP_RE = re.compile(
    rf"((?i:sips?)):(?:([A-Za-z0-9\-_.!~*'()&=+$,/]+)@)?({IPV4}|{HOSTNAME})"
    rf"(?::([0-9]{{1,5}}))?({_SIMPLE_PARAMS})\Z",
    re.ASCII,
)
_SIMPLE_HPARAMS = rf"(?:;{TOKEN}(?:={TOKEN})?)*"
# A display name is a quoted string without quoted-pairs, or tokens separated
# by single spaces (the careful parser folds longer runs of whitespace).
_FAST_NAME_ADDR_RE = re.compile(
    rf'(?:"([^"\\\x00-\x1f\x7f]*)"[ \t]*|({TOKEN}(?: {TOKEN})*)[ \t]*)?'
    rf'<([^<>"\s]+)>({_SIMPLE_HPARAMS})\Z'
)
_FAST_ADDR_SPEC_RE = re.compile(rf'([^<>"\s;,?]+)({_SIMPLE_HPARAMS})\Z')
# Both at once: a name-addr around a URI that _FAST_SIP_RE takes (the URI
# characters exclude '<', '>', '"' and whitespace, so the split is the same).
# re.ASCII changes nothing in the name-addr part: it has no \w, \s or case folding.
_FAST_NAME_SIP_RE = re.compile(
    rf'(?:"([^"\\\x00-\x1f\x7f]*)"[ \t]*|({TOKEN}(?: {TOKEN})*)[ \t]*)?'
    rf"<(((?i:sips?)):(?:([A-Za-z0-9\-_.!~*'()&=+$,/]+)@)?({IPV4}|{HOSTNAME})"
    rf"(?::([0-9]{{1,5}}))?({_SIMPLE_PARAMS}))>({_SIMPLE_HPARAMS})\Z",
    re.ASCII,
)

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WS_OR_ANGLE_RE = re.compile(r"[ \t\r\n<>]")
_HOST_END_RE = re.compile(r"[:;?]")
_PARAMS_START_RE = re.compile(r"[;?]")

_USER = Charset.of("SIP URI user", USER_CHARS)
_PASSWORD = Charset.of("SIP URI password", PASSWORD_CHARS)
_URI_PARAM = Charset.of("SIP URI parameter", PARAM_CHARS)
_URI_HEADER = Charset.of("SIP URI header", HNV_CHARS)
_OPAQUE = Charset.of("URI", OPAQUE_CHARS)

# RFC 3261 19.1.4: these parameters must match when present in either URI.
_SPECIAL_PARAMS = ("user", "ttl", "method", "maddr", "transport")

_new = object.__new__
_NO_PARAMS = Parameters.trusted([], [])  # immutable, so one instance serves every URI


@dataclass(frozen=True, eq=False, kw_only=True, slots=True)
class SipUri:
    """A SIP or SIPS URI (RFC 3261 19.1): ``sip:user:password@host:port;params?headers``.

    ``host`` is as written (an IPv6 reference keeps its brackets); ``user``,
    ``password``, parameter names/values and headers are unescaped. ``params``
    accepts any mapping and is stored as :class:`Parameters`; ``headers`` is a
    tuple of (name, value) pairs. Equality follows RFC 3261 19.1.4.
    """

    host: str
    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Parameters = field(default_factory=Parameters)
    headers: tuple[tuple[str, str], ...] = ()
    _raw: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.params) is not Parameters:  # type(): cheaper than an ABC isinstance
            object.__setattr__(self, "params", Parameters(self.params))
        if type(self.headers) is not tuple:
            object.__setattr__(self, "headers", tuple((n, v) for n, v in self.headers))
        if self._raw is None:
            reason = self._field_error()
            if reason is not None:
                raise LocalProtocolError(reason)

    def _field_error(self) -> str | None:
        if self.scheme not in ("sip", "sips"):
            return f"SIP URI scheme must be 'sip' or 'sips', not {self.scheme!r}"
        if self.user == "":
            return "empty user in SIP URI"
        if self.password is not None and self.user is None:
            return "SIP URI password without a user"
        if self.port is not None and not 0 <= self.port <= 65535:
            return "port out of range in SIP URI"
        for name, value in self.params.pairs:
            if not name:
                return "empty SIP URI parameter"
            if value == "":
                return f"empty value for SIP URI parameter {name!r}"
        if any(not name for name, _ in self.headers):
            return "empty SIP URI header name"
        return host_error(self.host)

    @classmethod
    def parse(cls, text: str) -> SipUri:
        """Parse a SIP or SIPS URI; other schemes raise ``SipParseError`` (416)."""
        uri = parse_uri(text)
        if not isinstance(uri, SipUri):
            raise SipParseError(f"unsupported URI scheme {uri.scheme!r}", 416)
        return uri

    def replace(self, **changes: Any) -> SipUri:
        """A copy with ``changes`` applied; it serializes from its fields."""
        return dataclasses.replace(self, _raw=None, **changes)

    @property
    def is_secure(self) -> bool:
        """True for a SIPS URI (RFC 3261 19.1: TLS on every hop)."""
        return self.scheme == "sips"

    @property
    def host_port(self) -> tuple[str, int | None]:
        """``(host, port)`` as written; port is None when absent (no default substituted)."""
        return self.host, self.port

    @property
    def bare_host(self) -> str:
        """The host without IPv6 brackets, as sockets and resolvers want it."""
        return self.host[1:-1] if self.host.startswith("[") else self.host

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter in lower case, or None."""
        return fold(self.params.get("transport"))

    @property
    def lr(self) -> bool:
        """True if the ``lr`` (loose routing, RFC 3261 19.1.1) flag is present."""
        return "lr" in self.params

    @property
    def maddr(self) -> str | None:
        """The ``maddr`` parameter, or None."""
        return self.params.get("maddr")

    @property
    def user_param(self) -> str | None:
        """The ``user`` parameter (``phone``, ``ip``...), or None."""
        return self.params.get("user")

    def _key(self) -> tuple[Any, ...]:
        params = self.params
        special = tuple((name in params, fold(params.get(name))) for name in _SPECIAL_PARAMS)
        headers = tuple(sorted((name.lower(), value) for name, value in self.headers))
        return (self.scheme, self.user, self.password, host_key(self.host), self.port,
                special, headers)

    def __eq__(self, other: object) -> bool:
        """RFC 3261 19.1.4 (not transitive: other params count only when in both)."""
        if not isinstance(other, SipUri):
            return NotImplemented
        if self._key() != other._key():
            return False
        theirs = other.params
        return all(
            fold(value) == fold(theirs[name])
            for name, value in self.params.pairs if name in theirs
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self._raw is not None:
            return self._raw
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(_USER.encode(self.user))
            if self.password is not None:
                parts += [":", _PASSWORD.encode(self.password)]
            parts.append("@")
        parts.append(self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        for name, value in self.params.pairs:
            parts += [";", _URI_PARAM.encode(name)]
            if value is not None:
                parts += ["=", _URI_PARAM.encode(value)]
        if self.headers:
            parts.append("?" + "&".join(
                f"{_URI_HEADER.encode(name)}={_URI_HEADER.encode(value)}"
                for name, value in self.headers
            ))
        return "".join(parts)


# Building parsed SipUri values on the hot path (fields checked by the parser).
(
    _set_uri_host,
    _set_uri_scheme,
    _set_uri_user,
    _set_uri_password,
    _set_uri_port,
    _set_uri_params,
    _set_uri_headers,
    _set_uri_raw,
) = slot_setters(
    SipUri, "host", "scheme", "user", "password", "port", "params", "headers", "_raw"
)


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """A URI of a scheme SIP does not interpret (RFC 3261 25.1 absoluteURI).

    ``scheme`` is lower case; ``opaque`` is everything after the colon, as written.
    """

    scheme: str
    opaque: str
    _raw: str | None = field(default=None, repr=False, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheme", self.scheme.lower())
        if self._raw is None:
            if not _SCHEME_RE.fullmatch(self.scheme + ":"):
                raise LocalProtocolError(f"invalid URI scheme {self.scheme!r}")
            reason = _OPAQUE.error(self.opaque) if self.opaque else "empty URI after the scheme"
            if reason is not None:
                raise LocalProtocolError(reason)

    def replace(self, **changes: Any) -> AbsoluteUri:
        """A copy with ``changes`` applied; it serializes from its fields."""
        return dataclasses.replace(self, _raw=None, **changes)

    def __str__(self) -> str:
        return self._raw if self._raw is not None else f"{self.scheme}:{self.opaque}"


Uri = Union[SipUri, TelUri, AbsoluteUri]
#: Texts remembered by parse_uri and NameAddress.parse (each: the values a phone sees).
PARSE_CACHE_SIZE = 512


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_uri(text: str) -> Uri:
    """Parse a URI: SIP/SIPS, tel, or any other scheme as :class:`AbsoluteUri`.

    Raises :class:`SipParseError` (400) for malformed text, e.g. whitespace or
    '<' '>' anywhere in it, or a bare IPv6 host (RFC 5118 4.2). Remembered
    per text (a parsed URI is immutable): a peer sends the same Request-URI
    and Contact call after call, and this parse is on the way to every answer.
    """
    match = _FAST_SIP_RE.match(text)
    if match is not None:
        uri = _parse_simple_sip(text, match)
        if uri is not None:
            return uri
    bad = _WS_OR_ANGLE_RE.search(text)
    if bad is not None:
        if bad.group() in "<>":
            raise SipParseError("URI must not contain '<' or '>'")
        raise SipParseError("URI contains whitespace")
    match = _SCHEME_RE.match(text)
    if match is None:
        raise SipParseError("empty URI" if not text else "missing or invalid URI scheme")
    scheme = match.group(1).lower()
    rest = text[match.end():]
    if scheme in ("sip", "sips"):
        return _parse_sip(text, scheme, rest)
    if scheme == "tel":
        return parse_tel(text, rest)
    reason = _OPAQUE.error(rest) if rest else "empty URI after the scheme"
    if reason is not None:
        raise SipParseError(reason)
    return AbsoluteUri(scheme, rest, _raw=text)


def _parse_simple_sip(text: str, match: re.Match[str]) -> SipUri | None:
    """The fast path; None sends the text to the careful parser."""
    scheme, user, host, port_text, params_text = match.groups()
    port = None
    if port_text is not None:
        port = int(port_text)
        if port > 65535:
            return None
    if params_text:
        params = split_simple_params(params_text)
        if params is None:
            return None
    else:
        params = _NO_PARAMS
    return _parsed_sip_uri(text, scheme.lower(), user, None, host, port, params, ())


def _parsed_sip_uri(
    text: str, scheme: str, user: str | None, password: str | None, host: str,
    port: int | None, params: Parameters, headers: tuple[tuple[str, str], ...],
) -> SipUri:
    """A parsed SipUri built without ``__init__`` (the hot path; fields are checked)."""
    uri = _new(SipUri)
    _set_uri_host(uri, host)
    _set_uri_scheme(uri, scheme)
    _set_uri_user(uri, user)
    _set_uri_password(uri, password)
    _set_uri_port(uri, port)
    _set_uri_params(uri, params)
    _set_uri_headers(uri, headers)
    _set_uri_raw(uri, text)
    return uri


def _parse_sip(text: str, scheme: str, rest: str) -> SipUri:
    """RFC 3261 25.1 SIP-URI / SIPS-URI after the scheme, by components."""
    user = password = None
    at = rest.find("@")
    if at >= 0:
        # No raw '@' may follow the userinfo (params and headers must escape it),
        # so the only one ends the user, even if the user holds ';' or '?' (RFC 4475 3.1.1.9).
        if rest.find("@", at + 1) >= 0:
            raise SipParseError("more than one '@' in SIP URI")
        user_text, colon, password_text = rest[:at].partition(":")
        if not user_text:
            raise SipParseError("empty user in SIP URI")
        user = _USER.decode(user_text)
        if colon:
            password = _PASSWORD.decode(password_text)
        rest = rest[at + 1:]
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise SipParseError("unterminated IPv6 reference in SIP URI host")
        host, rest = rest[:close + 1], rest[close + 1:]
        reason = host_error(host)
    else:
        segment = _PARAMS_START_RE.split(rest, 1)[0]
        if segment.count(":") >= 2 and IPV6_CHARS_RE.match(segment):
            raise SipParseError("IPv6 address in URI host must be in brackets")  # RFC 5118 4.2
        end = _HOST_END_RE.search(rest)
        split = len(rest) if end is None else end.start()
        host, rest = rest[:split], rest[split:]
        reason = host_error(host)
    if reason is not None:
        raise SipParseError(reason)
    port = None
    if rest.startswith(":"):
        port_text = _PARAMS_START_RE.split(rest[1:], 1)[0]
        if not port_text.isascii() or not port_text.isdigit():
            raise SipParseError("invalid port in SIP URI")
        if len(port_text.lstrip("0")) > 5 or int(port_text) > 65535:
            raise SipParseError("port out of range in SIP URI")
        port = int(port_text)
        rest = rest[1 + len(port_text):]
    params_text, question, headers_text = rest.partition("?")
    if params_text and not params_text.startswith(";"):
        raise SipParseError(f"unexpected character {params_text[0]!r} after SIP URI host")
    params = _parse_uri_params(params_text[1:]) if params_text else _NO_PARAMS
    headers = _parse_uri_headers(headers_text) if question else ()
    return _parsed_sip_uri(text, scheme, user, password, host, port, params, headers)


def _parse_uri_params(text: str) -> Parameters:
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    for item in text.split(";"):
        name_text, eq, value_text = item.partition("=")
        if not name_text:
            raise SipParseError("empty SIP URI parameter")
        name = _URI_PARAM.decode(name_text)
        value = None
        if eq:
            if not value_text:
                raise SipParseError(f"empty value for SIP URI parameter {name!r}")
            value = _URI_PARAM.decode(value_text)
        key = name.lower()
        if key in keys:  # RFC 3261 19.1.1: a parameter name appears at most once
            raise SipParseError(f"duplicate SIP URI parameter {name!r}")
        items.append((name, value))
        keys.append(key)
    return Parameters.trusted(items, keys)


def _parse_uri_headers(text: str) -> tuple[tuple[str, str], ...]:
    headers = []
    for item in text.split("&"):
        if not item:
            raise SipParseError("empty SIP URI header")
        name_text, eq, value_text = item.partition("=")
        if not name_text:
            raise SipParseError("empty SIP URI header name")
        name = _URI_HEADER.decode(name_text)
        if not eq:
            raise SipParseError(f"missing '=' in SIP URI header {name!r}")
        headers.append((name, _URI_HEADER.decode(value_text)))
    return tuple(headers)


@dataclass(frozen=True, slots=True)
class NameAddress:
    """One name-addr or addr-spec with header parameters (RFC 3261 20.10, 20.20, 25.1).

    ``display_name`` is unquoted with quoted-pairs resolved (None when absent);
    ``params`` are the header parameters (``tag``, ``expires``, ``q``...), values
    as written (a quoted value keeps its quotes: see :func:`unquote_string`).
    """

    uri: Uri
    display_name: str | None = None
    params: Parameters = field(default_factory=Parameters)
    _raw: str | None = field(default=None, repr=False, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        if type(self.params) is not Parameters:  # type(): cheaper than an ABC isinstance
            object.__setattr__(self, "params", Parameters(self.params))
        if self._raw is None:
            for name, value in self.params.pairs:
                if not TOKEN_RE.fullmatch(name):
                    raise LocalProtocolError(f"invalid header parameter name {name!r}")
                if value is not None and not GEN_VALUE_RE.match(value):
                    raise LocalProtocolError(
                        f"invalid value for header parameter {name!r} (use quote_string)"
                    )

    @classmethod
    def parse(cls, text: str) -> NameAddress:
        """Parse one value; surrounding whitespace is dropped (and not kept by ``str()``).

        Remembered per text (a NameAddress is immutable): To and Contact come
        back the same call after call.
        """
        return _parse_name_address(text)

    def replace(self, **changes: Any) -> NameAddress:
        """A copy with ``changes`` applied; it serializes from its fields."""
        return dataclasses.replace(self, _raw=None, **changes)

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter (RFC 3261 19.3), or None."""
        return self.params.get("tag")

    def __str__(self) -> str:
        if self._raw is not None:
            return self._raw
        text = f"<{self.uri}>"
        if self.display_name is not None:
            text = f"{quote_string(self.display_name)} {text}"
        return text + "".join(
            f";{name}" if value is None else f";{name}={value}"
            for name, value in self.params.pairs
        )


# Building parsed NameAddress values on the hot path (fields checked by the parser).
(
    _set_addr_uri,
    _set_addr_display_name,
    _set_addr_params,
    _set_addr_raw,
) = slot_setters(NameAddress, "uri", "display_name", "params", "_raw")


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_name_address(text: str) -> NameAddress:
    """:meth:`NameAddress.parse`, remembered per text."""
    text = text.strip(WS)
    match = _FAST_NAME_SIP_RE.match(text)
    if match is not None:
        display, tokens, uri_text, scheme, user, host, port_text, uri_params, params_text = (
            match.groups()
        )
        port = None if port_text is None else int(port_text)
        uri_param_map = split_simple_params(uri_params) if uri_params else _NO_PARAMS
        params = split_simple_params(params_text) if params_text else _NO_PARAMS
        if (port is None or port <= 65535) and uri_param_map is not None and params is not None:
            # What the two-step path below would build, in one step. The URI is
            # the one parse_uri makes of uri_text (its fast path takes the same
            # text), and remembers: a From differs call after call in its tag only.
            address = _new(NameAddress)
            _set_addr_uri(address, parse_uri(uri_text))
            _set_addr_display_name(address, tokens if display is None else display)
            _set_addr_params(address, params)
            _set_addr_raw(address, text)
            return address
    match = _FAST_NAME_ADDR_RE.match(text)
    if match is not None:
        display, tokens, uri_text, params_text = match.groups()
        if display is None:
            display = tokens
    else:
        match = _FAST_ADDR_SPEC_RE.match(text)
        if match is None:
            return _parse_name_addr(text)
        display = None
        uri_text, params_text = match.groups()
    params = split_simple_params(params_text) if params_text else _NO_PARAMS
    if params is None:
        return _parse_name_addr(text)
    address = _new(NameAddress)
    _set_addr_uri(address, parse_uri(uri_text))
    _set_addr_display_name(address, display)
    _set_addr_params(address, params)
    _set_addr_raw(address, text)
    return address


def _parse_name_addr(text: str) -> NameAddress:
    """The careful parser, for everything the fast path does not take."""
    display, uri_text, params_at = split_name_addr(text)
    uri = parse_uri(uri_text)
    return NameAddress(uri, display, parse_header_params(text, params_at), _raw=text)
