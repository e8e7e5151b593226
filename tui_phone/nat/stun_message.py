"""STUN messages, PURE: the RFC 5389 Binding codec (no sockets, no clock).

pystun3 only speaks classic RFC 3489 STUN: it reads MAPPED-ADDRESS and never
XOR-MAPPED-ADDRESS, so it is blind to servers that follow RFC 5389 (which
answer with XOR-MAPPED-ADDRESS only).  This module is the codec tui-phone uses
to learn the public address from any server; pystun3 is kept for the RFC 3489
NAT-type tests (see :mod:`tui_phone.nat.stun`).

The same codec also serves the loopback responder in
:mod:`tui_phone.testing.stun_server`; the unit tests pin it to the RFC 5769
test vectors so client and responder cannot agree on a shared mistake.
"""

from __future__ import annotations

import ipaddress
import random
import struct
import zlib
from dataclasses import dataclass, field

from .errors import StunParseError

MAGIC_COOKIE = 0x2112A442  # RFC 5389 6
HEADER_LENGTH = 20
TRANSACTION_ID_LENGTH = 12  # 96 bits, RFC 5389 6

# Message types (RFC 5389 6 and 18.1; class bits folded in).
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111

# Attribute types (RFC 5389 18.2, RFC 3489 11.2, RFC 5780 7).
MAPPED_ADDRESS = 0x0001
CHANGE_REQUEST = 0x0003
SOURCE_ADDRESS = 0x0004
CHANGED_ADDRESS = 0x0005
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
XOR_MAPPED_ADDRESS = 0x0020
XOR_MAPPED_ADDRESS_DRAFT = 0x8020  # pre-RFC 5389 servers (draft-ietf-behave-rfc3489bis-02)
SOFTWARE = 0x8022
RESPONSE_ORIGIN = 0x802B
OTHER_ADDRESS = 0x802C
FINGERPRINT = 0x8028

FAMILY_IPV4 = 0x01  # RFC 5389 15.1
FAMILY_IPV6 = 0x02
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 15.5

# CHANGE-REQUEST flags (RFC 3489 11.2.4, RFC 5780 7.2).
CHANGE_IP = 0x04
CHANGE_PORT = 0x02

Address = tuple[str, int]


@dataclass(frozen=True)
class StunAttribute:
    """One TLV attribute; ``value`` is unpadded (RFC 5389 15)."""

    type: int
    value: bytes


@dataclass(frozen=True)
class StunMessage:
    """A STUN message.

    ``cookie`` is :data:`MAGIC_COOKIE` for RFC 5389; for an RFC 3489 message it
    holds the first 32 bits of the 128-bit transaction id.  ``fingerprint``
    asks ``__bytes__`` to append a FINGERPRINT attribute (RFC 5389 15.5);
    ``parse`` checks and strips it.
    """

    msg_type: int
    transaction_id: bytes
    attributes: tuple[StunAttribute, ...] = ()
    cookie: int = MAGIC_COOKIE
    fingerprint: bool = False

    @property
    def is_rfc5389(self) -> bool:
        """True when the header carries the magic cookie (RFC 5389 6)."""
        return self.cookie == MAGIC_COOKIE

    @property
    def full_transaction_id(self) -> bytes:
        """The 16 bytes after type and length: cookie and transaction id."""
        return struct.pack("!I", self.cookie) + self.transaction_id

    def get(self, attr_type: int) -> bytes | None:
        """The value of the first attribute of ``attr_type``, or None."""
        for attribute in self.attributes:
            if attribute.type == attr_type:
                return attribute.value
        return None

    @classmethod
    def parse(cls, data: bytes) -> StunMessage:
        """Parse one datagram; raise :class:`StunParseError` when malformed."""
        if len(data) < HEADER_LENGTH:
            raise StunParseError(f"STUN message too short: {len(data)} bytes, need at least 20")
        msg_type, length, cookie = struct.unpack_from("!HHI", data)
        if msg_type & 0xC000:
            raise StunParseError("not a STUN message: the two top bits are not zero")
        if length % 4:
            raise StunParseError(f"STUN message length {length} is not a multiple of 4")
        if length != len(data) - HEADER_LENGTH:
            raise StunParseError(
                f"STUN message length {length} does not match the {len(data) - HEADER_LENGTH} bytes after the header"
            )
        attributes: list[StunAttribute] = []
        offset = HEADER_LENGTH
        fingerprint = False
        while offset < len(data):
            if offset + 4 > len(data):
                raise StunParseError(f"truncated STUN attribute header at offset {offset}")
            attr_type, attr_length = struct.unpack_from("!HH", data, offset)
            end = offset + 4 + attr_length
            if end > len(data):
                raise StunParseError(
                    f"STUN attribute 0x{attr_type:04x} at offset {offset} runs past the end of the message"
                )
            value = data[offset + 4:end]
            if attr_type == FINGERPRINT:
                expected = _crc(data[:offset], offset - HEADER_LENGTH + 8)
                if attr_length != 4 or struct.unpack("!I", value)[0] != expected:
                    raise StunParseError("STUN FINGERPRINT does not match the message")
                if end != len(data):
                    raise StunParseError("STUN FINGERPRINT is not the last attribute")
                fingerprint = True
            else:
                attributes.append(StunAttribute(attr_type, value))
            offset = end + (-attr_length % 4)
        return cls(msg_type, data[8:20], tuple(attributes), cookie, fingerprint)

    def __bytes__(self) -> bytes:
        body = b"".join(
            struct.pack("!HH", a.type, len(a.value)) + a.value + b"\0" * (-len(a.value) % 4)
            for a in self.attributes
        )
        if not self.fingerprint:
            return struct.pack("!HHI", self.msg_type, len(body), self.cookie) + self.transaction_id + body
        # RFC 5389 15.5: the length already counts the FINGERPRINT attribute.
        head = struct.pack("!HHI", self.msg_type, len(body) + 8, self.cookie) + self.transaction_id + body
        return head + struct.pack("!HHI", FINGERPRINT, 4, _crc(head, len(body) + 8))


def _crc(prefix: bytes, length: int) -> int:
    """CRC-32 of ``prefix`` (with its length field set to ``length``) XOR 0x5354554E."""
    patched = prefix[:2] + struct.pack("!H", length) + prefix[4:]
    return (zlib.crc32(patched) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


def new_transaction_id(rng: random.Random) -> bytes:
    """A 96-bit transaction id drawn from ``rng`` (RFC 5389 6: uniformly random)."""
    return rng.getrandbits(96).to_bytes(TRANSACTION_ID_LENGTH, "big")


def binding_request(rng: random.Random, *, change: int = 0, fingerprint: bool = True) -> StunMessage:
    """An RFC 5389 Binding request; ``change`` sets CHANGE-REQUEST flags (RFC 5780 7.2)."""
    attributes = (StunAttribute(CHANGE_REQUEST, struct.pack("!I", change)),) if change else ()
    return StunMessage(BINDING_REQUEST, new_transaction_id(rng), attributes, MAGIC_COOKIE, fingerprint)


def encode_address(address: Address) -> bytes:
    """MAPPED-ADDRESS style value (RFC 5389 15.1)."""
    ip = ipaddress.ip_address(address[0])
    family = FAMILY_IPV4 if ip.version == 4 else FAMILY_IPV6
    return struct.pack("!BBH", 0, family, address[1]) + ip.packed


def decode_address(value: bytes) -> Address:
    """Decode a MAPPED-ADDRESS style value into ``(ip, port)``."""
    if len(value) < 4:
        raise StunParseError(f"STUN address attribute too short: {len(value)} bytes")
    family, port = struct.unpack_from("!xBH", value)
    if family == FAMILY_IPV4 and len(value) == 8:
        return str(ipaddress.IPv4Address(value[4:8])), port
    if family == FAMILY_IPV6 and len(value) == 20:
        return str(ipaddress.IPv6Address(value[4:20])), port
    raise StunParseError(f"STUN address attribute has family {family} and {len(value)} bytes")


def _xor(value: bytes, full_transaction_id: bytes) -> bytes:
    """XOR port and address with the cookie and transaction id (RFC 5389 15.2)."""
    key = full_transaction_id[:2] + full_transaction_id[:len(value) - 4]
    return value[:2] + bytes(a ^ b for a, b in zip(value[2:], key))


def encode_xor_address(address: Address, full_transaction_id: bytes) -> bytes:
    """XOR-MAPPED-ADDRESS value for ``address`` in the transaction ``full_transaction_id``."""
    return _xor(encode_address(address), full_transaction_id)


def decode_xor_address(value: bytes, full_transaction_id: bytes) -> Address:
    """Decode an XOR-MAPPED-ADDRESS value."""
    return decode_address(_xor(value, full_transaction_id))


def encode_error_code(code: int, reason: str) -> bytes:
    """ERROR-CODE value (RFC 5389 15.6)."""
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode("utf-8")


def decode_error_code(value: bytes) -> tuple[int, str]:
    """Decode ERROR-CODE into ``(code, reason)``."""
    if len(value) < 4:
        raise StunParseError(f"STUN ERROR-CODE too short: {len(value)} bytes")
    hundreds, number = value[2] & 0x07, value[3]
    return hundreds * 100 + number, value[4:].decode("utf-8", "replace")


@dataclass(frozen=True)
class BindingAnswer:
    """What a Binding response says, whichever RFC the server follows."""

    mapped: Address | None
    xor_mapped: bool
    other_address: Address | None = None
    source_address: Address | None = None
    software: str = ""
    error: tuple[int, str] | None = None
    unknown: tuple[int, ...] = field(default=())


def read_binding_answer(message: StunMessage) -> BindingAnswer:
    """Extract the mapped address and server hints from a Binding response.

    XOR-MAPPED-ADDRESS wins (RFC 5389 15.2); MAPPED-ADDRESS is the fallback for
    RFC 3489 servers.  OTHER-ADDRESS (RFC 5780) or CHANGED-ADDRESS (RFC 3489)
    tells whether the server can run the NAT-type tests.
    """
    if message.msg_type not in (BINDING_SUCCESS, BINDING_ERROR):
        raise StunParseError(f"not a Binding response: message type 0x{message.msg_type:04x}")
    if message.msg_type == BINDING_ERROR:
        raw = message.get(ERROR_CODE)
        error = decode_error_code(raw) if raw is not None else (0, "no ERROR-CODE attribute")
        return BindingAnswer(None, False, error=error)
    tid = message.full_transaction_id
    mapped: Address | None = None
    xor_mapped = False
    for attr_type in (XOR_MAPPED_ADDRESS, XOR_MAPPED_ADDRESS_DRAFT):
        value = message.get(attr_type)
        if value is not None:
            mapped, xor_mapped = decode_xor_address(value, tid), True
            break
    if mapped is None:
        value = message.get(MAPPED_ADDRESS)
        mapped = decode_address(value) if value is not None else None
    other_raw = message.get(OTHER_ADDRESS) or message.get(CHANGED_ADDRESS)
    source_raw = message.get(RESPONSE_ORIGIN) or message.get(SOURCE_ADDRESS)
    software = message.get(SOFTWARE)
    known = {MAPPED_ADDRESS, XOR_MAPPED_ADDRESS, XOR_MAPPED_ADDRESS_DRAFT, OTHER_ADDRESS, CHANGED_ADDRESS,
             RESPONSE_ORIGIN, SOURCE_ADDRESS, SOFTWARE}
    return BindingAnswer(
        mapped=mapped,
        xor_mapped=xor_mapped,
        other_address=decode_address(other_raw) if other_raw else None,
        source_address=decode_address(source_raw) if source_raw else None,
        software=software.decode("utf-8", "replace") if software else "",
        unknown=tuple(a.type for a in message.attributes if a.type not in known),
    )


def retransmission_schedule(rto: float, tries: int, final_wait: int) -> tuple[list[float], float]:
    """When to send a request and when to give up (RFC 5389 7.2.1).

    The interval doubles after each send; after the last of ``tries`` sends the
    client waits ``final_wait`` (Rm) times ``rto``.  With RTO 0.5 s, Rc 7 and
    Rm 16 this gives sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and a timeout
    at 39.5 s, as in the RFC's example.
    """
    if tries < 1:
        raise ValueError(f"STUN tries must be at least 1, not {tries}")
    times = [0.0]
    interval = rto
    for _ in range(tries - 1):
        times.append(times[-1] + interval)
        interval *= 2
    return times, times[-1] + final_wait * rto
