"""User scripting: hotkeys and event hooks in plain Python files.

A script is a ``*.py`` file in ``$XDG_CONFIG_HOME/tui-phone/scripts`` (or in a
``--scripts DIR``)::

    from tui_phone.scripts import hotkey, on

    @hotkey("f5", description="Call the echo test")
    def call_echo(phone):
        phone.call("echo")

    @on("incoming_call")
    def answer_friends(phone, call):
        if call.remote_user in {"alice", "bob"}:
            call.answer()

See ``the Scripting section of README.md`` for every event, handler signature and call. The
application side is :class:`~tui_phone.scripts.host.ScriptHost` and
:class:`~tui_phone.scripts.loader.ScriptLoader`.
"""

from .api import ScriptApiError, hotkey, on
from .handle import HeadlessUi, ScriptCall, ScriptPhone, UiAdapter

__all__ = ["HeadlessUi", "ScriptApiError", "ScriptCall", "ScriptPhone", "UiAdapter", "hotkey", "on"]
