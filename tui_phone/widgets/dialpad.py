"""The dial input and a compact 3x4 dialpad."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input

KEYS = "123456789*0#"


class Dialpad(Widget):
    """A dial input (number, ``user@host`` or SIP URI, with completion) over 12 keys.

    Enter in the input posts :class:`Dialpad.DialRequested`; a key of the pad
    posts :class:`Dialpad.DigitPressed` (the app types it or sends it as DTMF).
    """

    DEFAULT_CSS = """
    Dialpad {
        height: auto;
        width: 1fr;
    }
    Dialpad #dial-input {
        width: 1fr;
    }
    Dialpad #dialpad-keys {
        grid-size: 3 4;
        grid-gutter: 0 1;
        grid-columns: 5;
        height: 4;
        width: 19;
        margin: 0 1;
    }
    Dialpad #dialpad-keys Button {
        height: 1;
        min-width: 5;
        width: 5;
        border: none;
    }
    """

    class DialRequested(Message):
        """The user asked to dial ``target`` (the text of the input)."""

        def __init__(self, target: str) -> None:
            super().__init__()
            self.target = target

    class DigitPressed(Message):
        """A dialpad key was pressed."""

        def __init__(self, digit: str) -> None:
            super().__init__()
            self.digit = digit

    def __init__(self, *, id: str | None = "dialpad") -> None:
        super().__init__(id=id)
        self._completions: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="number, user@host, sip:URI or echo — Enter dials",
                    id="dial-input", suggester=SuggestFromList([], case_sensitive=False))
        with Grid(id="dialpad-keys"):
            for key in KEYS:
                button = Button(key, id=f"key-{_key_id(key)}", compact=True)
                button.can_focus = False  # the keyboard types digits; the pad is for the mouse
                yield button

    @property
    def input(self) -> Input:
        """The dial input."""
        return self.query_one("#dial-input", Input)

    def set_completions(self, candidates: list[str]) -> None:
        """What the input completes from (contacts, history, ``echo``)."""
        self._completions = list(dict.fromkeys(candidates))
        self.input.suggester = SuggestFromList(self._completions, case_sensitive=False)

    def type(self, text: str) -> None:
        """Append ``text`` to the input."""
        self.input.insert_text_at_cursor(text)

    @on(Input.Submitted, "#dial-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        target = event.value.strip()
        if target:
            self.post_message(self.DialRequested(target))

    @on(Button.Pressed)
    def _key(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.DigitPressed(str(event.button.label)))


def _key_id(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


__all__ = ["Dialpad"]
