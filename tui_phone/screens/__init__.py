"""Modal screens of the TUI: help and a one-line prompt."""
