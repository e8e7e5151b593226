"""The built-in echo target: a second :class:`~tui_phone.phone.Phone` in echo mode.

It listens on 127.0.0.1 (a free port), answers every call and sends back every
RTP payload it receives, so dialing ``echo`` from the TUI gives a call whose
statistics move within a second, with no network and no sound card.
"""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.defer import Deferred

from .config import parse_config
from .events import IncomingCall, PhoneEvent
from .phone import Phone

ECHO_NAME = "echo"
ECHO_CONFIG = """\
[accounts.echo]
uri = "sip:echo@127.0.0.1"
"""


class EchoService:
    """An answer-and-echo user agent on 127.0.0.1; :attr:`uri` is what ``echo`` dials."""

    def __init__(self, reactor: Any, *, rng: random.Random | None = None) -> None:
        config = parse_config(ECHO_CONFIG)
        self.phone = Phone(config, reactor, audio="null", echo=True, listen=("127.0.0.1", 0),
                           rng=rng)
        self._unsubscribe = self.phone.subscribe(self._on_event)
        self.running = False

    def start(self) -> Deferred[Any]:
        """Listen (no registration); fires once the port is open."""
        done = self.phone.start(register=False)
        self.running = True
        return done

    def stop(self) -> Deferred[None]:
        """Hang up the echo calls and close the port."""
        self.running = False
        self._unsubscribe()
        return self.phone.stop()

    @property
    def uri(self) -> str:
        """``sip:echo@127.0.0.1:PORT``."""
        host, port = self.phone.local_address()
        return f"sip:{ECHO_NAME}@{host}:{port}"

    def _on_event(self, event: PhoneEvent) -> None:
        if isinstance(event, IncomingCall):
            event.call.answer()


__all__ = ["ECHO_NAME", "EchoService"]
