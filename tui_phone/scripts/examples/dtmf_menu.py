"""A DTMF menu: answer every call, then act on the digits the caller presses.

1: play the greeting (or tell you, where calls cannot play files yet)
2: transfer to the operator ($TUI_PHONE_OPERATOR, default "operator")
3: hang up
Other digits are shown as notifications.
"""

import os

from tui_phone.scripts import on

GREETING = os.environ.get("TUI_PHONE_GREETING", "greeting.wav")
OPERATOR = os.environ.get("TUI_PHONE_OPERATOR", "operator")


@on("incoming_call")
def answer_into_menu(phone, call):
    call.data["dtmf_menu"] = True
    call.answer()
    phone.notify(f"{call.remote_user or call.remote} is in the menu")


def operator_uri(phone):
    if "@" in OPERATOR or ":" in OPERATOR:
        return OPERATOR
    aor = phone.account().aor
    port = f":{aor.port}" if aor.port else ""
    return f"sip:{OPERATOR}@{aor.host}{port}"


@on("dtmf")
def menu(phone, call, digit):
    if not call.data.get("dtmf_menu"):
        return
    who = call.remote_user or call.remote
    if digit == "1":
        if call.can("play"):
            call.play(GREETING)
        else:
            phone.notify(f"{who} pressed 1: cannot play {GREETING} (no Call.play yet)")
    elif digit == "2":
        if call.can("transfer"):
            call.transfer(operator_uri(phone))
            phone.notify(f"{who} transferred to the operator")
        else:
            phone.notify(f"{who} pressed 2: cannot transfer (no Call.transfer yet)")
    elif digit == "3":
        call.hangup()
    else:
        phone.notify(f"{who} pressed {digit}")
