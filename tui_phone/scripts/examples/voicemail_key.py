"""F4 sends the current call to voicemail by a blind transfer.

A ringing call is redirected (302) when the phone can, else answered and
transferred; a connected call is transferred (REFER, RFC 3515). This needs
``Call.transfer`` (and ``Call.redirect`` for ringing calls): where this
tui-phone version lacks them the script says so when it loads, and the key
tells you instead of doing anything.
"""

import logging
import os

from tui_phone.call import Call
from tui_phone.scripts import hotkey

VOICEMAIL = os.environ.get("TUI_PHONE_VOICEMAIL", "voicemail")

log = logging.getLogger("tui_phone.scripts.user.voicemail_key")
if not hasattr(Call, "transfer"):
    log.warning("voicemail_key: this tui-phone cannot transfer calls yet (no Call.transfer); "
                "F4 will only say so")


def voicemail_uri(phone):
    if "@" in VOICEMAIL or ":" in VOICEMAIL:
        return VOICEMAIL
    aor = phone.account().aor
    port = f":{aor.port}" if aor.port else ""
    return f"sip:{VOICEMAIL}@{aor.host}{port}"


@hotkey("f4", description="Send the call to voicemail")
def send_to_voicemail(phone):
    calls = [c for c in phone.calls if c.state in ("incoming", "connected")]
    if not calls:
        phone.notify("no call to send to voicemail")
        return
    call = next((c for c in calls if c.state == "incoming"), calls[0])
    target = voicemail_uri(phone)
    if call.state == "incoming" and call.can("redirect"):
        call.redirect(target)
    elif not call.can("transfer"):
        phone.notify("cannot send to voicemail: this tui-phone has no blind transfer yet "
                     "(Call.transfer is missing)")
        return
    else:
        if call.state == "incoming":
            call.answer()
        call.transfer(target)
    phone.notify(f"sent {call.remote_user or call.remote} to {target}")
