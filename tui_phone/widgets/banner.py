"""A one-line banner for a flow under way (the attended transfer); hidden when empty."""

from __future__ import annotations

from textual.widgets import Static


class Banner(Static):
    """Shows one line of guidance; takes no room while it has nothing to say."""

    DEFAULT_CSS = """
    Banner {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $warning 30%;
        color: $text;
        text-style: bold;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = "banner") -> None:
        super().__init__("", id=id, markup=False)
        self.text = ""

    def show(self, text: str) -> None:
        """Show ``text`` ("" hides the banner)."""
        self.text = text
        self.update(text)
        self.display = bool(text)


__all__ = ["Banner"]
