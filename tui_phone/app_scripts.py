"""User scripts in the TUI: the :class:`~tui_phone.scripts.host.ScriptHost` on the app's phone.

Scripts are loaded and attached once the phone is built. A script's hotkey
runs through ``host.run_hotkey``; it takes its key from the app's *default*
binding of that key (the user wrote the script, so it is the more specific
wish: ``@hotkey("f5")`` works as written, and F5's default action is then
reachable from the palette or by a key set in ``[keys]``), but a key the user
set in ``[keys]``, or one Textual itself needs, stays the app's; both cases
are reported when the scripts load. The reload key (``reload_scripts``,
ctrl+f) reads every file again; a script's error is an error toast
(``TextualScriptUi.notify_error``); quitting detaches the host before the
phone stops.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import events

log = logging.getLogger(__name__)

# Keys Textual itself uses whatever the app binds (command palette, copy, focus).
TEXTUAL_KEYS = frozenset({"ctrl+p", "ctrl+c", "tab", "shift+tab"})


class ScriptsMixin:
    """The scripting part of :class:`~tui_phone.app.PhoneApp`.

    ``script_dirs`` None: no scripting at all (tests, embedding); a sequence (the
    ``--scripts`` folders, maybe empty): load those and, with ``user_scripts``,
    the default folder ``$XDG_CONFIG_HOME/tui-phone/scripts``.
    """

    script_host: Any
    script_keys: dict[str, str]

    def _init_scripts(self, script_dirs: Sequence[Path | str] | None, user_scripts: bool) -> None:
        self._script_dirs = None if script_dirs is None else tuple(script_dirs)
        self._user_scripts = user_scripts
        self.script_host = None
        self.script_keys = {}

    def _start_scripts(self) -> None:
        """Load the scripts and attach them to the phone (the app calls this once)."""
        if self._script_dirs is None or self.script_host is not None:
            return
        from .scripts.host import ScriptHost
        from .scripts.loader import ScriptLoader
        from .scripts.textual_ui import TextualScriptUi

        app: Any = self
        ui = TextualScriptUi(app)
        loader = ScriptLoader(self._script_dirs, include_default=self._user_scripts)
        self.script_host = ScriptHost(app.phone, loader, ui=ui, on_error=ui.notify_error,
                                      on_warning=self._script_warning)
        self._load_scripts()
        self.script_host.attach()

    def _load_scripts(self) -> None:
        app: Any = self
        result = self.script_host.load()
        kept = {key: action for action, key in app.configured_keys.items()}
        kept.update({key: "Textual" for key in TEXTUAL_KEYS})
        self.script_keys = {}
        for hotkey in self.script_host.hotkeys():
            label = hotkey.description or "hotkey"
            if hotkey.key in kept:
                app.notify(f"key {hotkey.key} is set to {kept[hotkey.key]} in [keys]; the "
                           f"script's {label} will not run",
                           title=f"script {hotkey.script}", severity="warning", timeout=8)
                continue
            action = next((a for a, k in app.keys.items() if k == hotkey.key), None)
            if action is not None:
                app.notify(f"key {hotkey.key} now runs the script's {label} instead of "
                           f"{action} (palette, or set it in [keys])",
                           title=f"script {hotkey.script}", timeout=6)
            self.script_keys[hotkey.key] = hotkey.script
        names = ", ".join(script.name for script in result.scripts)
        log.info("scripts: %s; keys: %s", names or "none", ", ".join(self.script_keys) or "none")

    def _script_warning(self, script: str, text: str) -> None:
        app: Any = self
        app.notify(text.strip(), title=f"script {script}", severity="warning", timeout=6)

    def action_reload_scripts(self) -> None:
        """Read every script again (the reload key)."""
        app: Any = self
        if self.script_host is None:
            app.notify("no scripts (start with --scripts DIR)" if self._script_dirs is None
                       else "the phone is still starting", severity="warning", timeout=4)
            return
        self._load_scripts()
        count = len(self.script_host.scripts)
        app.notify(f"{count} script{'s' if count != 1 else ''} loaded", title="Scripts", timeout=3)

    def on_key(self, event: events.Key) -> None:
        # The app's on_key runs before its bindings: preventing the default
        # keeps the binding the script took its key from from running too.
        if event.key in self.script_keys and self.script_host is not None:
            event.stop()
            event.prevent_default()
            self.script_host.run_hotkey(event.key)

    def _stop_scripts(self) -> None:
        if self.script_host is not None:
            self.script_host.detach()


__all__ = ["TEXTUAL_KEYS", "ScriptsMixin"]
