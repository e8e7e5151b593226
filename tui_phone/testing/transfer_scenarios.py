"""Transfer and conference scenarios: three Phones (A, B, C) on a real reactor.

    python -m tui_phone.testing.transfer_scenarios NAME '{"arg": 1}'

A is the transferor (or the conference host), B the transferee, C the
target. Each ``scenario_NAME(reactor, args)`` returns what it observed as a
JSON-ready dict; tests run them with
``run_scenario(..., module="tui_phone.testing.transfer_scenarios")``.
"""

from __future__ import annotations

import math
from typing import Any

from ..audio.backends import ToneBackend
from ..audio.tones import ToneSpec
from ..events import (
    CallAnswered,
    CallEnded,
    CallHoldChanged,
    CallReplaced,
    IncomingCall,
    TransferCompleted,
    TransferFailed,
    TransferProgress,
)
from .phone_scenarios import Recorder, _phone, main
from .scenario_tools import sleep, wait_until


class ProbeBackend(ToneBackend):
    """A tone as the microphone, and every frame played kept (to check what was heard)."""

    name = "probe"

    def __init__(self, frequency: float) -> None:
        super().__init__(ToneSpec(f"{frequency:g}", (frequency,) if frequency else (), -10.0))
        self.played: list[bytes] = []

    def _capture_frame(self) -> bytes:
        if not self.spec.frequencies:
            return bytes(2 * self.frame_samples)
        return super()._capture_frame()

    def _play(self, frame: bytes) -> None:
        self.played.append(frame)


def tone_power(frames: list[bytes], rate: int, frequency: float) -> float:
    """The Goertzel power of ``frequency`` in the PCM frames, per sample (dB-ish scale)."""
    samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True)
               for pcm in frames for i in range(0, len(pcm), 2)]
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power / len(samples) ** 2


def rms(frames: list[bytes]) -> float:
    samples = [int.from_bytes(pcm[i:i + 2], "little", signed=True)
               for pcm in frames for i in range(0, len(pcm), 2)]
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def _spectrum(probe: ProbeBackend) -> dict[str, float]:
    frames, rate = probe.played[-50:], probe.sample_rate
    return {"rms": round(rms(frames), 1), "f600": tone_power(frames, rate, 600.0),
            "f1000": tone_power(frames, rate, 1000.0)}


async def _three(reactor: Any, args: dict[str, Any], **audio: Any) -> tuple[Any, ...]:
    phones = []
    for seed, name in enumerate(("alice", "bob", "carol"), start=1):
        options = {"audio": audio[name]} if name in audio else {}
        phone, events = _phone(reactor, name, seed=seed, **options)
        await phone.start()
        phones.append((phone, events))
    return tuple(item for pair in phones for item in pair)


def _auto_answer(phone: Any, status: int | None = None) -> None:
    def on_event(event: Any) -> None:
        if isinstance(event, IncomingCall):
            if status is None:
                event.call.answer()
            else:
                event.call.reject(status)

    phone.subscribe(on_event)


def _uri(phone: Any, user: str) -> str:
    host, port = phone.local_address()
    return f"sip:{user}@{host}:{port}"


def _connected(phone: Any) -> list[Any]:
    return [call for call in phone.calls if call.state == "connected"]


def _transfer_summary(events: Recorder) -> dict[str, Any]:
    return {
        "progress": [[e.role, e.status] for e in events.of(TransferProgress)],
        "completed": [e.role for e in events.of(TransferCompleted)],
        "failed": [[e.role, e.status, e.reason] for e in events.of(TransferFailed)],
        "ended": [[e.status, e.ended_by] for e in events.of(CallEnded)],
        "sip": events.methods(),
    }


async def scenario_blind(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls B, holds it and transfers it blind to C; C answers (or rejects with ``reject``)."""
    alice, a_events, bob, b_events, carol, c_events = await _three(reactor, args)
    _auto_answer(bob)
    _auto_answer(carol, args.get("reject"))
    call = alice.call(_uri(bob, "bob"))
    await wait_until(reactor, lambda: call.state == "connected" and bool(_connected(bob)), timeout=5)
    if args.get("hold", True):
        call.hold()
        await a_events.wait(CallHoldChanged)
    call.transfer(_uri(carol, "carol"))
    result: dict[str, Any] = {}
    if args.get("reject") is None:
        await wait_until(reactor, lambda: bool(_connected(carol)) and not alice.calls
                         and len(_connected(bob)) == 1 and len(bob.calls) == 1, timeout=10)
        await sleep(reactor, 0.5)
        b_call = bob.calls[0]
        result["bob_remote"] = b_call.remote
        result["bob_peer_is_carol"] = b_call.dialog.remote_target.user == "carol"
        result["carol_calls"] = len(carol.calls)
        result["carol_remote"] = carol.calls[0].remote
        b_call.hangup()
        await c_events.wait(CallEnded)
    else:
        await a_events.wait(TransferFailed)
        await wait_until(reactor, lambda: not call.on_hold, timeout=5)
        await sleep(reactor, 0.3)
        result["alice_call"] = [call.state.value, call.on_hold]
        result["bob_calls"] = [c.state.value for c in bob.calls]
        call.hangup()
        await b_events.wait(CallEnded, 2)
    for phone in (alice, bob, carol):
        await phone.stop()
    result.update({"alice": _transfer_summary(a_events), "bob": _transfer_summary(b_events),
                   "carol": _transfer_summary(c_events)})
    return result


async def scenario_attended(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls B and holds it, calls C (consultation), then transfer_to: B and C connect."""
    alice, a_events, bob, b_events, carol, c_events = await _three(reactor, args)
    _auto_answer(bob)
    _auto_answer(carol)
    to_bob = alice.call(_uri(bob, "bob"))
    await wait_until(reactor, lambda: to_bob.state == "connected", timeout=5)
    to_bob.hold()
    await a_events.wait(CallHoldChanged)
    to_carol = alice.call(_uri(carol, "carol"))
    await wait_until(reactor, lambda: to_carol.state == "connected", timeout=5)
    carol_old = carol.calls[0]
    to_bob.transfer_to(to_carol)
    await wait_until(reactor, lambda: not alice.calls and len(_connected(bob)) == 1
                     and len(_connected(carol)) == 1 and len(carol.calls) == 1
                     and len(bob.calls) == 1, timeout=10)
    await sleep(reactor, 0.5)
    b_call, c_call = bob.calls[0], carol.calls[0]
    result = {
        "bob_call_id_matches": b_call.call_id == c_call.call_id,
        "carol_old_ended": carol_old.state.value,
        "replaced": [[e.replaced_call_id == carol_old.call_id, e.call is c_call]
                     for e in c_events.of(CallReplaced)],
        "carol_incoming_events": len(c_events.of(IncomingCall)),
        "carol_answered": len(c_events.of(CallAnswered)),
        "replaces_sent": any(b"Replaces: " in data and data.startswith(b"INVITE")
                             for data in b_events.sip),
        "rx_bob": 0,
    }
    await sleep(reactor, 0.5)
    result["rx_bob"] = b_call.media.summary().rx_packets
    c_call.hangup()
    await b_events.wait(CallEnded, 2)
    for phone in (alice, bob, carol):
        await phone.stop()
    result.update({"alice": _transfer_summary(a_events), "bob": _transfer_summary(b_events),
                   "carol": _transfer_summary(c_events)})
    return result


async def scenario_conference(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls B (tone 600 Hz) and C (tone 1000 Hz) and conferences them; A is silent
    (a 0 Hz probe). Each remote must hear the other's tone; A hears both."""
    probes: dict[str, list[ProbeBackend]] = {"alice": [], "bob": [], "carol": []}
    tones = {"alice": 0.0, "bob": 600.0, "carol": 1000.0}

    def factory(name: str) -> Any:
        def make() -> ProbeBackend:
            probe = ProbeBackend(tones[name])
            probes[name].append(probe)
            return probe
        return make

    alice, a_events, bob, _, carol, _ = await _three(
        reactor, args, alice=factory("alice"), bob=factory("bob"), carol=factory("carol"))
    _auto_answer(bob)
    _auto_answer(carol)
    to_bob = alice.call(_uri(bob, "bob"))
    await wait_until(reactor, lambda: to_bob.state == "connected", timeout=5)
    to_bob.hold()
    await a_events.wait(CallHoldChanged)
    to_carol = alice.call(_uri(carol, "carol"))
    await wait_until(reactor, lambda: to_carol.state == "connected", timeout=5)
    await sleep(reactor, 0.5)
    carol_before = probes["carol"][-1].played[-25:]
    conference = alice.conference([to_bob, to_carol])
    await wait_until(reactor, lambda: not to_bob.on_hold, timeout=5)
    await sleep(reactor, 1.5)

    def heard(name: str) -> dict[str, float]:
        return _spectrum(probes[name][-1])

    result = {
        "carol_before": {"rms": round(rms(carol_before), 1)},
        "bob": heard("bob"), "carol": heard("carol"),
        "alice_local": _spectrum(conference._backend),
        "on_hold": [to_bob.on_hold, to_carol.on_hold],
    }
    calls = conference.split(active=to_carol)
    split_at = len(probes["carol"][-1].played)
    await wait_until(reactor, lambda: to_bob.on_hold, timeout=5)
    await sleep(reactor, 0.6)
    result["after_split"] = {"calls": len(calls), "bob_held": to_bob.on_hold,
                             "carol_held": to_carol.on_hold,
                             "taps": [to_bob.media.frame_tap is None, to_carol.media.frame_tap is None],
                             "carol_hears_rms": round(rms(probes["carol"][-1].played[split_at + 10:]), 1)}
    for phone in (alice, bob, carol):
        await phone.stop()
    return result


async def scenario_transfer_peer(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls ``peer`` (a real UA that auto-answers), then transfers it blind to
    ``target``; reports A's transfer events and SIP methods."""
    alice, a_events = _phone(reactor, "alice", seed=1)
    await alice.start()
    call = alice.call(args["peer"])
    await wait_until(reactor, lambda: call.state in ("connected", "ended"), timeout=10)
    if call.state != "connected":
        await alice.stop()
        return {"connected": False, "alice": _transfer_summary(a_events)}
    await sleep(reactor, float(args.get("talk", 0.5)))
    call.transfer(args["target"])
    await wait_until(reactor, lambda: bool(a_events.of(TransferCompleted) or a_events.of(TransferFailed)),
                     timeout=float(args.get("wait", 15.0)))
    if a_events.of(TransferCompleted):
        await wait_until(reactor, lambda: call.state == "ended", timeout=5)
    notifies = [data.split(b"\r\n\r\n", 1)[1].split(b"\r\n", 1)[0].decode(errors="replace")
                for data in a_events.sip if data.startswith(b"NOTIFY ")]
    await alice.stop()
    return {"connected": True, "alice": _transfer_summary(a_events), "sipfrags": notifies,
            "call_state": call.state.value}


async def scenario_attended_peers(reactor: Any, args: dict[str, Any]) -> dict[str, Any]:
    """A calls ``peer`` and holds it, calls ``target``, then transfer_to: the peer
    calls the target with Replaces; reports A's side."""
    alice, a_events = _phone(reactor, "alice", seed=1)
    await alice.start()
    first = alice.call(args["peer"])
    await wait_until(reactor, lambda: first.state == "connected", timeout=10)
    first.hold()
    await a_events.wait(CallHoldChanged)
    second = alice.call(args["target"])
    await wait_until(reactor, lambda: second.state == "connected", timeout=10)
    await sleep(reactor, 0.3)
    first.transfer_to(second)
    await wait_until(reactor, lambda: bool(a_events.of(TransferCompleted) or a_events.of(TransferFailed)),
                     timeout=float(args.get("wait", 15.0)))
    await wait_until(reactor, lambda: not alice.calls, timeout=5)
    await alice.stop()
    return {"alice": _transfer_summary(a_events),
            "ended": [[e.call is first, e.ended_by] for e in a_events.of(CallEnded)]}


if __name__ == "__main__":
    main(namespace=globals())
