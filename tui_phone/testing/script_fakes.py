"""Fakes for testing the scripting layer without a network: a Phone, its Calls, a UI.

They implement just what :class:`~tui_phone.scripts.host.ScriptHost` and the
example scripts use, record what was done to them (``actions``), and emit the
same events a real Phone would (``answer`` emits ``CallAnswered``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from ..events import (
    CallAnswered,
    CallEnded,
    DtmfReceived,
    IncomingCall,
    PhoneEvent,
    RtpSummary,
)
from ..sip.uri import SipUri


@dataclass
class FakeAccount:
    """An account: a name and an address of record."""

    name: str = "me"
    aor: SipUri = field(default_factory=lambda: SipUri(host="example.com", user="me"))


@dataclass
class FakeConfig:
    """The part of a Config the script handle reads."""

    accounts: dict[str, FakeAccount] = field(default_factory=lambda: {"me": FakeAccount()})


class FakeCall:
    """A call that records what scripts do to it."""

    def __init__(self, phone: FakePhone, remote: str, *, outgoing: bool = False,
                 call_id: str = "call-1") -> None:
        self.phone = phone
        self.remote = remote
        self.outgoing = outgoing
        self.call_id = call_id
        self.state = "calling" if outgoing else "incoming"
        self.actions: list[tuple[Any, ...]] = []

    def answer(self) -> None:
        if self.state != "incoming":
            raise RuntimeError(f"cannot answer a call that is {self.state}")
        self.actions.append(("answer",))
        self.state = "connected"
        self.phone.emit(CallAnswered(self, self.call_id, self.remote, "PCMU"))

    def reject(self, status: int = 486, reason: str | None = None) -> None:
        self.actions.append(("reject", status, reason))
        self.end(status, reason or "", "local")

    def hangup(self) -> None:
        self.actions.append(("hangup",))
        self.end(200, "OK", "local")

    def record(self, path: str) -> None:
        self.actions.append(("record", path))

    def send_dtmf(self, digits: str) -> None:
        self.actions.append(("send_dtmf", digits))

    def end(self, status: int, reason: str, by: str) -> None:
        if self.state == "ended":
            return
        answered = self.state == "connected"
        self.state = "ended"
        if self in self.phone.calls:
            self.phone.calls.remove(self)
        self.phone.emit(CallEnded(self, self.call_id, self.remote, status, reason,
                                  12.5 if answered else 0.0, "PCMU" if answered else None,
                                  RtpSummary(loss_pct=0.5, jitter_ms=1.25, mos=4.3),
                                  answered, by))

    def __repr__(self) -> str:
        return f"<FakeCall {self.call_id} {self.state} {self.remote}>"


class TransferableCall(FakeCall):
    """A call of a tui-phone that can transfer, redirect and play files."""

    def transfer(self, target: str) -> None:
        self.actions.append(("transfer", target))

    def redirect(self, target: str) -> None:
        self.actions.append(("redirect", target))
        self.end(302, "Moved Temporarily", "local")

    def play(self, path: str) -> None:
        self.actions.append(("play", path))


class FakePhone:
    """A Phone with no network: ``ring`` makes an incoming call, ``call`` an outgoing one."""

    def __init__(self, reactor: Any = None, call_class: type[FakeCall] = FakeCall) -> None:
        self.reactor = reactor if reactor is not None else Clock()
        self.config = FakeConfig()
        self.calls: list[FakeCall] = []
        self.registrations: dict[str, Any] = {}
        self.dnd = False
        self.placed: list[tuple[str, str | None]] = []
        self.call_class = call_class
        self._subscribers: list[Callable[[PhoneEvent], None]] = []
        self._ids = 0

    def subscribe(self, callback: Callable[[PhoneEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def emit(self, event: PhoneEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def account(self, name: str | None = None) -> FakeAccount:
        return self.config.accounts[name or next(iter(self.config.accounts))]

    def _next_id(self) -> str:
        self._ids += 1
        return f"call-{self._ids}"

    def call(self, uri: str, account: str | None = None) -> FakeCall:
        self.placed.append((uri, account))
        call = self.call_class(self, uri, outgoing=True, call_id=self._next_id())
        self.calls.append(call)
        return call

    def ring(self, remote: str) -> FakeCall:
        """An INVITE from ``remote`` arrives."""
        call = self.call_class(self, remote, call_id=self._next_id())
        self.calls.append(call)
        self.emit(IncomingCall(call, call.call_id, remote, "me"))
        return call

    def dtmf(self, call: FakeCall, digit: str) -> None:
        self.emit(DtmfReceived(call, call.call_id, digit, "rfc4733"))

    def register(self, name: str) -> Deferred[Any]:
        return succeed(None)

    def unregister(self, name: str) -> Deferred[Any]:
        return succeed(None)


class FakeUi:
    """A UI adapter that keeps the notifications and answers prompts from a list."""

    def __init__(self, answers: list[str | None] | None = None) -> None:
        self.notes: list[tuple[str, str]] = []
        self.questions: list[tuple[str, str]] = []
        self.answers = list(answers or [])
        self.pending: Deferred[str | None] | None = None

    def notify(self, script: str, text: str) -> None:
        self.notes.append((script, text))

    def prompt(self, script: str, question: str) -> Deferred[str | None]:
        self.questions.append((script, question))
        if self.answers:
            return succeed(self.answers.pop(0))
        self.pending = Deferred()
        return self.pending


__all__ = ["FakeAccount", "FakeCall", "FakeConfig", "FakePhone", "FakeUi", "TransferableCall"]
