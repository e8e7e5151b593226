"""Random identifiers with an injected, seeded generator."""

from __future__ import annotations

import random
import re

import pytest

from tui_phone.sip.errors import LocalProtocolError
from tui_phone.sip.ids import IdGenerator
from tui_phone.sip.message import parse_message
from tui_phone.sip.transaction import is_rfc3261_branch
from tui_phone.sip.via import MAGIC_COOKIE, Via

HEX = re.compile(r"[0-9a-f]+\Z")


class Fixed:
    """A random source that always returns the same bits, to pin exact output."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.asked: list[int] = []

    def getrandbits(self, k: int) -> int:
        self.asked.append(k)
        return self.value & ((1 << k) - 1)


def test_exact_values_from_a_fixed_source() -> None:
    source = Fixed(0xABC)
    ids = IdGenerator(source)
    assert ids.branch() == "z9hG4bK000000000000000000000abc"
    assert ids.tag() == "0000000000000abc"
    assert ids.call_id("192.0.2.4") == "00000000000000000000000000000abc@192.0.2.4"
    assert ids.cnonce() == "00000000000000000000000000000abc"
    assert source.asked == [96, 64, 128, 128]


def test_seeded_generator_is_deterministic() -> None:
    first = IdGenerator(random.Random(42))
    second = IdGenerator(random.Random(42))
    values = [first.branch(), first.tag(), first.call_id("pc33.atlanta.com"), first.cnonce()]
    assert values == [
        second.branch(),
        second.tag(),
        second.call_id("pc33.atlanta.com"),
        second.cnonce(),
    ]
    assert values[0] == "z9hG4bK06671ad11c80317fa3b1799d"


def test_branch_shape() -> None:
    ids = IdGenerator(random.Random(1))
    branches = {ids.branch() for _ in range(100)}
    assert len(branches) == 100
    for branch in branches:
        assert branch.startswith(MAGIC_COOKIE)
        assert len(branch) == len(MAGIC_COOKIE) + 24
        assert HEX.match(branch[len(MAGIC_COOKIE):])
        assert is_rfc3261_branch(branch)


def test_branch_round_trips_through_a_via() -> None:
    branch = IdGenerator(random.Random(7)).branch()
    via = Via.parse(f"SIP/2.0/UDP 192.0.2.4:5060;branch={branch};rport")
    assert via.branch == branch


def test_tag_and_cnonce_shape() -> None:
    ids = IdGenerator(random.Random(3))
    tag, cnonce = ids.tag(), ids.cnonce()
    assert len(tag) == 16 and HEX.match(tag)
    assert len(cnonce) == 32 and HEX.match(cnonce)
    assert ids.tag() != tag


def test_call_id_with_and_without_host() -> None:
    ids = IdGenerator(random.Random(5))
    plain = ids.call_id()
    assert len(plain) == 32 and HEX.match(plain)
    local, host = ids.call_id("[2001:db8::1]").split("@")
    assert host == "[2001:db8::1]" and len(local) == 32
    call_id = ids.call_id("client.atlanta.example.com")
    message = parse_message(
        (
            "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bK1\r\n"
            "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
            "To: <sip:bob@biloxi.example.com>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    )
    assert message.call_id == call_id


@pytest.mark.parametrize("host", ["", "bad host", "a;b", "x@y"])
def test_call_id_rejects_a_bad_host(host: str) -> None:
    with pytest.raises(LocalProtocolError) as info:
        IdGenerator(random.Random(0)).call_id(host)
    assert str(info.value) == f"invalid Call-ID host {host!r}"


def test_token_needs_bits() -> None:
    ids = IdGenerator(random.Random(0))
    assert len(ids.token(1)) == 1
    assert len(ids.token(33)) == 9
    with pytest.raises(LocalProtocolError) as info:
        ids.token(0)
    assert str(info.value) == "a token needs a positive number of bits, not 0"


def test_default_source_is_system_random() -> None:
    ids = IdGenerator()
    assert isinstance(ids._rng, random.SystemRandom)
    assert ids.branch() != ids.branch()
