"""The doctor panel: the same checks as ``tui-phone doctor``, for the running phone."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red", "off": "dim"}


class DoctorScreen(ModalScreen[None]):
    """A table of ``status  check  detail``; escape closes it."""

    DEFAULT_CSS = """
    DoctorScreen {
        align: center middle;
    }
    DoctorScreen #doctor-box {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    DoctorScreen #doctor-table {
        height: auto;
        max-height: 24;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, report: Any) -> None:
        super().__init__(id="doctor-screen")
        self.report = report

    def compose(self) -> ComposeResult:
        with Vertical(id="doctor-box"):
            verdict = "all checks passed" if self.report.ok else "some checks failed"
            yield Static(f"[b]tui-phone doctor[/b]: {verdict}  (escape closes)")
            table: DataTable[str] = DataTable(id="doctor-table", cursor_type="row")
            table.add_columns("status", "check", "detail")
            for check in self.report.checks:
                style = _STYLE.get(check.status, "")
                table.add_row(f"[{style}]{check.status.upper()}[/]", check.name, check.detail)
            yield table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


__all__ = ["DoctorScreen"]
