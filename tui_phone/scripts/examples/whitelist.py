"""Auto-answer calls from a whitelist, and put the echo test on F5.

Calls from anyone else ring as usual.
"""

from tui_phone.scripts import hotkey, on


@hotkey("f5", description="Call the echo test")
def call_echo(phone):
    phone.call("echo")


@on("incoming_call")
def answer_friends(phone, call):
    if call.remote_user in {"alice", "bob"}:
        call.answer()
