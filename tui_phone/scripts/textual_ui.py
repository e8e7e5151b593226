"""The UI adapter scripts use inside the Textual app.

``notify`` is a toast titled with the script's name; ``prompt`` opens the
app's :class:`~tui_phone.screens.prompt.PromptScreen` and fires with the answer
(None on escape; the screen is closed if the handler is cancelled meanwhile);
``place_call`` dials through the app (``app.dial``), so that a script's call
resolves contacts and ``echo`` like the dial field and shows in the call list.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from ..screens.prompt import PromptScreen

NOTIFY_S = 6.0  # seconds a script's notification stays up


class ScriptDialError(Exception):
    """The app could not place the call a script asked for (it told the user why)."""


class TextualScriptUi:
    """A :class:`~tui_phone.scripts.handle.UiAdapter` on a :class:`~tui_phone.app.PhoneApp`.

    ``app`` needs ``notify``, ``push_screen``, ``pop_screen``, ``screen`` and
    ``dial(text) -> Call | None``.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def notify(self, script: str, text: str) -> None:
        """A toast titled with the script's name."""
        self.app.notify(text, title=script, timeout=NOTIFY_S)

    def notify_error(self, script: str, text: str) -> None:
        """A script failed: the last line of its traceback, as an error toast.

        Usable directly as the ScriptHost's ``on_error`` (the full text is logged).
        """
        lines = [line for line in text.strip().splitlines() if line.strip()]
        self.app.notify(lines[-1] if lines else "failed", title=f"script {script}",
                        severity="error", timeout=10)

    def prompt(self, script: str, question: str) -> Deferred[str | None]:
        """Ask in a modal prompt; None when the user presses escape."""
        screen = PromptScreen(question, f"{script}: enter to answer, escape to skip")

        def close(_: Deferred[str | None]) -> None:
            if self.app.screen is screen:
                self.app.pop_screen()

        answer: Deferred[str | None] = Deferred(close)

        def chosen(value: str | None) -> None:
            if not answer.called:
                answer.callback(value)

        self.app.push_screen(screen, chosen)
        return answer

    def place_call(self, script: str, uri: str, account: str | None) -> Any:
        """Dial ``uri`` as the dial field would; raises if the app could not."""
        call = self.app.dial(uri)
        if call is None:
            raise ScriptDialError(f"could not call {uri!r}")
        return call


__all__ = ["NOTIFY_S", "ScriptDialError", "TextualScriptUi"]
