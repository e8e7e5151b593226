"""Answering machine: answer every call, play a greeting, record the caller, hang up.

The caller is recorded into $TUI_PHONE_MESSAGES (default
~/.local/share/tui-phone/messages) as a stereo WAV (left: what we sent,
right: the caller), and the call ends after MAX_MESSAGE seconds.

The greeting is $TUI_PHONE_GREETING. Playing a file into one call needs
``Call.play``; where this tui-phone version lacks it, run the phone with the
greeting as its audio source instead (``tui-phone answer --play greeting.wav
--scripts DIR``) and the script says so on each call.
"""

import os
import re
from datetime import datetime
from pathlib import Path

from tui_phone.scripts import on

MAX_MESSAGE = float(os.environ.get("TUI_PHONE_MAX_MESSAGE", "30"))
GREETING = Path(os.environ.get("TUI_PHONE_GREETING", "greeting.wav")).expanduser()


def messages_dir():
    default = Path.home() / ".local" / "share" / "tui-phone" / "messages"
    return Path(os.environ.get("TUI_PHONE_MESSAGES", default)).expanduser()


# Async and long: it lives as long as the message, so its timeout is raised to match.
@on("incoming_call", timeout=MAX_MESSAGE + 10)
async def take_message(phone, call):
    folder = messages_dir()
    folder.mkdir(parents=True, exist_ok=True)
    who = re.sub(r"[^\w.+-]", "_", call.remote_user or "unknown")
    path = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{who}.wav"
    call.record(str(path))
    call.answer()
    if call.can("play"):
        call.play(str(GREETING))
    else:
        phone.notify("this tui-phone cannot play a file into one call (no Call.play): "
                     "start it with --play GREETING.wav to greet callers")
    await phone.sleep(MAX_MESSAGE)
    if call.state != "ended":
        call.hangup()
    phone.notify(f"message from {who}: {path}")
