"""Header fields (tui_phone.sip.headers): lazy lookups agree with the split section."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.sip import SipParseError, parse_message
from tui_phone.sip.headers import COMPACT_FORMS, CSeq, Headers

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = sorted(
    list((TESTDATA / "rfc4475").glob("*.sip"))
    + list((TESTDATA / "rfc5118").glob("*.sip"))
    + list(FIXTURES.glob("**/*.sip"))
)
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
_LONG_FORMS = {long: short for short, long in COMPACT_FORMS.items()}


def _spellings(name: str) -> list[str]:
    key = COMPACT_FORMS.get(name.lower(), name.lower())
    names = [name, name.lower(), name.upper(), key, key.upper(), "X-Absent"]
    if key in _LONG_FORMS:
        names += [_LONG_FORMS[key], _LONG_FORMS[key].upper()]
    return names


def _split(data: bytes) -> Headers:
    headers = parse_message(data).headers
    headers.keys()  # splits the section: get() then reads the fields
    return headers


def _lookup(headers: Headers, name: str) -> tuple[object, ...]:
    try:
        return ("ok", headers.get(name), headers.get(name, "default"))
    except SipParseError as error:
        return ("error", error.reason)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_lazy_get_agrees_with_the_split_fields_on_the_corpus(path: Path) -> None:
    data = path.read_bytes()
    try:
        eager = _split(data)
    except SipParseError:
        return  # a section that does not split: validate() reports it
    for _key, name, _value, _raw in eager.fields():
        for spelling in _spellings(name.strip()):
            lazy = parse_message(data).headers
            assert _lookup(lazy, spelling) == _lookup(eager, spelling), spelling


def _message(lines: list[str]) -> bytes:
    return ("OPTIONS sip:a@b SIP/2.0\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode(
        "utf-8", "surrogateescape")


_NAMES = st.sampled_from(["Via", "v", "VIA", "To", "t", "T", "Call-ID", "i", "call-id", "CSeq",
                          "Contact", "m", "Content-Length", "X-A", "x-a", "From", "f"])
_VALUES = st.text(alphabet="ab ,;<>\"=\t\r\nxé:", max_size=12)
_LINES = st.lists(
    st.tuples(_NAMES, st.sampled_from([":", " :", "\t: ", ": ", ":  "]), _VALUES,
              st.sampled_from(["", "", "\r\n more", "\r\n\tfold", "  "])).map(
        lambda t: t[0] + t[1] + t[2] + t[3]),
    max_size=8,
)


@SETTINGS
@given(_LINES)
def test_lazy_get_agrees_with_the_split_fields_on_random_sections(lines: list[str]) -> None:
    data = _message(lines)
    try:
        message = parse_message(data)
    except SipParseError:
        return
    try:
        eager = _split(data)
    except SipParseError:
        return
    for name in ["Via", "v", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m", "X-A", "f", "Nope"]:
        assert _lookup(parse_message(data).headers, name) == _lookup(eager, name), name
    assert message.headers.get("Via") == eager.get("Via")


def test_folded_field_is_unfolded() -> None:
    data = _message(["Subject: first\r\n  second", "To: <sip:b@h>", "Call-ID: x"])
    headers = parse_message(data).headers
    assert headers.get("Subject") == "first second"
    assert headers.get("To") == "<sip:b@h>"
    assert bytes(parse_message(data)) == data


def test_folded_first_field_is_not_skipped_for_a_later_one() -> None:
    data = _message(["Call-ID: a\r\n b", "Call-ID: c"])
    assert parse_message(data).headers.get("Call-ID") == "a b"


def test_bare_lf_in_the_field_makes_the_split_report_it() -> None:
    data = _message(["Call-ID: a\nb"])
    with pytest.raises(SipParseError) as info:
        parse_message(data).headers.get("Call-ID")
    assert info.value.reason == "bare CR or LF in the header section"


def test_compact_and_long_forms_find_the_first_field_of_either() -> None:
    data = _message(["i: compact", "Call-ID: long", "v: SIP/2.0/UDP a, SIP/2.0/UDP b"])
    headers = parse_message(data).headers
    for name in ("Call-ID", "call-id", "CALL-ID", "i", "I"):
        assert headers.get(name) == "compact"
    assert headers.get("Via") == "SIP/2.0/UDP a"
    assert headers.get_all("v") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b"]


def test_trailing_whitespace_and_last_field_without_crlf() -> None:
    head = b"OPTIONS sip:a@b SIP/2.0\r\nX-A :  spaced  \r\nCall-ID: last \t"
    message = parse_message(head + b"\r\n\r\n")
    assert message.headers.get("X-A") == "spaced"
    assert message.headers.get("Call-ID") == "last"


def test_mutation_after_lazy_reads() -> None:
    data = _message(["Via: SIP/2.0/UDP a;branch=z9hG4bK1", "Call-ID: one", "To: <sip:b@h>"])
    message = parse_message(data)
    headers = message.headers
    assert headers.get("Call-ID") == "one" and headers.pristine
    assert message.via.branch == "z9hG4bK1"
    headers.set("Call-ID", "two")
    assert headers.get("Call-ID") == "two" and not headers.pristine
    headers.add("Via", "SIP/2.0/UDP top;branch=z9hG4bK0", first=True)
    assert headers.get("Via") == "SIP/2.0/UDP top;branch=z9hG4bK0"
    assert message.via.branch == "z9hG4bK0"  # the cached Via was dropped
    assert headers.remove("To") == 1 and headers.get("To") is None
    assert b"Call-ID: two\r\n" in bytes(message) and b"To:" not in bytes(message)


@pytest.mark.parametrize(
    ("text", "number", "method"),
    [("4711 INVITE", 4711, "INVITE"), ("0 ACK", 0, "ACK"), ("999999999 BYE", 999999999, "BYE"),
     ("4294967295 NEWMETHOD", 4294967295, "NEWMETHOD"), ("1  INVITE", 1, "INVITE"),
     ("1\tfoo-bar", 1, "foo-bar"), ("007 x", 7, "x")],
)
def test_cseq(text: str, number: int, method: str) -> None:
    assert CSeq.parse(text) == CSeq(number, method)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("4294967296 INVITE", "CSeq number 4294967296 exceeds 2**32-1"),
     ("INVITE", "malformed CSeq 'INVITE': expected a number and a method"),
     ("1 INVITE x", "malformed CSeq '1 INVITE x': expected a number and a method"),
     ("x INVITE", "malformed CSeq 'x INVITE': sequence number is not a number"),
     ("١ INVITE", "malformed CSeq '١ INVITE': sequence number is not a number")],
)
def test_cseq_errors(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        CSeq.parse(text)
    assert info.value.reason == reason


def _reference_cseq(value: str) -> tuple[object, ...]:
    """The general rule, written out: two whitespace-separated parts, a 32-bit number."""
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or not parts[0].isascii():
        return ("error",)
    if int(parts[0]) > 0xFFFFFFFF:
        return ("error",)
    return ("ok", int(parts[0]), parts[1])


@SETTINGS
@given(st.one_of(st.text(alphabet="0123456789 \t\u00a0\u0661INVITEé-x", max_size=16),
                 st.from_regex(r"[0-9]{1,11} [A-Za-z]{1,8}", fullmatch=True)))
def test_cseq_fast_path_agrees_with_the_general_rule(text: str) -> None:
    try:
        cseq = CSeq.parse(text)
        outcome: tuple[object, ...] = ("ok", cseq.number, cseq.method)
    except SipParseError:
        outcome = ("error",)
    assert outcome == _reference_cseq(text)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # (the header section, what get("Subject") answers: a value or an error reason)
        (["Subject: a b  "], "a b"),
        (["Subject:"], ""),
        (["Subject: \t "], ""),
        (["Subject:x"], "x"),
        (["Subject: a  \r\n b", "Call-ID: c"], "a b"),
        (["Subject:\r\n b"], "b"),
        (["Subject: a\rb", "Call-ID: c"], "bare CR or LF in the header section"),
        (["Subject: a\r", "Call-ID: c"], "bare CR or LF in the header section"),
        (["Subject: a \n", "Call-ID: c"], "bare CR or LF in the header section"),
        (["X-Subject: no", "subject : yes", "Subject: later"], "yes"),
        (["s: compact", "Subject: later"], "compact"),
    ],
)
def test_lazy_get_edge_cases(lines: list[str], expected: str) -> None:
    data = _message(lines)
    try:
        answer = parse_message(data).headers.get("Subject")
    except SipParseError as error:
        answer = error.reason
    assert answer == expected
    try:
        eager = _split(data).get("Subject")
    except SipParseError as error:
        eager = error.reason
    assert eager == expected


def test_last_field_ends_the_section_without_crlf() -> None:
    head = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a, SIP/2.0/UDP b \t"
    headers = parse_message(head + b"\r\n\r\n").headers
    assert headers.get("Via") == "SIP/2.0/UDP a"
    assert headers.get("v") == "SIP/2.0/UDP a"
    assert headers.get_all("Via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # (the header section after the Request-Line, what splitting it gives: fields or an error)
        (" folded: first", "header section starts with a continuation line"),
        ("\tfolded: first", "header section starts with a continuation line"),
        ("A: 1\r\n\x01B: 2", "invalid header name '\\x01B'"),
        ("A: 1\r\n\x01B: 2\r\n more", "invalid header name '\\x01B'"),
        ("X-A: 1\r\n more\r\nX-B: 2", [("x-a", "1 more"), ("x-b", "2")]),
        ("X-A: 1\r\n\tmore: 3\r\nb: 2", [("x-a", "1 more: 3"), ("referred-by", "2")]),
        ("A: 1\r\nB: 2\r", "bare CR or LF in the header section"),
        ("A: 1\r\r\n\nB: 2", "bare CR or LF in the header section"),
        ("!A: 1\r\n~B: 2", [("!a", "1"), ("~b", "2")]),
    ],
)
def test_splitting_the_section(head: str, expected: object) -> None:
    data = f"OPTIONS sip:a@b SIP/2.0\r\n{head}\r\n\r\n".encode()
    try:
        answer: object = [(key, value) for key, _name, value, _raw in _split(data).fields()]
    except SipParseError as error:
        answer = error.reason
    assert answer == expected
