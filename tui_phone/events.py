"""The events a :class:`~tui_phone.phone.Phone` delivers to its subscribers.

Plain, past-tense dataclasses with no behaviour, so that the TUI, the CLI and
user scripts can all consume them (and print them as JSON with
:func:`event_to_dict`). ``call`` fields hold the :class:`~tui_phone.call.Call`
object the event is about; they are left out of the JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

_LIVE = {"live": True}  # an RtpSummary field shown live, not written to JSON


@dataclass(frozen=True, slots=True)
class RtpSummary:
    """The media statistics of a call, as the CLI's ``--json`` prints them.

    ``jitter_ms`` is the mean and ``max_jitter_ms`` the maximum of the RFC 3550
    interarrival jitter; ``rtt_ms`` is None when the peer sent no RTCP.
    ``bitrate_kbps`` is the received payload rate; ``jitter_buffer_ms`` and
    ``jitter_buffer_target_ms`` the playout buffer's current and target delay,
    ``concealed_frames`` the frames it concealed; ``rtp_source`` is where the
    peer's RTP comes from and ``rtp_expected_source`` where the SDP said
    (``host:port``; they differ behind a NAT, or when someone else sends).
    None: not known (no RTP yet, no jitter buffer). These six are for live views
    (the TUI's stats panel) and stay out of the JSON (:func:`rtp_summary_to_dict`).
    """

    tx_packets: int = 0
    rx_packets: int = 0
    rx_lost: int = 0
    loss_pct: float = 0.0
    jitter_ms: float = 0.0
    max_jitter_ms: float = 0.0
    rtt_ms: float | None = None
    mos: float | None = None
    bitrate_kbps: float | None = field(default=None, metadata=_LIVE)
    jitter_buffer_ms: float | None = field(default=None, metadata=_LIVE)
    jitter_buffer_target_ms: float | None = field(default=None, metadata=_LIVE)
    concealed_frames: int | None = field(default=None, metadata=_LIVE)
    rtp_source: str | None = field(default=None, metadata=_LIVE)
    rtp_expected_source: str | None = field(default=None, metadata=_LIVE)


def rtp_summary_to_dict(summary: RtpSummary) -> dict[str, Any]:
    """The JSON fields of ``summary`` (the live-view-only fields left out)."""
    return {item.name: getattr(summary, item.name) for item in fields(summary)
            if not item.metadata.get("live")}


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """An INVITE arrived; the call rings until answered or rejected."""

    call: Any = field(repr=False)
    call_id: str = ""
    remote: str = ""
    account: str | None = None


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    """A call moved from one state to another (see ``tui_phone.call.CallState``)."""

    call: Any = field(repr=False)
    call_id: str = ""
    old: str = ""
    new: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The call was answered (a 2xx was sent or received) and media started."""

    call: Any = field(repr=False)
    call_id: str = ""
    remote: str = ""
    codec: str | None = None


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over, with its final status and statistics.

    ``status``/``reason`` is the SIP outcome: 200 for a call that was answered
    and hung up normally, else the failure (486, 487, 408 ...).
    ``answered`` tells whether it ever connected.
    """

    call: Any = field(repr=False)
    call_id: str = ""
    remote: str = ""
    status: int = 0
    reason: str = ""
    duration_s: float = 0.0
    codec: str | None = None
    rtp: RtpSummary = field(default_factory=RtpSummary)
    answered: bool = False
    ended_by: str = ""


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    """An account's registration changed state (``registered``, ``failed`` ...)."""

    account: str
    state: str
    status: int | None = None
    reason: str = ""
    expires: int | None = None


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """A DTMF digit arrived, by RFC 4733 (``"rfc4733"``) or SIP INFO (``"info"``)."""

    call: Any = field(repr=False)
    call_id: str = ""
    digit: str = ""
    method: str = ""


@dataclass(frozen=True, slots=True)
class CallHoldChanged:
    """Hold state of a call changed: ``local`` (we hold) or ``remote`` (they hold)."""

    call: Any = field(repr=False)
    call_id: str = ""
    local: bool = False
    remote: bool = False


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """A call transfer moved on (RFC 3515): a REFER answer or a NOTIFY sipfrag status.

    ``role`` is ``transferor`` (we sent the REFER; ``status`` is what the
    peer reported) or ``transferee`` (we received it and call ``target``;
    ``new_call_id`` names that call).
    """

    call: Any = field(repr=False)
    call_id: str = ""
    role: str = ""
    target: str = ""
    status: int = 0
    reason: str = ""
    new_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransferCompleted:
    """A transfer succeeded: the referred call was answered (final 2xx sipfrag)."""

    call: Any = field(repr=False)
    call_id: str = ""
    role: str = ""
    target: str = ""
    new_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransferFailed:
    """A transfer failed: REFER rejected, a non-2xx final sipfrag, or no outcome in time.

    The original call stays up (the transferor resumes it if it was held).
    """

    call: Any = field(repr=False)
    call_id: str = ""
    role: str = ""
    target: str = ""
    status: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CallReplaced:
    """An INVITE with Replaces (RFC 3891) took over one of our calls: ``call``
    is the new call, answered, in the place of ``replaced_call_id``."""

    call: Any = field(repr=False)
    call_id: str = ""
    replaced_call_id: str = ""
    remote: str = ""


@dataclass(frozen=True, slots=True)
class SipMessageLogged:
    """A SIP message was sent or received (for the ladder view)."""

    direction: str
    transport: str
    local: tuple[str, int]
    remote: tuple[str, int]
    timestamp: float
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class NatStatusChanged:
    """STUN or UPnP learned something (tui_phone.nat.manager): the public address,
    the NAT type, the UPnP gateway ("" without one) and warnings for the user."""

    public_ip: str | None
    public_port: int | None
    nat_type: str
    upnp: str
    warnings: tuple[str, ...] = ()


PhoneEvent = (
    IncomingCall
    | CallStateChanged
    | CallAnswered
    | CallEnded
    | CallHoldChanged
    | RegistrationChanged
    | DtmfReceived
    | SipMessageLogged
    | TransferProgress
    | TransferCompleted
    | TransferFailed
    | CallReplaced
    | NatStatusChanged
)

_EVENT_NAMES = {
    IncomingCall: "incoming_call",
    CallStateChanged: "call_state_changed",
    CallAnswered: "call_answered",
    CallEnded: "call_ended",
    CallHoldChanged: "call_hold_changed",
    RegistrationChanged: "registration_changed",
    DtmfReceived: "dtmf_received",
    SipMessageLogged: "sip_message",
    TransferProgress: "transfer_progress",
    TransferCompleted: "transfer_completed",
    TransferFailed: "transfer_failed",
    CallReplaced: "call_replaced",
    NatStatusChanged: "nat_status_changed",
}


def event_name(event: PhoneEvent) -> str:
    """The snake_case name of an event (``call_ended``)."""
    return _EVENT_NAMES[type(event)]


def event_to_dict(event: PhoneEvent) -> dict[str, Any]:
    """A JSON-ready dict: ``{"event": NAME, ...fields}`` without the call object."""
    result: dict[str, Any] = {"event": event_name(event)}
    for item in fields(event):
        if item.name == "call":
            continue
        value = getattr(event, item.name)
        if isinstance(value, RtpSummary):
            value = rtp_summary_to_dict(value)
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        result[item.name] = value
    return result


__all__ = [
    "CallAnswered",
    "CallEnded",
    "CallHoldChanged",
    "CallReplaced",
    "CallStateChanged",
    "DtmfReceived",
    "IncomingCall",
    "PhoneEvent",
    "RegistrationChanged",
    "RtpSummary",
    "SipMessageLogged",
    "TransferCompleted",
    "TransferFailed",
    "TransferProgress",
    "event_name",
    "event_to_dict",
    "rtp_summary_to_dict",
]
