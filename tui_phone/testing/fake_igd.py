"""A fake UPnP Internet Gateway Device on loopback, for tests.

It answers an SSDP M-SEARCH sent to its unicast UDP address (never the
239.255.255.250 multicast group) with a LOCATION pointing at its HTTP server,
serves a device description with a WANIPConnection:1 service, and handles the
SOAP actions AddPortMapping, DeletePortMapping, GetExternalIPAddress and
GetSpecificPortMappingEntry.  Every search and call is recorded so tests can
assert them; ``faults`` makes an action answer a UPnPError.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tui_phone.nat.errors import UpnpParseError
from tui_phone.nat.igd_protocol import parse_soap_request, soap_fault, soap_response

log = logging.getLogger(__name__)

SERVICE_TYPE = "urn:schemas-upnp-org:service:WANIPConnection:1"
DESCRIPTION_PATH = "/rootDesc.xml"
CONTROL_PATH = "/ctl/IPConn"

DEVICE_DESCRIPTION = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
 <specVersion><major>1</major><minor>0</minor></specVersion>
 <device>
  <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
  <friendlyName>tui-phone fake IGD</friendlyName>
  <UDN>uuid:00000000-0000-4000-8000-000000000001</UDN>
  <deviceList><device>
   <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
   <deviceList><device>
    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
    <serviceList><service>
     <serviceType>{service}</serviceType>
     <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
     <controlURL>{control}</controlURL>
     <eventSubURL>/evt/IPConn</eventSubURL>
     <SCPDURL>/WANIPCn.xml</SCPDURL>
    </service></serviceList>
   </device></deviceList>
  </device></deviceList>
 </device>
</root>
"""


@dataclass(frozen=True)
class SoapCall:
    """One SOAP action the fake gateway received."""

    action: str
    arguments: dict[str, str]


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeIgd


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        log.debug("fake IGD: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != DESCRIPTION_PATH:
            self._reply(404, b"not found", "text/plain")
            return
        body = DEVICE_DESCRIPTION.format(service=SERVICE_TYPE, control=CONTROL_PATH).encode("utf-8")
        self._reply(200, body, 'text/xml; charset="utf-8"')

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path != CONTROL_PATH:
            self._reply(404, b"not found", "text/plain")
            return
        try:
            action, arguments = parse_soap_request(body)
        except UpnpParseError:
            self._reply(400, b"bad SOAP", "text/plain")
            return
        status, answer = self.server.fake.handle(action, arguments, self.headers.get("SOAPAction", ""))
        self._reply(status, answer, 'text/xml; charset="utf-8"')

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeIgd:
    """The fake gateway; a context manager, or call start()/stop().

    ``ssdp_address`` is where tests send the M-SEARCH; ``calls`` and
    ``searches`` record traffic; ``mappings`` is the live port-mapping table
    keyed by ``(external port, protocol)``.
    """

    def __init__(self, host: str = "127.0.0.1", external_ip: str = "203.0.113.9", *, answer_ssdp: bool = True) -> None:
        self.host = host
        self.external_ip = external_ip
        self.answer_ssdp = answer_ssdp
        self.calls: list[SoapCall] = []
        self.searches: list[bytes] = []
        self.mappings: dict[tuple[int, str], dict[str, str]] = {}
        self.faults: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._http: _HttpServer | None = None

    @property
    def ssdp_address(self) -> tuple[str, int]:
        """The unicast SSDP address to search."""
        assert self._udp is not None, "FakeIgd not started"
        return self.host, self._udp.getsockname()[1]

    @property
    def location(self) -> str:
        """The device description URL announced in SSDP answers."""
        assert self._http is not None, "FakeIgd not started"
        return f"http://{self.host}:{self._http.server_address[1]}{DESCRIPTION_PATH}"

    def start(self) -> FakeIgd:
        """Bind the SSDP socket and the HTTP server on loopback and serve on threads."""
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((self.host, 0))
        self._http = _HttpServer((self.host, 0), _Handler)
        self._http.fake = self
        http = self._http
        for target, name in ((self._serve_ssdp, "fake-igd-ssdp"), (lambda: http.serve_forever(0.02), "fake-igd-http")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets (idempotent)."""
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def __enter__(self) -> FakeIgd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def recorded(self, action: str | None = None) -> list[SoapCall]:
        """A copy of the calls so far, optionally only those of ``action``."""
        with self._lock:
            return [call for call in self.calls if action is None or call.action == action]

    def _serve_ssdp(self) -> None:
        udp = self._udp
        assert udp is not None
        while not self._stop.is_set():
            readable, _, _ = select.select([udp], [], [], 0.02)
            if not readable:
                continue
            try:
                data, peer = udp.recvfrom(4096)
            except OSError:
                return
            with self._lock:
                self.searches.append(data)
            if self.answer_ssdp and data.startswith(b"M-SEARCH * HTTP/1.1\r\n"):
                udp.sendto(self._ssdp_answer(), peer)

    def _ssdp_answer(self) -> bytes:
        return (
            "HTTP/1.1 200 OK\r\n"
            "CACHE-CONTROL: max-age=120\r\n"
            "EXT:\r\n"
            f"LOCATION: {self.location}\r\n"
            "SERVER: tui-phone-fake-igd/1.0 UPnP/1.1\r\n"
            "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            "USN: uuid:00000000-0000-4000-8000-000000000001::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            "\r\n"
        ).encode("ascii")

    def handle(self, action: str, arguments: dict[str, str], soap_action: str) -> tuple[int, bytes]:
        """Run one SOAP action against the mapping table; return HTTP status and body."""
        with self._lock:
            self.calls.append(SoapCall(action, dict(arguments)))
            if soap_action.strip('"') != f"{SERVICE_TYPE}#{action}":
                return 500, soap_fault(401, "Invalid Action")
            if action in self.faults:
                return 500, soap_fault(*self.faults[action])
            key = (int(arguments.get("NewExternalPort", "0") or 0), arguments.get("NewProtocol", ""))
            if action == "GetExternalIPAddress":
                return 200, soap_response(SERVICE_TYPE, action, {"NewExternalIPAddress": self.external_ip})
            if action == "AddPortMapping":
                current = self.mappings.get(key)
                if current is not None and current["NewInternalClient"] != arguments.get("NewInternalClient"):
                    return 500, soap_fault(718, "ConflictInMappingEntry")
                self.mappings[key] = dict(arguments)
                return 200, soap_response(SERVICE_TYPE, action, {})
            if action == "DeletePortMapping":
                if self.mappings.pop(key, None) is None:
                    return 500, soap_fault(714, "NoSuchEntryInArray")
                return 200, soap_response(SERVICE_TYPE, action, {})
            if action == "GetSpecificPortMappingEntry":
                entry = self.mappings.get(key)
                if entry is None:
                    return 500, soap_fault(714, "NoSuchEntryInArray")
                out = {name: entry[name] for name in (
                    "NewInternalPort", "NewInternalClient", "NewEnabled",
                    "NewPortMappingDescription", "NewLeaseDuration")}
                return 200, soap_response(SERVICE_TYPE, action, out)
            return 500, soap_fault(401, "Invalid Action")
