"""URIs and name-addr values: SIP/SIPS (RFC 3261 19.1, 25.1; RFC 5118), tel (RFC 3966).

``parse_uri(text)`` returns a :class:`SipUri`, a :class:`TelUri` or, for any
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
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from .errors import LocalProtocolError, SipParseError

# RFC 3261 25.1 character sets, as regex class bodies.
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_USER_CHARS = _UNRESERVED + r"&=+$,;?/"
_PASSWORD_CHARS = _UNRESERVED + r"&=+$,"
_PARAM_CHARS = _UNRESERVED + r"\[\]/:&+$"
_HNV_CHARS = _UNRESERVED + r"\[\]/?:+$"
_URIC_CHARS = _UNRESERVED + r";/?:@&=+$,"  # RFC 2396 uric (tel isub)
_OPAQUE_CHARS = _UNRESERVED + r";/?:@&=+$,\[\]#"  # RFC 3986 adds [ ] #
_TEL_NUMBER_CHARS = r"0-9A-Fa-f*+\-.()"  # RFC 3966 3; '#' only as %23 on output
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_WS = " \t\r\n"

_LABEL = r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*"
_TOPLABEL = r"[A-Za-z][A-Za-z0-9]*(?:-+[A-Za-z0-9]+)*"
_IPV4 = r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
_HOSTNAME = rf"(?:{_LABEL}\.)*{_TOPLABEL}\.?"
_HOST_RE = re.compile(rf"(?:{_IPV4}|{_HOSTNAME})\Z")
_DOMAIN_RE = re.compile(rf"{_HOSTNAME}\Z")
_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+\Z")

# The common shape, parsed by one match: no escapes, password, IPv6 or headers.
_SIMPLE_PARAMS = r"(?:;[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+(?:=[A-Za-z0-9\-_.!~*'()\[\]/:&+$]+)?)*"
_FAST_SIP_RE = re.compile(
    rf"(sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,/]+)@)?({_IPV4}|{_HOSTNAME})"
    rf"(?::([0-9]{{1,5}}))?({_SIMPLE_PARAMS})\Z",
    re.ASCII | re.IGNORECASE,
)
_SIMPLE_HPARAMS = rf"(?:;{_TOKEN}(?:={_TOKEN})?)*"
_FAST_NAME_ADDR_RE = re.compile(
    rf'(?:"([^"\\\x00-\x1f\x7f]*)"[ \t]*)?<([^<>"\s]+)>({_SIMPLE_HPARAMS})\Z'
)
_FAST_ADDR_SPEC_RE = re.compile(rf'([^<>"\s;,?]+)({_SIMPLE_HPARAMS})\Z')

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WS_OR_ANGLE_RE = re.compile(r"[ \t\r\n<>]")
_ESCAPES_RE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_HOST_END_RE = re.compile(r"[:;?]")
_PARAMS_START_RE = re.compile(r"[;?]")
_GLOBAL_NUMBER_RE = re.compile(r"\+[0-9\-.()]*\Z")
_LOCAL_NUMBER_RE = re.compile(r"[0-9A-Fa-f*#\-.()]*\Z")
_NUMBER_DIGIT_RE = re.compile(r"[0-9A-Fa-f*#]")
_VISUAL_SEPARATORS_RE = re.compile(r"[\-.()]")
_TEL_PNAME_RE = re.compile(r"[A-Za-z0-9\-]+\Z")

_TOKEN_RE = re.compile(_TOKEN)
_QUOTED = r'"(?:[^"\\]|\\[\s\S])*"'
_QUOTED_RE = re.compile(_QUOTED)
_DISPLAY_TOKENS_RE = re.compile(rf"[{_WS}]*(?:{_TOKEN}(?:[{_WS}]+{_TOKEN})*)?[{_WS}]*\Z")
_DISPLAY_BAD_RE = re.compile(rf"[^{_WS}A-Za-z0-9\-.!%*_+`'~]")
_HPARAM_RE = re.compile(
    rf"[{_WS}]*;[{_WS}]*({_TOKEN})"
    rf"(?:[{_WS}]*=[{_WS}]*({_TOKEN}|\[[0-9A-Fa-f:.]+\]|{_QUOTED}))?(?=[{_WS}]*(?:;|\Z))"
)
_GEN_VALUE_RE = re.compile(rf"(?:{_TOKEN}|\[[0-9A-Fa-f:.]+\]|{_QUOTED})\Z")
# RFC 3261 25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
_BAD_QUOTED_PAIR_RE = re.compile(r"\\(?:[^\x00-\x09\x0b\x0c\x0e-\x7f]|\Z)")
_QUOTED_PAIR_RE = re.compile(r"\\([\s\S])")
# qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; CR LF only as a fold
_BAD_QDTEXT_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n[ \t])|(?<!\r)\n|\n(?![ \t])")
_FOLD_RE = re.compile(r"\r\n(?=[ \t])")
_QUOTE_NEEDS_PAIR_RE = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f"\\]')

_new = object.__new__
_set = object.__setattr__  # frozen dataclasses are built this way on the hot path

# RFC 3261 19.1.4: these parameters must match when present in either URI.
_SPECIAL_PARAMS = ("user", "ttl", "method", "maddr", "transport")


def _percent(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte kept by surrogateescape
        data = bytes([code - 0xDC00])
    else:
        data = char.encode("utf-8", "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in data)


def _unescape_run(match: re.Match[str]) -> str:
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "surrogateescape")


def _unescape(text: str) -> str:
    """Resolve %HH escapes once (RFC 3261 19.1.2), never recursively."""
    return _ESCAPES_RE.sub(_unescape_run, text) if "%" in text else text


@dataclass(frozen=True, slots=True)
class _Charset:
    """What one URI component may hold unescaped, and its name in error messages."""

    what: str
    valid: re.Pattern[str]
    first_bad: re.Pattern[str]
    unsafe: re.Pattern[str]

    @classmethod
    def of(cls, what: str, chars: str) -> _Charset:
        return cls(
            what,
            re.compile(f"(?:[{chars}]|%[0-9A-Fa-f]{{2}})*"),
            re.compile(f"%(?![0-9A-Fa-f]{{2}})|[^{chars}%]"),
            re.compile(f"[^{chars}]"),
        )

    def error(self, text: str) -> str | None:
        """The reason ``text`` is not a valid escaped component, or None."""
        if self.valid.fullmatch(text):
            return None
        bad = self.first_bad.search(text)
        assert bad is not None
        if bad.group() == "%":
            return f"invalid escape sequence in {self.what}"
        return f"invalid character {bad.group()!r} in {self.what}"

    def decode(self, text: str) -> str:
        """Check ``text`` and resolve its escapes."""
        reason = self.error(text)
        if reason is not None:
            raise SipParseError(reason)
        return _unescape(text)

    def encode(self, text: str) -> str:
        """Escape every character this component may not hold as is (RFC 3261 25.1)."""
        return text if self.unsafe.search(text) is None else self.unsafe.sub(_percent, text)


_USER = _Charset.of("SIP URI user", _USER_CHARS)
_PASSWORD = _Charset.of("SIP URI password", _PASSWORD_CHARS)
_URI_PARAM = _Charset.of("SIP URI parameter", _PARAM_CHARS)
_URI_HEADER = _Charset.of("SIP URI header", _HNV_CHARS)
_TEL_NUMBER = _Charset.of("tel URI number", _TEL_NUMBER_CHARS)
_TEL_PARAM = _Charset.of("tel URI parameter", _PARAM_CHARS)
_TEL_ISUB = _Charset.of("tel URI isub parameter", _URIC_CHARS.replace(";", ""))
_OPAQUE = _Charset.of("URI", _OPAQUE_CHARS)


class Parameters(Mapping[str, Union[str, None]]):
    """Ordered, immutable parameters: names keep their spelling, lookups ignore case.

    A value of ``None`` is a flag parameter (``;lr``). ``set`` and ``remove``
    return new objects. Equality ignores order and the case of names (values
    are compared exactly); URIs compare their parameters by RFC rules instead.
    """

    __slots__ = ("_items", "_keys")
    _items: tuple[tuple[str, str | None], ...]
    _keys: tuple[str, ...]

    def __init__(
        self, items: Mapping[str, str | None] | Iterable[tuple[str, str | None]] = ()
    ) -> None:
        pairs = tuple(items.items()) if isinstance(items, Mapping) else tuple(items)
        keys = tuple(name.lower() for name, _ in pairs)
        if len(set(keys)) != len(keys):
            name = next(n for i, (n, _) in enumerate(pairs) if keys[i] in keys[:i])
            raise LocalProtocolError(f"duplicate parameter {name!r}")
        self._items, self._keys = pairs, keys

    @classmethod
    def _trusted(cls, items: list[tuple[str, str | None]], keys: list[str]) -> Parameters:
        params = cls.__new__(cls)
        params._items, params._keys = tuple(items), tuple(keys)
        return params

    @property
    def pairs(self) -> tuple[tuple[str, str | None], ...]:
        """The (name, value) pairs in order, names as written."""
        return self._items

    def __getitem__(self, name: str) -> str | None:
        try:
            return self._items[self._keys.index(name.lower())][1]
        except ValueError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._keys

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def set(self, name: str, value: str | None = None) -> Parameters:
        """A copy with ``name`` set to ``value`` (in place if present, else appended)."""
        key = name.lower()
        if key in self._keys:
            index = self._keys.index(key)
            items = list(self._items)
            items[index] = (name, value)
            return Parameters._trusted(items, list(self._keys))
        return Parameters._trusted([*self._items, (name, value)], [*self._keys, key])

    def remove(self, name: str) -> Parameters:
        """A copy without ``name`` (unchanged if absent)."""
        key = name.lower()
        kept = [(item, k) for item, k in zip(self._items, self._keys) if k != key]
        return Parameters._trusted([item for item, _ in kept], [k for _, k in kept])

    def _folded(self) -> dict[str, str | None]:
        return {key: value for key, (_, value) in zip(self._keys, self._items)}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Parameters):
            return self._folded() == other._folded()
        if isinstance(other, Mapping):
            return self._folded() == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._folded().items()))

    def __repr__(self) -> str:
        return f"Parameters({dict(self._items)!r})"


def _fold(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _ipv6_address(text: str) -> ipaddress.IPv6Address | None:
    """The address in an IPv6 reference (without brackets), or None if invalid."""
    if not _IPV6_CHARS_RE.match(text):
        return None
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        pass
    # RFC 5118 4.10: the RFC 3261 ABNF admits "2001:db8:::192.0.2.1"; tolerate it.
    head, sep, tail = text.partition(":::")
    if sep and "." in tail and ":" not in tail:
        try:
            return ipaddress.IPv6Address(f"{head}::{tail}")
        except ValueError:
            return None
    return None


def _host_error(host: str) -> str | None:
    """Why ``host`` is not hostname / IPv4address / IPv6reference (RFC 3261 25.1)."""
    if host.startswith("[") and host.endswith("]"):
        return None if _ipv6_address(host[1:-1]) else "invalid IPv6 address in SIP URI host"
    if _HOST_RE.match(host):
        return None
    if host.count(":") >= 2 and _IPV6_CHARS_RE.match(host):
        return "IPv6 address in URI host must be in brackets"  # RFC 5118 4.2
    return "empty host in SIP URI" if not host else f"invalid host {host[:64]!r} in SIP URI"


def _host_key(host: str) -> str:
    if host.startswith("["):
        address = _ipv6_address(host[1:-1])
        if address is not None:
            return f"[{address.compressed}]"
    return host.lower()


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
        return _host_error(self.host)

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
        return _fold(self.params.get("transport"))

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
        special = tuple((name in params, _fold(params.get(name))) for name in _SPECIAL_PARAMS)
        headers = tuple(sorted((name.lower(), value) for name, value in self.headers))
        return (self.scheme, self.user, self.password, _host_key(self.host), self.port,
                special, headers)

    def __eq__(self, other: object) -> bool:
        """RFC 3261 19.1.4 (not transitive: other params count only when in both)."""
        if not isinstance(other, SipUri):
            return NotImplemented
        if self._key() != other._key():
            return False
        theirs = other.params
        return all(
            _fold(value) == _fold(theirs[name])
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


@dataclass(frozen=True, eq=False, slots=True)
class TelUri:
    """A tel URI (RFC 3966): ``number`` is '+'-prefixed (global) or local, as written.

    A local number needs a ``phone-context`` parameter (RFC 3966 5.1.5).
    Equality follows RFC 3966 4: visual separators are ignored, every
    parameter must be in both, comparison is case-insensitive.
    """

    number: str
    params: Parameters = field(default_factory=Parameters)
    _raw: str | None = field(default=None, repr=False, kw_only=True)
    scheme: ClassVar[str] = "tel"

    def __post_init__(self) -> None:
        if type(self.params) is not Parameters:  # type(): cheaper than an ABC isinstance
            object.__setattr__(self, "params", Parameters(self.params))
        if self._raw is None:
            reason = _tel_error(self.number, self.params)
            if reason is not None:
                raise LocalProtocolError(reason)

    @classmethod
    def parse(cls, text: str) -> TelUri:
        """Parse a tel URI; other schemes raise ``SipParseError`` (416)."""
        uri = parse_uri(text)
        if not isinstance(uri, TelUri):
            raise SipParseError(f"unsupported URI scheme {uri.scheme!r}", 416)
        return uri

    def replace(self, **changes: Any) -> TelUri:
        """A copy with ``changes`` applied; it serializes from its fields."""
        return dataclasses.replace(self, _raw=None, **changes)

    @property
    def is_global(self) -> bool:
        """True for a global (E.164, '+'-prefixed) number."""
        return self.number.startswith("+")

    @property
    def digits(self) -> str:
        """The number without visual separators ('-', '.', '(', ')')."""
        return _VISUAL_SEPARATORS_RE.sub("", self.number)

    @property
    def phone_context(self) -> str | None:
        """The ``phone-context`` parameter, or None."""
        return self.params.get("phone-context")

    def _key(self) -> tuple[Any, ...]:
        params = frozenset(
            (key, _tel_param_key(key, value))
            for key, (_, value) in zip(self.params._keys, self.params.pairs)
        )
        return (self.is_global, self.digits.lower(), params)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TelUri):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self._raw is not None:
            return self._raw
        parts = ["tel:", _TEL_NUMBER.encode(self.number)]
        for name, value in self.params.pairs:
            parts += [";", name]
            if value is not None:
                charset = _TEL_ISUB if name.lower() == "isub" else _TEL_PARAM
                parts += ["=", charset.encode(value)]
        return "".join(parts)


def _tel_param_key(key: str, value: str | None) -> str | None:
    # RFC 3966 4: a global-number phone-context (and ext) compare without separators.
    if value is not None and (key == "ext" or (key == "phone-context" and value[:1] == "+")):
        value = _VISUAL_SEPARATORS_RE.sub("", value)
    return _fold(value)


def _phone_number_error(number: str, is_context: bool = False) -> str | None:
    what = "phone-context" if is_context else "telephone number"
    if number.startswith("+"):  # global-number-digits = "+" *phonedigit DIGIT *phonedigit
        valid = _GLOBAL_NUMBER_RE.match(number) and _NUMBER_DIGIT_RE.search(number)
    elif is_context:
        valid = _DOMAIN_RE.match(number)
    else:  # local-number-digits: at least one HEXDIG / "*" / "#"
        valid = _LOCAL_NUMBER_RE.match(number) and _NUMBER_DIGIT_RE.search(number)
    return None if valid else f"invalid {what} in tel URI"


def _tel_error(number: str, params: Parameters) -> str | None:
    """Why a tel URI with these (unescaped) parts is invalid (RFC 3966 3, 5.1.5)."""
    reason = _phone_number_error(number)
    if reason is not None:
        return reason
    for name, value in params.pairs:
        if not _TEL_PNAME_RE.match(name):
            return f"invalid tel URI parameter name {name!r}"
        if value == "":
            return f"empty value for tel URI parameter {name!r}"
    context = params.get("phone-context")
    if context is not None:
        return _phone_number_error(context, is_context=True)
    if "phone-context" in params:
        return "empty value for tel URI parameter 'phone-context'"
    if not number.startswith("+"):
        return "local number in tel URI requires a phone-context parameter"
    return None


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


def parse_uri(text: str) -> Uri:
    """Parse a URI: SIP/SIPS, tel, or any other scheme as :class:`AbsoluteUri`.

    Raises :class:`SipParseError` (400) for malformed text, e.g. whitespace or
    '<' '>' anywhere in it, or a bare IPv6 host (RFC 5118 4.2).
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
        return _parse_tel(text, rest)
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
        params = _split_simple_params(params_text)
        if params is None:
            return None
    else:
        params = Parameters._trusted([], [])
    return _parsed_sip_uri(text, scheme.lower(), user, None, host, port, params, ())


def _parsed_sip_uri(
    text: str, scheme: str, user: str | None, password: str | None, host: str,
    port: int | None, params: Parameters, headers: tuple[tuple[str, str], ...],
) -> SipUri:
    """A parsed SipUri built without ``__init__`` (the hot path; fields are checked)."""
    uri = _new(SipUri)
    _set(uri, "host", host)
    _set(uri, "scheme", scheme)
    _set(uri, "user", user)
    _set(uri, "password", password)
    _set(uri, "port", port)
    _set(uri, "params", params)
    _set(uri, "headers", headers)
    _set(uri, "_raw", text)
    return uri


def _split_simple_params(text: str) -> Parameters | None:
    """``;a=b;c`` already checked by a regex; None if a name repeats."""
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    for item in text[1:].split(";"):
        name, eq, value = item.partition("=")
        items.append((name, value if eq else None))
        keys.append(name.lower())
    if len(set(keys)) != len(keys):
        return None
    return Parameters._trusted(items, keys)


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
        reason = _host_error(host)
    else:
        segment = _PARAMS_START_RE.split(rest, 1)[0]
        if segment.count(":") >= 2 and _IPV6_CHARS_RE.match(segment):
            raise SipParseError("IPv6 address in URI host must be in brackets")  # RFC 5118 4.2
        end = _HOST_END_RE.search(rest)
        split = len(rest) if end is None else end.start()
        host, rest = rest[:split], rest[split:]
        reason = _host_error(host)
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
    params = _parse_uri_params(params_text[1:]) if params_text else Parameters._trusted([], [])
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
    return Parameters._trusted(items, keys)


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


def _parse_tel(text: str, rest: str) -> TelUri:
    """RFC 3966 3 telephone-subscriber."""
    number_text, semi, params_text = rest.partition(";")
    number = _TEL_NUMBER.decode(number_text.replace("#", "%23"))
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    for item in params_text.split(";") if semi else ():
        name, eq, value_text = item.partition("=")
        if not name:
            raise SipParseError("empty tel URI parameter")
        if not _TEL_PNAME_RE.match(name):
            raise SipParseError(f"invalid tel URI parameter name {name[:32]!r}")
        key = name.lower()
        if key in keys:
            raise SipParseError(f"duplicate tel URI parameter {name!r}")
        charset = _TEL_ISUB if key == "isub" else _TEL_PARAM
        items.append((name, charset.decode(value_text) if eq else None))
        keys.append(key)
    params = Parameters._trusted(items, keys)
    reason = _tel_error(number, params)
    if reason is not None:
        raise SipParseError(reason)
    return TelUri(number, params, _raw=text)


def quote_string(text: str) -> str:
    """``text`` as an RFC 3261 25.1 quoted-string.

    '"', '\\' and control characters become quoted-pairs; CR and LF, which no
    quoted-pair can carry, become spaces (RFC 3261 7.3.1: a fold is one SP).
    """
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return '"' + _QUOTE_NEEDS_PAIR_RE.sub(lambda m: "\\" + m.group(), text) + '"'


def unquote_string(text: str) -> str:
    """The content of a quoted-string (quotes included in ``text``), quoted-pairs
    resolved and folds unfolded; text that is not quoted is returned unchanged."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    return _unquote(text[1:-1])


def _unquote(content: str) -> str:
    """Check the inside of a quoted-string and resolve it."""
    if "\\" in content:
        if _BAD_QUOTED_PAIR_RE.search(content):
            raise SipParseError("invalid quoted-pair in quoted string")
        bare = _QUOTED_PAIR_RE.sub("", content)
    else:
        bare = content
    bad = _BAD_QDTEXT_RE.search(bare)
    if bad is not None:
        raise SipParseError(f"invalid character {bad.group()!r} in quoted string")
    if "\r" in content:
        content = _FOLD_RE.sub("", content)
    return _QUOTED_PAIR_RE.sub(r"\1", content) if "\\" in content else content


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
                if not _TOKEN_RE.fullmatch(name):
                    raise LocalProtocolError(f"invalid header parameter name {name!r}")
                if value is not None and not _GEN_VALUE_RE.match(value):
                    raise LocalProtocolError(
                        f"invalid value for header parameter {name!r} (use quote_string)"
                    )

    @classmethod
    def parse(cls, text: str) -> NameAddress:
        """Parse one value; surrounding whitespace is dropped (and not kept by ``str()``)."""
        text = text.strip(_WS)
        match = _FAST_NAME_ADDR_RE.match(text)
        if match is not None:
            display, uri_text, params_text = match.groups()
        else:
            match = _FAST_ADDR_SPEC_RE.match(text)
            if match is None:
                return _parse_name_addr(text)
            display = None
            uri_text, params_text = match.groups()
        params = _split_simple_params(params_text) if params_text else Parameters._trusted([], [])
        if params is None:
            return _parse_name_addr(text)
        address = _new(cls)
        _set(address, "uri", parse_uri(uri_text))
        _set(address, "display_name", display)
        _set(address, "params", params)
        _set(address, "_raw", text)
        return address

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


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _parse_name_addr(text: str) -> NameAddress:
    """The careful parser: name-addr or addr-spec, then header parameters."""
    if not text:
        raise SipParseError("empty name-addr")
    display: str | None = None
    lt = -1
    if text[0] == '"':
        match = _QUOTED_RE.match(text)
        if match is None:
            raise SipParseError("unterminated quoted string")
        display = _unquote(text[1:match.end() - 1])
        lt = _skip_ws(text, match.end())
        if lt == len(text) or text[lt] != "<":
            raise SipParseError("expected '<' after quoted display name")
    else:
        lt = text.find("<")
        semi = text.find(";")
        if lt >= 0 and (semi < 0 or semi > lt):
            # display-name = *(token LWS) / quoted-string; 'caller<sip:..>' is
            # accepted although LWS should precede '<' (RFC 4475 3.1.1.6).
            if not _DISPLAY_TOKENS_RE.match(text, 0, lt):
                bad = _DISPLAY_BAD_RE.search(text, 0, lt)
                assert bad is not None
                raise SipParseError(f"invalid character {bad.group()!r} in display name")
            display = " ".join(text[:lt].split()) or None
        else:
            lt = -1
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError("missing '>' in name-addr")
        inner = text[lt + 1:gt]
        if inner != inner.strip(_WS):
            raise SipParseError("whitespace inside '<' '>' in name-addr")
        uri = parse_uri(inner)
        pos = gt + 1
    else:
        # RFC 3261 20.10: without '<' '>' the URI ends at the first ';', and a
        # URI holding ',', ';' or '?' must be enclosed.
        pos = text.find(";")
        if pos < 0:
            pos = len(text)
        spec = text[:pos].rstrip(_WS)
        if "?" in spec or "," in spec:
            raise SipParseError("URI containing ',', ';' or '?' must be enclosed in '<' '>'")
        uri = parse_uri(spec)
    return NameAddress(uri, display, _parse_header_params(text, pos), _raw=text)


def _parse_header_params(text: str, pos: int) -> Parameters:
    """``*( SEMI generic-param )`` from ``pos`` to the end (RFC 3261 25.1)."""
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    end = len(text)
    while pos < end:
        match = _HPARAM_RE.match(text, pos)
        if match is None:
            raise SipParseError(_header_param_error(text, pos))
        name, value = match.groups()
        if value is not None and value[0] == '"':
            _unquote(value[1:-1])
        key = name.lower()
        if key in keys:
            raise SipParseError(f"duplicate header parameter {name!r}")
        items.append((name, value))
        keys.append(key)
        pos = match.end()
    return Parameters._trusted(items, keys)


def _header_param_error(text: str, pos: int) -> str:
    """Why the header parameter starting at ``pos`` does not parse."""
    pos = _skip_ws(text, pos)
    if pos < len(text) and text[pos] != ";":
        return f"unexpected character {text[pos]!r} after '>'"
    pos = _skip_ws(text, pos + 1)
    match = _TOKEN_RE.match(text, pos)
    if match is None:
        if pos == len(text) or text[pos] == ";":
            return "empty header parameter"
        return f"invalid character {text[pos]!r} in header parameter name"
    name = match.group()
    pos = _skip_ws(text, match.end())
    if pos < len(text) and text[pos] == "=":
        pos = _skip_ws(text, pos + 1)
        if pos == len(text) or text[pos] == ";":
            return f"empty value for header parameter {name!r}"
        if text[pos] == '"' and not _QUOTED_RE.match(text, pos):
            return "unterminated quoted string"
        return f"invalid value for header parameter {name!r}"
    return f"invalid character {text[pos]!r} after header parameter {name!r}"
