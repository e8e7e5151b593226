"""SSDP, device description and SOAP formats."""

from __future__ import annotations

import pytest

from tui_phone.nat.errors import UpnpParseError, UpnpSoapError
from tui_phone.nat.igd_protocol import (
    m_search,
    parse_device_description,
    parse_soap_request,
    parse_soap_response,
    parse_ssdp_answer,
    soap_fault,
    soap_request,
    soap_response,
)
from tui_phone.testing.fake_igd import DEVICE_DESCRIPTION

SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:1"


def test_m_search_is_addressed_to_the_target() -> None:
    assert m_search(("127.0.0.1", 1900)) == (
        b"M-SEARCH * HTTP/1.1\r\nHOST: 127.0.0.1:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n"
        b"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n"
    )


def test_ssdp_answer() -> None:
    answer = parse_ssdp_answer(b"HTTP/1.1 200 OK\r\nLocation: http://127.0.0.1:5000/rootDesc.xml\r\nST: x\r\n\r\n")
    assert answer.location == "http://127.0.0.1:5000/rootDesc.xml"


@pytest.mark.parametrize(("data", "message"), [
    (b"NOTIFY * HTTP/1.1\r\n\r\n", "not an SSDP search answer: 'NOTIFY * HTTP/1.1'"),
    (b"HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n",
     "SSDP answer without an http LOCATION: 'file:///etc/passwd'"),
])
def test_bad_ssdp_answers(data: bytes, message: str) -> None:
    with pytest.raises(UpnpParseError) as info:
        parse_ssdp_answer(data)
    assert str(info.value) == message


def test_device_description_control_url_is_resolved() -> None:
    data = DEVICE_DESCRIPTION.format(service=SERVICE, control="/ctl/IPConn").encode()
    service = parse_device_description(data, "http://127.0.0.1:5000/rootDesc.xml")
    assert service.service_type == SERVICE
    assert service.control_url == "http://127.0.0.1:5000/ctl/IPConn"
    assert service.friendly_name == "tui-phone fake IGD"


def test_description_without_wan_service() -> None:
    data = DEVICE_DESCRIPTION.format(service="urn:schemas-upnp-org:service:Layer3Forwarding:1", control="/x").encode()
    with pytest.raises(UpnpParseError, match="^no WANIPConnection or WANPPPConnection service in http://gw/d.xml$"):
        parse_device_description(data, "http://gw/d.xml")


def test_doctype_is_refused() -> None:
    with pytest.raises(UpnpParseError, match="^device description has a DOCTYPE, refused$"):
        parse_device_description(b'<!DOCTYPE x [<!ENTITY a "b">]><root/>', "http://gw/")


def test_soap_round_trip_with_escaping() -> None:
    body, headers = soap_request(SERVICE, "AddPortMapping", {"NewPortMappingDescription": "a<b&c"})
    assert headers["SOAPAction"] == f'"{SERVICE}#AddPortMapping"'
    assert parse_soap_request(body) == ("AddPortMapping", {"NewPortMappingDescription": "a<b&c"})
    answer = soap_response(SERVICE, "GetExternalIPAddress", {"NewExternalIPAddress": "203.0.113.9"})
    assert parse_soap_response("GetExternalIPAddress", answer) == {"NewExternalIPAddress": "203.0.113.9"}


def test_soap_fault() -> None:
    with pytest.raises(UpnpSoapError) as info:
        parse_soap_response("AddPortMapping", soap_fault(718, "ConflictInMappingEntry"))
    assert info.value.code == 718
    assert str(info.value) == "gateway refused AddPortMapping: UPnP error 718 ConflictInMappingEntry"
