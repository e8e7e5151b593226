"""Talking to an Internet Gateway Device, the I/O edge.

Two clients with one interface (:class:`IgdClient`):

* :class:`MiniupnpcIgd` wraps miniupnpc (discovery by SSDP multicast or a
  local minissdpd, then its own SOAP calls).  It is the production default.
  miniupnpc's discovery cannot be aimed at a unicast address and its
  ``selectigd()`` takes no description URL, so it cannot reach a gateway on
  loopback without multicast; tests therefore drive it through a stand-in
  for ``miniupnpc.UPnP`` only.
* :class:`SoapIgd` is ours: SSDP M-SEARCH sent to a configurable address
  (``ssdp_target``; the fake IGD on 127.0.0.1 in tests, or a gateway the
  user names), the device description fetched over HTTP, and the SOAP calls
  made with urllib (:mod:`tui_phone.nat.igd_protocol` builds and parses them).
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from .errors import UpnpError, UpnpParseError, UpnpSoapError
from .igd_protocol import (
    SsdpAnswer,
    WanService,
    m_search,
    parse_device_description,
    parse_soap_response,
    parse_ssdp_answer,
    soap_request,
)

log = logging.getLogger(__name__)

NO_SUCH_ENTRY = 714  # IGD WANIPConnection:1 error NoSuchEntryInArray


class IgdClient(Protocol):
    """What :class:`tui_phone.nat.upnp.UpnpMapper` needs from a gateway."""

    gateway: str

    def external_ip(self) -> str:
        """The gateway's WAN address (GetExternalIPAddress)."""

    def add_port_mapping(self, port: int, protocol: str, internal_client: str, lease_s: int, description: str) -> None:
        """Map external ``port``/``protocol`` to the same port on ``internal_client``."""

    def delete_port_mapping(self, port: int, protocol: str) -> None:
        """Remove the mapping of external ``port``/``protocol``."""

    def get_port_mapping(self, port: int, protocol: str) -> dict[str, str] | None:
        """GetSpecificPortMappingEntry's out-arguments, or None when unmapped."""


def ssdp_search(target: tuple[str, int], timeout: float, mx: int = 2) -> list[SsdpAnswer]:
    """Send one M-SEARCH to ``target`` and collect answers for ``timeout`` seconds."""
    family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
    answers: list[SsdpAnswer] = []
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(m_search(target, mx), target)
        except OSError as exc:
            raise UpnpError(f"cannot send the SSDP search to {target[0]}:{target[1]}: {exc.strerror}") from exc
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                data, _ = sock.recvfrom(4096)
            except (socket.timeout, ConnectionRefusedError):
                break
            try:
                answers.append(parse_ssdp_answer(data))
            except UpnpParseError as exc:
                log.debug("ignoring an SSDP datagram: %s", exc)
                continue
            break  # one gateway is all we need
    return answers


def _opener() -> urllib.request.OpenerDirector:
    # Never send gateway traffic through an HTTP proxy from the environment.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SoapIgd:
    """A gateway spoken to with our own SOAP client."""

    def __init__(self, service: WanService, location: str, timeout: float = 2.0) -> None:
        self.service = service
        self.location = location
        self.timeout = timeout
        self.gateway = service.friendly_name or location

    @classmethod
    def from_location(cls, location: str, timeout: float = 2.0) -> SoapIgd:
        """Fetch the device description at ``location`` and find the WAN service."""
        try:
            with _opener().open(location, timeout=timeout) as reply:
                data = reply.read()
        except (urllib.error.URLError, OSError) as exc:
            raise UpnpError(f"cannot fetch the gateway description {location}: {exc}") from exc
        return cls(parse_device_description(data, location), location, timeout)

    def call(self, action: str, arguments: dict[str, str]) -> dict[str, str]:
        """POST one SOAP action and return its out-arguments."""
        body, headers = soap_request(self.service.service_type, action, arguments)
        request = urllib.request.Request(self.service.control_url, data=body, headers=headers, method="POST")
        try:
            with _opener().open(request, timeout=self.timeout) as reply:
                answer = reply.read()
        except urllib.error.HTTPError as exc:
            answer = exc.read()
            if exc.code != 500:
                raise UpnpError(f"gateway answered {action} with HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise UpnpError(f"cannot reach the gateway for {action}: {exc}") from exc
        return parse_soap_response(action, answer)

    def external_ip(self) -> str:
        """GetExternalIPAddress."""
        return self.call("GetExternalIPAddress", {}).get("NewExternalIPAddress", "")

    def add_port_mapping(self, port: int, protocol: str, internal_client: str, lease_s: int, description: str) -> None:
        """AddPortMapping, external port = internal port."""
        self.call("AddPortMapping", {
            "NewRemoteHost": "",
            "NewExternalPort": str(port),
            "NewProtocol": protocol,
            "NewInternalPort": str(port),
            "NewInternalClient": internal_client,
            "NewEnabled": "1",
            "NewPortMappingDescription": description,
            "NewLeaseDuration": str(lease_s),
        })

    def delete_port_mapping(self, port: int, protocol: str) -> None:
        """DeletePortMapping."""
        self.call("DeletePortMapping", {"NewRemoteHost": "", "NewExternalPort": str(port), "NewProtocol": protocol})

    def get_port_mapping(self, port: int, protocol: str) -> dict[str, str] | None:
        """GetSpecificPortMappingEntry, None for error 714 (no such entry)."""
        try:
            return self.call("GetSpecificPortMappingEntry", {
                "NewRemoteHost": "", "NewExternalPort": str(port), "NewProtocol": protocol,
            })
        except UpnpSoapError as exc:
            if exc.code == NO_SUCH_ENTRY:
                return None
            raise


def discover_soap_igd(target: tuple[str, int], search_s: float = 2.0, http_timeout: float = 2.0) -> SoapIgd:
    """Unicast SSDP to ``target``, then the description; raise :class:`UpnpError` if none."""
    answers = ssdp_search(target, search_s)
    if not answers:
        raise UpnpError(f"no UPnP gateway found (searched {search_s:g} s)")
    return SoapIgd.from_location(answers[0].location, http_timeout)


class MiniupnpcIgd:
    """A gateway found and driven by miniupnpc.

    miniupnpc signals every failure with a bare ``Exception``; each call
    turns it into :class:`UpnpError`.
    """

    def __init__(self, upnp: Any) -> None:
        self._upnp = upnp
        self.gateway = "gateway found by miniupnpc"

    @classmethod
    def discover(cls, search_s: float = 2.0, factory: Callable[[], Any] | None = None) -> MiniupnpcIgd:
        """SSDP multicast discovery (production only); raise :class:`UpnpError` if none."""
        if factory is None:
            import miniupnpc  # type: ignore[import-not-found]  # imported here: only production discovery needs the C extension

            factory = miniupnpc.UPnP
        upnp = factory()
        upnp.discoverdelay = int(search_s * 1000)
        try:
            found = upnp.discover()
            control_url = upnp.selectigd() if found else None
        except Exception as exc:  # miniupnpc raises plain Exception
            raise UpnpError(f"no UPnP gateway found (searched {search_s:g} s): {exc}") from exc
        if not control_url:
            raise UpnpError(f"no UPnP gateway found (searched {search_s:g} s)")
        igd = cls(upnp)
        igd.gateway = str(control_url)
        return igd

    @property
    def lan_ip(self) -> str:
        """Our LAN address as miniupnpc saw it."""
        return str(self._upnp.lanaddr)

    def _run(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:  # miniupnpc raises plain Exception
            raise UpnpError(f"gateway refused {what}: {exc}") from exc

    def external_ip(self) -> str:
        """GetExternalIPAddress through miniupnpc."""
        return str(self._run("GetExternalIPAddress", self._upnp.externalipaddress))

    def add_port_mapping(self, port: int, protocol: str, internal_client: str, lease_s: int, description: str) -> None:
        """AddPortMapping through miniupnpc."""
        self._run("AddPortMapping", lambda: self._upnp.addportmapping(
            port, protocol, internal_client, port, description, "", lease_s))

    def delete_port_mapping(self, port: int, protocol: str) -> None:
        """DeletePortMapping through miniupnpc."""
        self._run("DeletePortMapping", lambda: self._upnp.deleteportmapping(port, protocol))

    def get_port_mapping(self, port: int, protocol: str) -> dict[str, str] | None:
        """GetSpecificPortMappingEntry through miniupnpc."""
        entry = self._run("GetSpecificPortMappingEntry", lambda: self._upnp.getspecificportmapping(port, protocol))
        if entry is None:
            return None
        host, internal_port, description, enabled, lease = entry
        return {
            "NewInternalClient": str(host), "NewInternalPort": str(internal_port),
            "NewPortMappingDescription": str(description), "NewEnabled": "1" if enabled else "0",
            "NewLeaseDuration": str(lease),
        }
