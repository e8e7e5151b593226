"""The status bar: account and registration, audio backend, listening address, NAT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class PhoneStatus:
    """What the status bar shows."""

    account: str = ""
    registration: str = "not registered"
    audio: str = "audio: ?"
    listening: str = ""
    nat: str = "nat: off"
    note: str = ""


class StatusBar(Static):
    """One or two lines at the bottom: who we are and how we are reachable."""

    DEFAULT_CSS = """
    StatusBar {
        height: auto;
        max-height: 2;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = "status-bar") -> None:
        super().__init__("", id=id)
        self.status = PhoneStatus()

    def show(self, status: PhoneStatus) -> None:
        """Replace what the bar shows."""
        self.status = status
        parts = [f"{status.account}: {status.registration}", status.audio,
                 f"listening {status.listening}", status.nat]
        if status.note:
            parts.append(status.note)
        self.update("  │  ".join(part for part in parts if part))


__all__ = ["PhoneStatus", "StatusBar"]


def nat_status_line(event: Any) -> str:
    """The status bar's NAT part: public address, NAT type, UPnP gateway."""
    parts = [event.nat_type]
    if event.public_ip:
        parts.append(f"public {event.public_ip}:{event.public_port}")
    if event.upnp:
        parts.append(f"upnp {event.upnp}")
    return "nat: " + ", ".join(parts)
