"""The RFC 3261 25.1 lexical rules behind :mod:`.uri`.

Covers %-escapes, hosts (including RFC 5118 IPv6 references), quoted strings,
ordered parameters, and the layout of a name-addr / addr-spec. Keeping these
in their own module leaves uri.py about URIs and addresses only.
:class:`Parameters`, :func:`quote_string` and :func:`unquote_string` are
public through :mod:`.uri`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

from .errors import LocalProtocolError, SipParseError

_new = object.__new__


def slot_setters(cls: type, *names: str) -> tuple[Any, ...]:
    """The slot setters of a frozen slotted dataclass, in the order of ``names``.

    The parsers build values on the hot path with these: calling a slot's
    ``__set__`` costs about 40 ns, ``object.__setattr__(obj, name, value)``
    about 70 ns. Only for values whose fields the caller has checked.
    """
    return tuple(cls.__dict__[name].__set__ for name in names)

# RFC 3261 25.1 character sets, as regex class bodies.
UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
USER_CHARS = UNRESERVED + r"&=+$,;?/"
PASSWORD_CHARS = UNRESERVED + r"&=+$,"
PARAM_CHARS = UNRESERVED + r"\[\]/:&+$"
HNV_CHARS = UNRESERVED + r"\[\]/?:+$"
URIC_CHARS = UNRESERVED + r";/?:@&=+$,"  # RFC 2396 uric
OPAQUE_CHARS = UNRESERVED + r";/?:@&=+$,\[\]#"  # RFC 3986 adds [ ] #
TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
WS = " \t\r\n"  # LWS / SWS characters (folds included)

_LABEL = r"[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*"
_TOPLABEL = r"[A-Za-z][A-Za-z0-9]*(?:-+[A-Za-z0-9]+)*"
IPV4 = r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
HOSTNAME = rf"(?:{_LABEL}\.)*{_TOPLABEL}\.?"
_HOST_RE = re.compile(rf"(?:{IPV4}|{HOSTNAME})\Z")
DOMAIN_RE = re.compile(rf"{HOSTNAME}\Z")
IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+\Z")

_ESCAPES_RE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")

TOKEN_RE = re.compile(TOKEN)
_QUOTED = r'"(?:[^"\\]|\\[\s\S])*"'
_QUOTED_RE = re.compile(_QUOTED)
_DISPLAY_TOKENS_RE = re.compile(rf"[{WS}]*(?:{TOKEN}(?:[{WS}]+{TOKEN})*)?[{WS}]*\Z")
_DISPLAY_BAD_RE = re.compile(rf"[^{WS}A-Za-z0-9\-.!%*_+`'~]")
_HPARAM_RE = re.compile(
    rf"[{WS}]*;[{WS}]*({TOKEN})"
    rf"(?:[{WS}]*=[{WS}]*({TOKEN}|\[[0-9A-Fa-f:.]+\]|{_QUOTED}))?(?=[{WS}]*(?:;|\Z))"
)
GEN_VALUE_RE = re.compile(rf"(?:{TOKEN}|\[[0-9A-Fa-f:.]+\]|{_QUOTED})\Z")
# RFC 3261 25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
_BAD_QUOTED_PAIR_RE = re.compile(r"\\(?:[^\x00-\x09\x0b\x0c\x0e-\x7f]|\Z)")
_QUOTED_PAIR_RE = re.compile(r"\\([\s\S])")
# qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; CR LF only as a fold
_BAD_QDTEXT_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n[ \t])|(?<!\r)\n|\n(?![ \t])")
_FOLD_RE = re.compile(r"\r\n(?=[ \t])")
_QUOTE_NEEDS_PAIR_RE = re.compile(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f"\\]')


# --- %-escapes (RFC 3261 19.1.2) ------------------------------------------------------------


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


def unescape(text: str) -> str:
    """Resolve %HH escapes once, never recursively; non-UTF-8 bytes become surrogates."""
    return _ESCAPES_RE.sub(_unescape_run, text) if "%" in text else text


@dataclass(frozen=True, slots=True)
class Charset:
    """What one URI component may hold unescaped, and its name in error messages."""

    what: str
    valid: re.Pattern[str]
    first_bad: re.Pattern[str]
    unsafe: re.Pattern[str]

    @classmethod
    def of(cls, what: str, chars: str) -> Charset:
        """The component called ``what`` whose characters are the class body ``chars``."""
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
        """Check ``text`` (raising :class:`SipParseError`) and resolve its escapes."""
        reason = self.error(text)
        if reason is not None:
            raise SipParseError(reason)
        return unescape(text)

    def encode(self, text: str) -> str:
        """Escape every character this component may not hold as is (RFC 3261 25.1)."""
        return text if self.unsafe.search(text) is None else self.unsafe.sub(_percent, text)


# --- parameters -----------------------------------------------------------------------------


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
    def trusted(cls, items: list[tuple[str, str | None]], keys: list[str]) -> Parameters:
        """Build from checked pairs and their lower-case names (the parsers' path)."""
        params = cls.__new__(cls)
        params._items, params._keys = tuple(items), tuple(keys)
        return params

    @property
    def pairs(self) -> tuple[tuple[str, str | None], ...]:
        """The (name, value) pairs in order, names as written."""
        return self._items

    @property
    def keys_folded(self) -> tuple[str, ...]:
        """The names in lower case, in order."""
        return self._keys

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value of ``name`` (any case), or ``default``; faster than Mapping.get."""
        keys = self._keys
        key = name.lower()
        if key in keys:
            return self._items[keys.index(key)][1]
        return default

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
            items = list(self._items)
            items[self._keys.index(key)] = (name, value)
            return Parameters.trusted(items, list(self._keys))
        return Parameters.trusted([*self._items, (name, value)], [*self._keys, key])

    def remove(self, name: str) -> Parameters:
        """A copy without ``name`` (unchanged if absent)."""
        key = name.lower()
        kept = [(item, k) for item, k in zip(self._items, self._keys) if k != key]
        return Parameters.trusted([item for item, _ in kept], [k for _, k in kept])

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


def split_simple_params(text: str) -> Parameters | None:
    """``;a=b;c`` already checked by a regex; None if a name repeats."""
    # A plain loop: measurably cheaper than comprehensions on the hot path.
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    for item in text[1:].split(";"):
        name, eq, value = item.partition("=")
        key = name.lower()
        if key in keys:
            return None
        items.append((name, value if eq else None))
        keys.append(key)
    params = _new(Parameters)
    params._items = tuple(items)
    params._keys = tuple(keys)
    return params


def fold(value: str | None) -> str | None:
    """``value`` in lower case (None stays None)."""
    return None if value is None else value.lower()


# --- hosts (RFC 3261 25.1, RFC 5118) ---------------------------------------------------------


def ipv6_address(text: str) -> ipaddress.IPv6Address | None:
    """The address in an IPv6 reference (without brackets), or None if invalid."""
    if not IPV6_CHARS_RE.match(text):
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


def host_error(host: str) -> str | None:
    """Why ``host`` is not hostname / IPv4address / IPv6reference, or None."""
    if host.startswith("[") and host.endswith("]"):
        return None if ipv6_address(host[1:-1]) else "invalid IPv6 address in SIP URI host"
    if _HOST_RE.match(host):
        return None
    if host.count(":") >= 2 and IPV6_CHARS_RE.match(host):
        return "IPv6 address in URI host must be in brackets"  # RFC 5118 4.2
    return "empty host in SIP URI" if not host else f"invalid host {host[:64]!r} in SIP URI"


def host_key(host: str) -> str:
    """``host`` for comparisons: lower case, an IPv6 address in its compressed form."""
    if host.startswith("["):
        address = ipv6_address(host[1:-1])
        if address is not None:
            return f"[{address.compressed}]"
    return host.lower()


# --- quoted strings (RFC 3261 25.1) ----------------------------------------------------------


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
    return unquote_content(text[1:-1])


def unquote_content(content: str) -> str:
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


# --- name-addr / addr-spec layout (RFC 3261 20.10, 25.1) -------------------------------------


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in WS:
        pos += 1
    return pos


def split_name_addr(text: str) -> tuple[str | None, str, int]:
    """Take one stripped name-addr / addr-spec apart.

    Returns the display name (checked and unquoted), the URI text (not parsed
    here) and where the header parameters start, for :func:`parse_header_params`.
    """
    if not text:
        raise SipParseError("empty name-addr")
    display: str | None = None
    lt = -1
    if text[0] == '"':
        match = _QUOTED_RE.match(text)
        if match is None:
            raise SipParseError("unterminated quoted string")
        display = unquote_content(text[1:match.end() - 1])
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
        uri_text = text[lt + 1:gt]
        if uri_text != uri_text.strip(WS):
            raise SipParseError("whitespace inside '<' '>' in name-addr")
        pos = gt + 1
    else:
        # RFC 3261 20.10: without '<' '>' the URI ends at the first ';', and a
        # URI holding ',', ';' or '?' must be enclosed.
        pos = text.find(";")
        if pos < 0:
            pos = len(text)
        uri_text = text[:pos].rstrip(WS)
        if "?" in uri_text or "," in uri_text:
            raise SipParseError("URI containing ',', ';' or '?' must be enclosed in '<' '>'")
    return display, uri_text, pos


def parse_header_params(text: str, pos: int) -> Parameters:
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
            unquote_content(value[1:-1])
        key = name.lower()
        if key in keys:
            raise SipParseError(f"duplicate header parameter {name!r}")
        items.append((name, value))
        keys.append(key)
        pos = match.end()
    return Parameters.trusted(items, keys)


def _header_param_error(text: str, pos: int) -> str:
    """Why the header parameter starting at ``pos`` does not parse."""
    pos = _skip_ws(text, pos)
    if pos < len(text) and text[pos] != ";":
        return f"unexpected character {text[pos]!r} after '>'"
    pos = _skip_ws(text, pos + 1)
    match = TOKEN_RE.match(text, pos)
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
