"""The pure RFC 5389 codec, pinned to the RFC 5769 test vectors."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from tui_phone.nat.errors import StunParseError
from tui_phone.nat.stun_message import (
    BINDING_ERROR,
    BINDING_REQUEST,
    BINDING_SUCCESS,
    CHANGE_IP,
    CHANGE_REQUEST,
    CHANGED_ADDRESS,
    ERROR_CODE,
    MAGIC_COOKIE,
    MAPPED_ADDRESS,
    XOR_MAPPED_ADDRESS,
    StunAttribute,
    StunMessage,
    binding_request,
    decode_xor_address,
    encode_address,
    encode_error_code,
    encode_xor_address,
    read_binding_answer,
    retransmission_schedule,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_rfc5769_ipv4_response_vector() -> None:
    message = StunMessage.parse((FIXTURES / "rfc5769_ipv4_response.bin").read_bytes())
    assert message.msg_type == BINDING_SUCCESS
    assert message.fingerprint is True
    assert message.transaction_id == bytes.fromhex("b7e7a701bc34d686fa87dfae")
    answer = read_binding_answer(message)
    assert answer.mapped == ("192.0.2.1", 32853)
    assert answer.xor_mapped is True
    assert answer.software == "test vector"


def test_rfc5769_ipv6_response_vector() -> None:
    message = StunMessage.parse((FIXTURES / "rfc5769_ipv6_response.bin").read_bytes())
    assert read_binding_answer(message).mapped == ("2001:db8:1234:5678:11:2233:4455:6677", 32853)


def test_corrupted_fingerprint_is_refused() -> None:
    data = bytearray((FIXTURES / "rfc5769_ipv4_response.bin").read_bytes())
    data[-1] ^= 0xFF
    with pytest.raises(StunParseError, match="^STUN FINGERPRINT does not match the message$"):
        StunMessage.parse(bytes(data))


def test_binding_request_uses_cookie_and_96_bit_id_from_rng() -> None:
    request = binding_request(random.Random(7))
    again = binding_request(random.Random(7))
    data = bytes(request)
    assert data[:2] == b"\x00\x01"
    assert struct.unpack("!I", data[4:8])[0] == MAGIC_COOKIE
    assert len(request.transaction_id) == 12
    assert request.transaction_id == again.transaction_id
    assert StunMessage.parse(data) == request


def test_change_request_attribute() -> None:
    request = binding_request(random.Random(1), change=CHANGE_IP, fingerprint=False)
    parsed = StunMessage.parse(bytes(request))
    assert parsed.msg_type == BINDING_REQUEST
    assert parsed.get(CHANGE_REQUEST) == struct.pack("!I", CHANGE_IP)


@pytest.mark.parametrize("address", [("198.51.100.4", 5060), ("2001:db8::7", 65535), ("0.0.0.0", 0)])
def test_xor_address_round_trip(address: tuple[str, int]) -> None:
    tid = struct.pack("!I", MAGIC_COOKIE) + bytes(range(12))
    assert decode_xor_address(encode_xor_address(address, tid), tid) == address


def test_round_trip_with_padding_and_fingerprint() -> None:
    message = StunMessage(
        BINDING_SUCCESS,
        bytes(12),
        (StunAttribute(0x8022, b"abc"), StunAttribute(MAPPED_ADDRESS, encode_address(("10.0.0.1", 1)))),
        fingerprint=True,
    )
    data = bytes(message)
    assert len(data) % 4 == 0
    assert StunMessage.parse(data) == message


def test_mapped_address_fallback_for_rfc3489_answer() -> None:
    message = StunMessage(
        BINDING_SUCCESS,
        bytes(12),
        (StunAttribute(MAPPED_ADDRESS, encode_address(("203.0.113.1", 4000))),
         StunAttribute(CHANGED_ADDRESS, encode_address(("203.0.113.2", 4001)))),
        cookie=0x01020304,
    )
    answer = read_binding_answer(StunMessage.parse(bytes(message)))
    assert answer.mapped == ("203.0.113.1", 4000)
    assert answer.xor_mapped is False
    assert answer.other_address == ("203.0.113.2", 4001)


def test_xor_mapped_wins_over_mapped() -> None:
    tid = bytes(range(12))
    full = struct.pack("!I", MAGIC_COOKIE) + tid
    message = StunMessage(BINDING_SUCCESS, tid, (
        StunAttribute(MAPPED_ADDRESS, encode_address(("10.0.0.1", 1))),
        StunAttribute(XOR_MAPPED_ADDRESS, encode_xor_address(("203.0.113.5", 40000), full)),
    ))
    assert read_binding_answer(message).mapped == ("203.0.113.5", 40000)


def test_error_response() -> None:
    message = StunMessage(BINDING_ERROR, bytes(12), (StunAttribute(ERROR_CODE, encode_error_code(420, "Unknown")),))
    assert read_binding_answer(StunMessage.parse(bytes(message))).error == (420, "Unknown")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x01\x00", "STUN message too short: 3 bytes, need at least 20"),
        (b"\xc1\x01" + bytes(18), "not a STUN message: the two top bits are not zero"),
        (b"\x01\x01\x00\x02" + bytes(16), "STUN message length 2 is not a multiple of 4"),
        (b"\x01\x01\x00\x08" + bytes(16), "STUN message length 8 does not match the 0 bytes after the header"),
        (b"\x01\x01\x00\x04" + bytes(16) + b"\x00\x01\x00\x08",
         "STUN attribute 0x0001 at offset 20 runs past the end of the message"),
    ],
)
def test_malformed_messages(data: bytes, message: str) -> None:
    with pytest.raises(StunParseError) as info:
        StunMessage.parse(data)
    assert str(info.value) == message


def test_not_a_binding_response() -> None:
    with pytest.raises(StunParseError, match="^not a Binding response: message type 0x0001$"):
        read_binding_answer(binding_request(random.Random(0)))


def test_retransmission_schedule_matches_rfc5389_example() -> None:
    sends, give_up = retransmission_schedule(0.5, 7, 16)
    assert sends == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert give_up == 39.5
