"""NAT scenarios: a Phone with ``[nat]`` against the loopback STUN server and fake IGD.

    python -m tui_phone.testing.nat_scenarios NAME '{"arg": 1}'

Nothing is ever sent to the simulated public address (203.0.113.9, TEST-NET-3):
the callee only reads our INVITE and rejects it, so no answer goes there.
"""

from __future__ import annotations

import random
from typing import Any

from ..events import CallEnded, IncomingCall, NatStatusChanged
from .fake_igd import FakeIgd
from .phone_scenarios import Recorder, _phone, main
from .scenario_tools import sleep, wait_until
from .stun_server import NatSimulation, StunServer

PUBLIC = "203.0.113.9"

NAT_CONFIG = """
[accounts.alice]
uri = "sip:alice@127.0.0.1"
registrar = "sip:127.0.0.1:{registrar_port}"

[nat]
{nat}
"""


def _nat_phone(reactor: Any, nat: str, registrar_port: int) -> tuple[Any, Recorder]:
    from ..config import parse_config
    from ..phone import Phone

    config = parse_config(NAT_CONFIG.format(nat=nat, registrar_port=registrar_port))
    phone = Phone(config, reactor, listen=("127.0.0.1", 0), rng=random.Random(1))
    recorder = Recorder(reactor, "alice")
    phone.subscribe(recorder)
    return phone, recorder


def _sent(recorder: Recorder, method: bytes) -> list[str]:
    return [data.decode("utf-8", "replace") for data in recorder.sip if data.startswith(method + b" ")]


def _headers(message: str, prefix: str) -> list[str]:
    return [line for line in message.split("\r\n") if line.lower().startswith(prefix.lower())]


def _silent_registrar(reactor: Any) -> Any:
    """A UDP port that swallows our REGISTER (we only read what we sent)."""
    from twisted.internet.protocol import DatagramProtocol

    return reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")


async def scenario_stun(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """alice learns her address from the STUN server (``nat``: full_cone or symmetric),
    REGISTERs and calls bob, who reads the INVITE and rejects it with 486."""
    simulation = {"full_cone": NatSimulation.full_cone, "symmetric": NatSimulation.symmetric}[args["nat"]](PUBLIC)
    registrar = _silent_registrar(reactor)
    with StunServer(nat=simulation) as stun:
        host, port = stun.address
        alice, a_events = _nat_phone(reactor, f'stun_server = "{host}:{port}"', registrar.getHost().port)
        await alice.start(register=False)
        sip_port = alice.local_address()[1]
        bob, b_events = _phone(reactor, "bob", seed=2)
        await bob.start()
        bob.subscribe(lambda e: e.call.reject(486) if isinstance(e, IncomingCall) else None)
        alice.register("alice")
        await wait_until(reactor, lambda: bool(_sent(a_events, b"REGISTER")), timeout=5)
        b_host, b_port = bob.local_address()
        call = alice.call(f"sip:bob@{b_host}:{b_port}")
        await a_events.wait(CallEnded)
        invites = [data.decode("utf-8", "replace") for data in b_events.sip if data.startswith(b"INVITE ")]
        media_port = call.media.port
        await alice.stop()
        await bob.stop()
        stun_requests = len(stun.recorded())
    await registrar.stopListening()
    status = [e for e in a_events.events if isinstance(e, NatStatusChanged)]
    register = _sent(a_events, b"REGISTER")[0]
    invite = invites[0]
    return {
        "sip_port": sip_port,
        "register_contact": _headers(register, "Contact:"),
        "register_via": _headers(register, "Via:"),
        "invite_contact": _headers(invite, "Contact:"),
        "invite_c": _headers(invite, "c="),
        "invite_m": _headers(invite, "m=audio"),
        "media_port": media_port,
        "status": [{"public_ip": e.public_ip, "public_port": e.public_port, "nat_type": e.nat_type,
                    "warnings": list(e.warnings)} for e in status],
        "caller_status": a_events.ended().get("status"),
        "stun_requests": stun_requests,
    }


async def scenario_upnp(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """alice maps her SIP port on the fake IGD, a call maps its RTP pair, the
    hang-up unmaps it and alice.stop() removes the rest."""
    with FakeIgd() as igd:
        host, port = igd.ssdp_address
        registrar = _silent_registrar(reactor)
        alice, a_events = _nat_phone(reactor, f'upnp = true\nupnp_ssdp_target = "{host}:{port}"',
                                     registrar.getHost().port)
        await alice.start(register=False)
        sip_port = alice.local_address()[1]
        after_start = [(c.action, c.arguments.get("NewExternalPort"), c.arguments.get("NewProtocol"))
                       for c in igd.recorded()]
        bob, b_events = _phone(reactor, "bob", seed=2)
        await bob.start()
        bob.subscribe(lambda e: e.call.answer() if isinstance(e, IncomingCall) else None)
        b_host, b_port = bob.local_address()
        call = alice.call(f"sip:bob@{b_host}:{b_port}")
        rtp = call.media.port
        await wait_until(reactor, lambda: call.state == "connected", timeout=5)
        await wait_until(reactor, lambda: (rtp + 1, "UDP") in igd.mappings, timeout=5)
        during_call = sorted(f"{p}/{proto}" for p, proto in igd.mappings)
        call.hangup()
        await a_events.wait(CallEnded)
        await wait_until(reactor, lambda: not {(rtp, "UDP"), (rtp + 1, "UDP")} & set(igd.mappings), timeout=5)
        after_hangup = sorted(f"{p}/{proto}" for p, proto in igd.mappings)
        await alice.stop()
        await bob.stop()
        await sleep(reactor, 0)
        calls = [(c.action, c.arguments.get("NewExternalPort"), c.arguments.get("NewProtocol"),
                  c.arguments.get("NewInternalClient"), c.arguments.get("NewLeaseDuration"))
                 for c in igd.recorded()]
        left = sorted(f"{p}/{proto}" for p, proto in igd.mappings)
        searches = len(igd.searches)
        await registrar.stopListening()
    return {"sip_port": sip_port, "rtp_port": rtp, "after_start": after_start, "during_call": during_call,
            "after_hangup": after_hangup, "calls": calls, "left": left, "searches": searches,
            "status": [{"upnp": e.upnp, "warnings": list(e.warnings)} for e in a_events.events
                       if isinstance(e, NatStatusChanged)]}


if __name__ == "__main__":
    main(namespace=globals())
