"""TUI tests: one asyncio loop for the session with Twisted's asyncioreactor on it
(Twisted's reactor cannot be re-installed), and helpers to run pilot bodies on it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pytest


def _install_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor

        found = getattr(reactor, "_asyncioEventloop", None)
        if found is None:
            raise RuntimeError("a non-asyncio Twisted reactor is installed; run tests/tui alone")
        return found  # type: ignore[no-any-return]
    from twisted.internet import asyncioreactor

    asyncioreactor.install(loop)
    return loop


# Installed when this conftest is imported (at collection, before any test runs):
# a unit test that builds an RtpSession without a reactor would otherwise install
# Twisted's default reactor first, and that one cannot be swapped afterwards.
_LOOP = _install_loop()


@pytest.fixture(scope="session")
def loop() -> asyncio.AbstractEventLoop:
    return _LOOP


@pytest.fixture
def run(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """``run(coro)``: run a pilot body on the reactor's loop, bounded to 30 s."""

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(asyncio.wait_for(coro, 30))

    return runner


@pytest.fixture
def reactor(loop: asyncio.AbstractEventLoop) -> Any:
    from twisted.internet import reactor as installed

    return installed
