"""Running transport scenarios on a real reactor, each in its own interpreter.

Twisted's global reactor cannot be restarted, so every real-network scenario
runs in a subprocess: ``run_scenario(name, args)`` starts
``python -m tui_phone.testing.transport_scenarios NAME ARGS --reactor KIND``,
which runs the scenario under ``twisted.internet.task.react`` and prints one
JSON object on its last stdout line. The asyncio reactor is the default,
because production runs Twisted on the asyncio loop.

Also here: :class:`Inbox` (messages a layer received, awaited with a
timeout) and :func:`sip_request` (a request as bytes, for tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tui_phone

REACTORS = ("asyncio", "default")


class ScenarioError(AssertionError):
    """A scenario subprocess failed, timed out or printed no JSON."""


def run_scenario(
    name: str,
    args: dict[str, Any] | None = None,
    *,
    reactor: str = "asyncio",
    timeout: float = 60.0,
    module: str = "tui_phone.testing.transport_scenarios",
) -> dict[str, Any]:
    """Run scenario ``name`` of ``module`` in a fresh interpreter; return its JSON result."""
    if reactor not in REACTORS:
        raise ValueError(f"unknown reactor {reactor!r}")
    root = Path(tui_phone.__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", module,
        name, json.dumps(args or {}), "--reactor", reactor,
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, cwd=root,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else error.stderr
        raise ScenarioError(f"scenario {name} timed out after {timeout} s:\n{stderr}") from error
    lines = result.stdout.strip().splitlines()
    if not lines:
        raise ScenarioError(
            f"scenario {name} printed nothing (exit {result.returncode}):\n{result.stderr[-4000:]}"
        )
    try:
        output: dict[str, Any] = json.loads(lines[-1])
    except ValueError as error:
        raise ScenarioError(f"scenario {name} printed no JSON:\n{result.stdout[-2000:]}") from error
    if result.returncode != 0 or "error" in output:
        raise ScenarioError(
            f"scenario {name} failed (exit {result.returncode}): {output.get('error')}\n"
            f"{output.get('traceback', '')}\n{result.stderr[-4000:]}"
        )
    return output


class Inbox:
    """What a transport layer received, in order, with awaitable ``get``."""

    def __init__(self, reactor: Any, name: str = "inbox") -> None:
        self.reactor = reactor
        self.name = name
        self.items: list[Any] = []
        self._read = 0
        self._waiters: list[Any] = []

    def __call__(self, *item: Any) -> None:
        """The layer's callback: store the item, wake a waiter."""
        self.items.append(item if len(item) != 1 else item[0])
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._read < len(self.items):
            waiter, timer = self._waiters.pop(0)
            if timer.active():
                timer.cancel()
            item = self.items[self._read]
            self._read += 1
            waiter.callback(item)

    def get(self, timeout: float = 5.0) -> Any:
        """A Deferred of the next unread item; fails with TimeoutError after ``timeout``."""
        from twisted.internet.defer import Deferred

        waiter: Deferred[Any] = Deferred()

        def expire() -> None:
            for i, (pending, _timer) in enumerate(self._waiters):
                if pending is waiter:
                    del self._waiters[i]
                    break
            waiter.errback(TimeoutError(f"{self.name}: nothing arrived within {timeout} s"))

        self._waiters.append((waiter, self.reactor.callLater(timeout, expire)))
        self._wake()
        return waiter


def sip_request(
    method: str,
    request_uri: str,
    via: str,
    *,
    call_id: str = "scenario-1",
    cseq: int = 1,
    body: bytes = b"",
    extra: tuple[str, ...] = (),
) -> bytes:
    """A minimal valid request as bytes; ``via`` is the whole Via value."""
    lines = [
        f"{method} {request_uri} SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=scenario",
        f"To: <{request_uri}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sleep(reactor: Any, seconds: float) -> Any:
    """A Deferred that fires after ``seconds``."""
    from twisted.internet.task import deferLater

    return deferLater(reactor, seconds, lambda: None)


async def wait_until(
    reactor: Any, predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.01
) -> None:
    """Poll ``predicate`` until true; raise TimeoutError after ``timeout``."""
    waited = 0.0
    while not predicate():
        if waited >= timeout:
            raise TimeoutError(f"condition not met within {timeout} s")
        await sleep(reactor, step)
        waited += step
