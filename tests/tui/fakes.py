"""A fake Phone and Call with fixed ids, times and statistics, for stable snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_phone.config import parse_config
from tui_phone.events import (
    CallAnswered,
    CallStateChanged,
    RtpSummary,
    SipMessageLogged,
)

LOCAL = ("127.0.0.1", 5060)
PEER = ("127.0.0.1", 5070)

INVITE = (
    b"INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-fixed-1\r\n"
    b"From: <sip:alice@127.0.0.1>;tag=fixed-tag\r\nTo: <sip:bob@127.0.0.1:5070>\r\n"
    b"Call-ID: fixed-call-1\r\nCSeq: 2 INVITE\r\n"
    b'Authorization: Digest username="alice", realm="example", nonce="abc", response="secret"\r\n'
    b"Content-Length: 0\r\n\r\n"
)
LADDER = [
    ("sent", 100.000, INVITE),
    ("received", 100.004, b"SIP/2.0 100 Trying\r\nCall-ID: fixed-call-1\r\n\r\n"),
    ("received", 100.010, b"SIP/2.0 180 Ringing\r\nCall-ID: fixed-call-1\r\n\r\n"),
    ("received", 100.512, b"SIP/2.0 200 OK\r\nCall-ID: fixed-call-1\r\n\r\n"),
    ("sent", 100.513, b"ACK sip:bob@127.0.0.1:5070 SIP/2.0\r\nCall-ID: fixed-call-1\r\n\r\n"),
    ("sent", 100.513, INVITE),
]


@dataclass
class FakeCall:
    """The attributes and methods of tui_phone.call.Call the app uses."""

    phone: Any
    call_id: str
    remote: str
    state: str = "calling"
    outgoing: bool = True
    codec: str | None = "PCMU"
    duration: float = 83.0
    on_hold: bool = False
    remote_hold: bool = False
    summary: RtpSummary = field(default_factory=lambda: RtpSummary(
        tx_packets=4150, rx_packets=4147, rx_lost=3, loss_pct=0.072, jitter_ms=2.4,
        max_jitter_ms=6.1, rtt_ms=12.0, mos=4.38))

    def stats(self) -> RtpSummary:
        return self.summary

    def answer(self) -> None:
        self.connect()

    def connect(self) -> None:
        old, self.state = self.state, "connected"
        self.phone.emit(CallStateChanged(self, self.call_id, old, "connected"))
        self.phone.emit(CallAnswered(self, self.call_id, self.remote, self.codec))

    def hold(self) -> None:
        self.on_hold = True

    def resume(self) -> None:
        self.on_hold = False

    def hangup(self) -> None:
        self.state = "ended"

    def reject(self, status: int = 486) -> None:
        self.state = "ended"

    def mute(self, on: bool = True) -> None:
        pass

    def send_dtmf(self, digits: str) -> None:
        pass

    def transfer(self, uri: str) -> None:
        self.transferred_to = uri

    def transfer_to(self, other: FakeCall) -> None:
        self.transferred_to = other.remote


@dataclass
class FakeConference:
    """Phone.conference's result: the calls, until split."""

    calls: list[FakeCall]
    active: bool = True

    def split(self, active: FakeCall | None = None) -> list[FakeCall]:
        calls, self.calls, self.active = self.calls, [], False
        live = active if active in calls else calls[0]
        for call in calls:
            call.on_hold = call is not live
        return calls


class FakePhone:
    """Phone API subset: account, subscribe, start, stop, call, conference, local_address,
    config."""

    def __init__(self) -> None:
        self.config = parse_config('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\n')
        self.subscribers: list[Any] = []
        self.calls: list[FakeCall] = []

    def account(self, name: str | None = None) -> Any:
        return self.config.account(name)

    def subscribe(self, callback: Any) -> Any:
        self.subscribers.append(callback)
        return lambda: self.subscribers.remove(callback)

    def emit(self, event: Any) -> None:
        for callback in list(self.subscribers):
            callback(event)

    def start(self, **_: Any) -> None:
        return None

    def stop(self) -> None:
        return None

    def local_address(self, transport: str = "UDP") -> tuple[str, int]:
        return LOCAL

    def call(self, uri: str, account: str | None = None) -> FakeCall:
        call = FakeCall(self, f"fixed-call-{len(self.calls) + 1}", uri)
        self.calls.append(call)
        return call

    def conference(self, calls: list[FakeCall]) -> FakeConference:
        for call in calls:
            call.on_hold = False
        return FakeConference(list(calls))

    def log_ladder(self) -> None:
        for direction, when, data in LADDER:
            self.emit(SipMessageLogged(direction, "UDP", LOCAL, PEER, when, data))
