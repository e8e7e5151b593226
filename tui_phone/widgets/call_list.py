"""The call list: one line per call with state, remote party, duration, codec and flags."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

DTMF_KEYS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True, slots=True)
class CallRow:
    """What the list shows for one call."""

    call_id: str
    state: str
    remote: str
    duration_s: float
    codec: str | None
    flags: str = ""


class CallList(DataTable[str]):
    """The calls; the cursor row is the selected call. Digits typed here are DTMF."""

    DEFAULT_CSS = """
    CallList {
        height: auto;
        max-height: 7;
        min-height: 3;
    }
    """

    class DtmfTyped(Message):
        """A DTMF key was typed while the list had focus."""

        def __init__(self, digit: str) -> None:
            super().__init__()
            self.digit = digit

    def __init__(self, *, id: str | None = "call-list") -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, CallRow] = {}

    def on_mount(self) -> None:
        for label, key in (("state", "state"), ("remote", "remote"), ("time", "time"),
                           ("codec", "codec"), ("flags", "flags")):
            self.add_column(label, key=key)

    @property
    def selected_id(self) -> str | None:
        """The Call-ID under the cursor (None: no calls)."""
        if not self._rows or self.row_count == 0:
            return None
        row = min(max(self.cursor_row, 0), self.row_count - 1)
        key = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key
        return key.value

    def show(self, rows: list[CallRow]) -> None:
        """Show exactly ``rows`` (updating cells in place, so the cursor stays put)."""
        wanted = {row.call_id: row for row in rows}
        for call_id in list(self._rows):
            if call_id not in wanted:
                self.remove_row(call_id)
                del self._rows[call_id]
        for row in rows:
            cells = (row.state, row.remote, _duration(row.duration_s), row.codec or "-", row.flags)
            if row.call_id in self._rows:
                if self._rows[row.call_id] != row:
                    for key, value in zip(("state", "remote", "time", "codec", "flags"), cells,
                                          strict=True):
                        self.update_cell(row.call_id, key, value)
            else:
                self.add_row(*cells, key=row.call_id)
            self._rows[row.call_id] = row

    def select(self, call_id: str) -> None:
        """Move the cursor to ``call_id``."""
        if call_id in self._rows:
            self.move_cursor(row=self.get_row_index(call_id))

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character.upper() in DTMF_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.DtmfTyped(event.character.upper()))


def _duration(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}" if whole < 3600 else \
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


__all__ = ["CallList", "CallRow"]
