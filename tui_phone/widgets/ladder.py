"""The SIP ladder: every message sent and received as an arrow between us and a peer.

Selecting an arrow shows the whole message, with the credentials of
Authorization and Proxy-Authorization headers redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

MAX_ENTRIES = 500
_CREDENTIALS = re.compile(r"^((?:Proxy-)?Authorization[ \t]*:[ \t]*)(\S+)?.*$",
                          re.IGNORECASE | re.MULTILINE)


def redact(text: str) -> str:
    """``text`` with every Authorization/Proxy-Authorization value replaced by the
    scheme and ``<redacted>`` (the digest response and nonce must not leak on screen)."""
    return _CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} <redacted>", text)


@dataclass(frozen=True, slots=True)
class LadderEntry:
    """One SIP message as the ladder needs it."""

    direction: str  # "sent" or "received"
    local: tuple[str, int]
    remote: tuple[str, int]
    timestamp: float
    data: bytes


def summary(data: bytes) -> str:
    """``INVITE`` for a request, ``180 Ringing`` for a response."""
    first = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    if first.startswith("SIP/"):
        return first.split(" ", 1)[1] if " " in first else first
    return first.split(" ", 1)[0]


def arrow(entry: LadderEntry, delta: float, width: int = 20) -> str:
    """``+0.012  us ──INVITE──▶ 127.0.0.1:5070`` (or ◀── for a received one)."""
    label = summary(entry.data)[:width - 4]
    peer = f"{entry.remote[0]}:{entry.remote[1]}"
    pad = width - len(label) - 2
    left, right = "─" * (pad // 2), "─" * (pad - pad // 2)
    line = f"{left}{label}{right}▶" if entry.direction == "sent" else f"◀{left}{label}{right}"
    return f"+{delta:7.3f}  us {line} {peer}"


class Ladder(Widget):
    """Arrows on top, the selected message's text below."""

    DEFAULT_CSS = """
    Ladder {
        height: 1fr;
        border: round $secondary;
        border-title-color: $text;
    }
    Ladder #ladder-list {
        height: 1fr;
        min-height: 3;
        border: none;
    }
    Ladder #ladder-detail-scroll {
        height: 1fr;
        border-top: solid $secondary;
    }
    """

    def __init__(self, *, id: str | None = "ladder") -> None:
        super().__init__(id=id)
        self.border_title = "SIP ladder"
        self.entries: list[LadderEntry] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="ladder-list")
        with VerticalScroll(id="ladder-detail-scroll"):
            yield Static("select a message to see it", id="ladder-detail", markup=False)

    def add(self, entry: LadderEntry) -> None:
        """Append a message (the oldest go beyond :data:`MAX_ENTRIES`)."""
        previous = self.entries[-1].timestamp if self.entries else entry.timestamp
        self.entries.append(entry)
        options = self.query_one("#ladder-list", OptionList)
        options.add_option(Option(arrow(entry, entry.timestamp - previous)))
        if len(self.entries) > MAX_ENTRIES:
            self.entries.pop(0)
            options.remove_option_at_index(0)
        if options.highlighted is None or options.highlighted >= options.option_count - 2:
            options.highlighted = options.option_count - 1

    def show_message(self, index: int) -> None:
        """Show the full (redacted) text of entry ``index``."""
        if 0 <= index < len(self.entries):
            text = self.entries[index].data.decode("utf-8", "replace").replace("\r\n", "\n")
            self.query_one("#ladder-detail", Static).update(redact(text))

    @on(OptionList.OptionHighlighted, "#ladder-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_message(event.option_index)


__all__ = ["Ladder", "LadderEntry", "arrow", "redact", "summary"]
