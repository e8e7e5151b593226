"""The help screen: every action and the key bound to it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    """A table of ``key  action  description``; escape or the help key closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-box {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-table {
        height: auto;
        max-height: 26;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close help")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__(id="help-screen")
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("[b]tui-phone keys[/b]  (escape closes; ctrl+p opens the command palette)")
            table: DataTable[str] = DataTable(id="help-table", cursor_type="row")
            table.add_columns("key", "action", "what it does")
            for key, action, description in self.rows:
                table.add_row(key, action, description)
            yield table
            yield Static("In the call list, 0-9 * # send DTMF to the selected call.")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


__all__ = ["HelpScreen"]
