"""Error types of the SIP core.

Errors say whose fault it was, as h11 does: :class:`LocalProtocolError` when
our own code asked for something the protocol does not allow,
:class:`RemoteProtocolError` when the peer sent something wrong.
:class:`SipParseError` is the peer's fault and carries the status a UAS should
answer with (RFC 3261 21.4: 400, 505, ...).
"""

from __future__ import annotations


class SipError(Exception):
    """Base class of every error raised by the SIP core."""


class LocalProtocolError(SipError):
    """We tried to do something the protocol forbids (a bug on our side)."""


class RemoteProtocolError(SipError):
    """The peer sent something that breaks the protocol."""


class SipParseError(RemoteProtocolError, ValueError):
    """Bytes from the wire that are not a valid SIP message (or part of one).

    ``status`` is the response code a UAS should send back (400 unless the
    fault has a more precise code, e.g. 505 for a wrong SIP version), and
    ``reason`` an exact human-readable explanation, also the ``str()`` of the
    error.
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        return f"SipParseError({self.reason!r}, status={self.status})"
