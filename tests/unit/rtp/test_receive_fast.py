"""The C drainer's receive_fast (``_crecv.c``) does what RtpSession._on_rtp_datagram does.

Two sessions, configured alike, get the same datagrams with the same arrival
times: one through the C drainer serving it (the usual packet taken in C,
anything else handed to the session), the other straight through
``_on_rtp_datagram``, the reference.  After every datagram their statistics,
latch, jitter buffer and what they deliver (frames, digits) must be the same.
The streams mix the usual packets with everything the C path must leave to
the handler: strangers, other SSRCs, padding, extensions, CSRCs, garbage,
short datagrams, RFC 4733 events, a frame callback, a moved peer, rtcp-mux.
"""

from __future__ import annotations

import random
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from tui_phone.rtp import ticker
from tui_phone.rtp.jitterbuffer import JitterBuffer
from tui_phone.rtp.session import RtpSession

PEER = ("127.0.0.1", 40000)
ELSEWHERE = ("127.0.0.1", 40100)
MOVED = ("127.0.0.2", 40000)
SSRC, OTHER_SSRC = 0x11223344, 0x55667788


@pytest.fixture(scope="module")
def descriptor() -> Iterator[int]:
    """A descriptor for the drainers (deliver never reads it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sock.fileno()
    sock.close()


def _session(clock: Clock, rtcp_mux: bool) -> RtpSession:
    session = RtpSession(clock, rng=random.Random(7), rtcp_mux=rtcp_mux, jitter_buffer=JitterBuffer())
    session.set_remote(PEER)
    session.configure_receive([0, 8], 8000, telephone_event_pt=101, codec_name="PCMU")
    return session


def _datagram(first: int, second: int, sequence: int, timestamp: int, ssrc: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", first, second, sequence, timestamp, ssrc) + payload


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Steps: ("packet", (datagram, source, arrival)), ("pop", now), ("callback", None), ("move", None)."""
    steps: list[tuple[str, Any]] = []
    sequence = draw(st.integers(0, 65535))
    timestamp = draw(st.integers(0, 2**32 - 1))
    arrival = 1000.0
    for _ in range(draw(st.integers(1, 120))):
        kind = draw(st.sampled_from(["usual"] * 12 + ["gap", "dup", "back", "odd", "event", "pop", "pop",
                                                       "callback", "move"]))
        if kind == "pop":
            steps.append(("pop", arrival + draw(st.sampled_from([0.0, 0.02, 0.06]))))
            continue
        if kind in ("callback", "move"):
            steps.append((kind, None))
            continue
        step = {"usual": 1, "gap": draw(st.integers(2, 5)), "dup": 0, "back": -draw(st.integers(1, 3))}.get(kind, 1)
        sequence = (sequence + step) % 65536
        timestamp = (timestamp + 160 * step) % 2**32
        arrival += draw(st.sampled_from([0.02, 0.02, 0.019, 0.023, 0.0, 0.1]))
        first, ssrc, source, payload = 0x80, SSRC, PEER, bytes([len(steps) % 256]) * 160
        second = draw(st.sampled_from([0, 0, 0, 8, 0x80]))  # PCMU, PCMA, a marker
        if kind == "odd":
            first = draw(st.sampled_from([0x80, 0xA0, 0x90, 0x81, 0x00, 0x40]))
            second = draw(st.sampled_from([0, 8, 0x80, 13, 96, 200]))
            ssrc = draw(st.sampled_from([SSRC, OTHER_SSRC]))
            source = draw(st.sampled_from([PEER, ELSEWHERE, MOVED]))
            payload = draw(st.sampled_from([bytes(160), b"", bytes(4) + bytes(160)]))
        if kind == "event":
            second = 101 | draw(st.sampled_from([0, 0x80]))
            payload = bytes([draw(st.integers(0, 11)), draw(st.sampled_from([0x0A, 0x8A])), 0, 160])
        data = _datagram(first, second, sequence, timestamp, ssrc, payload)
        if draw(st.integers(0, 30)) == 0:
            data = data[: draw(st.integers(0, 11))]
        steps.append(("packet", (data, source, arrival)))
    return steps


def _observed(session: RtpSession) -> tuple[Any, ...]:
    stats = session.stats()
    latch = session._latch
    return (stats, latch.destination, latch.remote_ssrc, latch.latch_count, latch._trusted,
            dict(session._rtp_heard))


@pytest.mark.parametrize("rtcp_mux", [False, True], ids=["plain", "rtcp-mux"])
@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(steps=streams())
def test_the_c_path_does_what_the_session_does(descriptor: int, rtcp_mux: bool, steps: list[tuple[str, Any]]) -> None:
    assert ticker.Drainer is not None, "_crecv is not built (tests/unit/rtp/test_speedups.py)"
    clock = Clock()
    clock.advance(1000.0)
    fast, reference = _session(clock, rtcp_mux), _session(clock, rtcp_mux)
    delivered: dict[str, list[Any]] = {"fast": [], "reference": []}
    for name, session in (("fast", fast), ("reference", reference)):
        session.on_dtmf(lambda digit, name=name: delivered[name].append(("digit", digit)))
    drainer = ticker.Drainer(descriptor, fast._on_rtp_datagram, 2048, 64)
    drainer.set_session(fast)
    for kind, value in steps:
        if kind == "packet":
            drainer.deliver(*value)
            reference._on_rtp_datagram(*value)
        elif kind == "pop":
            assert fast.jitter_buffer is not None and reference.jitter_buffer is not None
            assert fast.jitter_buffer.pop(value) == reference.jitter_buffer.pop(value)
        elif kind == "callback":
            for name, session in (("fast", fast), ("reference", reference)):
                session.on_frame(lambda payload, packet, name=name: delivered[name].append((payload, packet)))
        else:
            fast.set_remote(MOVED)
            reference.set_remote(MOVED)
        assert _observed(fast) == _observed(reference)
        assert delivered["fast"] == delivered["reference"]


def test_the_usual_packets_do_not_reach_the_handler(descriptor: int) -> None:
    """The C path really takes the steady stream (else the test above proves nothing)."""
    clock = Clock()
    session = _session(clock, rtcp_mux=False)
    handled: list[bytes] = []

    def handler(data: bytes, source: tuple[str, int], arrival: float | None) -> None:
        handled.append(data)
        session._on_rtp_datagram(data, source, arrival)

    drainer = ticker.Drainer(descriptor, handler, 2048, 64)
    drainer.set_session(session)
    for k in range(50):
        drainer.deliver(_datagram(0x80, 0, 100 + k, 16000 + 160 * k, SSRC, bytes(160)), PEER, 10.0 + 0.02 * k)
    # The first packets teach the latch the SSRC and pass A.1 probation in Python.
    assert 1 <= len(handled) <= 3
    assert session.stats().received.packets_received == 50 - 1  # (A.1: the first is on probation)
    assert session.jitter_buffer is not None and session.jitter_buffer.buffered > 0
    drainer.set_session(None)
    drainer.deliver(_datagram(0x80, 0, 150, 16000 + 160 * 50, SSRC, bytes(160)), PEER, 11.0)
    assert len(handled) <= 4 and handled[-1][2:4] == (150).to_bytes(2, "big")
