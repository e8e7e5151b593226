"""The asyncio loop the phone runs on, and Twisted's reactor on it.

One place for the set-up that the CLI, the TUI and the test scenarios share:
a fresh asyncio loop whose RTP ticks run on a media thread (see
:mod:`tui_phone.rtp.mediathread`), with Twisted's ``asyncioreactor`` on it.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

from .rtp.mediathread import take_turns


def new_loop() -> asyncio.AbstractEventLoop:
    """A fresh asyncio loop; call it on the thread that will run the loop."""
    loop = asyncio.new_event_loop()
    take_turns(loop)
    return loop


def install_reactor(loop: asyncio.AbstractEventLoop | None = None) -> Any:
    """Twisted's asyncioreactor on ``loop`` (default: :func:`new_loop`), installed
    once per process; returns the reactor."""
    if "twisted.internet.reactor" not in sys.modules:
        from twisted.internet import asyncioreactor

        asyncioreactor.install(new_loop() if loop is None else loop)
    from twisted.internet import reactor

    return reactor


def settle_heap() -> None:
    """Collect, then freeze what start-up made (``gc.freeze``); call it once the
    phone is built and serving.

    Why: a full collection walks every object in the process, and after the
    imports of start-up (Twisted, the SIP and RTP stacks, Textual) that is a
    pause of tens of milliseconds, on whichever thread happens to allocate,
    the media thread's tick included: a frame of every call goes late. Objects
    made at start-up live as long as the process; frozen, no collection walks
    them again, and a full collection only walks what calls made since.
    """
    gc.collect()
    gc.freeze()
