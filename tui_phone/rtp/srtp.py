"""SRTP and SRTCP (RFC 3711) with SDES keys (RFC 4568), through libsrtp.

The SDP side is plain text handling: :class:`CryptoAttribute` parses and
writes the value of an ``a=crypto`` line (RFC 4568 9.1), and
:func:`make_crypto_attribute` makes ours with fresh key material.  The
crypto is libsrtp's, through ``pylibsrtp`` (which imports :mod:`socket`,
so this module is an I/O edge for the import-hygiene test).

:class:`SrtpContext` protects what we send with our key and unprotects
what we receive with the peer's (RFC 4568 6.1: each side sends with the
key it announced).  A packet that fails authentication or the replay
check raises :class:`SrtpAuthenticationError` or :class:`SrtpReplayError`;
the RTP session counts and drops it.

Supported suites: ``AES_CM_128_HMAC_SHA1_80`` and ``AES_CM_128_HMAC_SHA1_32``
(RFC 4568 6.2.1, 6.2.2), 16-byte master key and 14-byte master salt.  Key
parameters with an MKI (``|1:4``) are parsed but refused by
:class:`SrtpContext`: pylibsrtp does not expose libsrtp's MKI support.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pylibsrtp

from .errors import RtpError

AES_CM_128_HMAC_SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
AES_CM_128_HMAC_SHA1_32 = "AES_CM_128_HMAC_SHA1_32"

MASTER_KEY_LENGTH = 16  # RFC 4568 6.2.1: 128-bit master key
MASTER_SALT_LENGTH = 14  # RFC 4568 6.2.1: 112-bit master salt
MAX_TAG = 999_999_999  # RFC 4568 9.1: tag = 1*9DIGIT

SRTP_PROFILES: Mapping[str, int] = MappingProxyType(
    {
        AES_CM_128_HMAC_SHA1_80: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        AES_CM_128_HMAC_SHA1_32: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
    }
)
"""Crypto suite name (RFC 4568 6.2) to libsrtp profile."""

# RFC 4568 9.1: "inline:" key||salt in base64, then "|lifetime" and
# "|MKI:length", both optional.  Lifetime is decimal or "2^n".
_KEY_PARAMS = re.compile(
    r"inline:(?P<key>[A-Za-z0-9+/=]+)"
    r"(?:\|(?P<lifetime>2\^\d{1,2}|\d{1,20}))?"
    r"(?:\|(?P<mki>\d{1,10}):(?P<mki_length>\d{1,3}))?"
)

_REPLAY_REASONS = frozenset(
    {"replay check failed (bad index)", "replay check failed (index too old)"}
)


class SrtpError(RtpError):
    """Base class of the SRTP errors."""


class SrtpKeyError(SrtpError, ValueError):
    """An ``a=crypto`` attribute or key material we cannot use.

    From the peer's SDP it is the peer's fault: the offer/answer should
    refuse the crypto line (RFC 4568 7.1.1).
    """


class SrtpUnprotectError(SrtpError):
    """A received SRTP/SRTCP packet did not pass; ``reason`` is libsrtp's."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SrtpAuthenticationError(SrtpUnprotectError):
    """The authentication tag did not match (tampered, wrong key, not SRTP)."""


class SrtpReplayError(SrtpUnprotectError):
    """A packet index already received or too old (RFC 3711 3.3.2)."""


@dataclass(frozen=True, slots=True)
class CryptoAttribute:
    """The value of one ``a=crypto`` attribute (RFC 4568 9.1), inline key only.

    ``lifetime`` is the key lifetime in packets as written (``"2^31"`` or a
    decimal), ``mki`` the (value, byte length) pair of the MKI when present,
    ``session_params`` the session parameters, kept as written.
    """

    tag: int
    suite: str
    key: bytes
    salt: bytes
    lifetime: str | None = None
    mki: tuple[int, int] | None = None
    session_params: tuple[str, ...] = ()

    @property
    def master_key_and_salt(self) -> bytes:
        """Key followed by salt: what libsrtp takes as its key."""
        return self.key + self.salt

    @classmethod
    def parse(cls, value: str) -> CryptoAttribute:
        """Parse ``"1 AES_CM_128_HMAC_SHA1_80 inline:...|2^31"`` (``a=crypto:`` optional)."""
        text = value.strip()
        if text.startswith("a=crypto:"):
            text = text[len("a=crypto:") :]
        elif text.startswith("crypto:"):
            text = text[len("crypto:") :]
        fields = text.split()
        if len(fields) < 3:
            raise SrtpKeyError(f"crypto attribute needs a tag, a suite and key parameters: {value!r}")
        tag_text, suite, key_params, *session_params = fields
        if not tag_text.isdigit() or len(tag_text) > 9:
            raise SrtpKeyError(f"crypto tag must be 1 to 9 digits, got {tag_text!r}")
        if suite not in SRTP_PROFILES:
            raise SrtpKeyError(f"unsupported SRTP crypto suite {suite!r}")
        if ";" in key_params:
            raise SrtpKeyError("crypto attributes with several keys are not supported")
        match = _KEY_PARAMS.fullmatch(key_params)
        if match is None:
            raise SrtpKeyError(f"malformed crypto key parameters {key_params!r}")
        try:
            material = base64.b64decode(match["key"], validate=True)
        except binascii.Error:
            raise SrtpKeyError(f"crypto key is not valid base64: {match['key']!r}") from None
        expected = MASTER_KEY_LENGTH + MASTER_SALT_LENGTH
        if len(material) != expected:
            raise SrtpKeyError(
                f"crypto key material must be {expected} bytes for {suite}, got {len(material)}"
            )
        mki: tuple[int, int] | None = None
        if match["mki"] is not None:
            mki_length = int(match["mki_length"])
            if not 1 <= mki_length <= 128:
                raise SrtpKeyError(f"crypto MKI length must be 1-128, got {mki_length}")
            mki = (int(match["mki"]), mki_length)
        return cls(
            int(tag_text),
            suite,
            material[:MASTER_KEY_LENGTH],
            material[MASTER_KEY_LENGTH:],
            match["lifetime"],
            mki,
            tuple(session_params),
        )

    def __str__(self) -> str:
        """The attribute value, without ``a=crypto:``."""
        key_params = "inline:" + base64.b64encode(self.master_key_and_salt).decode("ascii")
        if self.lifetime is not None:
            key_params += "|" + self.lifetime
        if self.mki is not None:
            key_params += f"|{self.mki[0]}:{self.mki[1]}"
        return " ".join([str(self.tag), self.suite, key_params, *self.session_params])


def make_crypto_attribute(
    tag: int,
    suite: str = AES_CM_128_HMAC_SHA1_80,
    rng: Callable[[int], bytes] = os.urandom,
) -> CryptoAttribute:
    """Our ``a=crypto`` attribute with fresh key material from ``rng(n)``.

    ``rng`` must be a cryptographically secure source in production (the
    default, :func:`os.urandom`); tests pass a seeded one.
    """
    if not 1 <= tag <= MAX_TAG:
        raise SrtpKeyError(f"crypto tag must be 1-{MAX_TAG}, got {tag}")
    if suite not in SRTP_PROFILES:
        raise SrtpKeyError(f"unsupported SRTP crypto suite {suite!r}")
    material = rng(MASTER_KEY_LENGTH + MASTER_SALT_LENGTH)
    if len(material) != MASTER_KEY_LENGTH + MASTER_SALT_LENGTH:
        raise SrtpKeyError(f"key source gave {len(material)} bytes, 30 needed")
    return CryptoAttribute(tag, suite, material[:MASTER_KEY_LENGTH], material[MASTER_KEY_LENGTH:])


def _policy(attribute: CryptoAttribute, ssrc_type: int) -> pylibsrtp.Policy:
    if attribute.mki is not None:
        raise SrtpKeyError("crypto attributes with an MKI are not supported")
    try:
        profile = SRTP_PROFILES[attribute.suite]
    except KeyError:
        raise SrtpKeyError(f"unsupported SRTP crypto suite {attribute.suite!r}") from None
    return pylibsrtp.Policy(
        key=attribute.master_key_and_salt, ssrc_type=ssrc_type, srtp_profile=profile
    )


class SrtpContext:
    """Protects outgoing and unprotects incoming RTP and RTCP of one session.

    ``local`` is the crypto attribute we announced (we send with its key),
    ``remote`` the one the peer announced (it sends with that key).  The
    suites may differ (RFC 4568 allows it per direction), the tags need not
    match here: the offer/answer code pairs them.
    """

    def __init__(self, local: CryptoAttribute, remote: CryptoAttribute) -> None:
        self.local = local
        self.remote = remote
        self._outbound = pylibsrtp.Session(_policy(local, pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
        self._inbound = pylibsrtp.Session(_policy(remote, pylibsrtp.Policy.SSRC_ANY_INBOUND))
        self.authentication_failures = 0
        self.replays = 0

    def protect(self, packet: bytes) -> bytes:
        """SRTP-protect one RTP packet we send (RFC 3711 3.3)."""
        return self._run(self._outbound.protect, packet, "SRTP protect")

    def protect_rtcp(self, packet: bytes) -> bytes:
        """SRTCP-protect one compound RTCP packet we send (RFC 3711 3.4)."""
        return self._run(self._outbound.protect_rtcp, packet, "SRTCP protect")

    def unprotect(self, packet: bytes) -> bytes:
        """Check and decrypt one received SRTP packet; raise on failure."""
        return self._unprotect(self._inbound.unprotect, packet, "SRTP")

    def unprotect_rtcp(self, packet: bytes) -> bytes:
        """Check and decrypt one received SRTCP packet; raise on failure."""
        return self._unprotect(self._inbound.unprotect_rtcp, packet, "SRTCP")

    @staticmethod
    def _run(operation: Callable[[bytes], bytes], packet: bytes, what: str) -> bytes:
        try:
            return operation(packet)
        except pylibsrtp.Error as error:
            raise SrtpError(f"{what} failed: {error}") from None
        except ValueError as error:  # pylibsrtp: "packet is too long"
            raise SrtpError(f"{what} failed: {error}") from None

    def _unprotect(self, operation: Callable[[bytes], bytes], packet: bytes, what: str) -> bytes:
        try:
            return operation(packet)
        except pylibsrtp.Error as error:
            reason = str(error)
            if reason in _REPLAY_REASONS:
                self.replays += 1
                raise SrtpReplayError(f"{what} packet replayed: {reason}", reason) from None
            self.authentication_failures += 1
            raise SrtpAuthenticationError(f"{what} packet rejected: {reason}", reason) from None
        except ValueError as error:
            self.authentication_failures += 1
            raise SrtpAuthenticationError(f"{what} packet rejected: {error}", str(error)) from None
