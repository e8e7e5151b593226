"""RtpSession sends through the tick's DatagramPoller: a failed send is counted,
logged and left out of the sender statistics, and the stream goes on."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tui_phone.rtp.session import RtpSession
from tui_phone.testing.fakereactor import FakeReactor


pytestmark = pytest.mark.usefixtures("tick_implementation")  # (conftest.py: on the C tick and in Python)


FAR = ("127.0.0.1", 7000)


class StandInPoller:
    """What the session uses of a DatagramPoller; the first ``failures`` sends fail."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[tuple[bytes, Any]] = []

    def drain(self) -> int:
        return 0

    def detach(self) -> None:
        pass

    def sendto(self, data: bytes, destination: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError(111, "Connection refused")
        self.sent.append((data, destination))


def test_a_failed_send_is_counted_and_the_stream_goes_on() -> None:
    reactor = FakeReactor()
    session = RtpSession(reactor, rng=random.Random(4))
    session.open("127.0.0.1", (20000, 20100))
    session.set_remote(FAR)
    session.start_sending(lambda: b"\xff" * 160, 0, 8000, 160, 20)
    poller = StandInPoller(failures=2)
    session._poller = poller  # type: ignore[assignment]
    for _ in range(5):
        reactor.advance(0.02)
    stats = session.stats()
    assert stats.send_errors == 2
    assert len(poller.sent) == 3 and all(destination == FAR for _, destination in poller.sent)
    assert session._sender_stats.packet_count == 1 + 3  # the first frame went out before the poller
    assert session.sending
    session.close()
