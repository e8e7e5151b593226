"""Call scenarios: two Phones (UAC and UAS) on a real reactor over loopback.

    python -m tui_phone.testing.phone_scenarios NAME '{"arg": 1}'

Each ``scenario_NAME(reactor, args)`` coroutine drives two phones in one
process and returns what it observed as a JSON-ready dict; tests call them
through :func:`~tui_phone.testing.scenario_tools.run_scenario` with
``module="tui_phone.testing.phone_scenarios"``.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import traceback
from typing import Any

from ..events import (
    CallEnded,
    CallHoldChanged,
    CallStateChanged,
    DtmfReceived,
    IncomingCall,
    PhoneEvent,
    SipMessageLogged,
)
from ..loop import install_reactor
from .scenario_tools import Inbox, sip_request, sleep, wait_until

SCENARIO_TIMEOUT = 40.0

CONFIG = """
[accounts.{name}]
uri = "sip:{name}@127.0.0.1"
dtmf_mode = "{dtmf}"
"""


class Recorder:
    """Every event one phone emitted, with helpers to wait for some."""

    def __init__(self, reactor: Any, name: str) -> None:
        self.reactor = reactor
        self.name = name
        self.events: list[PhoneEvent] = []
        self.sip: list[bytes] = []

    def __call__(self, event: PhoneEvent) -> None:
        if isinstance(event, SipMessageLogged):
            self.sip.append(event.data)
        else:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def states(self) -> list[str]:
        return [e.new for e in self.of(CallStateChanged)]

    async def wait(self, kind: type, count: int = 1, timeout: float = 10.0) -> None:
        await wait_until(self.reactor, lambda: len(self.of(kind)) >= count, timeout=timeout)

    def ended(self) -> dict[str, Any]:
        ends = self.of(CallEnded)
        if not ends:
            return {}
        end = ends[-1]
        return {"status": end.status, "reason": end.reason, "answered": end.answered,
                "by": end.ended_by, "codec": end.codec, "duration": end.duration_s,
                "tx": end.rtp.tx_packets, "rx": end.rtp.rx_packets, "lost": end.rtp.rx_lost}

    def methods(self) -> list[str]:
        return [data.split(b" ", 1)[0].decode() if not data.startswith(b"SIP/")
                else data.split(b" ", 2)[1].decode() for data in self.sip]


def _phone(reactor: Any, name: str, *, dtmf: str = "rfc4733", seed: int = 1, **options: Any) -> Any:
    from ..config import parse_config
    from ..phone import Phone

    config = parse_config(CONFIG.format(name=name, dtmf=dtmf))
    phone = Phone(config, reactor, listen=("127.0.0.1", 0), rng=random.Random(seed), **options)
    recorder = Recorder(reactor, name)
    phone.subscribe(recorder)
    return phone, recorder


async def _pair(reactor: Any, args: dict[str, Any], *, auto_answer: bool = True) -> tuple[Any, ...]:
    alice, a_events = _phone(reactor, "alice", dtmf=args.get("dtmf", "rfc4733"), seed=1)
    bob, b_events = _phone(reactor, "bob", dtmf=args.get("dtmf", "rfc4733"), seed=2,
                           echo=bool(args.get("echo")))
    await alice.start()
    await bob.start()
    if auto_answer:
        bob.subscribe(lambda e: e.call.answer() if isinstance(e, IncomingCall) else None)
    host, port = bob.local_address()
    call = alice.call(f"sip:bob@{host}:{port}")
    return alice, a_events, bob, b_events, call


async def _finish(*phones: Any) -> None:
    for phone in phones:
        await phone.stop()


async def scenario_call(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls B, B answers, media flows, then ``hangup_by`` ("caller"/"callee") hangs up."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args)
    await a_events.wait(CallStateChanged)  # connected: an answer at once comes with no 180
    await wait_until(reactor, lambda: call.state == "connected", timeout=5)
    await sleep(reactor, float(args.get("talk", 1.0)))
    if args.get("hangup_by", "caller") == "caller":
        call.hangup()
    else:
        bob.calls[0].hangup()
    await a_events.wait(CallEnded)
    await b_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"caller": a_events.ended(), "callee": b_events.ended(),
            "caller_states": a_events.states(), "callee_states": b_events.states(),
            "callee_sip": b_events.methods(), "caller_sip": a_events.methods()}


async def scenario_cancel(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls B, B rings and never answers, A hangs up: CANCEL, 487."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args, auto_answer=False)
    await wait_until(reactor, lambda: call.state == "ringing", timeout=5)
    call.hangup()
    await a_events.wait(CallEnded)
    await b_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"caller": a_events.ended(), "callee": b_events.ended(),
            "caller_sip": a_events.methods(), "incoming": len(b_events.of(IncomingCall))}


async def scenario_reject(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """B rejects with ``status`` (486 by default)."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args, auto_answer=False)
    status = int(args.get("status", 486))
    bob.subscribe(lambda e: e.call.reject(status) if isinstance(e, IncomingCall) else None)
    await a_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"caller": a_events.ended(), "callee": b_events.ended()}


async def scenario_hold(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Hold and resume from the caller, then from the callee."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args)
    await wait_until(reactor, lambda: call.state == "connected" and bool(bob.calls), timeout=5)
    steps = []

    def snapshot(label: str) -> None:
        steps.append({"step": label, "a_local": call.on_hold, "a_remote": call.remote_hold,
                      "b_local": bob.calls[0].on_hold, "b_remote": bob.calls[0].remote_hold,
                      "a_sending": call.media.session.sending,
                      "b_sending": bob.calls[0].media.session.sending})

    for who, action in (("a", "hold"), ("a", "resume"), ("b", "hold"), ("b", "resume")):
        target = call if who == "a" else bob.calls[0]
        count = len(a_events.of(CallHoldChanged))
        getattr(target, action)()
        await a_events.wait(CallHoldChanged, count + 1)
        await sleep(reactor, 0.1)
        snapshot(f"{who} {action}")
    call.hangup()
    await b_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"steps": steps, "caller": a_events.ended()}


async def scenario_glare(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Both sides send a hold re-INVITE at once: 491 on both, then backoff retries win."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args)
    await wait_until(reactor, lambda: call.state == "connected" and bool(bob.calls), timeout=5)
    await sleep(reactor, 0.2)
    started = reactor.seconds()
    call.hold()
    bob.calls[0].hold()
    await wait_until(reactor, lambda: call.on_hold and bob.calls[0].on_hold, timeout=12)
    took = reactor.seconds() - started
    call.hangup()
    await b_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"caller_sip": a_events.methods(), "callee_sip": b_events.methods(), "took": took}


async def scenario_dtmf(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A sends ``digits`` (by INFO or RFC 4733 per ``dtmf``); B reports them."""
    alice, a_events, bob, b_events, call = await _pair(reactor, args)
    await wait_until(reactor, lambda: call.state == "connected", timeout=5)
    await sleep(reactor, 0.3)
    digits = args.get("digits", "12#")
    call.send_dtmf(digits)
    await b_events.wait(DtmfReceived, len(digits), timeout=10)
    call.hangup()
    await b_events.wait(CallEnded)
    await _finish(alice, bob)
    return {"digits": [(e.digit, e.method) for e in b_events.of(DtmfReceived)],
            "caller_sip": a_events.methods()}


async def scenario_raw(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Raw requests (OPTIONS, unknown method, bad scheme ...) to a phone; the answers."""
    from ..sip.routing import Target
    from ..sip.transport import TransportLayer

    bob, _ = _phone(reactor, "bob")
    await bob.start()
    inbox = Inbox(reactor, "client")
    client = TransportLayer(reactor, inbox)
    host, port = client.listen_udp("127.0.0.1", 0)
    bob_host, bob_port = bob.local_address()
    answers = []
    for index, (method, uri, extra, body) in enumerate(args["requests"]):
        data = sip_request(method, uri.format(host=bob_host, port=bob_port),
                           f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK-raw{index};rport",
                           call_id=f"raw-{index}", extra=tuple(extra), body=body.encode())
        client.send(data, Target("UDP", bob_host, bob_port))
        response, _source = await inbox.get(5)
        headers = response.headers
        answers.append({"status": response.status, "allow": ", ".join(headers.get_all("allow")),
                        "accept": ", ".join(headers.get_all("accept")),
                        "supported": "supported" in headers,
                        "unsupported": ", ".join(headers.get_all("unsupported")),
                        "accept_encoding": ", ".join(headers.get_all("accept-encoding"))})
    await client.stop()
    await bob.stop()
    return {"answers": answers}


def main(argv: list[str] | None = None, namespace: dict[str, Any] | None = None) -> None:
    """Run one scenario on the asyncio reactor and print its result as JSON
    (``namespace``: the globals of another scenario module)."""
    argv = sys.argv[1:] if argv is None else argv
    name, raw = argv[0], argv[1] if len(argv) > 1 and not argv[1].startswith("--") else "{}"
    scenario = (globals() if namespace is None else namespace).get(f"scenario_{name}")
    if scenario is None:
        raise SystemExit(f"unknown scenario {name!r}")
    install_reactor()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    outcome: dict[str, Any] = {}

    async def run(reactor: Any) -> None:
        try:
            running = Deferred.fromCoroutine(scenario(reactor, json.loads(raw)))
            running.addTimeout(SCENARIO_TIMEOUT, reactor)
            outcome.update(await running)
        except BaseException as error:  # noqa: BLE001 - report everything, timeouts too
            outcome["error"] = f"{type(error).__name__}: {error}"
            outcome["traceback"] = traceback.format_exc()

    try:
        task.react(lambda reactor: Deferred.fromCoroutine(run(reactor)))
    except SystemExit as done:
        sys.stdout.write(json.dumps(outcome, default=str) + "\n")
        sys.stdout.flush()
        raise SystemExit(1 if "error" in outcome else 0) from done


if __name__ == "__main__":
    main()
