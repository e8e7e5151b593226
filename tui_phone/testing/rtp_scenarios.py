"""RTP scenarios on a real reactor over loopback, one per interpreter.

Twisted's reactor cannot be restarted, so integration tests run each
scenario as ``python -m tui_phone.testing.rtp_scenarios NAME [options]`` and
read the JSON object on its last stdout line (:func:`run_rtp_scenario` does
that).  Scenarios:

``stream``
    One endpoint streams ``--packets`` 20 ms PCMU frames through an
    :class:`~tui_phone.testing.impairment.ImpairmentRelay` (seeded loss,
    duplicates, reordering, jitter) to a receiving endpoint.  The first and
    last packets pass in order (``--clean-head``/``--clean-tail``), so that
    RFC 3550 A.1 probation and the end of a capture see an orderly stream.
    With ``--wait`` it prints a ``ready`` line with the ports and waits for a
    line on stdin before streaming: a test starts a capture in between.

``call``
    Two endpoints talk both ways for ``--duration`` seconds, optionally with
    SRTP, DTMF, a wrong signalled address (symmetric RTP must latch) and
    injected garbage and stranger packets; the caller hangs up with an RTCP
    BYE.

Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import deferLater, react

import tui_phone
from tui_phone.loop import install_reactor
from tui_phone.rtp.packet import RtpPacket
from tui_phone.rtp.session import RtpSession
from tui_phone.rtp.session_stats import RtpSessionStats
from tui_phone.rtp.srtp import SrtpContext, make_crypto_attribute
from tui_phone.testing.impairment import ImpairmentProfile, ImpairmentRelay

HOST = "127.0.0.1"
PCMU = 0
TELEPHONE_EVENT = 101
FRAME_SAMPLES = 160  # 20 ms at 8000 Hz
PTIME_S = 0.02


def _pcmu_frame(index: int) -> bytes:
    # Any bytes will do (the session never decodes); vary them per frame.
    return bytes((index + k) & 0xFF for k in range(FRAME_SAMPLES))


def _port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high)


def _jsonable(stats: RtpSessionStats) -> dict[str, Any]:
    return dataclasses.asdict(stats)  # bytes fields are converted by _default


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, default=_default) + "\n")
    sys.stdout.flush()


async def stream_scenario(reactor: Any, options: argparse.Namespace) -> dict[str, Any]:
    """Stream through the impairment relay; report what each side saw."""
    seed = options.seed
    ports = _port_range(options.port_range)
    receiver = RtpSession(reactor, rng=random.Random(f"{seed}/receiver"), rtcp_minimum=options.rtcp_min)
    sender = RtpSession(reactor, rng=random.Random(f"{seed}/sender"), rtcp_minimum=options.rtcp_min)
    rx_rtp, rx_rtcp = receiver.open(HOST, ports)
    tx_rtp, tx_rtcp = sender.open(HOST, ports)
    receiver.configure_receive([PCMU], 8000, codec_name="PCMU")
    sender.configure_receive([PCMU], 8000, codec_name="PCMU")
    profile = ImpairmentProfile(
        loss=options.loss,
        duplicate=options.duplicate,
        reorder=options.reorder,
        jitter_ms=options.jitter_ms,
        clean_first=options.clean_head,
    )
    relay = ImpairmentRelay((HOST, rx_rtp), profile, seed=seed, reactor=reactor)
    relay_address = relay.start(HOST)
    sender.set_remote(relay_address, (HOST, rx_rtcp))
    receiver.set_remote((HOST, tx_rtp), (HOST, tx_rtcp))
    _emit({"event": "ready", "rx_rtp": rx_rtp, "rx_rtcp": rx_rtcp, "tx_rtp": tx_rtp,
           "tx_rtcp": tx_rtcp, "relay": relay_address[1]})
    if options.wait:
        sys.stdin.readline()  # the reactor has nothing to do yet

    finished: Deferred[None] = Deferred()
    frames = 0

    def source() -> bytes | None:
        nonlocal frames
        index = frames
        frames += 1
        if index == options.packets - options.clean_tail:
            relay.set_forward_profile(profile.without_disorder())
        if index >= options.packets:
            if not finished.called:
                finished.callback(None)
            return None
        return _pcmu_frame(index)

    sender.start_sending(source, PCMU, 8000, FRAME_SAMPLES, 20)
    await finished
    sender.stop_sending()
    await deferLater(reactor, options.settle, lambda: None)  # held-back packets land
    result = {
        "event": "result",
        "ports": {"rx_rtp": rx_rtp, "tx_rtp": tx_rtp, "relay": relay_address[1]},
        "receiver": _jsonable(receiver.stats()),
        "sender": _jsonable(sender.stats()),
        "relay": dataclasses.asdict(relay.forward.counters),
    }
    await sender.close()
    await receiver.close()
    await relay.stop()
    return result


class _Injector(DatagramProtocol):
    """Sends garbage and stranger packets from a port of its own."""


async def call_scenario(reactor: Any, options: argparse.Namespace) -> dict[str, Any]:
    """A two-way call between two endpoints; report both sides."""
    seed = options.seed
    rng = random.Random(f"{seed}/keys")
    ports = _port_range(options.port_range)
    alice = RtpSession(reactor, rng=random.Random(f"{seed}/alice"), rtcp_minimum=options.rtcp_min)
    bob = RtpSession(reactor, rng=random.Random(f"{seed}/bob"), rtcp_minimum=options.rtcp_min)
    a_rtp, _ = alice.open(HOST, ports)
    b_rtp, _ = bob.open(HOST, ports)
    if options.srtp:
        a_key = make_crypto_attribute(1, options.srtp, rng.randbytes)
        b_key = make_crypto_attribute(1, options.srtp, rng.randbytes)
        alice.set_srtp(SrtpContext(a_key, b_key))
        bob.set_srtp(SrtpContext(b_key, a_key))
    for session in (alice, bob):
        session.configure_receive([PCMU], 8000, telephone_event_pt=TELEPHONE_EVENT, codec_name="PCMU")
    alice.set_remote((HOST, b_rtp))
    # A wrong address in Bob's SDP view: symmetric RTP must find Alice anyway.
    bob.set_remote((HOST, 9) if options.wrong_signalling else (HOST, a_rtp))
    frames = {"alice": 0, "bob": 0}
    digits: list[str] = []
    threads = {"frames": set(), "dtmf": set()}  # where the callbacks ran (names)
    byes: list[str | None] = []

    def counter(name: str) -> Any:
        def count(payload: bytes, packet: RtpPacket) -> None:
            frames[name] += 1
            threads["frames"].add(threading.current_thread().name)

        return count

    alice.on_frame(counter("alice"))
    bob.on_frame(counter("bob"))
    def on_digit(digit: Any) -> None:
        digits.append(digit.digit)
        threads["dtmf"].add(threading.current_thread().name)

    bob.on_dtmf(on_digit)
    bob.on_bye(lambda reason: byes.append(None if reason is None else reason.decode()))
    alice.start_sending(lambda: _pcmu_frame(0), PCMU, 8000, FRAME_SAMPLES, 20,
                        telephone_event_pt=TELEPHONE_EVENT)
    bob.start_sending(lambda: _pcmu_frame(1), PCMU, 8000, FRAME_SAMPLES, 20)
    await deferLater(reactor, 0.5, lambda: None)
    if options.dtmf:
        alice.send_dtmf(options.dtmf)
    injector = reactor.listenUDP(0, _Injector(), interface=HOST)
    stranger = random.Random(f"{seed}/stranger")
    for index in range(options.strangers):
        injector.write(b"not RTP at all", (HOST, b_rtp))
        wrong_ssrc = RtpPacket(PCMU, index, index * 160, stranger.getrandbits(32), b"\x00" * 160)
        injector.write(bytes(wrong_ssrc), (HOST, b_rtp))
        wrong_pt = RtpPacket(99, index, index * 160, stranger.getrandbits(32), b"\x00" * 160)
        injector.write(bytes(wrong_pt), (HOST, b_rtp))
    await deferLater(reactor, max(options.duration - 0.5, 0.1), lambda: None)
    alice.stop_sending()
    bob.stop_sending()
    await deferLater(reactor, 0.1, lambda: None)
    result: dict[str, Any] = {
        "event": "result",
        "alice": _jsonable(alice.stats()),
        "bob_before_bye": _jsonable(bob.stats()),
        "frames": frames,
        "digits": "".join(digits),
        "threads": {kind: sorted(names) for kind, names in threads.items()},
    }
    await alice.close(b"call ended")
    await deferLater(reactor, 0.2, lambda: None)
    result["byes"] = byes
    await bob.close()
    await injector.stopListening()
    return result


SCENARIOS = {"stream": stream_scenario, "call": call_scenario}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tui_phone.testing.rtp_scenarios")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--reactor", choices=("asyncio", "default"), default="asyncio")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port-range", default="20000-30000")
    parser.add_argument("--rtcp-min", type=float, default=5.0)
    # stream
    parser.add_argument("--packets", type=int, default=300)
    parser.add_argument("--loss", type=float, default=0.03)
    parser.add_argument("--duplicate", type=float, default=0.01)
    parser.add_argument("--reorder", type=float, default=0.02)
    parser.add_argument("--jitter-ms", type=float, default=15.0)
    parser.add_argument("--clean-head", type=int, default=5)
    parser.add_argument("--clean-tail", type=int, default=5)
    parser.add_argument("--settle", type=float, default=0.3)
    parser.add_argument("--wait", action="store_true")
    # call
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--srtp", default=None)
    parser.add_argument("--dtmf", default="")
    parser.add_argument("--wrong-signalling", action="store_true")
    parser.add_argument("--strangers", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run one scenario and print its JSON result as the last stdout line."""
    options = _parser().parse_args(argv)
    if options.reactor == "asyncio":
        install_reactor()

    async def run(reactor: Any) -> None:
        try:
            _emit(await SCENARIOS[options.scenario](reactor, options))
        except Exception as error:  # noqa: BLE001 - reported as JSON for the test to show
            _emit({"event": "result", "error": repr(error), "traceback": traceback.format_exc()})

    react(lambda reactor: ensureDeferred(run(reactor)))


def start_rtp_scenario(name: str, *args: str) -> subprocess.Popen[str]:
    """Start a scenario subprocess with pipes (stdin, stdout, stderr) open."""
    root = Path(tui_phone.__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "tui_phone.testing.rtp_scenarios", name, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=root,
    )


def read_record(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Read the next JSON line of a scenario; raise if it ended without one."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        stderr = process.stderr.read() if process.stderr is not None else ""
        raise RuntimeError(f"RTP scenario ended without output:\n{stderr[-4000:]}")
    record: dict[str, Any] = json.loads(line)
    if "error" in record:
        raise RuntimeError(f"RTP scenario failed: {record['error']}\n{record.get('traceback', '')}")
    return record


def run_rtp_scenario(name: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run a scenario to the end and return its result record."""
    process = start_rtp_scenario(name, *args)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise RuntimeError(f"RTP scenario {name} timed out:\n{stderr[-4000:]}") from None
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"RTP scenario {name} printed nothing (exit {process.returncode}):\n{stderr[-4000:]}")
    record: dict[str, Any] = json.loads(lines[-1])
    if "error" in record:
        raise RuntimeError(f"RTP scenario failed: {record['error']}\n{record.get('traceback', '')}")
    return record


if __name__ == "__main__":
    main()
