"""Framing SIP messages on stream transports (TCP, TLS): RFC 3261 18.3, RFC 5626 4.4.1.

``StreamFramer.feed(data)`` takes whatever the socket delivered and returns the
events it completes: parsed messages, messages that were framed but did not
parse (the connection can go on; a UAS answers them with ``error.status``),
and CRLF keep-alives. When the framing itself is lost (a bad or conflicting
Content-Length, an oversized header section) ``feed`` raises
:class:`SipParseError` and the connection must be closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LocalProtocolError, SipParseError
from .message import SipRequest, SipResponse, parse_message

_CONTENT_LENGTH_RE = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)")

DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024


@dataclass(frozen=True, slots=True)
class KeepAlivePing:
    """A double CRLF: the peer's keep-alive ping; answer with a single CRLF."""


@dataclass(frozen=True, slots=True)
class KeepAlivePong:
    """A single CRLF: the answer to our ping (RFC 5626 4.4.1)."""


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """A message that was framed correctly but did not parse."""

    data: bytes
    error: SipParseError


FramerEvent = SipRequest | SipResponse | KeepAlivePing | KeepAlivePong | InvalidMessage


class StreamFramer:
    """Splits a byte stream into SIP messages by their Content-Length."""

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_message_size
        self._broken: SipParseError | None = None
        self._after_crlf = False

    @property
    def buffered(self) -> int:
        """How many bytes wait for the rest of their message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[FramerEvent]:
        """Add received bytes; return every event they complete, in order."""
        if self._broken is not None:
            raise LocalProtocolError(f"framer used after a framing error: {self._broken}")
        buffer = self._buffer
        buffer += data
        events: list[FramerEvent] = []
        try:
            while buffer:
                if buffer[:2] == b"\r\n":
                    self._keepalive(buffer, events)
                    continue
                if buffer[:1] == b"\r":
                    break  # maybe the first half of a CRLF
                self._after_crlf = False
                message = self._next_message(buffer)
                if message is None:
                    break
                try:
                    events.append(parse_message(message, validate=True))
                except SipParseError as error:
                    events.append(InvalidMessage(message, error))
        except SipParseError as error:
            self._broken = error
            raise
        return events

    def _keepalive(self, buffer: bytearray, events: list[FramerEvent]) -> None:
        if buffer[:4] == b"\r\n\r\n":
            del buffer[:4]
            self._after_crlf = False
            events.append(KeepAlivePing())
        elif self._after_crlf:
            # The second half of a ping split across two reads; its first half
            # was already reported as a pong, which is harmless.
            del buffer[:2]
            self._after_crlf = False
            events.append(KeepAlivePing())
        else:
            del buffer[:2]
            self._after_crlf = True
            events.append(KeepAlivePong())

    def _next_message(self, buffer: bytearray) -> bytes | None:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > self._max:
                raise SipParseError(
                    f"header section longer than {self._max} bytes without an end", 513
                )
            return None
        head = bytes(buffer[:end])
        values = {v.strip() for v in _CONTENT_LENGTH_RE.findall(head)}
        if len(values) > 1:
            raise SipParseError("conflicting Content-Length values")
        length = 0
        if values:
            text = values.pop()
            if not text.isdigit():
                raise SipParseError(f"invalid Content-Length {text[:20].decode('latin-1')!r}")
            length = int(text)
        total = end + 4 + length
        if total > self._max:
            raise SipParseError(f"message of {total} bytes exceeds the {self._max} byte limit", 513)
        if len(buffer) < total:
            return None
        message = bytes(buffer[:total])
        del buffer[:total]
        return message
