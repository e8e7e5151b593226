"""Values of the SDP attributes a softphone reads (RFC 4566 6, 3264, 3605, 4568).

Each type parses the text after ``a=<name>:`` and prints it back with
``str()``. :mod:`tui_phone.sip.sdp` re-exports everything here; import from
there.

:class:`CryptoAttribute` is the one type for an ``a=crypto`` value on both
sides: the offer/answer code asks it whether our SRTP can key with it
(:attr:`CryptoAttribute.usable`), and the SRTP layer (:mod:`tui_phone.rtp.srtp`,
an I/O edge) takes the key from it (:meth:`CryptoAttribute.srtp_key`). The
check is that one method, so the two sides cannot disagree.
"""

from __future__ import annotations

import binascii
import enum
import re
from base64 import b64decode, b64encode
from dataclasses import dataclass
from typing import NamedTuple

from .errors import SipParseError

__all__ = [
    "AES_CM_128_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80", "Attribute", "CryptoAttribute",
    "CryptoKeyError", "Direction", "InlineKey", "MASTER_KEY_LENGTH", "MASTER_SALT_LENGTH",
    "MAX_CRYPTO_TAG", "RtcpAttribute", "RtpMap", "SDES_KEY_AND_SALT", "SDES_SUITES",
    "SdpParseError", "parse_digits", "parse_fmtp", "parse_rtpmap",
]  # fmt: skip

#: One a= line: ``("rtpmap", "0 PCMU/8000")`` or ``("sendrecv", None)``.
Attribute = tuple[str, str | None]

# The longest number we convert; also keeps int() clear of CPython's
# digit limit for int(str) on hostile input.
_MAX_DIGITS = 40


class SdpParseError(SipParseError):
    """A session description the peer sent is malformed (status 400).

    ``reason`` (also the ``str()``) is exact; errors found while parsing a
    whole description start with ``"line N: "``.
    """


def parse_digits(text: str) -> int | None:
    """``int(text)`` for 1*DIGIT (ASCII only, bounded length), else None."""
    if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


class Direction(enum.StrEnum):
    """Media direction attribute (RFC 4566 6, RFC 3264 5.1).

    Always from the point of view of the side that wrote the SDP.
    """

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        """True if the writer of the SDP sends media."""
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        """True if the writer of the SDP receives media."""
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def from_flags(cls, sends: bool, receives: bool) -> Direction:
        """The direction that sends and/or receives as given."""
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reversed(self) -> Direction:
        """The same stream seen from the other side (sendonly <-> recvonly)."""
        return Direction.from_flags(self.receives, self.sends)

    def intersect(self, other: Direction) -> Direction:
        """Send only where both allow sending, receive only where both allow receiving."""
        return Direction.from_flags(self.sends and other.sends, self.receives and other.receives)

    @classmethod
    def from_attributes(cls, attributes: list[Attribute]) -> Direction | None:
        """The first direction flag among ``attributes``, None if there is none."""
        for name, value in attributes:
            if value is None and name in _DIRECTION_NAMES:
                return cls(name)
        return None


_DIRECTION_NAMES = frozenset(d.value for d in Direction)


class RtpMap(NamedTuple):
    """The value of ``a=rtpmap`` for one payload type (RFC 4566 6)."""

    encoding: str
    clock_rate: int
    channels: int = 1

    def __str__(self) -> str:
        text = f"{self.encoding}/{self.clock_rate}"
        return text if self.channels == 1 else f"{text}/{self.channels}"


@dataclass(frozen=True)
class RtcpAttribute:
    """``a=rtcp:port [nettype addrtype address]`` (RFC 3605 2.1)."""

    port: int
    nettype: str | None = None
    addrtype: str | None = None
    address: str | None = None

    @classmethod
    def parse(cls, value: str) -> RtcpAttribute:
        """Parse the value after ``a=rtcp:``."""
        fields = value.split()
        port = parse_digits(fields[0]) if fields else None
        if port is None or port > 65535 or len(fields) not in (1, 4):
            raise SdpParseError(f"bad a=rtcp value: {value!r}")
        if len(fields) == 1:
            return cls(port)
        return cls(port, fields[1], fields[2], fields[3])

    def __str__(self) -> str:
        if self.address is None:
            return str(self.port)
        return f"{self.port} {self.nettype} {self.addrtype} {self.address}"


# RFC 4568 6.2.1, 6.2.2: the SDES suites our SRTP supports (tui_phone.rtp.srtp
# maps each to its libsrtp profile), and their 16-byte master key plus 14-byte
# master salt.
AES_CM_128_HMAC_SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
AES_CM_128_HMAC_SHA1_32 = "AES_CM_128_HMAC_SHA1_32"
SDES_SUITES = (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32)
MASTER_KEY_LENGTH = 16  # RFC 4568 6.2.1: 128-bit master key
MASTER_SALT_LENGTH = 14  # RFC 4568 6.2.1: 112-bit master salt
SDES_KEY_AND_SALT = MASTER_KEY_LENGTH + MASTER_SALT_LENGTH
MAX_CRYPTO_TAG = 999_999_999  # RFC 4568 9.1: tag = 1*9DIGIT

# RFC 4568 9.1: key-info = key-salt ["|" lifetime] ["|" mki], key-salt in
# base64; lifetime is decimal or "2^n", mki is "value:length".
_KEY_INFO = re.compile(
    r"(?P<key>[A-Za-z0-9+/=]+)"
    r"(?:\|(?P<lifetime>2\^\d{1,2}|\d{1,20}))?"
    r"(?:\|(?P<mki>\d{1,10}):(?P<mki_length>\d{1,3}))?"
)


class CryptoKeyError(ValueError):
    """An ``a=crypto`` key our SRTP cannot use (exact message).

    A suite we lack, several keys, not one well-formed ``inline:`` key of the
    suite's length, or an MKI. From the peer's SDP it is not a parse error:
    the offer/answer passes the line over (RFC 4568 7.1.1).
    """


@dataclass(frozen=True, slots=True)
class InlineKey:
    """One ``inline:`` key parameter (RFC 4568 6.1, 9.1), decoded.

    ``key_salt`` is the master key followed by the master salt (what libsrtp
    takes), ``lifetime`` the key lifetime in packets as written (``"2^31"``
    or a decimal), ``mki`` the (value, byte length) of the MKI when present.
    """

    key_salt: bytes
    lifetime: str | None = None
    mki: tuple[int, int] | None = None

    @classmethod
    def parse(cls, param: str) -> InlineKey:
        """Parse ``inline:<key||salt>[|lifetime][|MKI:length]``."""
        method, _, info = param.partition(":")
        match = _KEY_INFO.fullmatch(info) if method == "inline" else None
        if match is None:
            raise CryptoKeyError(f"malformed crypto key parameters {param!r}")
        try:
            key_salt = b64decode(match["key"], validate=True)
        except (binascii.Error, ValueError):
            raise CryptoKeyError(f"crypto key is not valid base64: {match['key']!r}") from None
        mki: tuple[int, int] | None = None
        if match["mki"] is not None:
            mki_length = int(match["mki_length"])
            if not 1 <= mki_length <= 128:
                raise CryptoKeyError(f"crypto MKI length must be 1-128, got {mki_length}")
            mki = (int(match["mki"]), mki_length)
        return cls(key_salt, match["lifetime"], mki)

    @property
    def key(self) -> bytes:
        """The master key (the first :data:`MASTER_KEY_LENGTH` bytes)."""
        return self.key_salt[:MASTER_KEY_LENGTH]

    @property
    def salt(self) -> bytes:
        """The master salt (what follows the master key)."""
        return self.key_salt[MASTER_KEY_LENGTH:]

    def __str__(self) -> str:
        text = "inline:" + b64encode(self.key_salt).decode("ascii")
        if self.lifetime is not None:
            text += "|" + self.lifetime
        if self.mki is not None:
            text += f"|{self.mki[0]}:{self.mki[1]}"
        return text


@dataclass(frozen=True)
class CryptoAttribute:
    """``a=crypto:<tag> <crypto-suite> <key-params> [<session-param>...]`` (RFC 4568 9.1).

    Key parameters are kept verbatim (``inline:<key||salt>[|lifetime][|MKI:len]``),
    so what we print is what was written; :meth:`srtp_key` decodes and checks
    them for our SRTP.
    """

    tag: int
    suite: str
    key_params: tuple[str, ...]
    session_params: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> CryptoAttribute:
        """Parse the value after ``a=crypto:``."""
        fields = value.split()
        tag = parse_digits(fields[0]) if fields else None
        if tag is None or len(fields[0]) > 9 or len(fields) < 3:
            raise SdpParseError(f"bad a=crypto value: {value!r}")
        key_params = tuple(fields[2].split(";"))
        if any(not method or not sep for method, sep, _ in (p.partition(":") for p in key_params)):
            raise SdpParseError(f"bad a=crypto value: {value!r}")
        return cls(tag, fields[1], key_params, tuple(fields[3:]))

    @classmethod
    def with_key(cls, tag: int, suite: str, key: InlineKey,
                 session_params: tuple[str, ...] = ()) -> CryptoAttribute:
        """The attribute announcing one inline ``key``."""
        return cls(tag, suite, (str(key),), session_params)

    @property
    def inline_key(self) -> str | None:
        """The base64 key||salt of the first ``inline:`` key parameter, if any."""
        for param in self.key_params:
            method, _, info = param.partition(":")
            if method == "inline":
                return info.split("|", 1)[0]
        return None

    def srtp_key(self) -> InlineKey:
        """The key our SRTP keys with, or :class:`CryptoKeyError` saying why it cannot.

        Usable: a suite we have (:data:`SDES_SUITES`), one ``inline:`` key of the
        suite's length, no MKI (RFC 4568 6.1, 6.2; pylibsrtp has no MKI support).
        """
        if self.suite not in SDES_SUITES:
            raise CryptoKeyError(f"unsupported SRTP crypto suite {self.suite!r}")
        if len(self.key_params) != 1:
            raise CryptoKeyError("crypto attributes with several keys are not supported")
        key = InlineKey.parse(self.key_params[0])
        if len(key.key_salt) != SDES_KEY_AND_SALT:
            raise CryptoKeyError(f"crypto key material must be {SDES_KEY_AND_SALT} bytes for "
                                 f"{self.suite}, got {len(key.key_salt)}")
        if key.mki is not None:
            raise CryptoKeyError("crypto attributes with an MKI are not supported")
        return key

    @property
    def usable(self) -> bool:
        """True if our SRTP can key with it (:meth:`srtp_key` would not raise)."""
        try:
            self.srtp_key()
        except CryptoKeyError:
            return False
        return True

    def __str__(self) -> str:
        return " ".join(
            (str(self.tag), self.suite, ";".join(self.key_params), *self.session_params)
        )


def parse_rtpmap(value: str) -> tuple[int, RtpMap]:
    """Parse ``a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]``."""
    pt_text, _, spec = value.strip().partition(" ")
    parts = spec.strip().split("/")
    pt = parse_digits(pt_text)
    rate = parse_digits(parts[1]) if len(parts) > 1 else None
    channels = parse_digits(parts[2]) if len(parts) == 3 else 1
    if pt is None or not parts[0] or rate is None or not channels or len(parts) > 3:
        raise SdpParseError(f"bad a=rtpmap value: {value!r}")
    return pt, RtpMap(parts[0], rate, channels)


def parse_fmtp(value: str) -> tuple[int, str]:
    """Parse ``a=fmtp:<payload type> <parameters>``; parameters are kept verbatim."""
    pt_text, _, params = value.strip().partition(" ")
    pt = parse_digits(pt_text)
    if pt is None:
        raise SdpParseError(f"bad a=fmtp value: {value!r}")
    return pt, params.strip()
