"""UPnP IGD wire formats, PURE: SSDP search, device description, SOAP actions.

Used by :mod:`tui_phone.nat.igd` for gateways found by unicast SSDP (and by the
loopback fake IGD in tests).  References: UPnP Device Architecture 1.1
(1.3.2 M-SEARCH, 2.3 device description, 3.2 SOAP control) and the IGD
WANIPConnection:1 service description (AddPortMapping and friends).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import UpnpParseError, UpnpSoapError

SSDP_MULTICAST = ("239.255.255.250", 1900)  # UDA 1.1 1.1.2; production only, never in tests
IGD_DEVICE = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
WAN_SERVICES = (
    "urn:schemas-upnp-org:service:WANIPConnection:",
    "urn:schemas-upnp-org:service:WANPPPConnection:",
)
SOAP_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
MAX_DOCUMENT = 65536  # a gateway's description or SOAP answer is a few kB


def escape(text: str) -> str:
    """XML-escape text content and attribute values (xml.sax.saxutils would pull in urllib.request)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@dataclass(frozen=True)
class SsdpAnswer:
    """One SSDP search answer (UDA 1.1 1.3.3)."""

    location: str
    st: str
    usn: str
    server: str


@dataclass(frozen=True)
class WanService:
    """The WAN connection service of a gateway: where to send SOAP actions."""

    service_type: str
    control_url: str
    friendly_name: str


def m_search(target: tuple[str, int], mx: int = 2, search_target: str = IGD_DEVICE) -> bytes:
    """An SSDP M-SEARCH request addressed to ``target`` (UDA 1.1 1.3.2)."""
    host = f"[{target[0]}]" if ":" in target[0] else target[0]
    return (
        "M-SEARCH * HTTP/1.1\r\n"
        f"HOST: {host}:{target[1]}\r\n"
        'MAN: "ssdp:discover"\r\n'
        f"MX: {mx}\r\n"
        f"ST: {search_target}\r\n"
        "\r\n"
    ).encode("ascii")


def _http_headers(data: bytes, what: str) -> tuple[str, dict[str, str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UpnpParseError(f"{what} is not UTF-8") from exc
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def parse_ssdp_answer(data: bytes) -> SsdpAnswer:
    """Parse an SSDP search answer; raise :class:`UpnpParseError` when it is not one."""
    start, headers = _http_headers(data, "SSDP answer")
    parts = start.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or parts[1] != "200":
        raise UpnpParseError(f"not an SSDP search answer: {start[:60]!r}")
    location = headers.get("location", "")
    if urlsplit(location).scheme != "http":
        raise UpnpParseError(f"SSDP answer without an http LOCATION: {location[:80]!r}")
    return SsdpAnswer(location, headers.get("st", ""), headers.get("usn", ""), headers.get("server", ""))


def _parse_xml(data: bytes, what: str) -> ElementTree.Element:
    if len(data) > MAX_DOCUMENT:
        raise UpnpParseError(f"{what} is too large: {len(data)} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        # Gateways never need a DTD; refusing one rules out entity expansion attacks.
        raise UpnpParseError(f"{what} has a DOCTYPE, refused")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UpnpParseError(f"{what} is not well-formed XML: {exc}") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ElementTree.Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def parse_device_description(data: bytes, location: str) -> WanService:
    """Find the WANIPConnection (or WANPPPConnection) service in a device description."""
    root = _parse_xml(data, "device description")
    base = _child_text(root, "URLBase") or location
    friendly = ""
    for element in root.iter():
        if _local(element.tag) == "device" and not friendly:
            friendly = _child_text(element, "friendlyName")
        if _local(element.tag) != "service":
            continue
        service_type = _child_text(element, "serviceType")
        if service_type.startswith(WAN_SERVICES):
            control = _child_text(element, "controlURL")
            if not control:
                raise UpnpParseError(f"{service_type} has no controlURL in {location}")
            return WanService(service_type, urljoin(base, control), friendly)
    raise UpnpParseError(f"no WANIPConnection or WANPPPConnection service in {location}")


def soap_request(service_type: str, action: str, arguments: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a SOAP action call (UDA 1.1 3.2.1)."""
    args = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in arguments.items())
    body = (
        '<?xml version="1.0"?>\r\n'
        f'<s:Envelope xmlns:s="{SOAP_ENVELOPE_NS}" s:encodingStyle="{SOAP_ENCODING}">'
        f'<s:Body><u:{action} xmlns:u="{escape(service_type)}">{args}</u:{action}></s:Body></s:Envelope>\r\n'
    ).encode("utf-8")
    headers = {
        "Content-Type": 'text/xml; charset="utf-8"',
        "SOAPAction": f'"{service_type}#{action}"',
    }
    return body, headers


def parse_soap_request(body: bytes) -> tuple[str, dict[str, str]]:
    """The action name and arguments of a SOAP call (the fake IGD's side)."""
    root = _parse_xml(body, "SOAP request")
    for element in root.iter():
        if _local(element.tag) == "Body":
            calls = list(element)
            if calls:
                call = calls[0]
                return _local(call.tag), {_local(c.tag): (c.text or "") for c in call}
    raise UpnpParseError("SOAP request has no action in its Body")


def parse_soap_response(action: str, body: bytes) -> dict[str, str]:
    """The out-arguments of ``action``; raise :class:`UpnpSoapError` on a UPnPError fault."""
    root = _parse_xml(body, f"{action} answer")
    for element in root.iter():
        name = _local(element.tag)
        if name == f"{action}Response":
            return {_local(c.tag): (c.text or "").strip() for c in element}
        if name == "UPnPError":
            code_text = _child_text(element, "errorCode")
            code = int(code_text) if code_text.isdigit() else 0
            raise UpnpSoapError(action, code, _child_text(element, "errorDescription"))
    raise UpnpParseError(f"{action} answer has neither {action}Response nor UPnPError")


def soap_response(service_type: str, action: str, values: dict[str, str]) -> bytes:
    """A SOAP action answer (the fake IGD's side)."""
    out = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in values.items())
    return (
        '<?xml version="1.0"?>\r\n'
        f'<s:Envelope xmlns:s="{SOAP_ENVELOPE_NS}" s:encodingStyle="{SOAP_ENCODING}">'
        f'<s:Body><u:{action}Response xmlns:u="{escape(service_type)}">{out}</u:{action}Response>'
        "</s:Body></s:Envelope>\r\n"
    ).encode("utf-8")


def soap_fault(code: int, description: str) -> bytes:
    """A SOAP UPnPError fault (UDA 1.1 3.2.2), sent with HTTP 500."""
    return (
        '<?xml version="1.0"?>\r\n'
        f'<s:Envelope xmlns:s="{SOAP_ENVELOPE_NS}" s:encodingStyle="{SOAP_ENCODING}"><s:Body>'
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0">'
        f"<errorCode>{code}</errorCode><errorDescription>{escape(description)}</errorDescription>"
        "</UPnPError></detail></s:Fault></s:Body></s:Envelope>\r\n"
    ).encode("utf-8")
