"""RFC 4475 and RFC 5118 torture messages, each handled as its EXPECTED.tsv row says.

The messages are read from ../shared/testdata (next to the repository); they are
not copied into the project. Valid messages must parse with the values the RFC
calls out; invalid ones must raise SipParseError with the status a UAS should
answer and an exact reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from tui_phone.sip import SipParseError, SipRequest, SipResponse, parse_message
from tui_phone.sip.sdp import SessionDescription
from tui_phone.sip.uri import AbsoluteUri, SipUri

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"
RFC4475 = TESTDATA / "rfc4475"
RFC5118 = TESTDATA / "rfc5118"


def _expected(folder: Path) -> dict[str, dict[str, str]]:
    if not (folder / "EXPECTED.tsv").exists():
        pytest.fail(f"torture test data missing: {folder} (it lives in ../shared/testdata)")
    with open(folder / "EXPECTED.tsv", newline="") as handle:
        return {row["name"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _load(folder: Path, name: str) -> bytes:
    return (folder / f"{name}.sip").read_bytes()


# -- invalid messages: (status, exact reason) --------------------------------------
INVALID_4475: dict[str, tuple[int, str]] = {
    "badinv01": (400, "malformed Via 'SIP/2.0/UDP 192.0.2.15;;': empty or invalid parameter"),
    "clerr": (400, "Content-Length 9999 is larger than the body (154 bytes)"),
    "ncl": (400, "invalid Content-Length '-999'"),
    "scalar02": (400, "CSeq number 36893488147419103232 exceeds 2**32-1"),
    "scalarlg": (400, "CSeq number 9292394834772304023312 exceeds 2**32-1"),
    "quotbal": (400, "unterminated quoted string"),
    "ltgtruri": (400, "Request-URI must not be enclosed in '<' '>'"),
    "lwsruri": (400, "malformed Request-Line 'INVITE sip:user@example.com; lr SIP/2.0'"),
    "lwsstart": (400, "extra whitespace in the Request-Line"),
    "trws": (400, "extra whitespace in the Request-Line"),
    "escruri": (400, "Request-URI must not contain headers"),
    "baddate": (400, "Date is not an RFC 1123 date in GMT: 'Fri, 01 Jan 2010 16:00:00 EST'"),
    "regbadct": (400, "URI containing ',', ';' or '?' must be enclosed in '<' '>'"),
    "badaspec": (400, "whitespace inside '<' '>' in name-addr"),
    # The archive copy of baddn lacks the blank line that ends the headers.
    "baddn": (400, "no empty line after the header section"),
    "badvers": (505, "SIP version 'SIP/7.0' is not supported"),
    "mismatch01": (400, "CSeq method INVITE does not match the request method OPTIONS"),
    "mismatch02": (501, "CSeq method INVITE does not match the request method NEWMETHOD"),
    "bigcode": (400, "invalid status code '4294967301'"),
    "insuf": (400, "missing Call-ID header"),
    "multi01": (400, "duplicate Call-ID header"),
    "mcl01": (400, "conflicting Content-Length values"),
    "test": (400, "malformed Request-Line 'INVITE sip:alan@jasomi.com'"),
}
INVALID_5118: dict[str, tuple[int, str]] = {
    "ipv6-bad": (400, "IPv6 address in URI host must be in brackets"),
}


def test_every_corpus_file_has_an_expectation() -> None:
    rows4475 = _expected(RFC4475)
    files4475 = {p.stem for p in RFC4475.glob("*.sip")}
    assert len(files4475) == 50
    assert files4475 == set(rows4475)
    rows5118 = _expected(RFC5118)
    files5118 = {p.stem for p in RFC5118.glob("*.sip")}
    assert len(files5118) == 12
    assert files5118 == set(rows5118)
    covered = set(INVALID_4475) | set(VALID_4475)
    assert covered == files4475
    assert set(INVALID_5118) | set(VALID_5118) == files5118


@pytest.mark.parametrize("name", sorted(INVALID_4475))
def test_rfc4475_invalid(name: str) -> None:
    assert _expected(RFC4475)[name]["verdict"] == "invalid"
    status, reason = INVALID_4475[name]
    with pytest.raises(SipParseError) as info:
        parse_message(_load(RFC4475, name), validate=True)
    assert (info.value.status, info.value.reason) == (status, reason)


@pytest.mark.parametrize("name", sorted(INVALID_5118))
def test_rfc5118_invalid(name: str) -> None:
    assert _expected(RFC5118)[name]["verdict"] == "invalid"
    status, reason = INVALID_5118[name]
    with pytest.raises(SipParseError) as info:
        parse_message(_load(RFC5118, name), validate=True)
    assert (info.value.status, info.value.reason) == (status, reason)


def test_baddn_terminated_variant_fails_on_the_display_name() -> None:
    data = (RFC4475 / "variants" / "baddn.terminated.sip").read_bytes()
    with pytest.raises(SipParseError) as info:
        parse_message(data, validate=True)
    assert (info.value.status, info.value.reason) == (400, "invalid character ',' in display name")


# -- valid messages: the values the RFC calls out ------------------------------------
def _wsinv(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest)
    assert m.method == "INVITE"
    assert str(m.uri) == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    assert m.to_addr.tag == "1918181833n"
    assert str(m.to_addr.uri) == "sip:vivekg@chair-dnrc.example.com"
    assert m.from_addr.display_name == 'J Rosenberg \\"'
    assert m.from_addr.tag == "98asjd8"
    assert m.max_forwards == 68
    assert (m.cseq.number, m.cseq.method) == (9, "INVITE")
    assert m.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert [(v.transport, v.host, v.branch) for v in m.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert m.headers.get("Subject") == ""
    assert m.headers.get("s") == ""
    assert m.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert m.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert m.headers.get("Route") == (
        "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"
    )
    (contact,) = m.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params["newparam"] == "newvalue"
    assert "secondparam" in contact.params and contact.params["secondparam"] is None
    assert contact.params["q"] == "0.33"
    assert len(m.body) == 150
    assert m.content_type == "application/sdp"


def _intmeth(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest)
    assert m.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert m.cseq.method == m.method
    assert m.via.branch == "z9hG4bK-.!%66*_+`'~"
    assert m.to_addr.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert m.from_addr.display_name == "token1~` token2'+_ token3*%!.-"
    assert m.from_addr.tag == "_token~1'+`*%!-."
    assert m.from_addr.params["fromParam''~+*_!.-%"] == '"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"'
    assert m.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert m.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff\u5927\u505c\u96fb"


def _esc01(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest)
    assert isinstance(m.uri, SipUri)
    assert m.uri.user == "sips:user@example.com"
    assert m.uri.host == "example.net"
    assert isinstance(m.to_addr.uri, SipUri) and m.to_addr.uri.user == "user"
    assert isinstance(m.from_addr.uri, SipUri) and m.from_addr.uri.user == "I have spaces"
    (contact,) = m.contacts
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.user == "caller"
    assert "lr" in contact.uri.params
    # %25%41 unescapes once, to the text "%41", never on to "A".
    assert contact.uri.params["name"] == "value%41"


def _escnull(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and m.method == "REGISTER"
    assert isinstance(m.to_addr.uri, SipUri) and m.to_addr.uri.user == "null-\x00-null"
    users = [c.uri.user for c in m.contacts if isinstance(c.uri, SipUri)]
    assert users == ["\x00", "\x00\x00"]
    assert m.contacts[0].uri != m.contacts[1].uri


def _esc02(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest)
    assert m.method == "RE%47IST%45R"  # unknown: not REGISTER
    assert m.to_addr.display_name == "%Z%45"
    assert [str(c.uri) for c in m.contacts] == [
        "sip:alias1@host1.example.com",
        "sip:alias3@host3.example.com",
    ]
    assert m.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def _lwsdisp(m: SipRequest | SipResponse) -> None:
    assert m.from_addr.display_name == "caller"
    assert str(m.from_addr.uri) == "sip:caller@example.com"
    assert m.from_addr.tag == "323"


def _longreq(m: SipRequest | SipResponse) -> None:
    assert len(m.vias) == 34
    assert len(m.body) == 150
    assert m.to_addr.display_name == (
        "I have a user name of " + "extreme" * 10 + " proportion"
    )
    assert isinstance(m.to_addr.uri, SipUri) and m.to_addr.uri.port == 6000


def _dblreq(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and m.method == "REGISTER"
    assert m.body == b""
    # The trailing INVITE in the datagram is ignored (RFC 3261 18.3).
    assert bytes(m) == _load(RFC4475, "dblreq")[: len(bytes(m))]
    assert b"INVITE" not in bytes(m)


def _semiuri(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert m.uri.user == "user;par=u@example.net"
    assert m.uri.host == "example.com"
    assert len(m.uri.params) == 0
    assert m.headers.get_all("Accept") == [
        "application/sdp",
        "application/pkcs7-mime",
        "multipart/mixed",
        "multipart/signed",
        "message/sip",
        "message/sipfrag",
    ]


def _transports(m: SipRequest | SipResponse) -> None:
    assert [v.transport for v in m.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert m.call_id == "transports.kijh4akdnaqjkwendsasfdj"


def _mpart01(m: SipRequest | SipResponse) -> None:
    assert m.content_type == "multipart/mixed"
    assert len(m.body) == int(m.headers.get("Content-Length") or -1)
    assert b"\x00" in m.body


def _unreason(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipResponse) and m.status == 200
    assert m.reason.startswith("= 2**3 * 5**2 ")
    assert "\u043d\u043e" in m.reason  # UTF-8 reason phrase decoded


def _noreason(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipResponse)
    assert (m.status, m.reason) == (100, "")


def _badbranch(m: SipRequest | SipResponse) -> None:
    assert m.via.branch == "z9hG4bK"


def _unkscm(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, AbsoluteUri)
    assert m.uri.scheme.lower() == "nobodyknowsthisscheme"


def _novelsc(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, AbsoluteUri)
    assert m.uri.scheme == "soap.beep"


def _unksm2(m: SipRequest | SipResponse) -> None:
    assert isinstance(m.to_addr.uri, AbsoluteUri) and m.to_addr.uri.scheme == "isbn"
    assert isinstance(m.from_addr.uri, AbsoluteUri) and m.from_addr.uri.scheme == "http"
    assert [c.uri.scheme for c in m.contacts] == ["name"]


def _bext01(m: SipRequest | SipResponse) -> None:
    assert m.headers.get_all("Require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert m.headers.get_all("Proxy-Require") == ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]


def _invut(m: SipRequest | SipResponse) -> None:
    assert m.content_type == "application/unknownformat"


def _regaut01(m: SipRequest | SipResponse) -> None:
    assert m.headers.get("Authorization") == "NoOneKnowsThisScheme opaque-data=here"


def _bcast(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipResponse)
    assert m.vias[1].host == "255.255.255.255"


def _zeromf(m: SipRequest | SipResponse) -> None:
    assert m.max_forwards == 0


def _cparam01(m: SipRequest | SipResponse) -> None:
    (contact,) = m.contacts
    assert "unknownparam" in contact.params
    assert isinstance(contact.uri, SipUri) and "unknownparam" not in contact.uri.params


def _cparam02(m: SipRequest | SipResponse) -> None:
    (contact,) = m.contacts
    assert isinstance(contact.uri, SipUri) and "unknownparam" in contact.uri.params
    assert "unknownparam" not in contact.params


def _regescrt(m: SipRequest | SipResponse) -> None:
    (contact,) = m.contacts
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.headers == (("Route", "<sip:sip.example.com>"),)
    assert "?Route=%3Csip:sip.example.com%3E" in str(contact.uri)
    assert "route" not in {name.lower() for name, _ in m.headers}  # not applied


def _sdp01(m: SipRequest | SipResponse) -> None:
    assert m.headers.get("Accept") == "text/nobodyKnowsThis"


def _inv2543(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and m.method == "INVITE"
    assert m.via.branch is None
    assert m.from_addr.tag is None
    assert m.headers.get("Content-Length") is None
    assert m.max_forwards is None
    assert m.body.startswith(b"v=0")  # the rest of the datagram


VALID_4475: dict[str, Callable[[SipRequest | SipResponse], None]] = {
    "wsinv": _wsinv,
    "intmeth": _intmeth,
    "esc01": _esc01,
    "escnull": _escnull,
    "esc02": _esc02,
    "lwsdisp": _lwsdisp,
    "longreq": _longreq,
    "dblreq": _dblreq,
    "semiuri": _semiuri,
    "transports": _transports,
    "mpart01": _mpart01,
    "unreason": _unreason,
    "noreason": _noreason,
    "badbranch": _badbranch,
    "unkscm": _unkscm,
    "novelsc": _novelsc,
    "unksm2": _unksm2,
    "bext01": _bext01,
    "invut": _invut,
    "regaut01": _regaut01,
    "bcast": _bcast,
    "zeromf": _zeromf,
    "cparam01": _cparam01,
    "cparam02": _cparam02,
    "regescrt": _regescrt,
    "sdp01": _sdp01,
    "inv2543": _inv2543,
}


@pytest.mark.parametrize("name", sorted(VALID_4475))
def test_rfc4475_valid(name: str) -> None:
    assert _expected(RFC4475)[name]["verdict"] in ("valid", "valid-but-tricky")
    data = _load(RFC4475, name)
    message = parse_message(data, validate=True)
    VALID_4475[name](message)
    if name != "dblreq":
        assert bytes(message) == data  # byte-exact round trip


# -- RFC 5118 ------------------------------------------------------------------------
def _ipv6_good(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert m.uri.host == "[2001:db8::10]"
    assert m.via.host.startswith("[2001:db8::")
    assert m.contacts[0].uri.host.startswith("[2001:db8::")  # type: ignore[union-attr]


def _port_ambiguous(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert (m.uri.host, m.uri.port) == ("[2001:db8::10:5070]", None)


def _port_unambiguous(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert (m.uri.host, m.uri.port) == ("[2001:db8::10]", 5070)


def _received_with_delim(m: SipRequest | SipResponse) -> None:
    assert m.via.received == "[2001:db8::9:255]"


def _received_no_delim(m: SipRequest | SipResponse) -> None:
    assert m.via.received == "2001:db8::9:255"


def _sdp_addresses(*expected: str) -> Callable[[SipRequest | SipResponse], None]:
    def check(m: SipRequest | SipResponse) -> None:
        sdp = SessionDescription.parse(m.body)
        found = []
        if sdp.connection is not None:
            found.append(sdp.connection.address)
        found += [c.address for md in sdp.media for c in md.connections]
        assert found == list(expected)

    return check


def _mult_ip_in_header(m: SipRequest | SipResponse) -> None:
    hosts = [(v.host, v.port) for v in m.vias]
    assert ("[2001:db8::9:1]", 6050) in hosts
    assert any(v.received == "192.0.2.200" for v in m.vias if v.host.startswith("["))


def _three_colons(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert m.uri.host == "[2001:db8:::192.0.2.1]"


def _two_colons(m: SipRequest | SipResponse) -> None:
    assert isinstance(m, SipRequest) and isinstance(m.uri, SipUri)
    assert m.uri.host == "[2001:db8::192.0.2.1]"


def _mapped(m: SipRequest | SipResponse) -> None:
    assert [v.host for v in m.vias] == ["[::ffff:192.0.2.10]", "[::ffff:192.0.2.2]"]
    assert m.contacts[0].uri.host == "[::ffff:192.0.2.2]"  # type: ignore[union-attr]
    _sdp_addresses("::ffff:192.0.2.2")(m)


VALID_5118: dict[str, Callable[[SipRequest | SipResponse], None]] = {
    "ipv6-good": _ipv6_good,
    "port-ambiguous": _port_ambiguous,
    "port-unambiguous": _port_unambiguous,
    "via-received-param-with-delim": _received_with_delim,
    "via-received-param-no-delim": _received_no_delim,
    "ipv6-in-sdp": _sdp_addresses("2001:db8::20"),
    "mult-ip-in-header": _mult_ip_in_header,
    "mult-ip-in-sdp": _sdp_addresses("192.0.2.1", "2001:db8::1"),
    "ipv4-mapped-ipv6": _mapped,
    "ipv6-bug-abnf-3-colons": _three_colons,
    "ipv6-correct-abnf-2-colons": _two_colons,
}


@pytest.mark.parametrize("name", sorted(VALID_5118))
def test_rfc5118_valid(name: str) -> None:
    assert _expected(RFC5118)[name]["verdict"] in ("valid", "valid-but-tricky")
    data = _load(RFC5118, name)
    message = parse_message(data, validate=True)
    VALID_5118[name](message)
    assert bytes(message) == data


def test_tally() -> None:
    """The numbers the closing note reports: every corpus message is accounted for."""
    assert len(VALID_4475) + len(INVALID_4475) == 50
    assert len(VALID_5118) + len(INVALID_5118) == 12
