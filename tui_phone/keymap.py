"""The TUI's actions: name, default key and description (the help screen and the
command palette list them; ``[keys]`` in the config rebinds them by name)."""

from __future__ import annotations

# (action, default key, description): every action the app binds; [keys] in the
# config maps an action to another key (Textual keymap, binding id = action).
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("help", "f1", "Help: every key"),
    ("answer", "f2", "Answer the ringing call"),
    ("reject", "f3", "Reject the ringing call"),
    ("hangup", "f4", "Hang up the selected call"),
    ("hold", "f5", "Hold / resume the selected call"),
    ("mute", "f6", "Mute / unmute the microphone"),
    ("record", "f7", "Record the selected call to WAV"),
    ("transfer", "f8", "Blind transfer (asks for the target)"),
    ("attended_transfer", "f9", "Attended transfer: consult / complete"),
    ("abort_transfer", "escape", "Abort the attended transfer"),
    ("conference", "f10", "Conference the calls / split"),
    ("switch_account", "f11", "Switch account"),
    ("dtmf", "f12", "DTMF: focus the call list (digits typed there are DTMF)"),
    ("dial", "ctrl+g", "Dial what the input holds / focus it"),
    ("redial", "ctrl+r", "Redial the last number"),
    ("next_call", "ctrl+n", "Select the next call"),
    ("previous_call", "ctrl+o", "Select the previous call"),
    ("ladder", "ctrl+l", "Show / hide the SIP ladder"),
    ("stats", "ctrl+t", "Show / hide the RTP stats"),
    ("theme", "ctrl+y", "Next theme"),
    ("reload_scripts", "ctrl+f", "Reload the scripts"),
    ("doctor", "ctrl+d", "Doctor: check the set-up"),
    ("quit", "ctrl+q", "Quit (hang up, un-register)"),
)
FOOTER_ACTIONS = frozenset({"help", "answer", "hangup", "hold", "ladder", "quit"})
# Bindings that work whatever has focus (an Input would otherwise eat ctrl+r / ctrl+g ...).
PRIORITY_ACTIONS = frozenset({"quit", "help", "dial", "redial", "ladder", "stats", "theme",
                              "next_call", "previous_call", "reload_scripts", "doctor"})


__all__ = ["ACTIONS", "FOOTER_ACTIONS", "PRIORITY_ACTIONS"]
