"""tui-phone: a keyboard-driven SIP softphone for the terminal."""

__version__ = "0.1.0"
