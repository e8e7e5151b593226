"""SRTP and SRTCP (RFC 3711) with SDES keys (RFC 4568), through libsrtp.

The ``a=crypto`` value is :class:`tui_phone.sip.sdpattributes.CryptoAttribute`,
the same object the offer/answer code read from the SDP: it decides what our
SRTP can key with (:meth:`~tui_phone.sip.sdpattributes.CryptoAttribute.srtp_key`),
so an answer never promises a key this module refuses.
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
parameters with an MKI (``|1:4``) are refused: pylibsrtp does not expose
libsrtp's MKI support.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import MappingProxyType

import pylibsrtp

from ..sip.sdpattributes import (
    AES_CM_128_HMAC_SHA1_32,
    AES_CM_128_HMAC_SHA1_80,
    MAX_CRYPTO_TAG,
    SDES_KEY_AND_SALT,
    CryptoAttribute,
    CryptoKeyError,
    InlineKey,
)
from .errors import RtpError

__all__ = [
    "AES_CM_128_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80", "SRTP_PROFILES", "SrtpAuthenticationError",
    "SrtpContext", "SrtpError", "SrtpKeyError", "SrtpReplayError", "SrtpUnprotectError",
    "make_crypto_attribute",
]  # fmt: skip

SRTP_PROFILES: Mapping[str, int] = MappingProxyType(
    {
        AES_CM_128_HMAC_SHA1_80: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        AES_CM_128_HMAC_SHA1_32: pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
    }
)
"""Crypto suite name (RFC 4568 6.2) to libsrtp profile: one per name in
:data:`tui_phone.sip.sdpattributes.SDES_SUITES` (a test holds them equal)."""

_REPLAY_REASONS = frozenset(
    {"replay check failed (bad index)", "replay check failed (index too old)"}
)


class SrtpError(RtpError):
    """Base class of the SRTP errors."""


class SrtpKeyError(SrtpError, CryptoKeyError):
    """An ``a=crypto`` attribute or key material we cannot use.

    The message is :meth:`CryptoAttribute.srtp_key`'s. From the peer's SDP
    the offer/answer has refused such a line already (RFC 4568 7.1.1), so
    here it is a bug on our side.
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


def make_crypto_attribute(
    tag: int,
    suite: str = AES_CM_128_HMAC_SHA1_80,
    rng: Callable[[int], bytes] = os.urandom,
) -> CryptoAttribute:
    """Our ``a=crypto`` attribute with fresh key material from ``rng(n)``.

    ``rng`` must be a cryptographically secure source in production (the
    default, :func:`os.urandom`); tests pass a seeded one.
    """
    if not 1 <= tag <= MAX_CRYPTO_TAG:
        raise SrtpKeyError(f"crypto tag must be 1-{MAX_CRYPTO_TAG}, got {tag}")
    if suite not in SRTP_PROFILES:
        raise SrtpKeyError(f"unsupported SRTP crypto suite {suite!r}")
    material = rng(SDES_KEY_AND_SALT)
    if len(material) != SDES_KEY_AND_SALT:
        raise SrtpKeyError(f"key source gave {len(material)} bytes, {SDES_KEY_AND_SALT} needed")
    return CryptoAttribute.with_key(tag, suite, InlineKey(material))


def _policy(attribute: CryptoAttribute, ssrc_type: int) -> pylibsrtp.Policy:
    try:
        key = attribute.srtp_key()  # the one check, also the offer/answer's (``usable``)
    except CryptoKeyError as error:
        raise SrtpKeyError(str(error)) from None
    return pylibsrtp.Policy(
        key=key.key_salt, ssrc_type=ssrc_type, srtp_profile=SRTP_PROFILES[attribute.suite]
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
