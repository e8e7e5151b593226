"""The Replaces header value (RFC 3891 6.1)."""

from __future__ import annotations

import pytest

from tui_phone.sip.errors import LocalProtocolError, SipParseError
from tui_phone.sip.replaces import Replaces

# RFC 3891 6.1 example.
EXAMPLE = "98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff"


def test_parse_the_rfc_example() -> None:
    replaces = Replaces.parse(EXAMPLE)
    assert replaces == Replaces("98732@sip.example.com", "ff87ff", "r33th4x0r")
    assert not replaces.early_only


@pytest.mark.parametrize(
    "text",
    [
        "12345@atlanta.example.com;to-tag=12345;from-tag=5FFE-3994",
        "12345@atlanta.example.com;to-tag=12345;from-tag=5FFE-3994;early-only",
        "a-b.c!d;to-tag=1;from-tag=2;x-ext=v;flag",
    ],
)
def test_round_trip(text: str) -> None:
    assert str(Replaces.parse(text)) == text


def test_spacing_case_and_flags() -> None:
    replaces = Replaces.parse(" abc@h ; To-Tag = 1 ; FROM-TAG=2 ; Early-Only ")
    assert (replaces.call_id, replaces.to_tag, replaces.from_tag) == ("abc@h", "1", "2")
    assert replaces.early_only
    assert str(replaces) == "abc@h;to-tag=1;from-tag=2;early-only"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty Call-ID in Replaces"),
        (";to-tag=1;from-tag=2", "empty Call-ID in Replaces"),
        ("a b;to-tag=1;from-tag=2", "invalid Call-ID 'a b' in Replaces"),
        ("abc;from-tag=2", "missing to-tag in Replaces"),
        ("abc;to-tag=1", "missing from-tag in Replaces"),
        ("abc;to-tag=1;to-tag=3;from-tag=2", "duplicate to-tag in Replaces"),
        ("abc;to-tag;from-tag=2", "to-tag without a value in Replaces"),
        ("abc;to-tag=1;from-tag=2;early-only=yes", "invalid early-only flag in Replaces"),
        ("abc;to-tag=1;from-tag=2;", "empty parameter in Replaces"),
        ("abc;to-tag=a b;from-tag=2", "invalid parameter 'to-tag=a b' in Replaces"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        Replaces.parse(text)
    assert str(info.value) == message
    assert info.value.status == 400


def test_construction_is_checked() -> None:
    with pytest.raises(LocalProtocolError, match="^invalid to-tag 'a;b' in Replaces$"):
        Replaces("abc", "a;b", "c")
    with pytest.raises(LocalProtocolError, match="^invalid Call-ID '' in Replaces$"):
        Replaces("", "a", "c")
