"""Typed errors of the NAT traversal layer (STUN and UPnP).

Each error names whose fault it was: a malformed or unexpected answer from a
server is the peer's (``Remote...``), no answer at all is a plain
:class:`StunError` / :class:`UpnpError`.
"""

from __future__ import annotations


class StunError(Exception):
    """A STUN query failed (no answer, socket error, error response)."""


class StunParseError(StunError, ValueError):
    """A datagram is not a well-formed STUN message (RFC 5389 6 and 15)."""


class StunErrorResponse(StunError):
    """The server answered with a Binding error response (RFC 5389 15.6)."""

    def __init__(self, code: int, reason: str, server: str) -> None:
        self.code = code
        self.reason = reason
        self.server = server
        super().__init__(f"STUN server {server} answered error {code} {reason}".rstrip())


class UpnpError(Exception):
    """A UPnP IGD operation failed (no gateway, HTTP failure, bad document)."""


class UpnpParseError(UpnpError, ValueError):
    """An SSDP answer, device description or SOAP body from the gateway is malformed."""


class UpnpSoapError(UpnpError):
    """The gateway answered a SOAP action with a UPnPError fault (UPnP IGD 2.4.16)."""

    def __init__(self, action: str, code: int, description: str) -> None:
        self.action = action
        self.code = code
        self.description = description
        super().__init__(f"gateway refused {action}: UPnP error {code} {description}".rstrip())
