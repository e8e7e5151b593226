"""Host name lookups for the transport edge (A/AAAA only: no SRV or NAPTR).

RFC 3263's transport and port choice is made by the pure
:func:`~tui_phone.sip.routing.resolve_target`; all that is left for the edge
is turning a host name into an address, with the reactor's own resolver.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer  # type: ignore[import-untyped]

from ..routing import UDP, ip_address, is_ipv6, normalize_host
from .base import ConnectionFailedError


@implementer(IResolutionReceiver)
class _Resolution:
    """Collects the addresses of one lookup and hands them over at the end."""

    def __init__(self, done: Deferred[list[str]]) -> None:
        self.done = done
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution: Any) -> None:
        """The lookup started: nothing to do."""

    def addressResolved(self, address: Any) -> None:
        """Keep each address, normalized."""
        self.addresses.append(normalize_host(address.host))

    def resolutionComplete(self) -> None:
        """Hand the addresses over."""
        self.done.callback(self.addresses)


def pick_address(addresses: list[str], host: str, families: set[bool] | None) -> str:
    """The address to use among those a name resolved to.

    ``families`` are the families we can send from (True = IPv6), for UDP;
    None for streams, which prefer IPv4 (where most SIP servers listen).
    """
    if not addresses:
        raise ConnectionFailedError(f"cannot resolve {host!r}")
    if families is not None:
        usable = [address for address in addresses if is_ipv6(address) in families]
        return (usable or addresses)[0]
    return min(addresses, key=is_ipv6)


def resolve_host(reactor: Any, host: str, transport: str,
                 families: set[bool] | None = None) -> Deferred[str]:
    """A Deferred of the address for ``host`` (at once for an IP literal)."""
    if ip_address(host) is not None:
        return succeed(normalize_host(host))
    done: Deferred[list[str]] = Deferred()
    reactor.nameResolver.resolveHostName(
        _Resolution(done), host, 0, [IPv4Address, IPv6Address],
        "UDP" if transport == UDP else "TCP",
    )
    return done.addCallback(pick_address, host, families)
