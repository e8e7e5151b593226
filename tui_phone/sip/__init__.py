"""The pure SIP core (no I/O): messages, URIs, SDP, digest auth, transactions, dialogs.

The public API used by the rest of tui-phone and by user scripts::

    from tui_phone.sip import parse_message, SipRequest, SipResponse, SipParseError
"""

from .errors import LocalProtocolError, RemoteProtocolError, SipError, SipParseError
from .message import SipMessage, SipRequest, SipResponse, parse_message
from .responses import build_response

__all__ = [
    "LocalProtocolError",
    "RemoteProtocolError",
    "SipError",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "build_response",
    "parse_message",
]
