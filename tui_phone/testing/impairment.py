"""User-space network impairment for tests: a lossy, jittery UDP relay on loopback.

The kernel here has no netem, so tests that need a bad network put this
relay between two endpoints.  It listens on one loopback port: datagrams
from the *target* go back to the last client seen, all other datagrams go
to the target (so a symmetric-RTP endpoint answering the relay's address
reaches its peer through it).  Each direction has an
:class:`ImpairmentProfile`: loss, duplication, reordering, fixed delay and
uniform jitter.

Decisions are seeded and made by the pure :class:`ImpairmentModel`: for a
given seed, packet ``i`` of a direction is always dropped, duplicated,
reordered or delayed the same way, whatever the timing.  Each packet draws
the same number of random values whatever happens to it, so changing the
profile mid-stream (e.g. a clean tail) does not shift later decisions.
Delivery times come from the reactor, so what the receiver measures
(jitter) depends on real timing as well; the counters say exactly what was
done.

Reordering holds a packet back by ``reorder_delay_ms`` on top of its delay,
so the packets sent after it in that window overtake it; with 20 ms packets
and the default 45 ms, one or two do.  A duplicate copy follows the original
``duplicate_gap_ms`` later.  Only loopback addresses are accepted: this is a
test tool and must never put traffic on a real network.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.protocol import DatagramProtocol

Address = tuple[str, int]


class ImpairmentError(ValueError):
    """A profile or address the relay cannot use (a test-setup bug)."""


@dataclass(frozen=True, slots=True)
class ImpairmentProfile:
    """What one direction of the relay does to packets.

    Probabilities are per packet, in [0, 1]; times in milliseconds.
    ``clean_first`` packets at the start get the delay and jitter only (no
    loss, duplication or reordering), e.g. so that RFC 3550 A.1 probation
    sees an orderly start.
    """

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    reorder_delay_ms: float = 45.0
    duplicate_gap_ms: float = 1.0
    clean_first: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ImpairmentError(f"{name} probability must be within 0-1, got {value}")
        for name in ("delay_ms", "jitter_ms", "reorder_delay_ms", "duplicate_gap_ms"):
            value = getattr(self, name)
            if value < 0:
                raise ImpairmentError(f"{name} must not be negative, got {value}")
        if self.clean_first < 0:
            raise ImpairmentError(f"clean_first must not be negative, got {self.clean_first}")

    def without_disorder(self) -> ImpairmentProfile:
        """The same delay and jitter, without loss, duplication or reordering."""
        return ImpairmentProfile(delay_ms=self.delay_ms, jitter_ms=self.jitter_ms)


CLEAN = ImpairmentProfile()


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one packet: one delay (seconds) per copy sent."""

    index: int
    delays: tuple[float, ...]
    dropped: bool = False
    duplicated: bool = False
    reordered: bool = False


@dataclass(frozen=True, slots=True)
class ImpairmentCounters:
    """What one direction did so far."""

    received: int
    sent: int
    """Copies sent: received - dropped + duplicated."""
    dropped: int
    duplicated: int
    reordered: int


class ImpairmentModel:
    """Seeded impairment decisions for one direction (pure, no I/O)."""

    def __init__(self, profile: ImpairmentProfile, rng: random.Random) -> None:
        self.profile = profile
        self._rng = rng
        self._received = 0
        self._dropped = 0
        self._duplicated = 0
        self._reordered = 0
        self.log: list[Decision] = []

    @property
    def counters(self) -> ImpairmentCounters:
        """A snapshot of the counters."""
        sent = self._received - self._dropped + self._duplicated
        return ImpairmentCounters(self._received, sent, self._dropped, self._duplicated, self._reordered)

    def decide(self) -> Decision:
        """Decide the fate of the next packet."""
        p = self.profile
        # Always four draws, so decisions stay aligned with packet indexes.
        r_loss, r_dup, r_reorder, r_jitter = (self._rng.random() for _ in range(4))
        index = self._received
        self._received += 1
        disorder = index >= p.clean_first
        if disorder and r_loss < p.loss:
            self._dropped += 1
            decision = Decision(index, (), dropped=True)
        else:
            delay = (p.delay_ms + r_jitter * p.jitter_ms) / 1000.0
            reordered = disorder and r_reorder < p.reorder
            if reordered:
                delay += p.reorder_delay_ms / 1000.0
                self._reordered += 1
            delays: tuple[float, ...] = (delay,)
            duplicated = disorder and r_dup < p.duplicate
            if duplicated:
                self._duplicated += 1
                delays = (delay, delay + p.duplicate_gap_ms / 1000.0)
            decision = Decision(index, delays, duplicated=duplicated, reordered=reordered)
        self.log.append(decision)
        return decision


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ImpairmentError(f"the impairment relay only works on loopback addresses, not {host!r}")


class _RelayProtocol(DatagramProtocol):
    def __init__(self, relay: ImpairmentRelay) -> None:
        self._relay = relay

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self._relay.datagram_received(datagram, (addr[0], addr[1]))


class ImpairmentRelay:
    """A UDP relay on loopback that impairs both directions (Twisted).

    ``target`` is where client datagrams go; ``forward`` impairs them,
    ``backward`` impairs the target's replies.  ``seed`` makes the forward
    and backward decisions reproducible (separate random streams).
    """

    def __init__(
        self,
        target: Address,
        forward: ImpairmentProfile = CLEAN,
        *,
        backward: ImpairmentProfile = CLEAN,
        seed: int = 0,
        reactor: Any = None,
    ) -> None:
        _check_loopback(target[0])
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self._reactor = reactor
        self.target = target
        self.forward = ImpairmentModel(forward, random.Random(f"{seed}/forward"))
        self.backward = ImpairmentModel(backward, random.Random(f"{seed}/backward"))
        self.client: Address | None = None
        self._port: Any = None
        self._pending: set[Any] = set()  # IDelayedCall objects

    @property
    def address(self) -> Address:
        """Where clients send (after :meth:`start`)."""
        if self._port is None:
            raise ImpairmentError("the relay is not started")
        host = self._port.getHost()
        return (host.host, host.port)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Address:
        """Bind the relay (port 0: any free port) and return its address."""
        _check_loopback(host)
        self._port = self._reactor.listenUDP(port, _RelayProtocol(self), interface=host)
        return self.address

    def set_forward_profile(self, profile: ImpairmentProfile) -> None:
        """Change what the forward direction does from the next packet on."""
        self.forward.profile = profile

    def set_backward_profile(self, profile: ImpairmentProfile) -> None:
        """Change what the backward direction does from the next packet on."""
        self.backward.profile = profile

    def datagram_received(self, datagram: bytes, source: Address) -> None:
        """One datagram arrived at the relay from ``source``."""
        if source == self.target:
            if self.client is None:
                return  # nobody to send it back to yet
            model, destination = self.backward, self.client
        else:
            self.client = source
            model, destination = self.forward, self.target
        for delay in model.decide().delays:
            if delay <= 0:
                self._emit(datagram, destination)
            else:
                self._later(delay, datagram, destination)

    def _later(self, delay: float, datagram: bytes, destination: Address) -> None:
        holder: list[Any] = []  # the IDelayedCall, once made

        def fire() -> None:
            self._pending.discard(holder[0])
            self._emit(datagram, destination)

        holder.append(self._reactor.callLater(delay, fire))
        self._pending.add(holder[0])

    def _emit(self, datagram: bytes, destination: Address) -> None:
        if self._port is not None:
            self._port.write(datagram, destination)

    def stop(self) -> Deferred[Any]:
        """Drop the packets in flight and unbind."""
        for call in list(self._pending):
            if call.active():
                call.cancel()
        self._pending.clear()
        port, self._port = self._port, None
        if port is None:
            return succeed(None)
        return maybeDeferred(port.stopListening)
