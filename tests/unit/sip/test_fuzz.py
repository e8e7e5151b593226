"""Hypothesis: whatever bytes arrive, the parser raises SipParseError or nothing.

Random bytes, and mutations of every RFC 4475 / RFC 5118 torture message (byte
flips, insertions, deletions, truncations, swapped and doubled lines), go
through parse_message and through the stream framer in random chunks.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.sip import SipParseError, parse_message
from tui_phone.sip.framing import StreamFramer

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"
CORPUS = sorted(
    p.read_bytes() for p in list((TESTDATA / "rfc4475").glob("*.sip")) + list((TESTDATA / "rfc5118").glob("*.sip"))
)
SIP_BYTES = b"\r\n :;,<>\"\\@=%[]/.0123456789sipSIPabcdef\x00\xff"

FUZZ = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _lazy_reads(data: bytes) -> None:
    """Without validate(), every accessor raises SipParseError or answers."""
    try:
        message = parse_message(data)
    except SipParseError:
        return
    readers = [
        lambda: message.headers.get("Via"),
        lambda: message.headers.get("X-Unknown"),
        lambda: message.call_id,
        lambda: message.cseq,
        lambda: message.vias,
        lambda: message.from_addr,
        lambda: message.to_addr,
        lambda: message.contacts,
        lambda: message.max_forwards,
        lambda: bytes(message),
    ]
    for read in readers:
        try:
            read()
        except SipParseError as error:
            assert error.reason


def _check(data: bytes) -> None:
    _lazy_reads(data)
    try:
        message = parse_message(data, validate=True)
    except SipParseError as error:
        assert 400 <= error.status <= 599
        assert error.reason
        return
    # Whatever validated must serialize and parse again to the same message.
    again = parse_message(bytes(message), validate=True)
    assert again == message
    for name, _value in message.headers:
        message.headers.get(name)
        message.headers.get_all(name)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "lines"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] = draw(st.sampled_from(SIP_BYTES))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[pos:]
        else:
            lines = bytes(data).split(b"\r\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            lines.insert(i, lines[j])
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.lists(st.sampled_from([bytes([b]) for b in SIP_BYTES]), max_size=300).map(b"".join))
def test_random_sip_alphabet(data: bytes) -> None:
    _check(data)


@FUZZ
@given(mutated())
def test_mutated_corpus(data: bytes) -> None:
    _check(data)


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=3), st.integers(1, 64))
def test_framer_on_mutated_streams(messages: list[bytes], chunk: int) -> None:
    framer = StreamFramer()
    stream = b"".join(messages)
    try:
        for i in range(0, len(stream), chunk):
            framer.feed(stream[i : i + chunk])
    except SipParseError as error:
        assert error.reason


def test_every_corpus_message_is_exercised() -> None:
    assert len(CORPUS) == 62
    for data in CORPUS:
        _check(data)
