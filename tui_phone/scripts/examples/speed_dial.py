"""Speed-dial keys: F6, F7 and F8 call the numbers below.

A bare name ("echo") is called at the default account's domain.
"""

from tui_phone.scripts import hotkey

SPEED_DIAL = {
    "f6": ("Alice", "sip:alice@example.com"),
    "f7": ("Bob", "sip:bob@example.com"),
    "f8": ("the echo test", "echo"),
}


def dialer(uri):
    def dial(phone):
        phone.call(uri)

    return dial


for key, (name, uri) in SPEED_DIAL.items():
    hotkey(key, description=f"Call {name}")(dialer(uri))
