"""SIP header fields: names, the ordered multi-map, comma-list splitting, CSeq.

Header values are kept raw (as text, with the exact source line for a byte-exact
round trip) and only parsed when asked for, as sippy's b2bua does: the hot path
is the parser, and most headers of most messages are never looked at.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._uri_syntax import slot_setters
from .errors import SipParseError

# RFC 3261 7.3.3 and later RFCs (3265, 3515, 3841, 3892, 4028, 4474): compact forms.
COMPACT_FORMS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

# How we spell a header we add ourselves (RFC 3261 20 spelling).
_SPELLING: dict[str, str] = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rack": "RAck",
    "rseq": "RSeq",
    "sip-etag": "SIP-ETag",
    "sip-if-match": "SIP-If-Match",
    "p-asserted-identity": "P-Asserted-Identity",
}

# Headers whose values form a comma-separated list (RFC 3261 7.3.1) and may be
# split and combined. Not in the list: headers whose grammar contains commas
# that are not separators (Date, the four authentication headers, Subject,
# User-Agent, Server, Retry-After, Timestamp ...) and every unknown header.
LIST_HEADERS: frozenset[str] = frozenset(
    {
        "accept",
        "accept-contact",
        "accept-encoding",
        "accept-language",
        "alert-info",
        "allow",
        "allow-events",
        "call-info",
        "contact",
        "content-encoding",
        "content-language",
        "error-info",
        "history-info",
        "in-reply-to",
        "p-asserted-identity",
        "path",
        "proxy-require",
        "reason",
        "record-route",
        "reject-contact",
        "request-disposition",
        "require",
        "route",
        "service-route",
        "supported",
        "unsupported",
        "via",
        "warning",
    }
)

# RFC 3261 20: header fields that may appear at most once.
SINGLE_HEADERS: frozenset[str] = frozenset(
    {"call-id", "cseq", "from", "to", "max-forwards", "content-length"}
)

_KEY_CACHE_SEED = (
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Max-Forwards",
    "Content-Length",
    "Content-Type",
    "Route",
    "Record-Route",
    "Allow",
    "Supported",
    "User-Agent",
    "Expires",
    "Authorization",
    "Proxy-Authorization",
    "WWW-Authenticate",
    "Proxy-Authenticate",
    # Looked up by the UA for every INVITE, and written into its answer.
    "Require",
    "Accept",
    "Replaces",
    "Server",
    "Timestamp",
)


def _compute_key(name: str) -> str:
    low = name.lower()
    return COMPACT_FORMS.get(low, low)


# Read-only lookup table built once: the usual spellings to their key.
_KNOWN_KEYS: dict[str, str] = {}
for _n in _KEY_CACHE_SEED:
    _KNOWN_KEYS[_n] = _compute_key(_n)
    _KNOWN_KEYS[_n.lower()] = _compute_key(_n)
for _c, _long in COMPACT_FORMS.items():
    _KNOWN_KEYS[_c] = _long
    _KNOWN_KEYS[_c.upper()] = _long
del _n, _c, _long


def header_key(name: str) -> str:
    """The canonical lookup key of a header name: lower case, long form."""
    key = _KNOWN_KEYS.get(name)
    if key is None:
        key = _compute_key(name.strip())
    return key


@functools.lru_cache(maxsize=256)
def header_spelling(name: str) -> str:
    """The conventional spelling of a header name, for headers we write."""
    key = header_key(name)
    spelled = _SPELLING.get(key)
    if spelled is not None:
        return spelled
    if len(name) == 1 or name.islower() or name.isupper():
        return "-".join(part.capitalize() for part in key.split("-"))
    return name


def split_comma_list(value: str) -> list[str]:
    """Split a header value at the commas that separate list elements.

    Commas inside double quotes (with backslash quoted-pairs) and inside
    ``<...>`` are not separators (RFC 3261 7.3.1, 25.1). Elements are stripped
    of surrounding whitespace. An empty element (``a,,b``) is kept as ``""``
    so that the caller can reject it where the grammar forbids it.
    """
    if "," not in value:
        return [value.strip()]
    if '"' not in value and "<" not in value:
        return [part.strip() for part in value.split(",")]
    parts: list[str] = []
    start = 0
    in_quotes = False
    in_angle = False
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if in_quotes:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_quotes = False
        elif ch == '"':
            in_quotes = True
        elif in_angle:
            if ch == ">":
                in_angle = False
        elif ch == "<":
            in_angle = True
        elif ch == ",":
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return parts


_TOKEN_RE = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
_new = object.__new__
_UNFOLD_RE = re.compile(r"[ \t]*\r\n[ \t]+")


def _lookup_pattern(key: str) -> re.Pattern[str]:
    """The regex that finds the start of a header's value in a header section."""
    names = [re.escape(key)] + [re.escape(c) for c, long in COMPACT_FORMS.items() if long == key]
    # Group 1: the value without surrounding blanks, when the line ends in a
    # CRLF not followed by a continuation line (or ends the section). It is
    # None for a folded field or a bare CR: then splitting the section decides.
    return re.compile(
        r"\r\n(?:" + "|".join(names) + r")[ \t]*:[ \t]*"
        r"(?:([^\r]*[^\r \t]|)[ \t]*(?:\r\n(?![ \t])|\Z)|)",
        re.I,
    )


# Read-only table built once: the lookup regex of every well-known header.
_LOOKUPS: dict[str, re.Pattern[str]] = {
    key: _lookup_pattern(key)
    for key in {_compute_key(n) for n in _KEY_CACHE_SEED} | set(COMPACT_FORMS.values())
}


# The usual spellings straight to (bound search of the lookup regex, is a list header).
_LOOKUP_BY_NAME: dict[str, tuple[Any, bool]] = {
    name: (_LOOKUPS[key].search, key in LIST_HEADERS) for name, key in _KNOWN_KEYS.items()
}


def _lookup(name: str) -> tuple[Any, bool]:
    key = header_key(name)
    pattern = _LOOKUPS.get(key) or _lookup_pattern(key)
    return pattern.search, key in LIST_HEADERS


def _key_of(name: str) -> str:
    key = _KNOWN_KEYS.get(name)
    if key is not None:
        return key
    stripped = name.rstrip(" \t")
    if not _TOKEN_RE.match(stripped):
        raise SipParseError(f"invalid header name {name[:40]!r}")
    low = stripped.lower()
    return COMPACT_FORMS.get(low, low)


def parse_fields(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """Header lines (no folding) to (key, name, value, raw line) tuples."""
    return _parse_fields_indexed(lines)[0]


def _parse_fields_indexed(
    lines: list[str],
) -> tuple[list[tuple[str, str, str, str]], dict[str, list[int]]]:
    """:func:`parse_fields`, and the positions of each key (the Headers index)."""
    # The hot loop: one partition and two dict lookups per header line.
    fields: list[tuple[str, str, str, str]] = []
    index: dict[str, list[int]] = {}
    append = fields.append
    known = _KNOWN_KEYS
    for i, line in enumerate(lines):
        name, sep, value = line.partition(":")
        if not sep:
            raise SipParseError(f"header line without a colon: {line[:40]!r}")
        key = known.get(name)
        if key is None:
            key = _key_of(name)
        append((key, name, value.strip(" \t"), line))
        positions = index.get(key)
        if positions is None:
            index[key] = [i]
        else:
            positions.append(i)
    return fields, index


def parse_folded_fields(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """Like :func:`parse_fields` where lines may continue (RFC 3261 7.3.1 folding)."""
    groups: list[list[str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not groups:
                raise SipParseError("header section starts with a continuation line")
            groups[-1].append(line)
        else:
            groups.append([line])
    fields: list[tuple[str, str, str, str]] = []
    for group in groups:
        raw = "\r\n".join(group)
        name, sep, value = raw.partition(":")
        if not sep:
            raise SipParseError(f"header line without a colon: {group[0][:40]!r}")
        name = name.rstrip(" \t\r\n")
        fields.append((_key_of(name), name, _UNFOLD_RE.sub(" ", value).strip(" \t"), raw))
    return fields


class Headers:
    """The ordered header fields of a SIP message.

    Each field keeps its name as written, its value (unfolded, trimmed) and
    the exact source text of the field so that an unmodified message
    serializes byte for byte as received. Lookups are by long or compact
    name, case-insensitively.

    Headers of a parsed message are lazy: they keep the raw header section
    and split it into fields only when something needs more than ``get``.
    Splitting checks the field syntax, so any method may raise
    :class:`SipParseError` for a malformed header section.
    """

    # A parsed message's headers start lazy: ``_fields`` and ``_index`` None,
    # ``_head`` the whole header section (start line included), ``pristine``
    # True; parse_message sets that state up directly.
    __slots__ = ("_fields", "_index", "_parsed", "pristine", "_head")

    def __init__(self, fields: list[tuple[str, str]] | None = None) -> None:
        # Each field: (key, name, value, raw_text or None)
        self._fields: list[Any] | None = []
        self._index: dict[str, list[int]] | None = None
        self._parsed: dict[str, Any] = {}
        self._head = ""
        # True while the fields are exactly those parsed from the wire.
        self.pristine = False
        if fields:
            for name, value in fields:
                self.add(name, value)

    def _load(self) -> list[Any]:
        fields = self._fields
        if fields is None:
            head = self._head
            offset = head.find("\r\n")  # the end of the start line
            if offset < 0:
                fields = []
            else:
                section = head[offset + 2 :]
                lines = section.split("\r\n")
                # Any CR or LF beyond the len(lines) - 1 CRLFs split at was not part of one.
                crlfs = len(lines) - 1
                if section.count("\r") != crlfs or section.count("\n") != crlfs:
                    raise SipParseError("bare CR or LF in the header section")
                # A field name starts with a token character (from "!" on), so a
                # section whose least line does is not folded.
                if min(lines)[:1] < "!" and any(line[:1] in (" ", "\t") for line in lines):
                    fields = parse_folded_fields(lines)
                else:
                    fields, self._index = _parse_fields_indexed(lines)
            self._fields = fields
        return fields

    def _get_index(self) -> dict[str, list[int]]:
        index = self._index
        if index is None:
            index = {}
            for i, field in enumerate(self._load()):
                positions = index.get(field[0])
                if positions is None:
                    index[field[0]] = [i]
                else:
                    positions.append(i)
            self._index = index
        return index

    def _changed(self) -> None:
        self.pristine = False
        self._index = None
        self._parsed.clear()

    def keys(self) -> list[str]:
        """The lookup key of every field, in order (splits the section)."""
        return [field[0] for field in self._load()]

    def fields(self) -> list[tuple[str, str, str, str | None]]:
        """Every field as (key, name as written, value, raw text) (splits the section)."""
        return list(self._load())

    # -- reading -----------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and header_key(name) in self._get_index()

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Iterate (name as written, value) over every field in order."""
        for field in self._load():
            yield field[1], field[2]

    def values(self, name: str) -> list[str]:
        """Every field value of this header, unsplit, in order."""
        positions = self._get_index().get(header_key(name))
        if not positions:
            return []
        fields = self._load()
        return [fields[i][2] for i in positions]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header as text, or ``default``.

        For list headers (Via, Contact, Route ...) this is the first element of
        the list, so ``get("Via")`` is the top Via even when several Vias share
        one line.
        """
        if self._fields is None:
            # Lazy path: find the first field by a regex over the raw section.
            try:
                search, is_list = _LOOKUP_BY_NAME[name]
            except KeyError:
                search, is_list = _lookup(name)
            # (From the start: no "\r\n" comes before the end of the start line.)
            match = search(self._head)
            if match is None:
                return default
            value = match[1]
            # Not a folded field, nor a bare CR or LF (which makes the section
            # invalid): otherwise splitting the section handles or reports it.
            if value is not None and "\n" not in value:
                if is_list and "," in value:
                    return split_comma_list(value)[0]
                return value
        key = _KNOWN_KEYS.get(name) or header_key(name)
        positions = (self._index or self._get_index()).get(key)
        if not positions:
            return default
        value = self._load()[positions[0]][2]
        if key in LIST_HEADERS and "," in value:
            return split_comma_list(value)[0]
        return value

    def get_all(self, name: str) -> list[str]:
        """Every value of a header; comma-separated lists are split."""
        key = header_key(name)
        positions = self._get_index().get(key)
        if not positions:
            return []
        fields = self._load()
        if key not in LIST_HEADERS:
            return [fields[i][2] for i in positions]
        result: list[str] = []
        for i in positions:
            result.extend(split_comma_list(fields[i][2]))
        return result

    def count(self, name: str) -> int:
        """How many fields (lines) carry this header."""
        return len(self._get_index().get(header_key(name), ()))

    # -- writing -----------------------------------------------------------
    def add(self, name: str, value: str, *, first: bool = False) -> None:
        """Append a field (or insert it before every other field of that name)."""
        key = header_key(name)
        field = (key, header_spelling(name), str(value), None)
        fields = self._load()
        if first:
            positions = self._get_index().get(key)
            at = positions[0] if positions else len(fields)
            fields.insert(at, field)
        else:
            fields.append(field)
        self._changed()

    def set(self, name: str, value: str) -> None:
        """Replace every field of this header by one field with ``value``."""
        key = header_key(name)
        positions = self._get_index().get(key)
        if not positions:
            self.add(name, value)
            return
        fields = self._load()
        first = positions[0]
        fields[first] = (key, fields[first][1], str(value), None)
        for i in reversed(positions[1:]):
            del fields[i]
        self._changed()

    def remove(self, name: str) -> int:
        """Remove every field of this header; returns how many were removed."""
        key = header_key(name)
        fields = self._load()
        kept = [f for f in fields if f[0] != key]
        self._fields = kept
        self._changed()
        return len(fields) - len(kept)

    def remove_first(self, name: str) -> str | None:
        """Remove the first list element of a header (e.g. the top Via)."""
        key = header_key(name)
        positions = self._get_index().get(key)
        if not positions:
            return None
        fields = self._load()
        i = positions[0]
        field = fields[i]
        items = split_comma_list(field[2]) if key in LIST_HEADERS else [field[2]]
        removed = items[0]
        if len(items) > 1:
            fields[i] = (key, field[1], ", ".join(items[1:]), None)
        else:
            del fields[i]
        self._changed()
        return removed

    def copy(self) -> Headers:
        """A copy that can be changed without changing this one."""
        new = Headers()
        new._fields = list(self._load())
        return new

    def cached(self, key: str) -> Any:
        """A parsed value cached by the message accessors (internal)."""
        return self._parsed.get(key)

    def cache(self, key: str, value: Any) -> Any:
        """Remember a parsed value until the headers change (internal)."""
        self._parsed[key] = value
        return value

    def serialize(self) -> str:
        """The header section text, each field ending with CRLF."""
        out = []
        for _key, name, value, raw in self._load():
            out.append(raw if raw is not None else f"{name}: {value}")
        out.append("")
        return "\r\n".join(out)

    def __repr__(self) -> str:
        return f"Headers({[(f[1], f[2]) for f in self._load()]!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        mine = [(f[0], f[2]) for f in self._load()]
        return mine == [(f[0], f[2]) for f in other._load()]


@dataclass(frozen=True, slots=True)
class CSeq:
    """The CSeq header: sequence number and method (RFC 3261 20.16)."""

    number: int
    method: str

    @classmethod
    def parse(cls, value: str) -> CSeq:
        """Parse ``"4711 INVITE"``; the number must fit 32 bits (RFC 3261 8.1.1.5)."""
        number_text, _, method = value.partition(" ")
        if (
            len(number_text) < 10  # so below 2**32
            and number_text.isdigit()
            and number_text.isascii()
            and method.isalpha()
            and method.isascii()
        ):
            # The usual "4711 INVITE": what the general path below would make of it.
            cseq = _new(cls)
            _set_cseq_number(cseq, int(number_text))
            _set_cseq_method(cseq, method)
            return cseq
        parts = value.split()
        if len(parts) != 2:
            raise SipParseError(f"malformed CSeq {value!r}: expected a number and a method")
        number_text, method = parts
        if not number_text.isdigit() or not number_text.isascii():
            raise SipParseError(f"malformed CSeq {value!r}: sequence number is not a number")
        number = int(number_text)
        if number > 0xFFFFFFFF:
            raise SipParseError(f"CSeq number {number_text} exceeds 2**32-1")
        return cls(number, method)

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


# Building parsed values on the hot path (fields checked by the parser).
_set_cseq_number, _set_cseq_method = slot_setters(CSeq, "number", "method")
