"""Do not disturb at night, and F9 to toggle do-not-disturb by hand.

Between QUIET_FROM and QUIET_UNTIL (local time) incoming calls are refused
with 480 Temporarily Unavailable. F9 switches the phone's own do-not-disturb
(every call refused with 486 before it rings) on and off.
"""

from datetime import datetime, time

from tui_phone.scripts import hotkey, on

QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(7, 0)


def is_quiet(moment: time) -> bool:
    """True inside the quiet hours (the window may wrap past midnight)."""
    if QUIET_FROM <= QUIET_UNTIL:
        return QUIET_FROM <= moment < QUIET_UNTIL
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def now() -> time:
    return datetime.now().time()


@on("incoming_call")
def quiet_hours(phone, call):
    if call.state == "incoming" and is_quiet(now()):
        call.reject(480, "Do Not Disturb")
        phone.notify(f"quiet hours: refused a call from {call.remote_user or call.remote}")


@hotkey("f9", description="Toggle do not disturb")
def toggle_dnd(phone):
    phone.dnd = not phone.dnd
    phone.notify("do not disturb is " + ("on" if phone.dnd else "off"))
