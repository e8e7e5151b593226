"""UPnP port mapping for the SIP and RTP ports: add, renew at half the lease, remove on exit.

:class:`UpnpMapper` finds a gateway (miniupnpc multicast discovery by default,
or our unicast SSDP + SOAP client when ``ssdp_target`` is set; see
:mod:`tui_phone.nat.igd` for the split), maps each port to the same external
port, and re-adds the mappings every ``lease_s / 2`` seconds on the given
clock.  ``start()`` and ``stop()`` block on the gateway's HTTP (a LAN round
trip with a 2 s timeout); call them from a thread
(``twisted.internet.threads.deferToThread``) in the UI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import UpnpError
from .igd import IgdClient, MiniupnpcIgd, discover_soap_igd

log = logging.getLogger(__name__)

PROTOCOLS = ("UDP", "TCP")


class ClockLike(Protocol):
    """The part of Twisted's IReactorTime the mapper uses (the reactor, or task.Clock)."""

    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any, **kw: Any) -> Any:  # noqa: N802
        """Schedule ``callable`` in ``delay`` seconds; return an IDelayedCall."""


@dataclass(frozen=True)
class PortMapping:
    """One external port mapped to the same port on our LAN address."""

    port: int
    protocol: str


@dataclass(frozen=True)
class UpnpStatus:
    """What ``doctor`` and the TUI show about UPnP."""

    gateway_found: bool
    gateway: str
    external_ip: str | None
    mappings: tuple[PortMapping, ...]
    lease_s: int
    renewals: int
    last_error: str | None

    def describe(self) -> list[str]:
        """Human-readable lines for the report."""
        if not self.gateway_found:
            return [self.last_error or "no UPnP gateway (not started)"]
        ports = ", ".join(f"{m.protocol} {m.port}" for m in self.mappings) or "none"
        lines = [f"UPnP gateway {self.gateway}, external IP {self.external_ip or 'unknown'}", f"mapped: {ports}"]
        if self.last_error:
            lines.append(f"last error: {self.last_error}")
        return lines


class UpnpMapper:
    """Keep ``ports`` mapped on the gateway to ``lan_ip`` while the phone runs.

    ``ports`` holds ``(port, protocol)`` pairs, protocol "UDP" or "TCP".
    ``lease_s`` 0 asks for a permanent mapping (no renewal).  ``discover``
    returns an :class:`IgdClient`; by default it is chosen from
    ``ssdp_target`` as described in the module docstring.  ``clock`` is the
    reactor (or a ``twisted.internet.task.Clock`` in tests).
    """

    def __init__(
        self,
        lan_ip: str,
        ports: Sequence[tuple[int, str]],
        lease_s: int = 3600,
        description: str = "tui-phone",
        *,
        clock: ClockLike | None = None,
        discover: Callable[[], IgdClient] | None = None,
        ssdp_target: tuple[str, int] | None = None,
        search_s: float = 2.0,
    ) -> None:
        for port, protocol in ports:
            if protocol not in PROTOCOLS:
                raise ValueError(f"UPnP protocol must be UDP or TCP, not {protocol!r}")
            if not 0 < port < 65536:
                raise ValueError(f"UPnP port out of range: {port}")
        if lease_s < 0:
            raise ValueError(f"UPnP lease must be 0 (permanent) or more seconds, not {lease_s}")
        self.lan_ip = lan_ip
        self.ports = [PortMapping(port, protocol) for port, protocol in ports]
        self.lease_s = lease_s
        self.description = description
        self.search_s = search_s
        self.ssdp_target = ssdp_target
        self._clock = clock
        self._discover = discover if discover is not None else self._default_discover
        self._igd: IgdClient | None = None
        self._external_ip: str | None = None
        self._added: list[PortMapping] = []
        self._timer: Any = None  # IDelayedCall
        self._renewals = 0
        self._last_error: str | None = None

    def _default_discover(self) -> IgdClient:
        if self.ssdp_target is not None:
            return discover_soap_igd(self.ssdp_target, self.search_s)
        return MiniupnpcIgd.discover(self.search_s)

    def _reactor(self) -> ClockLike:
        if self._clock is None:
            from twisted.internet import reactor

            self._clock = reactor  # type: ignore[assignment]  # zope interfaces are not typed
        assert self._clock is not None
        return self._clock

    def start(self) -> UpnpStatus:
        """Find the gateway and add every mapping; raise :class:`UpnpError` on failure.

        When one mapping fails, the ones already added are removed again, so
        a failed start leaves nothing behind on the gateway.
        """
        if self._igd is not None:
            return self.status()
        try:
            igd = self._discover()
        except UpnpError as exc:
            self._last_error = str(exc)
            raise
        self._igd = igd
        try:
            self._external_ip = igd.external_ip() or None
        except UpnpError as exc:
            log.warning("UPnP: %s", exc)
            self._external_ip = None
        for mapping in self.ports:
            try:
                self._add(igd, mapping)
            except UpnpError as exc:
                message = f"cannot map {mapping.protocol} port {mapping.port} on {igd.gateway}: {exc}"
                self._last_error = message
                self.stop()
                raise UpnpError(message) from exc
            self._added.append(mapping)
        self._schedule()
        return self.status()

    def _add(self, igd: IgdClient, mapping: PortMapping) -> None:
        igd.add_port_mapping(mapping.port, mapping.protocol, self.lan_ip, self.lease_s,
                             f"{self.description} {mapping.protocol} {mapping.port}")

    def _schedule(self) -> None:
        if self.lease_s > 0:
            # Renew at half the lease so one lost renewal still leaves time for the next.
            self._timer = self._reactor().callLater(self.lease_s / 2, self._renew)

    def _renew(self) -> None:
        """Re-add every mapping (AddPortMapping on an existing entry refreshes its lease)."""
        self._timer = None
        igd = self._igd
        if igd is None:
            return
        for mapping in self._added:
            try:
                self._add(igd, mapping)
            except UpnpError as exc:
                self._last_error = f"renewing {mapping.protocol} port {mapping.port}: {exc}"
                log.warning("UPnP: %s", self._last_error)
        self._renewals += 1
        self._schedule()

    def stop(self) -> None:
        """Cancel renewal and delete every mapping we added; safe to call twice."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        igd = self._igd
        if igd is not None:
            for mapping in self._added:
                try:
                    igd.delete_port_mapping(mapping.port, mapping.protocol)
                except UpnpError as exc:
                    self._last_error = f"removing {mapping.protocol} port {mapping.port}: {exc}"
                    log.warning("UPnP: %s", self._last_error)
        self._added = []
        self._igd = None

    def status(self) -> UpnpStatus:
        """The current state, for ``doctor`` and the TUI."""
        gateway: Any = self._igd.gateway if self._igd is not None else ""
        return UpnpStatus(
            gateway_found=self._igd is not None,
            gateway=str(gateway),
            external_ip=self._external_ip,
            mappings=tuple(self._added),
            lease_s=self.lease_s,
            renewals=self._renewals,
            last_error=self._last_error,
        )
