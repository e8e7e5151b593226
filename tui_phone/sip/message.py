"""SIP messages: parsing, validation, serialization (RFC 3261 7, 8.2, 18.3).

``parse_message(data)`` turns one datagram (or one framed stream message) into
a :class:`SipRequest` or :class:`SipResponse`. It frames the message and checks
the start line; header values stay raw text until asked for (``headers.get``
finds one field with one regex search). ``validate()`` (or
``parse_message(data, validate=True)``, as the transport edge does) checks the
headers every SIP element needs to judge a message (Via, From, To, Call-ID,
CSeq, Content-Length, Max-Forwards, Contact, Date), so that a message a UAS must
answer with 400 fails once, with the exact reason. Parsed forms are cached, so
reading them afterwards costs a dictionary lookup.

An unmodified parsed message serializes to exactly the bytes it came from.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import SipParseError
from .headers import (
    LIST_HEADERS,
    CSeq,
    Headers,
    header_spelling,
    split_comma_list,
)
from .status import KNOWN_METHODS, reason_phrase
from .uri import NameAddress, SipUri, parse_uri
from .via import Via

SIP_VERSION = "SIP/2.0"

_TOKEN_RE = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
_VERSION_RE = re.compile(r"SIP/[0-9]+\.[0-9]+\Z", re.I)
_CALL_ID_RE = re.compile(r"[!-~]+\Z")
# RFC 3261 20.17 / RFC 1123: Date is always in GMT.
_DATE_RE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    r"[0-9]{2}:[0-9]{2}:[0-9]{2} GMT\Z"
)

_new = object.__new__
_WSP = (" ", "\t")
# The first characters c with c[:4].upper() == "SIP/" possible: "ſ" (U+017F) upper-cases to "S".
_STATUS_LINE_START = ("S", "s", "\u017f")
_BAD_URI_START = ("<", "")
_STATUS_CODES = frozenset(str(code) for code in range(100, 700))
# The end of the header section (a regex search beats bytes.find on it).
_HEAD_END = re.compile(b"\r\n\r\n").search

_REQUIRED = ("call-id", "cseq", "from", "to", "via")
_REQUIRED_KEYS = frozenset(_REQUIRED)
_SINGLE = ("call-id", "cseq", "from", "to", "max-forwards")


class SipMessage:
    """Common part of requests and responses: headers and body."""

    __slots__ = ("headers", "body", "_start_line", "_raw", "_raw_body")

    headers: Headers
    body: bytes

    def __init__(self, headers: Headers | None = None, body: bytes = b"") -> None:
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self._start_line: str | None = None
        self._raw: bytes | None = None
        self._raw_body: bytes | None = None

    # -- parsed views of the core headers (cached until the headers change) --
    @property
    def call_id(self) -> str | None:
        """The Call-ID, or None when absent."""
        return self.headers.get("call-id")

    @property
    def cseq(self) -> CSeq:
        """The parsed CSeq header."""
        parsed = self.headers._parsed
        value = parsed.get("cseq")
        if value is None:
            value = parsed["cseq"] = CSeq.parse(self._required("cseq"))
        return value

    @property
    def vias(self) -> list[Via]:
        """Every Via value, top first."""
        parsed = self.headers._parsed
        value = parsed.get("via")
        if value is None:
            value = parsed["via"] = [Via.parse(v) for v in self.headers.get_all("via")]
        return value

    @property
    def via(self) -> Via:
        """The top Via (parsed alone: the others stay raw until asked for)."""
        parsed = self.headers._parsed
        vias = parsed.get("via")
        if vias:
            return vias[0]
        value = parsed.get("top-via")
        if value is None:
            value = parsed["top-via"] = Via.parse(self._required("via"))
        return value

    @property
    def from_addr(self) -> NameAddress:
        """The From header as a name-addr."""
        parsed = self.headers._parsed
        value = parsed.get("from")
        if value is None:
            value = parsed["from"] = NameAddress.parse(self._required("from"))
        return value

    @property
    def to_addr(self) -> NameAddress:
        """The To header as a name-addr."""
        parsed = self.headers._parsed
        value = parsed.get("to")
        if value is None:
            value = parsed["to"] = NameAddress.parse(self._required("to"))
        return value

    @property
    def contacts(self) -> list[NameAddress]:
        """Every Contact value (empty for ``Contact: *`` and when absent)."""
        parsed = self.headers._parsed
        value = parsed.get("contact")
        if value is None:
            value = parsed["contact"] = self._parse_contacts()
        return value

    @property
    def is_wildcard_contact(self) -> bool:
        """True for ``Contact: *`` (RFC 3261 10.2.2)."""
        return self.headers.get("contact") == "*"

    @property
    def max_forwards(self) -> int | None:
        """The Max-Forwards value, or None when absent."""
        value = self.headers.get("max-forwards")
        return None if value is None else _parse_number(value, "Max-Forwards")

    @property
    def content_type(self) -> str | None:
        """The media type of the body, lower case, without parameters."""
        value = self.headers.get("content-type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower()

    @property
    def raw(self) -> bytes | None:
        """The bytes this message was parsed from (None for one made here)."""
        return self._raw

    def _required(self, key: str) -> str:
        value = self.headers.get(key)
        if value is None:
            raise SipParseError(f"missing {header_spelling(key)} header")
        return value

    def _parse_contacts(self) -> list[NameAddress]:
        values = self.headers.get_all("contact")
        if values == ["*"]:
            return []
        contacts = []
        for value in values:
            if not value:
                raise SipParseError("empty element in Contact header")
            if value == "*":
                raise SipParseError("Contact '*' must be the only Contact value")
            contacts.append(NameAddress.parse(value))
        return contacts

    def validate(self) -> SipMessage:
        """Check every header a UAS relies on; raise :class:`SipParseError` if one is bad.

        Splits the header section and parses Request-URI, Via, From, To,
        Call-ID, CSeq (and its method), Max-Forwards, Contact and Date, caching
        the parsed values for the accessors. Returns the message.
        """
        if self.headers._parsed.get("valid") is None:
            _validate(self)  # type: ignore[arg-type]
            self.headers._parsed["valid"] = True
        return self

    def set_body(self, body: bytes, content_type: str | None = None) -> None:
        """Replace the body, updating Content-Length (and Content-Type if given)."""
        self.body = body
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        elif not body:
            self.headers.remove("Content-Type")
        self.headers.set("Content-Length", str(len(body)))

    def _start(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def __bytes__(self) -> bytes:
        raw = self._raw
        if (
            raw is not None
            and self._start_line is not None
            and self.headers.pristine
            and self.body is self._raw_body
        ):
            return raw
        start = self._start_line if self._start_line is not None else self._start()
        head = f"{start}\r\n{self.headers.serialize()}\r\n"
        return head.encode("utf-8", "surrogateescape") + self.body

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, SipMessage)
        return self._start() == other._start() and self.headers == other.headers and (
            self.body == other.body
        )

    __hash__ = None  # type: ignore[assignment]


class SipRequest(SipMessage):
    """A SIP request (RFC 3261 7.1)."""

    __slots__ = ("_method", "_uri")

    def __init__(
        self,
        method: str,
        uri: Any,
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(headers, body)
        self._method = method
        self._uri = uri

    @property
    def method(self) -> str:
        """The method, case-sensitive as on the wire (RFC 3261 7.1)."""
        return self._method

    @method.setter
    def method(self, value: str) -> None:
        self._method = value
        self._start_line = None

    @property
    def uri(self) -> Any:
        """The Request-URI, parsed (a SipUri, TelUri or AbsoluteUri)."""
        uri = self._uri
        if isinstance(uri, str):
            uri = self._uri = parse_uri(uri)
        return uri

    @uri.setter
    def uri(self, value: Any) -> None:
        self._uri = value
        self._start_line = None

    def _start(self) -> str:
        return f"{self._method} {self._uri} {SIP_VERSION}"

    def __repr__(self) -> str:
        return f"<SipRequest {self._method} {self._uri}>"


class SipResponse(SipMessage):
    """A SIP response (RFC 3261 7.2)."""

    __slots__ = ("_status", "_reason")

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(headers, body)
        self._status = status
        self._reason = reason_phrase(status) if reason is None else reason

    @property
    def status(self) -> int:
        """The status code."""
        return self._status

    @status.setter
    def status(self, value: int) -> None:
        self._status = value
        self._start_line = None

    @property
    def reason(self) -> str:
        """The reason phrase (may be empty)."""
        return self._reason

    @reason.setter
    def reason(self, value: str) -> None:
        self._reason = value
        self._start_line = None

    def _start(self) -> str:
        return f"{SIP_VERSION} {self._status} {self._reason}"

    def __repr__(self) -> str:
        return f"<SipResponse {self._status} {self._reason}>"


def _parse_number(value: str, name: str) -> int:
    if not value.isdigit() or not value.isascii():
        raise SipParseError(f"invalid {name} value {value!r}")
    return int(value)


def parse_message(data: bytes, *, validate: bool = False) -> SipRequest | SipResponse:
    """Parse one SIP message from a datagram or a framed stream message.

    Lazy (STYLE.md): this frames the message, checks the start line and keeps
    the header section raw; header values are found and parsed when asked
    for, and a malformed header raises :class:`SipParseError` then. Call
    :meth:`SipMessage.validate` (or pass ``validate=True``) to check every
    header a UAS relies on before acting on a message, as the transport edge
    does for everything it receives.

    Leading CRLFs are skipped (RFC 3261 7.5). Bytes beyond Content-Length are
    ignored (RFC 3261 18.3); without Content-Length the body is the rest of the
    data (datagram semantics). Raises :class:`SipParseError`, with the status a
    UAS should answer, when the message cannot even be framed.
    """
    found = _HEAD_END(data)
    if found is None:
        if not data[_leading_crlfs(data) :]:
            raise SipParseError("empty message")
        raise SipParseError("no empty line after the header section")
    end = found.start()
    head = data[:end].decode("utf-8", "surrogateescape")
    eol = head.find("\r\n")
    first = head if eol < 0 else head[:eol]
    parts = first.split(" ", 2)
    message: SipRequest | SipResponse
    if len(parts) == 3:
        method, uri, version = parts
        if version == SIP_VERSION and method in KNOWN_METHODS and uri[:1] not in _BAD_URI_START:
            # The usual Request-Line: a known method, a URI not in '<' '>', SIP/2.0.
            message = _new(SipRequest)
            message._method = method
            message._uri = uri  # parsed on first use
        elif method == SIP_VERSION and uri in _STATUS_CODES:
            # The usual Status-Line: SIP/2.0, a status code, a reason phrase.
            message = _new(SipResponse)
            message._status = int(uri)
            message._reason = version
        else:
            message = _parse_start_line(first)
    elif data[:2] == b"\r\n":
        # Leading CRLFs (RFC 3261 7.5): parse what follows them.
        return parse_message(data[_leading_crlfs(data) :], validate=validate)
    else:
        message = _parse_start_line(first)
    headers = message.headers = _new(Headers)
    headers._fields = None
    headers._index = None
    headers._parsed = {}
    headers._head = head
    headers.pristine = True

    body_start = end + 4
    size = len(data)
    # Content-Length is usually the last header, spelled the usual way.
    # (bytes.isdigit() is True for ASCII digits only.)
    at = data.rfind(b"\r\n", 0, end)
    digits = data[at + 18 : end] if data.startswith(b"\r\nContent-Length: ", at) else b""
    length_text: bytes | str | None = (
        digits if digits.isdigit() else _content_length(head, headers, eol)
    )
    if length_text is None:
        stop = size
    else:
        stop = body_start + int(length_text)
        if stop > size:
            text = length_text if isinstance(length_text, str) else length_text.decode()
            raise SipParseError(
                f"Content-Length {text} is larger than the body ({size - body_start} bytes)"
            )
    if type(data) is not bytes:
        data = bytes(data)
    body = data[body_start:stop]
    message.body = message._raw_body = body
    message._raw = data if stop == size else data[:stop]
    message._start_line = first
    if validate:
        message.validate()
    return message


def _leading_crlfs(data: bytes) -> int:
    start = 0
    while data.startswith(b"\r\n", start):
        start += 2
    return start


def _content_length(head: str, headers: Headers, eol: int) -> str | None:
    """The Content-Length value that frames the body (checked digits), or None."""
    # The last field spelled the usual way first. (Two Content-Lengths are an
    # error that validate() reports; framing uses either.)
    length_text: str | None
    at = head.rfind("\r\nContent-Length: ")
    if at >= 0:
        stop = head.find("\r\n", at + 18)
        if stop < 0:
            length_text = head[at + 18 :].rstrip(" \t")
            if not length_text.isdigit():
                length_text = headers.get("content-length")  # really invalid
        else:
            length_text = head[at + 18 : stop].rstrip(" \t")
            if not length_text.isdigit() or head[stop + 2 : stop + 3] in _WSP:
                length_text = headers.get("content-length")  # folded, or really invalid
    else:
        length_text = headers.get("content-length") if eol >= 0 else None
    if length_text is not None and (not length_text.isdigit() or not length_text.isascii()):
        raise SipParseError(f"invalid Content-Length {length_text[:20]!r}")
    return length_text


def _parse_start_line(line: str) -> SipRequest | SipResponse:
    """The careful parse of a Request-Line or Status-Line, with the exact error."""
    if line[:1] in _STATUS_LINE_START and line[:4].upper() == "SIP/":
        return _parse_status_line(line)
    return _parse_request_line(line)


def _parse_status_line(line: str) -> SipResponse:
    parts = line.split(" ", 2)
    version = parts[0]
    if not _VERSION_RE.match(version):
        raise SipParseError(f"malformed Status-Line {line[:80]!r}")
    if version.upper() != SIP_VERSION:
        raise SipParseError(f"SIP version {version!r} is not supported", 505)
    if len(parts) < 2:
        raise SipParseError(f"malformed Status-Line {line[:80]!r}")
    code = parts[1]
    if len(code) != 3 or not code.isdigit() or not code.isascii() or code[0] not in "123456":
        raise SipParseError(f"invalid status code {code[:20]!r}")
    reason = parts[2] if len(parts) == 3 else ""
    response = SipResponse.__new__(SipResponse)
    response._status = int(code)
    response._reason = reason
    return response


def _parse_request_line(line: str) -> SipRequest:
    parts = line.split(" ")
    if len(parts) != 3:
        if "" in parts:
            raise SipParseError("extra whitespace in the Request-Line")
        raise SipParseError(f"malformed Request-Line {line[:80]!r}")
    method, uri_text, version = parts
    if version != SIP_VERSION:
        if not _VERSION_RE.match(version):
            raise SipParseError(f"malformed Request-Line {line[:80]!r}: bad SIP-Version")
        if version.upper() != SIP_VERSION:
            raise SipParseError(f"SIP version {version!r} is not supported", 505)
    if method not in KNOWN_METHODS and not _TOKEN_RE.match(method):
        raise SipParseError(f"invalid method {method[:40]!r}")
    if uri_text.startswith("<"):
        raise SipParseError("Request-URI must not be enclosed in '<' '>'")
    if not uri_text:
        raise SipParseError("empty Request-URI")
    request = SipRequest.__new__(SipRequest)
    request._method = method
    request._uri = uri_text  # parsed on first use
    return request


def _validate(message: SipRequest | SipResponse) -> None:
    """Check the headers every element relies on (RFC 3261 8.1.1, 8.2, 20).

    The checks run in a fixed order, so a message with several faults is
    always answered with the same reason.
    """
    headers = message.headers
    fields = headers._load()
    index = headers._get_index()
    if isinstance(message, SipRequest):
        uri = message.uri
        if isinstance(uri, SipUri) and uri.headers:
            # RFC 3261 19.1.1 table: headers are not allowed in a Request-URI.
            raise SipParseError("Request-URI must not contain headers")
    # Some header stands on several lines (Via, Record-Route ... or a duplicate):
    # only then can the Content-Length and single-header checks find anything.
    repeated = len(index) != len(fields)
    if repeated:
        positions = index.get("content-length")
        if positions is not None and len(positions) > 1:
            if len({fields[i][2] for i in positions}) > 1:
                raise SipParseError("conflicting Content-Length values")
    if not index.keys() >= _REQUIRED_KEYS:
        for key in _REQUIRED:
            if key not in index:
                raise SipParseError(f"missing {header_spelling(key)} header")
    if repeated:
        for key in _SINGLE:
            positions = index.get(key)
            if positions is not None and len(positions) > 1:
                raise SipParseError(f"duplicate {header_spelling(key)} header")
    parsed = headers._parsed
    call_id = fields[index["call-id"][0]][2]
    if not _CALL_ID_RE.match(call_id):
        raise SipParseError(f"invalid Call-ID {call_id[:40]!r}")
    cseq = parsed["cseq"] = CSeq.parse(fields[index["cseq"][0]][2])
    if isinstance(message, SipRequest) and cseq.method != message._method:
        status = 400 if message._method in KNOWN_METHODS else 501
        raise SipParseError(
            f"CSeq method {cseq.method} does not match the request method {message._method}",
            status,
        )
    parsed["from"] = NameAddress.parse(fields[index["from"][0]][2])
    parsed["to"] = NameAddress.parse(fields[index["to"][0]][2])
    vias: list[Via] = []
    for i in index["via"]:
        value = fields[i][2]
        if "," in value:
            for item in split_comma_list(value):
                if not item:
                    raise SipParseError(f"empty element in Via header {value[:60]!r}")
                vias.append(Via.parse(item))
        else:
            vias.append(Via.parse(value))
    parsed["via"] = vias
    positions = index.get("max-forwards")
    if positions is not None:
        _parse_number(fields[positions[0]][2], "Max-Forwards")
    if "contact" in index:
        message.contacts  # noqa: B018 - parse now so a bad Contact fails here
    positions = index.get("date")
    if positions is not None:
        date = fields[positions[0]][2]
        if not _DATE_RE.match(date):
            raise SipParseError(f"Date is not an RFC 1123 date in GMT: {date[:40]!r}")


__all__ = [
    "LIST_HEADERS",
    "SIP_VERSION",
    "SipMessage",
    "SipRequest",
    "SipResponse",
    "parse_message",
]
