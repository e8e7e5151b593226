"""NAT traversal for a running phone, the Twisted edge: STUN once, UPnP while running.

:class:`NatManager` joins the pieces of :mod:`tui_phone.nat` for
:class:`tui_phone.phone.Phone`:

* at start, one STUN query (when ``[nat] stun_server`` is set) learns the
  public address and the NAT type; :func:`describe_nat` turns it into warnings;
* with ``[nat] upnp``, the gateway is found once and the SIP port is mapped
  (UDP and TCP), then each call's RTP/RTCP pair while the call lasts
  (:meth:`map_rtp` / :meth:`unmap_rtp`); :meth:`stop` deletes everything;
* :meth:`advertised` says which address goes into Contact and SDP.

STUN and the gateway's HTTP block, so they run in the reactor's thread pool,
one gateway operation after another (a queue), so an unmap never overtakes its
map and :meth:`stop` runs after both.  Tests pass ``run_blocking`` to run them
inline on a ``twisted.internet.task.Clock``.

The STUN query runs from its own socket bound to the phone's LAN address, not
from the SIP socket, so the learned public port is that socket's; for the SIP
and RTP ports :func:`advertised_address` assumes a port-preserving NAT (the
common cone-NAT behaviour) and keeps the local port with the public IP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from twisted.internet import threads
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.python.failure import Failure
from twisted.python.threadable import isInIOThread

from ..config import NatSettings
from ..events import NatStatusChanged
from .errors import StunError, UpnpError
from .igd import IgdClient, MiniupnpcIgd, discover_soap_igd
from .nat_type import NatType, StunResult, advertised_address, describe_nat
from .stun import query_stun_deferred
from .upnp import PortMapping, UpnpMapper

log = logging.getLogger(__name__)

T = TypeVar("T")
LEASE_S = 3600  # one hour; renewed at half (tui_phone.nat.upnp)
SIP_PROTOCOLS = ("UDP", "TCP")


@dataclass(frozen=True)
class NatStatus:
    """What ``doctor`` and the TUI show about NAT traversal."""

    public_ip: str | None
    public_port: int | None
    nat_type: NatType
    stun_server: str
    upnp_gateway: str
    external_ip: str | None
    mappings: tuple[PortMapping, ...]
    warnings: tuple[str, ...]

    def describe(self) -> list[str]:
        """Human-readable lines."""
        lines = [f"NAT type: {self.nat_type.value}"]
        if self.public_ip is not None:
            lines.append(f"public address {self.public_ip}:{self.public_port} (STUN {self.stun_server})")
        if self.upnp_gateway:
            ports = ", ".join(f"{m.protocol} {m.port}" for m in self.mappings) or "none"
            lines.append(f"UPnP gateway {self.upnp_gateway}, external IP {self.external_ip or 'unknown'}, "
                         f"mapped: {ports}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


class _ThreadSafeClock:
    """The reactor's callLater, usable from pool threads (UpnpMapper schedules its
    renewal inside ``start()``, which runs on a thread), whose calls run the
    renewal back on the pool through ``run``."""

    def __init__(self, reactor: Any, run: Callable[[Callable[[], Any]], Any]) -> None:
        self._reactor = reactor
        self._run = run

    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any, **kw: Any) -> Any:  # noqa: N802
        def later() -> None:
            self._run(lambda: callable(*args, **kw))

        if isInIOThread():
            return _SafeDelayedCall(self._reactor, self._reactor.callLater(delay, later))
        call = threads.blockingCallFromThread(self._reactor, self._reactor.callLater, delay, later)
        return _SafeDelayedCall(self._reactor, call)


class _SafeDelayedCall:
    """An IDelayedCall whose cancel() may come from a pool thread."""

    def __init__(self, reactor: Any, call: Any) -> None:
        self._reactor = reactor
        self._call = call

    def active(self) -> bool:
        return bool(self._call.active())

    def cancel(self) -> None:
        if isInIOThread():
            self._call.cancel()
        else:
            threads.blockingCallFromThread(self._reactor, lambda: self._call.cancel() if self._call.active() else None)


class NatManager:
    """STUN at start and UPnP mappings while the phone runs (see the module docstring).

    ``config`` is the ``[nat]`` table; ``on_status`` receives a
    :class:`NatStatusChanged` whenever the status changes (the Phone's emit).
    ``stun_query(server, **options)`` returns a Deferred StunResult;
    ``upnp_factory`` builds :class:`UpnpMapper` objects; ``discover`` finds the
    gateway (default: from ``config.upnp_ssdp_target``, else miniupnpc);
    ``run_blocking`` runs a blocking function and returns a Deferred (default:
    the reactor's thread pool).
    """

    def __init__(
        self,
        config: NatSettings,
        reactor: Any,
        *,
        stun_query: Callable[..., Deferred[StunResult]] = query_stun_deferred,
        upnp_factory: Callable[..., UpnpMapper] = UpnpMapper,
        discover: Callable[[], IgdClient] | None = None,
        run_blocking: Callable[[Callable[[], Any]], Deferred[Any]] | None = None,
        stun_options: dict[str, Any] | None = None,
        on_status: Callable[[NatStatusChanged], None] | None = None,
        lease_s: int = LEASE_S,
    ) -> None:
        self.config = config
        self.reactor = reactor
        self._stun_query = stun_query
        self._upnp_factory = upnp_factory
        self._discover = discover if discover is not None else self._default_discover
        self._stun_options = dict(stun_options or {})
        self._on_status = on_status
        self.lease_s = lease_s
        if run_blocking is None:
            self._run_blocking: Callable[[Callable[[], Any]], Deferred[Any]] = threads.deferToThread
            self._clock: Any = _ThreadSafeClock(reactor, self._queue)
        else:
            self._run_blocking = run_blocking
            self._clock = reactor
        self._tail: Deferred[None] = succeed(None)
        self._lan_ip = ""
        self._stun: StunResult | None = None
        self._igd: IgdClient | None = None
        self._sip: UpnpMapper | None = None
        self._rtp: dict[tuple[int, ...], UpnpMapper] = {}
        self._warnings: list[str] = []

    @property
    def enabled(self) -> bool:
        """True when ``[nat]`` asks for STUN or UPnP."""
        return self.config.stun_server is not None or self.config.upnp

    def _default_discover(self) -> IgdClient:
        if self.config.upnp_ssdp_target is not None:
            return discover_soap_igd(self.config.upnp_ssdp_target)
        return MiniupnpcIgd.discover()

    # -- the queue of blocking work ------------------------------------------------
    def _queue(self, work: Callable[[], T]) -> Deferred[T]:
        """Run ``work`` via run_blocking after every earlier queued job; fires with its result."""
        result: Deferred[T] = Deferred()

        def run(_: Any) -> Deferred[None]:
            done = self._run_blocking(work)

            def settle(outcome: Any) -> None:
                if isinstance(outcome, Failure):
                    result.errback(outcome)
                else:
                    result.callback(outcome)

            return done.addBoth(settle)

        self._tail.addCallback(run)
        return result

    # -- start ---------------------------------------------------------------------
    def start(self, sip_port: int, lan_ip: str) -> Deferred[NatStatus]:
        """STUN (if configured), then UPnP for the SIP port (if enabled); never fails.

        Failures become warnings in the status, so the phone still starts.
        """
        self._lan_ip = lan_ip
        if self.config.stun_server is not None:
            options = {"source": (lan_ip, 0), **self._stun_options}
            stunned: Deferred[Any] = maybeDeferred(self._stun_query, self.config.stun_server, **options)
            stunned.addCallbacks(self._stun_done, self._stun_failed)
        else:
            stunned = succeed(None)
        if self.config.upnp:
            stunned.addCallback(lambda _: self._queue(lambda: self._map_sip(sip_port, lan_ip)))
            stunned.addErrback(self._upnp_failed, "UPnP")
        return stunned.addCallback(lambda _: self._changed())

    def _stun_done(self, result: StunResult) -> None:
        self._stun = result
        self._warnings.extend(describe_nat(result))
        log.info("STUN %s: public %s:%s, %s", result.server, result.public_ip, result.public_port,
                 result.nat_type.value)

    def _stun_failed(self, failure: Failure) -> None:
        failure.trap(StunError)
        self._warnings.append(f"STUN failed: {failure.value}; Contact and SDP keep the local address")

    def _map_sip(self, sip_port: int, lan_ip: str) -> None:
        igd = self._discover()
        mapper = self._upnp_factory(lan_ip, [(sip_port, protocol) for protocol in SIP_PROTOCOLS], self.lease_s,
                                    "tui-phone SIP", clock=self._clock, discover=lambda: igd)
        mapper.start()
        self._igd = igd
        self._sip = mapper

    def _upnp_failed(self, failure: Failure, what: str) -> None:
        failure.trap(UpnpError)
        message = f"{what}: {failure.value}"
        log.warning("%s", message)
        self._warnings.append(message)

    # -- RTP -------------------------------------------------------------------------
    def map_rtp(self, port_pair: Sequence[int]) -> Deferred[None]:
        """Map a call's RTP and RTCP ports (UDP) on the gateway; no-op without UPnP."""
        pair = tuple(port_pair)
        if not self.config.upnp:
            return succeed(None)

        def work() -> None:
            igd = self._igd
            if igd is None or pair in self._rtp:
                return
            mapper = self._upnp_factory(self._lan_ip, [(port, "UDP") for port in pair], self.lease_s,
                                        "tui-phone RTP", clock=self._clock, discover=lambda: igd)
            mapper.start()
            self._rtp[pair] = mapper

        return self._queue(work).addErrback(self._upnp_failed, "UPnP RTP").addCallback(lambda _: self._changed()) \
            .addCallback(lambda _: None)

    def unmap_rtp(self, port_pair: Sequence[int]) -> Deferred[None]:
        """Delete the mappings :meth:`map_rtp` made for this pair."""
        pair = tuple(port_pair)
        if not self.config.upnp:
            return succeed(None)

        def work() -> bool:
            mapper = self._rtp.pop(pair, None)
            if mapper is None:
                return False
            mapper.stop()
            return True

        def changed(removed: bool) -> None:
            if removed:
                self._changed()

        return self._queue(work).addCallback(changed)

    # -- what to advertise -----------------------------------------------------------
    def advertised(self, local_ip: str, local_port: int) -> tuple[str, int]:
        """The address for Contact / SDP of a socket bound to ``local_ip:local_port``.

        The STUN-learned public address when behind a NAT whose mapping allows it;
        the local address otherwise (no STUN, no NAT, symmetric NAT, blocked).
        """
        if self._stun is None:
            return local_ip, local_port
        return advertised_address(self._stun, local_ip, local_port)

    @property
    def behind_nat(self) -> bool:
        """True when STUN saw another address than ours and Contact/SDP are rewritten."""
        return self._stun is not None and self.advertised(self._lan_ip, 1) != (self._lan_ip, 1)

    # -- stop ------------------------------------------------------------------------
    def stop(self) -> Deferred[None]:
        """Cancel renewals and delete every mapping (after pending gateway work)."""
        def work() -> None:
            for mapper in [*self._rtp.values(), *([self._sip] if self._sip is not None else [])]:
                mapper.stop()
            self._rtp.clear()
            self._sip = None
            self._igd = None

        if not self.config.upnp:
            return succeed(None)
        return self._queue(work).addErrback(self._upnp_failed, "UPnP").addCallback(lambda _: None)

    # -- status ----------------------------------------------------------------------
    @property
    def status(self) -> NatStatus:
        """Public address, NAT type, UPnP gateway, mappings, warnings."""
        stun = self._stun
        mappings: list[PortMapping] = []
        external_ip = None
        gateway = ""
        if self._sip is not None:
            upnp = self._sip.status()
            gateway, external_ip = upnp.gateway, upnp.external_ip
            mappings.extend(upnp.mappings)
        for mapper in list(self._rtp.values()):
            mappings.extend(mapper.status().mappings)
        if stun is not None:
            nat_type = stun.nat_type
        else:
            nat_type = NatType.UNKNOWN if self.config.stun_server is not None else NatType.DISABLED
        return NatStatus(
            public_ip=stun.public_ip if stun is not None else None,
            public_port=stun.public_port if stun is not None else None,
            nat_type=nat_type,
            stun_server=stun.server if stun is not None else "",
            upnp_gateway=gateway,
            external_ip=external_ip,
            mappings=tuple(mappings),
            warnings=tuple(self._warnings),
        )

    def _changed(self) -> NatStatus:
        status = self.status
        if self._on_status is not None:
            self._on_status(NatStatusChanged(
                public_ip=status.public_ip, public_port=status.public_port, nat_type=status.nat_type.value,
                upnp=status.upnp_gateway, warnings=status.warnings,
            ))
        return status
