"""Error types of the RTP/RTCP wire layer.

Errors say whose fault it was, as h11 does: :class:`RtpParseError` (and its
RTCP flavour :class:`RtcpParseError`) when the peer sent bytes that are not a
valid packet, :class:`RtpBuildError` when our own code asked to serialize a
value the wire format cannot carry (a bug on our side).

Every message is exact and stable: tests assert it, and the RTP statistics
view shows it to the user.
"""

from __future__ import annotations


class RtpError(Exception):
    """Base class of every error raised by the RTP wire layer."""


class RtpParseError(RtpError, ValueError):
    """Bytes from the wire that are not a valid RTP packet (the peer's fault).

    The ``str()`` of the error is an exact human-readable explanation, also
    available as ``reason``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r})"


class RtcpParseError(RtpParseError):
    """Bytes from the wire that are not a valid RTCP (or RTCP XR) packet.

    A subclass of :class:`RtpParseError`, so a receive loop that handles both
    RTP and RTCP (rtcp-mux, RFC 5761) can catch one type.
    """


class RtpBuildError(RtpError, ValueError):
    """A packet object holds a value its wire format cannot carry (our fault).

    Raised by ``bytes(packet)``: a payload type above 127, more than 15 CSRCs,
    an extension not a multiple of 32 bits, an SDES item over 255 bytes...
    """
