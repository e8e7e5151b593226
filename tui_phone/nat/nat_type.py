"""NAT classification results and what they mean for calls, PURE.

:class:`StunResult` is what :mod:`tui_phone.nat.stun` hands to the rest of the
phone (Contact and SDP rewriting, ``tui-phone doctor``, the TUI), and
:func:`describe_nat` turns it into the warnings the user sees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NatType(str, enum.Enum):
    """NAT behaviour in the RFC 3489 vocabulary (section 5) that pystun3 reports."""

    DISABLED = "disabled"  # no STUN server configured
    OPEN_INTERNET = "open internet"  # no NAT, no firewall
    FULL_CONE = "full cone"
    RESTRICTED_CONE = "restricted cone"
    PORT_RESTRICTED_CONE = "port restricted cone"
    SYMMETRIC = "symmetric"
    SYMMETRIC_FIREWALL = "symmetric UDP firewall"  # public address, filtered
    BLOCKED = "blocked"  # UDP to the server gets no answer
    UNKNOWN = "unknown"  # public address known, behaviour not tested


# pystun3 2.0.0 result strings (stun/__init__.py) to ours.
PYSTUN3_TYPES: dict[str, NatType] = {
    "Open Internet": NatType.OPEN_INTERNET,
    "Full Cone": NatType.FULL_CONE,
    "Restric NAT": NatType.RESTRICTED_CONE,
    "Restric Port NAT": NatType.PORT_RESTRICTED_CONE,
    "Symmetric NAT": NatType.SYMMETRIC,
    "Symmetric UDP Firewall": NatType.SYMMETRIC_FIREWALL,
    "Blocked": NatType.BLOCKED,
}


@dataclass(frozen=True)
class StunResult:
    """The outcome of one STUN check.

    ``public_ip``/``public_port`` are the server-reflexive address of the socket
    ``local_ip``/``local_port``; ``rtt`` is the Binding round trip in seconds;
    ``detail`` says why ``nat_type`` is UNKNOWN (or is empty).
    """

    public_ip: str | None
    public_port: int | None
    nat_type: NatType
    server: str
    rtt: float | None
    local_ip: str | None = None
    local_port: int | None = None
    detail: str = ""

    @classmethod
    def disabled(cls) -> StunResult:
        """The result when no STUN server is configured (loopback-only setups)."""
        return cls(None, None, NatType.DISABLED, "", None, detail="STUN is off (no stun_server configured)")

    @property
    def kind(self) -> str:
        """``'disabled'`` when STUN is off, else ``'mapped'``."""
        return "disabled" if self.nat_type is NatType.DISABLED else "mapped"

    @property
    def behind_nat(self) -> bool:
        """True when the server saw another address than the one we sent from."""
        if self.public_ip is None or self.local_ip is None:
            return False
        return (self.public_ip, self.public_port) != (self.local_ip, self.local_port)


def pystun3_nat_type(name: str) -> NatType:
    """Map a pystun3 result string to :class:`NatType` (UNKNOWN if unrecognised)."""
    return PYSTUN3_TYPES.get(name, NatType.UNKNOWN)


def describe_nat(result: StunResult) -> list[str]:
    """Warnings for the UI and ``doctor`` about what this NAT does to calls."""
    nat = result.nat_type
    if nat is NatType.DISABLED:
        return []
    if nat is NatType.BLOCKED:
        return [f"no UDP answer from STUN server {result.server}: UDP may be blocked; calls will likely fail"]
    warnings: list[str] = []
    if nat is NatType.SYMMETRIC:
        warnings.append("symmetric NAT: calls may have one-way audio; use a TURN relay or an outbound proxy")
    elif nat is NatType.PORT_RESTRICTED_CONE:
        warnings.append(
            "port-restricted NAT: incoming audio only flows after we send first; "
            "keep symmetric RTP on and consider UPnP port mapping"
        )
    elif nat is NatType.SYMMETRIC_FIREWALL:
        warnings.append("firewall drops unsolicited UDP: incoming calls may fail unless we register often")
    elif nat is NatType.UNKNOWN and result.detail:
        warnings.append(f"NAT type unknown: {result.detail}")
    if result.behind_nat and nat is not NatType.SYMMETRIC:
        warnings.append(
            f"behind NAT: public address {result.public_ip}:{result.public_port} "
            "is used in Contact and SDP"
        )
    return warnings


def advertised_address(result: StunResult, local_ip: str, local_port: int) -> tuple[str, int]:
    """The address to put in Contact / SDP for a socket bound to ``local_ip:local_port``.

    Without a usable STUN answer, or on a symmetric NAT (where the mapping
    learned towards the STUN server is useless towards anyone else), this is
    the local address.  When the STUN query ran from this very socket, the
    learned public port is used; for another socket the local port is kept,
    assuming the NAT preserves ports (the common cone-NAT behaviour).
    """
    if result.public_ip is None or result.nat_type in (NatType.DISABLED, NatType.SYMMETRIC, NatType.BLOCKED):
        return local_ip, local_port
    if not result.behind_nat:
        return local_ip, local_port
    if result.local_port == local_port and result.public_port is not None:
        return result.public_ip, result.public_port
    return result.public_ip, local_port
