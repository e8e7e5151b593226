"""Stream framing (tui_phone.sip.framing): TCP/TLS byte streams to messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_phone.sip import SipParseError, SipRequest, SipResponse, parse_message
from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.framing import (
    InvalidMessage,
    KeepAlivePing,
    KeepAlivePong,
    StreamFramer,
)

RFC4475 = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc4475"

OPTIONS = (
    b"OPTIONS sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:alice@example.com>;tag=1\r\n"
    b"To: <sip:bob@example.com>\r\n"
    b"Call-ID: frame-1\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
MESSAGE = (
    b"MESSAGE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK2\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:alice@example.com>;tag=1\r\n"
    b"To: <sip:bob@example.com>\r\n"
    b"Call-ID: frame-2\r\n"
    b"CSeq: 2 MESSAGE\r\n"
    b"Content-Type: text/plain\r\n"
    b"l: 17\r\n"
    b"\r\n"
    b"hello\r\n\r\nworld\r\n!"
)
OK = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK2\r\n"
    b"From: <sip:alice@example.com>;tag=1\r\n"
    b"To: <sip:bob@example.com>;tag=2\r\n"
    b"Call-ID: frame-2\r\n"
    b"CSeq: 2 MESSAGE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
STREAM = OPTIONS + b"\r\n\r\n" + MESSAGE + OK


def _feed_in_chunks(data: bytes, size: int) -> list[object]:
    framer = StreamFramer()
    events: list[object] = []
    for i in range(0, len(data), size):
        events.extend(framer.feed(data[i : i + size]))
    assert framer.buffered == 0
    return events


@pytest.mark.parametrize("size", range(1, len(STREAM) + 1))
def test_every_chunk_size_gives_the_same_messages(size: int) -> None:
    events = _feed_in_chunks(STREAM, size)
    messages = [e for e in events if isinstance(e, (SipRequest, SipResponse))]
    assert [bytes(m) for m in messages] == [OPTIONS, MESSAGE, OK]
    assert messages[1].body == b"hello\r\n\r\nworld\r\n!"
    pings = [e for e in events if isinstance(e, KeepAlivePing)]
    assert len(pings) == 1


def test_several_messages_in_one_chunk() -> None:
    events = StreamFramer().feed(OPTIONS + MESSAGE + OK)
    assert [type(e) for e in events] == [SipRequest, SipRequest, SipResponse]


def test_partial_message_waits() -> None:
    framer = StreamFramer()
    assert framer.feed(MESSAGE[:-1]) == []
    assert framer.buffered == len(MESSAGE) - 1
    (event,) = framer.feed(MESSAGE[-1:])
    assert isinstance(event, SipRequest) and event.body.endswith(b"!")


def test_keepalive_ping_and_pong() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == [KeepAlivePing()]
    assert framer.feed(b"\r\n") == [KeepAlivePong()]
    assert framer.feed(OPTIONS)[0].method == "OPTIONS"  # type: ignore[union-attr]


def test_ping_split_across_reads_is_still_a_ping() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n") == [KeepAlivePong()]
    assert framer.feed(b"\r\n") == [KeepAlivePing()]


def test_a_message_that_does_not_parse_does_not_break_the_stream() -> None:
    bad = OPTIONS.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
    events = StreamFramer().feed(bad + OK)
    assert isinstance(events[0], InvalidMessage)
    assert events[0].data == bad
    assert events[0].error.reason == "CSeq method INVITE does not match the request method OPTIONS"
    assert isinstance(events[1], SipResponse)


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: -999"), 400, "invalid Content-Length '-999'"),
        (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 0\r\nl: 5"), 400, "conflicting Content-Length values"),
    ],
)
def test_framing_errors_are_fatal(data: bytes, status: int, reason: str) -> None:
    framer = StreamFramer()
    with pytest.raises(SipParseError) as info:
        framer.feed(data)
    assert (info.value.status, info.value.reason) == (status, reason)
    with pytest.raises(LocalProtocolError):
        framer.feed(OK)


def test_oversized_messages_are_refused() -> None:
    framer = StreamFramer(max_message_size=100)
    with pytest.raises(SipParseError) as info:
        framer.feed(b"X" * 101)
    assert info.value.status == 513
    framer = StreamFramer(max_message_size=300)
    with pytest.raises(SipParseError) as info:
        framer.feed(OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 9999"))
    assert (info.value.status, info.value.reason) == (513, "message of 10226 bytes exceeds the 300 byte limit")


def test_missing_content_length_on_a_stream_means_no_body() -> None:
    data = OPTIONS.replace(b"Content-Length: 0\r\n", b"")
    (event,) = StreamFramer().feed(data)
    assert isinstance(event, SipRequest) and event.body == b""


def test_clerr_on_a_stream_waits_for_the_rest() -> None:
    # RFC 4475 3.1.2.2: on a stream, a Content-Length larger than what arrived
    # means "wait for more" (the transport closes the connection on timeout).
    data = (RFC4475 / "clerr.sip").read_bytes()
    framer = StreamFramer()
    assert framer.feed(data) == []
    assert framer.buffered == len(data)


def test_dblreq_on_a_stream_gives_two_messages() -> None:
    data = (RFC4475 / "dblreq.sip").read_bytes()
    events = StreamFramer().feed(data)
    messages = [e for e in events if isinstance(e, SipRequest)]
    assert [m.method for m in messages] == ["REGISTER", "INVITE"]
    assert parse_message(bytes(messages[1])).call_id == "dblreq.0ha0isnda977644900765@192.0.2.15"
    # The INVITE's Content-Length (150) is 5 bytes short of its SDP: on a
    # stream those 5 bytes are framed as a message of their own, which fails.
    assert len(messages[1].body) == 150
    assert bytes(messages[0]) + b"\r\n" + bytes(messages[1]) == data[:-5]
    (leftover,) = [e for e in events if isinstance(e, InvalidMessage)]
    assert leftover.data == data[-5:]
