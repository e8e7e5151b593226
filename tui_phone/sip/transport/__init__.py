"""The SIP transport edge (Twisted): UDP, TCP and TLS (RFC 3261 18, RFC 3581, RFC 5626 4.4).

A package rather than one module only to stay within the house size limit:
``layer`` holds :class:`TransportLayer` and UDP, ``stream`` the TCP/TLS
connection protocol, ``tls`` the certificate options (imported on first TLS
use), ``resolve`` the host name lookup, ``base`` what they share. The routing decisions live in the pure :mod:`tui_phone.sip.routing`.

    from tui_phone.sip.transport import TransportLayer, Target
"""

from ..routing import Source, Target
from .base import (
    ConnectionClosedError,
    ConnectionFailedError,
    ConnectionInfo,
    KeepAliveHandle,
    Listener,
    LoggedMessage,
    NoListenerError,
    TlsClientConfig,
    TlsVerificationError,
    TransportError,
)
from .layer import TransportLayer
from .stream import StreamConnection

__all__ = [
    "ConnectionClosedError",
    "ConnectionFailedError",
    "ConnectionInfo",
    "KeepAliveHandle",
    "Listener",
    "LoggedMessage",
    "NoListenerError",
    "Source",
    "StreamConnection",
    "Target",
    "TlsClientConfig",
    "TlsVerificationError",
    "TransportError",
    "TransportLayer",
]
