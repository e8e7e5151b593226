"""Example user scripts. Copy the ones you want into ``~/.config/tui-phone/scripts``
(or run ``tui-phone --scripts`` on this folder); each file says what it does."""
