"""Symmetric RTP: which received packets to trust, and where to send (RFC 4961).

Pure sans-I/O code.  Behind a NAT the peer's packets come from another
address than the one its SDP announced, and only replies sent to where they
come from get back in.  So after a *valid* packet from an unexpected
address the send destination moves there ("latching").  Validity is what
keeps a stranger from hijacking the stream: the packet parsed as RTP
version 2 (the caller checked), its payload type is one negotiated, and its
SSRC is the one already learned, if any.

The rules of :class:`SymmetricLatch`, in order:

1. A payload type outside the negotiated set: a stranger, ignored.
2. No source learned yet: the packet is accepted, its SSRC learned, and if
   it came from another address than the current destination, we latch.
3. The learned SSRC: accepted; from a new address, we latch again (the
   peer's NAT binding moved).
4. Another SSRC from the address we latched to (or, before any latch, the
   signalled one): accepted as the peer restarting its stream (a re-INVITE,
   an SBC switching media); the new SSRC is learned.
5. Another SSRC from anywhere else: a stranger, ignored.

The signalled address is kept for reporting; :attr:`SymmetricLatch.mismatch`
tells the UI that media flows with an address the SDP did not announce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Address = tuple[str, int]
StrangerReason = Literal["payload-type", "ssrc"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """The packet is from our peer; ``latched`` when the destination just moved."""

    latched: bool
    new_source: bool
    """True when this packet's SSRC was learned now (first packet or a restart)."""


@dataclass(frozen=True, slots=True)
class Stranger:
    """The packet is not from our peer (see the module docstring)."""

    reason: StrangerReason


Verdict = Accepted | Stranger

# The verdicts are immutable, so every packet shares one of these four
# rather than getting a new object (check runs for every packet received).
_ACCEPTED = {
    (latched, new_source): Accepted(latched=latched, new_source=new_source)
    for latched in (False, True)
    for new_source in (False, True)
}
_STEADY = _ACCEPTED[(False, False)]


class SymmetricLatch:
    """Filters received packets and tracks the send destination (RFC 4961).

    ``payload_types`` is the negotiated set, ``None`` accepting any.  With
    ``enabled`` false the destination never moves (the rules about what is
    accepted still apply).
    """

    def __init__(
        self,
        signalled: Address | None = None,
        payload_types: frozenset[int] | None = None,
        *,
        enabled: bool = True,
    ) -> None:
        self.signalled = signalled
        self.destination = signalled
        self.payload_types = payload_types
        self.enabled = enabled
        self.remote_ssrc: int | None = None
        self.latch_count = 0
        self.ssrc_changes = 0
        self._trusted: Address | None = None  # where accepted packets came from

    @property
    def latched(self) -> bool:
        """True once the destination was moved by a received packet."""
        return self.latch_count > 0

    @property
    def mismatch(self) -> bool:
        """Media flows with an address other than the signalled one."""
        return (
            self.signalled is not None
            and self.destination is not None
            and self.destination != self.signalled
        )

    def set_signalled(self, address: Address) -> None:
        """A new SDP (offer/answer, re-INVITE) announced ``address``.

        The destination goes back to it until a valid packet latches again.
        """
        self.signalled = address
        self.destination = address
        self._trusted = None

    def set_payload_types(self, payload_types: frozenset[int] | None) -> None:
        """The negotiated payload types changed."""
        self.payload_types = payload_types

    def check(self, ssrc: int, payload_type: int | None, source: Address) -> Verdict:
        """Judge one parsed packet from ``source`` (``payload_type`` None for RTCP)."""
        if (
            payload_type is not None
            and self.payload_types is not None
            and payload_type not in self.payload_types
        ):
            return Stranger("payload-type")
        if ssrc == self.remote_ssrc and source == self._trusted == self.destination:
            return _STEADY  # the usual packet: our peer, from where we send to
        new_source = False
        if self.remote_ssrc is None:
            new_source = True
        elif ssrc != self.remote_ssrc:
            home = self._trusted if self._trusted is not None else self.signalled
            if source != home:
                return Stranger("ssrc")
            new_source = True
            self.ssrc_changes += 1
        self.remote_ssrc = ssrc
        self._trusted = source
        if self.enabled and source != self.destination:
            self.destination = source
            self.latch_count += 1
            return _ACCEPTED[(True, new_source)]
        return _ACCEPTED[(False, new_source)]
