"""parse_uri and NameAddress.parse remember what they parsed (the values are
immutable), and never remember a failure."""

from __future__ import annotations

import pytest

from tui_phone.sip.errors import SipParseError
from tui_phone.sip.uri import NameAddress, SipUri, parse_uri


def test_the_same_text_gives_the_same_immutable_value() -> None:
    text = "sip:service@127.0.0.1:5060"
    first = parse_uri(text)
    assert parse_uri(text) is first and isinstance(first, SipUri)
    with pytest.raises(AttributeError):
        first.host = "elsewhere"  # type: ignore[misc]
    contact = NameAddress.parse("sipp <sip:sipp@127.0.0.1:5099>;expires=60")
    assert NameAddress.parse("sipp <sip:sipp@127.0.0.1:5099>;expires=60") is contact
    assert contact.params.get("expires") == "60" and contact.display_name == "sipp"


def test_surrounding_blanks_are_dropped_whatever_was_remembered() -> None:
    bare = NameAddress.parse("<sip:a@127.0.0.1>;tag=1")
    padded = NameAddress.parse("  <sip:a@127.0.0.1>;tag=1\t")
    assert str(padded) == str(bare) == "<sip:a@127.0.0.1>;tag=1"


@pytest.mark.parametrize("text", ["sip:a@127.0.0.1:99999", "sip:a b@host", "<sip:x@host>"])
def test_a_failure_is_raised_every_time(text: str) -> None:
    for _ in range(2):
        with pytest.raises(SipParseError):
            parse_uri(text)
    for _ in range(2):
        with pytest.raises(SipParseError):
            NameAddress.parse(f"<{text}>;tag=1" if not text.startswith("<") else f"{text}>")
