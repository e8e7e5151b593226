"""Script scenarios: a Phone running user scripts, called by other Phones over loopback.

    python -m tui_phone.testing.script_scenarios NAME '{"scripts": "DIR"}'

Like :mod:`tui_phone.testing.phone_scenarios`, each ``scenario_NAME(reactor,
args)`` coroutine runs in its own interpreter (through
:func:`~tui_phone.testing.scenario_tools.run_scenario`) and returns a JSON-ready
dict.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..events import CallEnded, CallStateChanged, IncomingCall, PhoneEvent
from .phone_scenarios import main as run_scenario_module
from .scenario_tools import sleep, wait_until


CONFIG = """
[accounts.{name}]
uri = "sip:{name}@127.0.0.1"
"""


class Events:
    """What one phone emitted (SIP log left out)."""

    def __init__(self) -> None:
        self.events: list[PhoneEvent] = []

    def __call__(self, event: PhoneEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def _phone(reactor: Any, name: str, seed: int, **options: Any) -> tuple[Any, Events]:
    from ..config import parse_config
    from ..phone import Phone

    phone = Phone(parse_config(CONFIG.format(name=name)), reactor, listen=("127.0.0.1", 0),
                  rng=random.Random(seed), **options)
    events = Events()
    phone.subscribe(events)
    return phone, events


def _counted(events: Events, kind: type, count: int) -> Callable[[], bool]:
    def enough() -> bool:
        return len(events.of(kind)) >= count

    return enough


def _host(phone: Any, folder: str, errors: list[str]) -> Any:
    from ..scripts.host import ScriptHost
    from ..scripts.loader import ScriptLoader

    host = ScriptHost(phone, ScriptLoader([Path(folder)], include_default=False),
                      on_error=lambda script, text: errors.append(f"{script}: {text}"))
    host.load()
    host.attach()
    return host


async def scenario_whitelist(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Bob runs the scripts of ``scripts``; alice and then carol call him."""
    errors: list[str] = []
    bob, bob_events = _phone(reactor, "bob", 3)
    host = _host(bob, args["scripts"], errors)
    await bob.start()
    host_addr, port = bob.local_address()
    outcome: dict[str, Any] = {"scripts": [s.name for s in host.scripts]}
    for seed, caller in enumerate(("alice", "carol"), start=1):
        phone, events = _phone(reactor, caller, seed)
        await phone.start()
        call = phone.call(f"sip:bob@{host_addr}:{port}")
        await wait_until(reactor, _counted(bob_events, IncomingCall, seed), timeout=5)
        await sleep(reactor, 0.5)  # the script answers at once, or never
        outcome[caller] = {"state": str(call.state),
                           "states": [e.new for e in events.of(CallStateChanged)]}
        call.hangup()
        await wait_until(reactor, _counted(events, CallEnded, 1), timeout=5)
        outcome[caller]["status"] = events.of(CallEnded)[-1].status
        await phone.stop()
    await sleep(reactor, 0.1)
    outcome["incoming"] = [e.remote for e in bob_events.of(IncomingCall)]
    outcome["errors"] = errors
    host.detach()
    await bob.stop()
    return outcome


async def scenario_answering_machine(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Bob runs the answering machine with ``greeting`` as his audio; alice talks (a tone)
    until bob's script hangs up. Returns bob's recordings."""
    errors: list[str] = []
    bob, bob_events = _phone(reactor, "bob", 3, audio=f"wav:{args['greeting']}")
    host = _host(bob, args["scripts"], errors)
    await bob.start()
    host_addr, port = bob.local_address()
    alice, alice_events = _phone(reactor, "alice", 1, audio="tone:1000")
    await alice.start()
    alice.call(f"sip:bob@{host_addr}:{port}")
    await wait_until(reactor, _counted(alice_events, CallEnded, 1),
                     timeout=float(args.get("wait", 15)))
    await sleep(reactor, 0.2)
    end = alice_events.of(CallEnded)[-1]
    host.detach()
    await alice.stop()
    await bob.stop()
    return {"status": end.status, "by": end.ended_by, "answered": end.answered,
            "duration": end.duration_s, "rx": end.rtp.rx_packets, "errors": errors,
            "bob_ended": [e.ended_by for e in bob_events.of(CallEnded)]}


def main(argv: list[str] | None = None) -> None:
    """Run one scenario of this module (phone_scenarios' runner, on our scenarios)."""
    run_scenario_module(argv, namespace=globals())


if __name__ == "__main__":
    main()
