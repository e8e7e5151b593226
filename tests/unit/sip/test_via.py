"""The Via header (tui_phone.sip.via): the fast path agrees with the careful one."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.sip.errors import SipParseError
from tui_phone.sip.via import _HOST_RE, Via

SETTINGS = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _whole(via: Via) -> tuple[object, ...]:
    return (via.protocol, via.transport, via.host, via.port, via.params, via.raw, str(via))


def _outcome(parse: object, text: str) -> tuple[object, ...]:
    try:
        return ("ok", *_whole(parse(text)))  # type: ignore[operator]
    except SipParseError as error:
        return ("error", error.status, error.reason)


def test_usual_via() -> None:
    via = Via.parse("SIP/2.0/udp pc33.atlanta.example.com:5060;branch=z9hG4bK776;rport")
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0", "UDP", "pc33.atlanta.example.com", 5060)
    assert via.params == (("branch", "z9hG4bK776"), ("rport", None))
    assert via.branch == "z9hG4bK776" and via.rport is None and via.has_param("RPORT")
    assert str(via) == "SIP/2.0/udp pc33.atlanta.example.com:5060;branch=z9hG4bK776;rport"
    assert via == Via("UDP", "pc33.atlanta.example.com", 5060,
                      (("branch", "z9hG4bK776"), ("rport", None)))


def test_spaced_via_takes_the_careful_path() -> None:
    via = Via.parse("SIP / 2.0 / UDP  host.example.com : 5060 ; branch = z9hG4bK1")
    assert (via.transport, via.host, via.port) == ("UDP", "host.example.com", 5060)
    assert via.params == (("branch", "z9hG4bK1"),)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("SIP/2.0/UDP [2001:db8::10]:5070;branch=z9hG4bK1", "[2001:db8::10]", 5070),
        ("SIP/2.0/TCP [2001:db8::9:1];received=[2001:db8::9:255]", "[2001:db8::9:1]", None),
        ("SIP/2.0/UDP [::1]", "[::1]", None),
    ],
)
def test_ipv6_references(text: str, host: str, port: int | None) -> None:
    via = Via.parse(text)
    assert (via.host, via.port) == (host, port)
    assert _outcome(Via.parse, text) == _outcome(Via._parse_slow, text)


def test_received_and_rport_values() -> None:
    via = Via.parse("SIP/2.0/UDP h;rport=5061;received=192.0.2.1;branch=z9hG4bKx")
    assert (via.rport, via.received, via.branch) == (5061, "192.0.2.1", "z9hG4bKx")
    assert str(via.with_params(rport="5062")) == "SIP/2.0/UDP h;rport=5062;received=192.0.2.1;branch=z9hG4bKx"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SIP/2.0/UDP 192.0.2.15;;", "malformed Via 'SIP/2.0/UDP 192.0.2.15;;': empty or invalid parameter"),
        ("SIP/2.0/UDP h;branch=", "malformed Via 'SIP/2.0/UDP h;branch=': parameter branch has no value"),
        ("SIP/2.0/UDP h;a=1;branch=;c", "malformed Via 'SIP/2.0/UDP h;a=1;branch=;c': parameter branch has no value"),
        ("SIP/2.0/UDP h:65536", "malformed Via 'SIP/2.0/UDP h:65536': port 65536 out of range"),
        ("SIP/2.0/UDP h:99999;branch=z9hG4bK1",
         "malformed Via 'SIP/2.0/UDP h:99999;branch=z9hG4bK1': port 99999 out of range"),
        ("SIP/2.0/UDP a..b", "malformed Via 'SIP/2.0/UDP a..b': bad host 'a..b'"),
        ("SIP/2.0/UDP -h.example.com", "malformed Via 'SIP/2.0/UDP -h.example.com': bad host '-h.example.com'"),
        ("SIP/2.0/UDP h-.example.com", "malformed Via 'SIP/2.0/UDP h-.example.com': bad host 'h-.example.com'"),
        ("SIP/2.0 UDP h", "malformed Via 'SIP/2.0 UDP h'"),
        ("SIP/2.0/U<P h", "malformed Via 'SIP/2.0/U<P h': bad sent-protocol"),
        ("", "malformed Via ''"),
    ],
)
def test_errors_have_exact_messages(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        Via.parse(text)
    assert (info.value.status, info.value.reason) == (400, reason)
    assert _outcome(Via._parse_slow, text) == ("error", 400, reason)


_VIA_ALPHABET = "SIP/2.0UDPTCPudp abc-.:;=[]019xz,\t\"<>%"
_VIA_TEXTS = st.one_of(
    st.text(alphabet=_VIA_ALPHABET, max_size=40),
    st.text(alphabet=_VIA_ALPHABET, max_size=30).map(lambda s: "SIP/2.0/UDP " + s),
    st.text(alphabet=_VIA_ALPHABET, max_size=20).map(lambda s: "SIP/2.0/UDP h.example.com" + s),
    st.from_regex(
        r"SIP/2\.0/(UDP|tcp|TLS|S-C!TP) "
        r"([a-z0-9-]{1,5}(\.[a-z0-9-]{0,4}){0,3}\.?|[0-9]{1,3}(\.[0-9]{1,3}){3}|\[[0-9a-f:.]{0,10}\])"
        r"(:[0-9]{1,6})?(;[a-zA-Z!~]{0,4}(=[a-z0-9:.\[\]]{0,5})?){0,4}",
        fullmatch=True,
    ),
)


@SETTINGS
@given(_VIA_TEXTS)
def test_fast_path_agrees_with_the_careful_path(text: str) -> None:
    """Whatever the fast path returns, the careful path returns too (same error otherwise)."""
    assert _outcome(Via.parse, text) == _outcome(Via._parse_slow, text)


@SETTINGS
@given(_VIA_TEXTS)
def test_parsed_via_round_trips(text: str) -> None:
    try:
        via = Via.parse(text)
    except SipParseError:
        return
    assert str(via) == text
    again = Via.parse(str(Via(via.transport, via.host, via.port, via.params, via.protocol)))
    assert again == via and hash(again) == hash(via)


# RFC 3261 25.1 hostname, written as the grammar reads: *( domainlabel "." ) toplabel [ "." ]
# (toplabel loosened to domainlabel, as the parser does).
_RFC_HOST = re.compile(
    r"(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?"
    r"|\[[0-9A-Fa-f:.]+\])\Z"
)


@SETTINGS
@given(st.text(alphabet="ab9-.[]:", max_size=12))
def test_host_rule_is_the_grammar(host: str) -> None:
    assert bool(_HOST_RE.match(host)) == bool(_RFC_HOST.match(host))
