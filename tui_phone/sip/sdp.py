"""SDP session descriptions (RFC 4566), parsed and serialised sans I/O.

:meth:`SessionDescription.parse` turns a body into dataclasses and
``bytes(sd)`` turns them back. Well-formed input round-trips byte for byte:
line order within a section follows RFC 4566 5, the line ending of the input
(CRLF, or bare LF which RFC 4566 5 tells parsers to accept) is kept, and
attributes are kept in order as ``(name, value | None)`` pairs so that unknown
ones survive. Numbers are kept as ``int``, so a number written with leading
zeros comes back without them.

Attribute values are parsed lazily, on access, by the accessors of
:class:`MediaDescription` (``rtpmap``, ``fmtp``, ``ptime``, ``rtcp``,
``crypto``, ``direction()``...). A malformed value raises
:class:`SdpParseError` only when it is asked for.

Bytes that are not UTF-8 (RFC 4566 5 allows other charsets via a=charset)
are carried as surrogate escapes and written back unchanged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .sdpattributes import (
    Attribute,
    CryptoAttribute,
    Direction,
    RtcpAttribute,
    RtpMap,
    SdpParseError,
    parse_digits,
    parse_fmtp,
    parse_rtpmap,
)

__all__ = [
    "Attribute", "Bandwidth", "Connection", "CryptoAttribute", "Direction", "MediaDescription",
    "Origin", "RtcpAttribute", "RtpMap", "SdpParseError", "SessionDescription", "Timing",
]  # fmt: skip


@dataclass
class Origin:
    """The o= line (RFC 4566 5.2).

    ``sess_id`` is kept as text: it only identifies the session and is never
    computed with. ``sess_version`` is an ``int`` of any size, because RFC
    3264 8 makes us compare and increment it.
    """

    username: str
    sess_id: str
    sess_version: int
    nettype: str
    addrtype: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Origin:
        """Parse the text after ``o=``."""
        fields = value.split()
        if len(fields) != 6:
            raise SdpParseError(f"o= line needs 6 fields, got {len(fields)}")
        version = parse_digits(fields[2])
        if version is None:
            raise SdpParseError(f"o= session version is not a valid number: {fields[2]!r}")
        return cls(fields[0], fields[1], version, fields[3], fields[4], fields[5])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.sess_id} {self.sess_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass
class Connection:
    """A c= line (RFC 4566 5.7).

    IPv6 addresses appear without brackets (RFC 5118 4.6). ``ttl`` only
    exists for IP4 multicast; ``number`` is the ``/<number of addresses>``
    suffix of a multicast address.
    """

    nettype: str
    addrtype: str
    address: str
    ttl: int | None = None
    number: int | None = None

    @classmethod
    def parse(cls, value: str) -> Connection:
        """Parse the text after ``c=``."""
        fields = value.split()
        if len(fields) != 3:
            raise SdpParseError(f"c= line needs 3 fields, got {len(fields)}")
        nettype, addrtype, spec = fields
        address, *suffix = spec.split("/")
        # IP6 multicast has no TTL: its only suffix is the address count.
        max_suffix = 1 if addrtype.upper() == "IP6" else 2
        numbers = [parse_digits(part) for part in suffix]
        if not address or len(suffix) > max_suffix or None in numbers:
            raise SdpParseError(f"c= address is malformed: {spec!r}")
        ttl: int | None = None
        count: int | None = None
        if max_suffix == 1:
            count = numbers[0] if numbers else None
        else:
            ttl = numbers[0] if numbers else None
            count = numbers[1] if len(numbers) > 1 else None
        return cls(nettype, addrtype, address, ttl, count)

    @property
    def is_unspecified(self) -> bool:
        """True for 0.0.0.0 (RFC 2543 hold, RFC 3264 8.4) or the IPv6 ``::``."""
        address = self.address
        if address.strip("0123456789.") == "" and address.strip("0.") != "":
            return False  # a dotted address with a non-zero digit: no need to parse it
        try:
            return ipaddress.ip_address(address).is_unspecified
        except ValueError:
            return False

    def __str__(self) -> str:
        text = f"{self.nettype} {self.addrtype} {self.address}"
        if self.ttl is not None:
            text += f"/{self.ttl}"
        if self.number is not None:
            text += f"/{self.number}"
        return text


@dataclass
class Bandwidth:
    """A b= line (RFC 4566 5.8): ``b=AS:64``."""

    bwtype: str
    bandwidth: int

    @classmethod
    def parse(cls, value: str) -> Bandwidth:
        """Parse the text after ``b=``."""
        bwtype, sep, amount = value.partition(":")
        number = parse_digits(amount)
        if not bwtype or not sep or number is None:
            raise SdpParseError(f"b= line must be <bwtype>:<bandwidth>, got {value!r}")
        return cls(bwtype, number)

    def __str__(self) -> str:
        return f"{self.bwtype}:{self.bandwidth}"


@dataclass
class Timing:
    """A t= line with its r= lines (RFC 4566 5.9, 5.10); ``t=0 0`` is unbounded.

    Repeat times are kept as text: a softphone never schedules by them.
    """

    start: int = 0
    stop: int = 0
    repeats: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Timing:
        """Parse the text after ``t=`` (repeats are added by the caller)."""
        fields = value.split()
        numbers = [parse_digits(f) for f in fields]
        if len(fields) != 2 or None in numbers:
            raise SdpParseError(f"t= line must be <start-time> <stop-time>, got {value!r}")
        start, stop = numbers
        assert start is not None and stop is not None
        return cls(start, stop)

    def __str__(self) -> str:
        return f"{self.start} {self.stop}"


class _HasAttributes:
    """Attribute look-ups shared by the session and media levels."""

    attributes: list[Attribute]

    def has_attribute(self, name: str) -> bool:
        """True if an a= line of that name is present."""
        return any(n == name for n, _ in self.attributes)

    def attribute(self, name: str) -> str | None:
        """Value of the first a= line of that name (None if absent or a flag)."""
        return next((v for n, v in self.attributes if n == name), None)

    def attribute_values(self, name: str) -> list[str | None]:
        """Values of every a= line of that name, in order."""
        return [v for n, v in self.attributes if n == name]


@dataclass
class MediaDescription(_HasAttributes):
    """An m= section (RFC 4566 5.14) with its i=, c=, b=, k= and a= lines.

    Accessors that depend on session-level defaults (``direction``,
    ``connection``, ``connection_address``, ``is_on_hold``) take the
    enclosing :class:`SessionDescription`.
    """

    media: str
    port: int
    proto: str
    formats: list[str] = field(default_factory=list)
    port_count: int | None = None
    information: str | None = None
    connections: list[Connection] = field(default_factory=list)
    bandwidths: list[Bandwidth] = field(default_factory=list)
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)

    @classmethod
    def parse_media_line(cls, value: str) -> MediaDescription:
        """Parse the text after ``m=`` into a section with no other lines yet."""
        fields = value.split()
        if len(fields) < 3:
            raise SdpParseError(f"m= line needs at least 3 fields, got {len(fields)}")
        port_text, sep, count_text = fields[1].partition("/")
        port = parse_digits(port_text)
        if port is None:
            raise SdpParseError(f"m= port is not a valid number: {port_text!r}")
        if port > 65535:
            raise SdpParseError(f"m= port out of range: {port}")
        count: int | None = None
        if sep:
            count = parse_digits(count_text)
            if not count:
                raise SdpParseError(f"m= number of ports is not a positive number: {count_text!r}")
        return cls(fields[0], port, fields[2], fields[3:], count)

    @property
    def media_line(self) -> str:
        """The text after ``m=``."""
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        return " ".join((self.media, port, self.proto, *self.formats))

    @property
    def rejected(self) -> bool:
        """True for a stream disabled with port 0 (RFC 3264 6, 8.2)."""
        return self.port == 0

    @property
    def rtpmap(self) -> dict[int, RtpMap]:
        """``a=rtpmap`` by payload type; the first line for a type wins."""
        result: dict[int, RtpMap] = {}
        for value in self.attribute_values("rtpmap"):
            pt, rtpmap = parse_rtpmap(value or "")
            result.setdefault(pt, rtpmap)
        return result

    @property
    def fmtp(self) -> dict[int, str]:
        """``a=fmtp`` parameters by payload type, verbatim; the first line for a type wins."""
        result: dict[int, str] = {}
        for value in self.attribute_values("fmtp"):
            pt, params = parse_fmtp(value or "")
            result.setdefault(pt, params)
        return result

    @property
    def ptime(self) -> int | None:
        """``a=ptime`` in milliseconds (RFC 4566 6), None if absent."""
        if not self.has_attribute("ptime"):
            return None
        value = self.attribute("ptime") or ""
        number = parse_digits(value.strip())
        if not number:
            raise SdpParseError(f"bad a=ptime value: {value!r}")
        return number

    @property
    def rtcp(self) -> RtcpAttribute | None:
        """``a=rtcp`` (RFC 3605), None if absent."""
        if not self.has_attribute("rtcp"):
            return None
        return RtcpAttribute.parse(self.attribute("rtcp") or "")

    @property
    def crypto(self) -> list[CryptoAttribute]:
        """Every ``a=crypto`` line (RFC 4568), in the offerer's preference order."""
        return [CryptoAttribute.parse(v or "") for v in self.attribute_values("crypto")]

    def direction(self, session: SessionDescription | None = None) -> Direction:
        """Direction: media level, else session level, else sendrecv (RFC 3264 5.1)."""
        found = Direction.from_attributes(self.attributes)
        if found is None and session is not None:
            found = Direction.from_attributes(session.attributes)
        return found or Direction.SENDRECV

    def connection(self, session: SessionDescription | None = None) -> Connection | None:
        """The first media-level c= line, else the session's (RFC 4566 5.7)."""
        if self.connections:
            return self.connections[0]
        return session.connection if session is not None else None

    def connection_address(self, session: SessionDescription | None = None) -> str | None:
        """Address of :meth:`connection`, None when there is no c= line at all."""
        conn = self.connection(session)
        return conn.address if conn is not None else None

    def is_on_hold(self, session: SessionDescription | None = None) -> bool:
        """True if the writer holds the stream: sendonly/inactive, or c=0.0.0.0 (RFC 3264 8.4)."""
        if self.direction(session) in (Direction.SENDONLY, Direction.INACTIVE):
            return True
        conn = self.connection(session)
        return conn is not None and conn.is_unspecified

    def __deepcopy__(self, memo: dict[int, Any]) -> MediaDescription:
        # Field by field: copy.deepcopy's generic walk cost an SDP answer more
        # than building it (attributes are tuples of strings, shared as they are).
        return MediaDescription(
            self.media, self.port, self.proto, list(self.formats), self.port_count,
            self.information, [_copy_connection(c) for c in self.connections],
            [Bandwidth(b.bwtype, b.bandwidth) for b in self.bandwidths], self.key,
            list(self.attributes),
        )

    def _lines(self) -> list[str]:
        lines = [f"m={self.media_line}"]
        if self.information is not None:
            lines.append(f"i={self.information}")
        lines += [f"c={c}" for c in self.connections]
        lines += [f"b={b}" for b in self.bandwidths]
        if self.key is not None:
            lines.append(f"k={self.key}")
        lines += [_attribute_line(a) for a in self.attributes]
        return lines


def _copy_connection(connection: Connection) -> Connection:
    c = connection
    return Connection(c.nettype, c.addrtype, c.address, c.ttl, c.number)


def _attribute_line(attribute: Attribute) -> str:
    name, value = attribute
    return f"a={name}" if value is None else f"a={name}:{value}"


def _parse_attribute(value: str) -> Attribute:
    name, sep, rest = value.partition(":")
    if not name:
        raise SdpParseError("a= line has an empty attribute name")
    return (name, rest if sep else None)


@dataclass
class SessionDescription(_HasAttributes):
    """A whole SDP body (RFC 4566 5): session-level lines, then m= sections.

    ``line_ending`` is that of the parsed input (CRLF by default) and is what
    ``bytes()`` writes. A missing t= line is tolerated on input (``timings``
    is then empty); s= may be empty, as some peers send it (RFC 5118 4.8).
    """

    origin: Origin
    session_name: str = "-"
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    connection: Connection | None = None
    bandwidths: list[Bandwidth] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=lambda: [Timing()])
    zone_adjustments: str | None = None
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    line_ending: str = "\r\n"

    @property
    def direction(self) -> Direction | None:
        """The session-level direction attribute, None if absent."""
        return Direction.from_attributes(self.attributes)

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse an SDP body; raise :class:`SdpParseError` if it is malformed."""
        if isinstance(data, str):
            try:
                data = data.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raise SdpParseError("session description is not encodable as UTF-8") from None
        text = bytes(data).decode("utf-8", "surrogateescape")
        if not text:
            raise SdpParseError("empty session description")
        first_lf = text.find("\n")
        line_ending = "\r\n" if first_lf > 0 and text[first_lf - 1] == "\r" else "\n"
        lines = text.split("\n")
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        # A final line ending, or stray blank lines after the last line.
        while lines and not lines[-1]:
            lines.pop()
        if not lines:
            raise SdpParseError("empty session description")
        builder = _Builder(line_ending)
        builder.feed_all(lines)
        return builder.finish()

    def __deepcopy__(self, memo: dict[int, Any]) -> SessionDescription:
        # Field by field, as MediaDescription.__deepcopy__.
        o = self.origin
        return SessionDescription(
            Origin(o.username, o.sess_id, o.sess_version, o.nettype, o.addrtype, o.address),
            self.session_name, self.version, self.information, self.uri, list(self.emails),
            list(self.phones),
            None if self.connection is None else _copy_connection(self.connection),
            [Bandwidth(b.bwtype, b.bandwidth) for b in self.bandwidths],
            [Timing(t.start, t.stop, list(t.repeats)) for t in self.timings],
            self.zone_adjustments, self.key, list(self.attributes),
            [md.__deepcopy__(memo) for md in self.media], self.line_ending,
        )

    def __bytes__(self) -> bytes:
        lines = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        if self.information is not None:
            lines.append(f"i={self.information}")
        if self.uri is not None:
            lines.append(f"u={self.uri}")
        lines += [f"e={e}" for e in self.emails]
        lines += [f"p={p}" for p in self.phones]
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines += [f"b={b}" for b in self.bandwidths]
        for timing in self.timings:
            lines.append(f"t={timing}")
            lines += [f"r={r}" for r in timing.repeats]
        if self.zone_adjustments is not None:
            lines.append(f"z={self.zone_adjustments}")
        if self.key is not None:
            lines.append(f"k={self.key}")
        lines += [_attribute_line(a) for a in self.attributes]
        for media in self.media:
            lines += media._lines()
        eol = self.line_ending
        return (eol.join(lines) + eol).encode("utf-8", "surrogateescape")


# RFC 4566 5: the line types; those a media section may not hold; those a
# section holds at most once (every other type may repeat, kept in order).
_KNOWN_TYPES = frozenset("vosiuepcbtrzkam")
_SESSION_ONLY_TYPES = frozenset("vosuepztr")
_SESSION_SINGLE = frozenset("osiuczk")
_MEDIA_SINGLE = frozenset("ik")
_VALUE_PARSERS: dict[str, Callable[[str], Any]] = {
    "o": Origin.parse,
    "c": Connection.parse,
    "b": Bandwidth.parse,
    "t": Timing.parse,
    "a": _parse_attribute,
}


@dataclass
class _Section:
    """The lines of one section seen so far, by type letter."""

    media: MediaDescription | None
    singles: dict[str, Any] = field(default_factory=dict)
    multi: dict[str, list[Any]] = field(default_factory=dict)


class _Builder:
    """Collects lines into a :class:`SessionDescription` (one parse call)."""

    def __init__(self, line_ending: str) -> None:
        self.line_ending = line_ending
        self.sections = [_Section(None)]

    def feed_all(self, lines: list[str]) -> None:
        """Take every line (line endings removed); errors name the line's number."""
        number = 0
        try:
            for number, line in enumerate(lines, start=1):
                self.feed(number, line)
        except SdpParseError as exc:
            raise SdpParseError(f"line {number}: {exc.reason}") from None

    def feed(self, number: int, line: str) -> None:
        """Take line ``number`` (1-based, line ending removed)."""
        kind, value = line[:1], line[2:]
        if len(line) < 2 or line[1] != "=" or not ("a" <= kind <= "z"):
            raise SdpParseError(f"expected <type>=<value>, got {line!r}")
        if "\x00" in line or "\r" in line:
            raise SdpParseError(f"forbidden character in {line!r}")
        if number == 1:
            if kind != "v":
                raise SdpParseError("missing v= line")
            if value != "0":
                raise SdpParseError(f"unsupported SDP version {value!r}")
            return
        if kind == "a":  # the most common line: anywhere, any number of times
            self.sections[-1].multi.setdefault("a", []).append(_parse_attribute(value))
            return
        if kind not in _KNOWN_TYPES:
            # RFC 4566 5: a description with an unknown type letter is unusable.
            raise SdpParseError(f"unknown line type {kind!r}")
        if kind == "m":
            self.sections.append(_Section(MediaDescription.parse_media_line(value)))
            return
        if kind == "v":
            raise SdpParseError("unexpected v= line")
        section = self.sections[-1]
        in_media = section.media is not None
        if in_media and kind in _SESSION_ONLY_TYPES:
            raise SdpParseError(f"{kind}= line not allowed in a media section")
        if kind == "r":
            timings = section.multi.get("t")
            if not timings:
                raise SdpParseError("r= line without a preceding t= line")
            timings[-1].repeats.append(value)
            return
        parsed = _VALUE_PARSERS.get(kind, str)(value)
        if kind in (_MEDIA_SINGLE if in_media else _SESSION_SINGLE):
            if kind in section.singles:
                raise SdpParseError(f"duplicate {kind}= line")
            section.singles[kind] = parsed
        else:
            section.multi.setdefault(kind, []).append(parsed)

    def finish(self) -> SessionDescription:
        """Check the mandatory lines and build the description."""
        session, *media_sections = self.sections
        singles, multi = session.singles, session.multi
        if "o" not in singles:
            raise SdpParseError("missing o= line")
        if "s" not in singles:
            raise SdpParseError("missing s= line")
        media: list[MediaDescription] = []
        for section in media_sections:
            assert section.media is not None
            md = section.media
            md.information = section.singles.get("i")
            md.key = section.singles.get("k")
            md.connections = section.multi.get("c", [])
            md.bandwidths = section.multi.get("b", [])
            md.attributes = section.multi.get("a", [])
            media.append(md)
        return SessionDescription(
            origin=singles["o"],
            session_name=singles["s"],
            information=singles.get("i"),
            uri=singles.get("u"),
            emails=multi.get("e", []),
            phones=multi.get("p", []),
            connection=singles.get("c"),
            bandwidths=multi.get("b", []),
            timings=multi.get("t", []),
            zone_adjustments=singles.get("z"),
            key=singles.get("k"),
            attributes=multi.get("a", []),
            media=media,
            line_ending=self.line_ending,
        )
