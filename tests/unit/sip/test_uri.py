"""Tests for tui_phone.sip.uri: SIP/SIPS/tel/absolute URIs and name-addr values.

Literal cases come from RFC 3261 (19.1.3 examples, 19.1.4 comparison lists),
RFC 3966, RFC 4475 and RFC 5118; the torture corpus in ../shared/testdata is
also swept file by file.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_phone.sip.errors import LocalProtocolError, SipParseError
from tui_phone.sip.uri import (
    AbsoluteUri,
    NameAddress,
    Parameters,
    SipUri,
    _parse_name_addr,
    _parse_sip,
    parse_uri,
    quote_string,
    unquote_string,
)
from tui_phone.sip.teluri import TelUri

TESTDATA = Path(__file__).parents[3].parent / "shared" / "testdata"


def sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def tel(text: str) -> TelUri:
    uri = parse_uri(text)
    assert isinstance(uri, TelUri)
    return uri


def parse_error(text: str) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        parse_uri(text)
    assert info.value.status == 400
    return info.value


def name_addr_error(text: str) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        NameAddress.parse(text)
    assert info.value.status == 400
    return info.value


def fields(uri: SipUri | TelUri | AbsoluteUri) -> tuple[object, ...]:
    if isinstance(uri, SipUri):
        return (uri.scheme, uri.user, uri.password, uri.host, uri.port, uri.params.pairs,
                uri.headers)
    if isinstance(uri, TelUri):
        return (uri.number, uri.params.pairs)
    return (uri.scheme, uri.opaque)


def assert_reserializes(uri: SipUri | TelUri | AbsoluteUri) -> str:
    """Serializing from the fields gives text that parses back to the same fields."""
    text = str(uri.replace())
    again = parse_uri(text)
    assert fields(again) == fields(uri)
    assert again == uri and hash(again) == hash(uri)
    return text


# --- SIP URI components (RFC 3261 19.1.1, 19.1.3) --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 3261 19.1.3 examples
        ("sip:alice@atlanta.com", ("sip", "alice", None, "atlanta.com", None, (), ())),
        ("sip:alice:secretword@atlanta.com;transport=tcp",
         ("sip", "alice", "secretword", "atlanta.com", None, (("transport", "tcp"),), ())),
        ("sips:alice@atlanta.com?subject=project%20x&priority=urgent",
         ("sips", "alice", None, "atlanta.com", None, (),
          (("subject", "project x"), ("priority", "urgent")))),
        ("sip:+1-212-555-1212:1234@gateway.com;user=phone",
         ("sip", "+1-212-555-1212", "1234", "gateway.com", None, (("user", "phone"),), ())),
        ("sips:1212@gateway.com", ("sips", "1212", None, "gateway.com", None, (), ())),
        ("sip:alice@192.0.2.4", ("sip", "alice", None, "192.0.2.4", None, (), ())),
        ("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
         ("sip", None, None, "atlanta.com", None, (("method", "REGISTER"),),
          (("to", "alice@atlanta.com"),))),
        ("sip:alice;day=tuesday@atlanta.com",
         ("sip", "alice;day=tuesday", None, "atlanta.com", None, (), ())),
        # others
        ("sip:bob@biloxi.example.com:5070;lr",
         ("sip", "bob", None, "biloxi.example.com", 5070, (("lr", None),), ())),
        ("sip:example.com.", ("sip", None, None, "example.com.", None, (), ())),
        ("sip:3com.com", ("sip", None, None, "3com.com", None, (), ())),
        ("sip:a-b--c.x-y", ("sip", None, None, "a-b--c.x-y", None, (), ())),
        ("sip:u:@h", ("sip", "u", "", "h", None, (), ())),
        ("sip:h;maddr=[2001:db8::1]", ("sip", None, None, "h", None, (("maddr", "[2001:db8::1]"),), ())),
        ("sip:h?a=", ("sip", None, None, "h", None, (), (("a", ""),))),
    ],
)
def test_parse_sip_uri_fields(text: str, expected: tuple[object, ...]) -> None:
    uri = sip(text)
    assert fields(uri) == expected
    assert str(uri) == text
    assert_reserializes(uri)


@pytest.mark.parametrize("text", ["SIP:alice@atlanta.com", "Sip:alice@atlanta.com", "sIpS:alice@h"])
def test_scheme_is_case_insensitive_and_stored_lower_case(text: str) -> None:
    uri = sip(text)
    assert uri.scheme == text.split(":")[0].lower()
    assert str(uri) == text  # the original spelling is kept
    assert str(uri.replace()).startswith(uri.scheme + ":")


def test_sip_uri_properties() -> None:
    uri = sip("sips:bob@[2001:db8::1]:5061;Transport=TCP;lr;maddr=239.255.255.1;user=phone")
    assert uri.is_secure
    assert uri.host_port == ("[2001:db8::1]", 5061)
    assert uri.bare_host == "2001:db8::1"
    assert uri.transport == "tcp"
    assert uri.lr is True
    assert uri.maddr == "239.255.255.1"
    assert uri.user_param == "phone"
    plain = sip("sip:bob@biloxi.com")
    assert not plain.is_secure
    assert plain.host_port == ("biloxi.com", None)  # no default port substituted
    assert plain.bare_host == "biloxi.com"
    assert plain.transport is None and plain.maddr is None and plain.user_param is None
    assert plain.lr is False


def test_params_keep_their_spelling_and_order_but_look_up_case_insensitively() -> None:
    uri = sip("sip:h;Transport=TCP;LR;zeta=1;Alpha")
    assert list(uri.params) == ["Transport", "LR", "zeta", "Alpha"]
    assert uri.params["transport"] == "TCP" and uri.params["TRANSPORT"] == "TCP"
    assert "lr" in uri.params and uri.lr
    assert uri.params.get("alpha", "missing") is None  # a flag
    assert uri.params.get("nope", "missing") == "missing"
    assert str(uri.replace()) == "sip:h;Transport=TCP;LR;zeta=1;Alpha"


# --- escapes (RFC 3261 19.1.2, 25.1; RFC 4475 3.1.1.3, 3.1.1.4) ------------------------------


def test_esc01_escaped_user_decodes_to_reserved_characters() -> None:
    uri = sip("sip:sips%3Auser%40example.com@example.net")
    assert uri.user == "sips:user@example.com"
    assert uri.host == "example.net" and uri.scheme == "sip"
    assert assert_reserializes(uri) == "sip:sips%3Auser%40example.com@example.net"


def test_esc01_to_and_from_users() -> None:
    assert sip("sip:%75se%72@example.com").user == "user"
    spaces = sip("sip:I%20have%20spaces@example.net")
    assert spaces.user == "I have spaces"
    assert str(spaces.replace()) == "sip:I%20have%20spaces@example.net"


def test_esc01_contact_params_unescape_once_never_recursively() -> None:
    uri = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")
    assert uri.user == "caller"
    assert uri.params.pairs == (("lr", None), ("name", "value%41"))
    assert uri.lr
    assert str(uri.replace()) == "sip:caller@host5.example.net;lr;name=value%2541"
    # %25%41 is '%' then 'A': one pass only
    assert sip("sip:h;p=%25%41").params["p"] == "%A"
    assert sip("sip:%2541@h").user == "%41"


def test_escnull_nul_escapes_decode_and_stay_distinct() -> None:
    one, two = sip("sip:%00@host5.example.com"), sip("sip:%00%00@host5.example.com")
    assert one.user == "\x00" and two.user == "\x00\x00"
    assert one != two and hash(one) != hash(two)
    aor = sip("sip:null-%00-null@example.com")
    assert aor.user == "null-\x00-null"
    assert str(aor.replace()) == "sip:null-%00-null@example.com"


def test_escapes_compare_as_their_characters() -> None:
    assert sip("sip:%61lice@atlanta.com") == sip("sip:alice@AtLanTa.CoM")
    assert sip("sip:a@h;p=%41") == sip("sip:a@h;p=A")
    assert sip("sip:a@h?x=%61") == sip("sip:a@h?x=a")


def test_utf8_and_non_utf8_escapes_round_trip() -> None:
    assert sip("sip:%C3%A9t%C3%A9@h").user == "été"
    lone = sip("sip:%C3@h")
    assert lone.user == "\udcc3"  # surrogateescape keeps the byte
    assert str(lone.replace()) == "sip:%C3@h"
    lower = sip("sip:a%3ab@h")
    assert lower.user == "a:b"
    assert str(lower) == "sip:a%3ab@h" and str(lower.replace()) == "sip:a%3Ab@h"


def test_serialization_escapes_only_what_must_be_escaped() -> None:
    uri = SipUri(
        user="alice smith;x?y/&=+$,", password="p@ss;w%rd", host="atlanta.com", port=5060,
        params=Parameters({"na me": "va;lue", "lr": None, "maddr": "[2001:db8::1]"}),
        headers=(("Subject", "a&b=c"), ("Route", "<sip:x@y;lr>")),
    )
    assert str(uri) == (
        "sip:alice%20smith;x?y/&=+$,:p%40ss%3Bw%25rd@atlanta.com:5060"
        ";na%20me=va%3Blue;lr;maddr=[2001:db8::1]"
        "?Subject=a%26b%3Dc&Route=%3Csip:x%40y%3Blr%3E"
    )
    again = sip(str(uri))
    assert fields(again) == fields(uri)
    assert SipUri(user="é", host="h").__str__() == "sip:%C3%A9@h"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:al%2@h", "invalid escape sequence in SIP URI user"),
        ("sip:al%zzice@h", "invalid escape sequence in SIP URI user"),
        ("sip:a:b%g0@h", "invalid escape sequence in SIP URI password"),
        ("sip:h;a=%", "invalid escape sequence in SIP URI parameter"),
        ("sip:h?a=%4", "invalid escape sequence in SIP URI header"),
        ("http:%zz", "invalid escape sequence in URI"),
    ],
)
def test_bad_escapes(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


# --- user, password, '@' (RFC 3261 25.1; RFC 4475 3.1.1.2, 3.1.1.9) ---------------------------


def test_semiuri_user_holds_semicolon_and_there_are_no_params() -> None:
    uri = sip("sip:user;par=u%40example.net@example.com")
    assert uri.user == "user;par=u@example.net"
    assert uri.host == "example.com"
    assert len(uri.params) == 0
    assert str(uri.replace()) == "sip:user;par=u%40example.net@example.com"


def test_intmeth_request_uri_user_and_password() -> None:
    text = ("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
            "(doesn't-it)@example.com")
    uri = sip(text)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com" and len(uri.params) == 0 and uri.headers == ()
    assert assert_reserializes(uri) == text  # nothing there needed escaping


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:@h", "empty user in SIP URI"),
        ("sip::pw@h", "empty user in SIP URI"),
        ("sip:a@b@c", "more than one '@' in SIP URI"),
        ("sip:alice@atlanta.com?to=bob@biloxi.com", "more than one '@' in SIP URI"),
        ('sip:a"b@h', "invalid character '\"' in SIP URI user"),
        ("sip:a[1]@h", "invalid character '[' in SIP URI user"),
        ("sip:é@h", "invalid character 'é' in SIP URI user"),
        ("sip:a:b;c@h", "invalid character ';' in SIP URI password"),
        ("sip:a:b:c@h", "invalid character ':' in SIP URI password"),
    ],
)
def test_user_and_password_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


# --- host and port (RFC 3261 25.1; RFC 5118) -------------------------------------------------


def test_ipv6_good() -> None:  # RFC 5118 4.1
    uri = sip("sip:[2001:db8::10]")
    assert uri.host == "[2001:db8::10]" and uri.port is None and uri.user is None
    assert sip("sip:caller@[2001:db8::1]").host == "[2001:db8::1]"


def test_ipv6_bare_address_is_an_error() -> None:  # RFC 5118 4.2
    assert parse_error("sip:2001:db8::10").reason == "IPv6 address in URI host must be in brackets"
    assert parse_error("sip:user@2001:db8::10:5060").reason == (
        "IPv6 address in URI host must be in brackets")
    assert parse_error("sip:user@::1;lr").reason == "IPv6 address in URI host must be in brackets"


def test_ipv6_port_ambiguous_is_all_host() -> None:  # RFC 5118 4.3
    uri = sip("sip:[2001:db8::10:5070]")
    assert uri.host == "[2001:db8::10:5070]" and uri.port is None


def test_ipv6_port_unambiguous() -> None:  # RFC 5118 4.4
    uri = sip("sip:[2001:db8::10]:5070")
    assert uri.host == "[2001:db8::10]" and uri.port == 5070
    assert uri.host_port == ("[2001:db8::10]", 5070)
    assert str(uri.replace()) == "sip:[2001:db8::10]:5070"


def test_ipv6_three_colon_form_is_tolerated_and_equals_the_correct_form() -> None:  # 4.10
    bug = sip("sip:user@[2001:db8:::192.0.2.1]")
    good = sip("sip:user@[2001:db8::192.0.2.1]")
    assert bug.host == "[2001:db8:::192.0.2.1]"  # as written
    assert good.host == "[2001:db8::192.0.2.1]"
    assert bug == good and hash(bug) == hash(good)


def test_ipv4_mapped_ipv6() -> None:  # RFC 5118 4.9
    uri = sip("sip:ted@[::ffff:192.0.2.2]")
    assert uri.host == "[::ffff:192.0.2.2]" and uri.bare_host == "::ffff:192.0.2.2"


def test_ipv6_hosts_compare_as_addresses() -> None:
    assert sip("sip:[2001:DB8:0:0::10]") == sip("sip:[2001:db8::10]")
    assert sip("sip:[2001:db8::10]") != sip("sip:[2001:db8::11]")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:[2001:db8::10", "unterminated IPv6 reference in SIP URI host"),
        ("sip:[2001:db8::g]", "invalid IPv6 address in SIP URI host"),
        ("sip:[1::2::3]", "invalid IPv6 address in SIP URI host"),
        ("sip:[fe80::1%25eth0]", "invalid IPv6 address in SIP URI host"),
        ("sip:[192.0.2.1]", "invalid IPv6 address in SIP URI host"),
        ("sip:[]", "invalid IPv6 address in SIP URI host"),
        ("sip:[::1]x", "unexpected character 'x' after SIP URI host"),
        ("sip:[::1]]", "unexpected character ']' after SIP URI host"),
    ],
)
def test_ipv6_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:", "empty host in SIP URI"),
        ("sip:alice@", "empty host in SIP URI"),
        ("sip:alice@;lr", "empty host in SIP URI"),
        ("sip:-bad.com", "invalid host '-bad.com' in SIP URI"),
        ("sip:bad-.com", "invalid host 'bad-.com' in SIP URI"),
        ("sip:exa_mple.com", "invalid host 'exa_mple.com' in SIP URI"),
        ("sip:a..b", "invalid host 'a..b' in SIP URI"),
        ("sip:123", "invalid host '123' in SIP URI"),  # toplabel starts with ALPHA
        ("sip:example.123", "invalid host 'example.123' in SIP URI"),
        ("sip:a@h%41", "invalid host 'h%41' in SIP URI"),
        ("sip:a@é.com", "invalid host 'é.com' in SIP URI"),
    ],
)
def test_host_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


@pytest.mark.parametrize(
    ("text", "port"),
    [("sip:h:0", 0), ("sip:h:65535", 65535), ("sip:h:05060", 5060), ("sip:h:5060;lr", 5060),
     ("sip:h:5060?a=b", 5060), ("sip:1.2.3.4:5", 5)],
)
def test_ports(text: str, port: int) -> None:
    uri = sip(text)
    assert uri.port == port
    assert str(uri) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:h:", "invalid port in SIP URI"),
        ("sip:h:;lr", "invalid port in SIP URI"),
        ("sip:h:5o60", "invalid port in SIP URI"),
        ("sip:h:-1", "invalid port in SIP URI"),
        ("sip:h:+5", "invalid port in SIP URI"),
        ("sip:h:\u0665", "invalid port in SIP URI"),  # a non-ASCII digit
        ("sip:h:5060:5061", "invalid port in SIP URI"),
        ("sip:h:65536", "port out of range in SIP URI"),
        ("sip:h:99999", "port out of range in SIP URI"),
        ("sip:h:" + "9" * 5000, "port out of range in SIP URI"),  # never int() a huge string
    ],
)
def test_port_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


# --- params and headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sip:h;", "empty SIP URI parameter"),
        ("sip:h;;lr", "empty SIP URI parameter"),
        ("sip:h;=x", "empty SIP URI parameter"),
        ("sip:h;a=", "empty value for SIP URI parameter 'a'"),
        ("sip:h;a=b=c", "invalid character '=' in SIP URI parameter"),
        ("sip:h;a=b,c", "invalid character ',' in SIP URI parameter"),
        ("sip:h;lr;LR", "duplicate SIP URI parameter 'LR'"),
        ("sip:h;transport=udp;transport=tcp", "duplicate SIP URI parameter 'transport'"),
        ("sip:h;%6Cr;lr", "duplicate SIP URI parameter 'lr'"),
        ("sip:h?", "empty SIP URI header"),
        ("sip:h?a=b&", "empty SIP URI header"),
        ("sip:h?a=b&&c=d", "empty SIP URI header"),
        ("sip:h?a", "missing '=' in SIP URI header 'a'"),
        ("sip:h?=b", "empty SIP URI header name"),
        ("sip:h?a=b=c", "invalid character '=' in SIP URI header"),
        ("sip:h?a=b;c", "invalid character ';' in SIP URI header"),
    ],
)
def test_param_and_header_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


def test_escruri_headers_parse_unescaped_and_stay_escaped_in_str() -> None:
    # RFC 4475 3.1.2.11: a URI with headers is a valid URI (the message layer rejects it
    # as a Request-URI).
    uri = sip("sip:user@example.com?Route=%3Csip:example.com%3E")
    assert uri.headers == (("Route", "<sip:example.com>"),)
    assert str(uri.replace()) == "sip:user@example.com?Route=%3Csip:example.com%3E"


# --- characters that are never in a URI ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["sip:user@example.com; lr", "sip:user@example.com ;lr", " sip:a@b", "sip:a@b ",
     "sip:a b@c", "sip:a@b\t", "sip:a@b\r\n", "sip:a@b;x=\n", "tel:+1 234", "http://a b"],
)
def test_whitespace_anywhere_is_an_error(text: str) -> None:  # RFC 4475 3.1.2.8
    assert parse_error(text).reason == "URI contains whitespace"


@pytest.mark.parametrize("text", ["<sip:user@example.com>", "sip:a@b>", "sip:<a>@b", "http://<x>"])
def test_angle_brackets_are_an_error(text: str) -> None:  # RFC 4475 3.1.2.7
    assert parse_error(text).reason == "URI must not contain '<' or '>'"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty URI"),
        ("alice@atlanta.com", "missing or invalid URI scheme"),
        (":alice", "missing or invalid URI scheme"),
        ("1sip:alice@h", "missing or invalid URI scheme"),
        ("si_p:alice@h", "missing or invalid URI scheme"),
        ("sip", "missing or invalid URI scheme"),
    ],
)
def test_scheme_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


# --- other schemes (RFC 4475 3.3.2-3.3.4) -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scheme", "opaque"),
    [
        ("nobodyKnowsThisScheme:totallyopaquecontent", "nobodyknowsthisscheme",
         "totallyopaquecontent"),
        ("soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"),
        ("isbn:2983792873", "isbn", "2983792873"),
        ("http://www.example.com", "http", "//www.example.com"),
        ("name:John_Smith", "name", "John_Smith"),
        ("mailto:a@b.example?subject=hi%20there", "mailto", "a@b.example?subject=hi%20there"),
        ("urn:ietf:rfc:3261", "urn", "ietf:rfc:3261"),
        ("HTTP://[2001:db8::1]/#frag", "http", "//[2001:db8::1]/#frag"),
    ],
)
def test_unknown_schemes_are_absolute_uris(text: str, scheme: str, opaque: str) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, AbsoluteUri)
    assert (uri.scheme, uri.opaque) == (scheme, opaque)
    assert str(uri) == text
    assert str(uri.replace()) == f"{scheme}:{opaque}"


def test_absolute_uri_errors_and_equality() -> None:
    assert parse_error("isbn:").reason == "empty URI after the scheme"
    assert parse_error('http:a"b').reason == "invalid character '\"' in URI"
    assert parse_error("http:a{b}").reason == "invalid character '{' in URI"
    assert parse_uri("HTTP://x") == parse_uri("http://x")
    assert hash(parse_uri("HTTP://x")) == hash(parse_uri("http://x"))
    assert parse_uri("http://x") != parse_uri("http://X")
    built = AbsoluteUri("URN", "a:b")
    assert built.scheme == "urn" and str(built) == "urn:a:b"
    with pytest.raises(LocalProtocolError, match="^invalid URI scheme 'ht tp'$"):
        AbsoluteUri("ht tp", "x")
    with pytest.raises(LocalProtocolError, match="^empty URI after the scheme$"):
        AbsoluteUri("x", "")
    with pytest.raises(LocalProtocolError, match="^invalid character ' ' in URI$"):
        AbsoluteUri("x", "a b")


def test_typed_parse_helpers_reject_other_schemes_with_416() -> None:
    assert SipUri.parse("sip:a@b").user == "a"
    assert TelUri.parse("tel:+1").number == "+1"
    with pytest.raises(SipParseError) as info:
        SipUri.parse("tel:+1")
    assert (info.value.reason, info.value.status) == ("unsupported URI scheme 'tel'", 416)
    with pytest.raises(SipParseError) as info:
        TelUri.parse("http://x")
    assert (info.value.reason, info.value.status) == ("unsupported URI scheme 'http'", 416)


# --- tel URIs (RFC 3966) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "params", "is_global"),
    [
        ("tel:+1-201-555-0123", "+1-201-555-0123", (), True),
        ("tel:7042;phone-context=example.com", "7042", (("phone-context", "example.com"),), False),
        ("tel:863-1234;phone-context=+1-914-555", "863-1234",
         (("phone-context", "+1-914-555"),), False),
        ("TEL:+1(201)555.0123;ext=22;isub=a/b", "+1(201)555.0123",
         (("ext", "22"), ("isub", "a/b")), True),
        ("tel:*123%23;phone-context=example.com", "*123#",
         (("phone-context", "example.com"),), False),
        ("tel:+358-555-1234567;postd=pp22", "+358-555-1234567", (("postd", "pp22"),), True),
        ("tel:+1;flag", "+1", (("flag", None),), True),
    ],
)
def test_tel_uris(text: str, number: str, params: tuple[object, ...], is_global: bool) -> None:
    uri = tel(text)
    assert uri.scheme == "tel"
    assert (uri.number, uri.params.pairs, uri.is_global) == (number, params, is_global)
    assert str(uri) == text
    assert_reserializes(uri)


def test_tel_properties_and_serialization() -> None:
    uri = tel("tel:863-1234;phone-context=+1-914-555")
    assert uri.digits == "8631234" and uri.phone_context == "+1-914-555"
    assert str(tel("tel:*1#;phone-context=a.example").replace()) == (
        "tel:*1%23;phone-context=a.example")
    assert str(TelUri("+1-201-555-0123", Parameters({"ext": "1"}))) == "tel:+1-201-555-0123;ext=1"


def test_tel_equality_rfc3966_section4() -> None:
    assert tel("tel:+1-201-555-0123") == tel("tel:+12015550123")
    assert hash(tel("tel:+1-201-555-0123")) == hash(tel("tel:+1(201)555.0123"))
    assert tel("tel:7042;phone-context=EXAMPLE.com") == tel("tel:7042;Phone-Context=example.com")
    assert tel("tel:863-1234;phone-context=+1-914-555") == tel(
        "tel:8631234;phone-context=+1914555")
    assert tel("tel:+1-201-555-0123;ext=1-2") == tel("tel:+12015550123;ext=12")
    assert tel("tel:abc;phone-context=x.example") == tel("tel:ABC;phone-context=x.example")
    # a parameter in only one URI makes them differ
    assert tel("tel:+12015550123") != tel("tel:+12015550123;ext=1")
    # local vs global
    assert tel("tel:12015550123;phone-context=+1") != tel("tel:+12015550123;phone-context=+1")
    assert tel("tel:+12015550123") != tel("tel:+12015550124")
    assert tel("tel:+1") != parse_uri("sip:+1@h")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tel:7042", "local number in tel URI requires a phone-context parameter"),
        ("tel:", "invalid telephone number in tel URI"),
        ("tel:+", "invalid telephone number in tel URI"),
        ("tel:+-().", "invalid telephone number in tel URI"),
        ("tel:+1A", "invalid telephone number in tel URI"),
        ("tel:--;phone-context=a.example", "invalid telephone number in tel URI"),
        ("tel:12x4;phone-context=a.example", "invalid character 'x' in tel URI number"),
        ("tel:1;phone-context=-bad", "invalid phone-context in tel URI"),
        ("tel:1;phone-context=+", "invalid phone-context in tel URI"),
        ("tel:1;phone-context", "empty value for tel URI parameter 'phone-context'"),
        ("tel:+1;", "empty tel URI parameter"),
        ("tel:+1;a_b=c", "invalid tel URI parameter name 'a_b'"),
        ("tel:+1;ext=1;EXT=2", "duplicate tel URI parameter 'EXT'"),
        ("tel:+1;a=", "empty value for tel URI parameter 'a'"),
        ("tel:+1;a=b,c", "invalid character ',' in tel URI parameter"),
        ("tel:+1;isub=a{", "invalid character '{' in tel URI isub parameter"),
    ],
)
def test_tel_errors(text: str, reason: str) -> None:
    assert parse_error(text).reason == reason


def test_tel_construction_is_validated() -> None:
    with pytest.raises(LocalProtocolError,
                       match="^local number in tel URI requires a phone-context parameter$"):
        TelUri("1234")
    uri = tel("tel:+1-201-555-0123")
    assert str(uri.replace(number="+1")) == "tel:+1"
    with pytest.raises(LocalProtocolError, match="^invalid telephone number in tel URI$"):
        uri.replace(number="+")


# --- equality (RFC 3261 19.1.4) ---------------------------------------------------------------

RFC3261_EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
    ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
]

RFC3261_NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),  # usernames
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),  # can resolve to different ports
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),  # different transports
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),  # port and transport
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),  # header
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),  # even if that is its address
]


@pytest.mark.parametrize(("a", "b"), RFC3261_EQUIVALENT)
def test_rfc3261_equivalent_uris(a: str, b: str) -> None:
    ua, ub = sip(a), sip(b)
    assert ua == ub and ub == ua
    assert hash(ua) == hash(ub)


@pytest.mark.parametrize(("a", "b"), RFC3261_NOT_EQUIVALENT)
def test_rfc3261_not_equivalent_uris(a: str, b: str) -> None:
    ua, ub = sip(a), sip(b)
    assert ua != ub and ub != ua
    assert not ua == ub


def test_equality_is_not_transitive() -> None:  # RFC 3261 19.1.4, last paragraph
    plain = sip("sip:carol@chicago.com")
    on, off = sip("sip:carol@chicago.com;security=on"), sip("sip:carol@chicago.com;security=off")
    assert plain == on and plain == off
    assert on != off
    assert hash(on) == hash(off)  # still consistent: equal objects hash equal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:alice@h", "sips:alice@h"),  # scheme
        ("sip:h", "sip:alice@h"),  # user missing in one
        ("sip:alice@h", "sip:Alice@h"),  # userinfo is case-sensitive
        ("sip:alice:pw@h", "sip:alice@h"),  # password missing in one
        ("sip:alice:pw@h", "sip:alice:PW@h"),
        ("sip:alice@h;maddr=239.255.255.1", "sip:alice@h"),
        ("sip:alice@h;user=phone", "sip:alice@h"),
        ("sip:alice@h;method=INVITE", "sip:alice@h"),
        ("sip:alice@h;ttl=1", "sip:alice@h"),
        ("sip:alice@h;ttl=1", "sip:alice@h;ttl=2"),
        ("sip:alice@h;x=1", "sip:alice@h;x=2"),  # other params compared when in both
        ("sip:alice@h?a=b", "sip:alice@h?a=B"),  # header values are case-sensitive
        ("sip:alice@h?a=b", "sip:alice@h?a=b&a=b"),
        ("sip:alice@h;lr", "sip:alice@h;lr=on"),  # a flag is not a value
        ("sip:alice@h.", "sip:alice@h"),
    ],
)
def test_more_unequal_uris(a: str, b: str) -> None:
    assert sip(a) != sip(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:alice@h;x=ABC", "sip:alice@h;X=abc"),
        ("sip:alice@h;lr", "sip:alice@h"),
        ("sip:alice@h;maddr=H.example", "sip:alice@h;MADDR=h.EXAMPLE"),
        ("sip:alice@h?Subject=x", "sip:alice@h?subject=x"),  # header names are case-insensitive
        ("sip:%41@h", "sip:A@h"),
        ("sip:alice@h", "SIP:alice@H"),
    ],
)
def test_more_equal_uris(a: str, b: str) -> None:
    assert sip(a) == sip(b) and hash(sip(a)) == hash(sip(b))


def test_uris_are_hashable_dict_keys_and_never_equal_to_strings() -> None:
    registrations = {sip("sip:%61lice@atlanta.com"): "here"}
    assert registrations[sip("sip:alice@ATLANTA.com")] == "here"
    assert sip("sip:a@b") != "sip:a@b"
    assert sip("sip:a@b") != parse_uri("tel:+1")


# --- frozen objects, replace(), construction -------------------------------------------------


def test_parsed_uri_is_frozen_and_replace_serializes_from_fields() -> None:
    uri = sip("SIP:Bob@Biloxi.example.com;Transport=TCP")
    with pytest.raises(dataclasses.FrozenInstanceError):
        uri.port = 5070  # type: ignore[misc]
    moved = uri.replace(port=5070)
    assert str(uri) == "SIP:Bob@Biloxi.example.com;Transport=TCP"
    assert str(moved) == "sip:Bob@Biloxi.example.com:5070;Transport=TCP"
    assert moved.port == 5070 and uri.port is None
    routed = uri.replace(params=uri.params.set("lr").remove("transport"))
    assert str(routed) == "sip:Bob@Biloxi.example.com;lr"
    assert str(uri.replace(user=None)) == "sip:Biloxi.example.com;Transport=TCP"


def test_constructed_uri_with_defaults() -> None:
    uri = SipUri(host="biloxi.example.com")
    assert str(uri) == "sip:biloxi.example.com"
    assert uri == sip("sip:biloxi.example.com")
    full = SipUri(scheme="sips", user="bob", host="[2001:db8::1]", port=5061,
                  params=Parameters([("transport", "tcp")]), headers=(("Subject", "hi"),))
    assert str(full) == "sips:bob@[2001:db8::1]:5061;transport=tcp?Subject=hi"
    # a plain mapping / list is converted (typed callers pass Parameters and a tuple)
    assert isinstance(SipUri(host="h", params={"lr": None}).params, Parameters)  # type: ignore[arg-type]
    assert SipUri(host="h", headers=[("a", "b")]).headers == (("a", "b"),)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"scheme": "http", "host": "h"}, "SIP URI scheme must be 'sip' or 'sips', not 'http'"),
        ({"scheme": "SIP", "host": "h"}, "SIP URI scheme must be 'sip' or 'sips', not 'SIP'"),
        ({"host": "2001:db8::1"}, "IPv6 address in URI host must be in brackets"),
        ({"host": "[2001:db8::x]"}, "invalid IPv6 address in SIP URI host"),
        ({"host": "bad host"}, "invalid host 'bad host' in SIP URI"),
        ({"host": ""}, "empty host in SIP URI"),
        ({"host": "h", "port": 70000}, "port out of range in SIP URI"),
        ({"host": "h", "port": -1}, "port out of range in SIP URI"),
        ({"host": "h", "user": ""}, "empty user in SIP URI"),
        ({"host": "h", "password": "pw"}, "SIP URI password without a user"),
        ({"host": "h", "params": {"a": ""}}, "empty value for SIP URI parameter 'a'"),
        ({"host": "h", "params": {"": None}}, "empty SIP URI parameter"),
        ({"host": "h", "headers": (("", "x"),)}, "empty SIP URI header name"),
    ],
)
def test_construction_is_validated(kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(LocalProtocolError) as info:
        SipUri(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == reason


# --- Parameters -------------------------------------------------------------------------------


def test_parameters_mapping_behaviour() -> None:
    params = Parameters([("Tag", "x"), ("lr", None)])
    assert params["TAG"] == "x" and params["tag"] == "x"
    assert list(params) == ["Tag", "lr"] and len(params) == 2
    assert "LR" in params and "nope" not in params
    assert 3 not in params  # type: ignore[comparison-overlap]
    with pytest.raises(KeyError):
        params["nope"]
    assert dict(params.items()) == {"Tag": "x", "lr": None}
    assert params == {"tag": "x", "LR": None}
    assert params == Parameters([("lr", None), ("TAG", "x")])  # order and name case ignored
    assert params != Parameters([("tag", "X"), ("lr", None)])  # values compared exactly
    assert hash(params) == hash(Parameters([("lr", None), ("tag", "x")]))
    assert params != 42
    assert repr(params) == "Parameters({'Tag': 'x', 'lr': None})"


def test_parameters_set_and_remove_return_new_objects() -> None:
    params = Parameters({"a": "1", "b": None})
    assert params.set("A", "2").pairs == (("A", "2"), ("b", None))  # replaced in place
    assert params.set("c").pairs == (("a", "1"), ("b", None), ("c", None))
    assert params.remove("B").pairs == (("a", "1"),)
    assert params.remove("zzz").pairs == params.pairs
    assert params.pairs == (("a", "1"), ("b", None))  # unchanged
    with pytest.raises(LocalProtocolError, match="^duplicate parameter 'A'$"):
        Parameters([("a", "1"), ("A", "2")])


# --- name-addr / addr-spec (RFC 3261 20.10, 25.1) --------------------------------------------


def test_name_addr_common_shapes() -> None:
    bob = NameAddress.parse('"Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf')
    assert bob.display_name == "Bob" and bob.tag == "a6c85cf"
    assert bob.uri == sip("sip:bob@biloxi.example.com")
    assert str(bob) == '"Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf'
    bare = NameAddress.parse("<sip:bob@biloxi.example.com>")
    assert bare.display_name is None and bare.tag is None and len(bare.params) == 0
    spec = NameAddress.parse("sip:alice@atlanta.com;tag=1928301774")
    assert spec.display_name is None and spec.tag == "1928301774"
    assert spec.uri == sip("sip:alice@atlanta.com") and len(spec.uri.params) == 0  # type: ignore[union-attr]
    empty = NameAddress.parse('"" <sip:a@b>')
    assert empty.display_name == ""


def test_cparam01_params_after_bare_uri_are_header_params() -> None:  # RFC 4475 3.3.12
    contact = NameAddress.parse("sip:+19725552222@gw1.example.net;unknownparam")
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.user == "+19725552222" and len(contact.uri.params) == 0
    assert contact.params.pairs == (("unknownparam", None),)
    assert str(contact) == "sip:+19725552222@gw1.example.net;unknownparam"
    assert str(contact.replace()) == "<sip:+19725552222@gw1.example.net>;unknownparam"


def test_cparam02_params_inside_brackets_are_uri_params() -> None:  # RFC 4475 3.3.13
    contact = NameAddress.parse("<sip:+19725552222@gw1.example.net;unknownparam>")
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.params.pairs == (("unknownparam", None),)
    assert len(contact.params) == 0


def test_lwsdisp_display_name_without_space_before_angle() -> None:  # RFC 4475 3.1.1.6
    caller = NameAddress.parse("caller<sip:caller@example.com>;tag=323")
    assert caller.display_name == "caller" and caller.tag == "323"
    assert str(caller) == "caller<sip:caller@example.com>;tag=323"


def test_unquoted_token_display_names() -> None:
    # intmeth From: every token character, tokens separated by LWS
    from_ = NameAddress.parse("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>")
    assert from_.display_name == "token1~` token2'+_ token3*%!.-"
    # '.' is a token character (RFC 3261 25.1), as in badvers' 'A. Bell'
    assert NameAddress.parse("A. Bell <sip:a.g.bell@example.com>").display_name == "A. Bell"
    assert NameAddress.parse("Joe \t  Bloggs  <sip:j@h>").display_name == "Joe Bloggs"
    assert str(NameAddress.parse("Joe  <sip:j@h>").replace()) == '"Joe" <sip:j@h>'


def test_baddn_unquoted_display_names_with_commas() -> None:  # RFC 4475 3.1.2.15
    for text in ("Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
                 "Watson, Thomas <sip:t.watson@example.org>"):
        assert name_addr_error(text).reason == "invalid character ',' in display name"


def test_quotbal_unterminated_quoted_string() -> None:  # RFC 4475 3.1.2.6
    assert name_addr_error('"Mr. J. User <sip:j.user@example.com>').reason == (
        "unterminated quoted string")


def test_badaspec_whitespace_inside_brackets() -> None:  # RFC 4475 3.1.2.14
    assert NameAddress.parse('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423').tag == (
        "433423")
    assert name_addr_error('"Watson, Thomas" < sip:t.watson@example.org >').reason == (
        "whitespace inside '<' '>' in name-addr")


def test_regbadct_uri_with_headers_needs_brackets() -> None:  # RFC 4475 3.1.2.13
    reason = "URI containing ',', ';' or '?' must be enclosed in '<' '>'"
    assert name_addr_error("sip:user@example.com?Route=%3Csip:sip.example.com%3E").reason == reason
    assert name_addr_error("sip:us?er@example.com").reason == reason
    assert name_addr_error("sip:a@b,c@d").reason == reason


def test_regescrt_escaped_header_inside_brackets_is_kept_escaped() -> None:  # RFC 4475 3.3.14
    contact = NameAddress.parse("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.headers == (("Route", "<sip:sip.example.com>"),)
    assert str(contact) == "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>"
    rebuilt = contact.replace(params=contact.params.set("expires", "60"))
    assert str(rebuilt) == "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=60"
    assert str(contact.replace(uri=contact.uri.replace())) == (
        "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")


def test_quoted_display_names_resolve_quoted_pairs() -> None:
    # wsinv From and Contact
    assert NameAddress.parse('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>').display_name == (
        'J Rosenberg \\"')
    assert NameAddress.parse('"Quoted string \\"\\"" <sip:jdrosen@example.com>').display_name == (
        'Quoted string ""')
    assert NameAddress.parse('"%Z%45" <sip:resource@example.com>').display_name == "%Z%45"  # esc02
    assert NameAddress.parse('"Bell, Alexander" <sip:a@b>').display_name == "Bell, Alexander"
    assert NameAddress.parse('"Zoë 日本" <sip:a@b>').display_name == "Zoë 日本"
    assert NameAddress.parse('"x\\\x00\\\x07\\\x7f" <sip:a@b>').display_name == "x\x00\x07\x7f"
    assert NameAddress.parse('"a\r\n b"<sip:a@b>').display_name == "a b"  # a fold is one SP
    assert NameAddress.parse('"a\tb" <sip:a@b>').display_name == "a\tb"


def test_intmeth_to_and_from_from_the_corpus_bytes() -> None:  # RFC 4475 3.1.1.2
    path = TESTDATA / "rfc4475" / "intmeth.sip"
    if not path.is_file():
        pytest.fail(f"RFC 4475 corpus not found at {TESTDATA}")
    lines = path.read_bytes().decode("utf-8", "surrogateescape").split("\r\n")
    to_value = next(line for line in lines if line.startswith("To: "))[4:]
    from_value = next(line for line in lines if line.startswith("From: "))[6:]
    to = NameAddress.parse(to_value)
    assert to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert isinstance(to.uri, SipUri)
    assert to.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert to.uri.host == "example.com" and to.uri.password is None
    assert str(to) == to_value
    assert str(to.replace()) == (
        '"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" '
        "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>"
    )
    sender = NameAddress.parse(from_value)
    assert sender.display_name == "token1~` token2'+_ token3*%!.-"
    assert sender.params.pairs == (
        ("fromParam''~+*_!.-%", '"работающий"'),
        ("tag", "_token~1'+`*%!-."),
    )
    assert unquote_string(sender.params["fromparam''~+*_!.-%"] or "") == "работающий"
    assert sender.tag == "_token~1'+`*%!-."
    assert str(sender) == from_value


def test_header_params_allow_lws_and_folds() -> None:
    # wsinv To and Contact (values as they appear, folds included)
    to = NameAddress.parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
    assert to.tag == "1918181833n" and to.uri == sip("sip:vivekg@chair-dnrc.example.com")
    contact = NameAddress.parse(
        '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =\r\n'
        "      newvalue ;\r\n  secondparam ; q = 0.33"
    )
    assert contact.params.pairs == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert str(contact.replace()) == (
        '"Quoted string \\"\\"" <sip:jdrosen@example.com>;newparam=newvalue;secondparam;q=0.33')
    folded = NameAddress.parse('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n  ;\r\n'
                               "  tag = 98asjd8")
    assert folded.tag == "98asjd8"


def test_header_param_values() -> None:
    na = NameAddress.parse(
        '<sip:a@b>;expires=3600;q=0.7;received=[2001:db8::9:255];+sip.instance="<urn:uuid:1>";Tag=X'
    )
    assert na.params["EXPIRES"] == "3600" and na.params["q"] == "0.7"
    assert na.params["received"] == "[2001:db8::9:255]"
    assert na.params["+sip.instance"] == '"<urn:uuid:1>"'
    assert unquote_string(na.params["+sip.instance"] or "") == "<urn:uuid:1>"
    assert na.tag == "X" and list(na.params)[-1] == "Tag"
    # a quoted value may hold '<' and ';' in the addr-spec form too
    spec = NameAddress.parse('sip:a@b;+sip.instance="<urn:x;y>";expires=0')
    assert spec.params["+sip.instance"] == '"<urn:x;y>"' and spec.params["expires"] == "0"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty name-addr"),
        ("  \t", "empty name-addr"),
        ('"abc', "unterminated quoted string"),
        ('"abc\\"', "unterminated quoted string"),
        ('"a" b <sip:x@y>', "expected '<' after quoted display name"),
        ('"a" sip:x@y', "expected '<' after quoted display name"),
        ('"a"', "expected '<' after quoted display name"),
        ('Joe "x" <sip:a@b>', "invalid character '\"' in display name"),
        ("Zoë <sip:a@b>", "invalid character 'ë' in display name"),
        ("a@b <sip:a@b>", "invalid character '@' in display name"),
        ("<sip:a@b", "missing '>' in name-addr"),
        ("Bob <sip:a@b;tag=1", "missing '>' in name-addr"),
        ("< sip:a@b>", "whitespace inside '<' '>' in name-addr"),
        ("<sip:a@b\t>", "whitespace inside '<' '>' in name-addr"),
        ("<sip:a@b> x", "unexpected character 'x' after '>'"),
        ("<sip:a@b><sip:c@d>", "unexpected character '<' after '>'"),
        ("<sip:a@b>;", "empty header parameter"),
        ("<sip:a@b>;tag=1;", "empty header parameter"),
        ('"Joe" <sip:joe@example.org>;;;;', "empty header parameter"),  # badinv01
        ("<sip:a@b>;tag=", "empty value for header parameter 'tag'"),
        ("<sip:a@b>;tag= ;x", "empty value for header parameter 'tag'"),
        ("<sip:a@b>;tag=1;TAG=2", "duplicate header parameter 'TAG'"),
        ("sip:a@b;tag=1;tag=1", "duplicate header parameter 'tag'"),
        ("<sip:a@b>;a=b c", "invalid value for header parameter 'a'"),
        ("<sip:a@b>;a=b:c", "invalid value for header parameter 'a'"),
        ('<sip:a@b>;a="x"y', "invalid value for header parameter 'a'"),
        ("<sip:a@b>;a b", "invalid character 'b' after header parameter 'a'"),
        ("<sip:a@b>;@", "invalid character '@' in header parameter name"),
        ('<sip:a@b>;a="x', "unterminated quoted string"),
        ('<sip:a@b>;a="x\x01"', "invalid character '\\x01' in quoted string"),
        ('"a\x00" <sip:a@b>', "invalid character '\\x00' in quoted string"),
        ('"a\r\nb" <sip:a@b>', "invalid character '\\r' in quoted string"),
        ('"a\nb" <sip:a@b>', "invalid character '\\n' in quoted string"),
        ('"a\\\r\n b" <sip:a@b>', "invalid quoted-pair in quoted string"),
        ('"a\\é" <sip:a@b>', "invalid quoted-pair in quoted string"),
        # errors of the URI itself come from parse_uri
        ("<alice@atlanta.com>", "missing or invalid URI scheme"),
        ("Joe;x <sip:a@b>", "missing or invalid URI scheme"),
        ("sip:a@b c;tag=1", "URI contains whitespace"),
        ("<sip:2001:db8::1>", "IPv6 address in URI host must be in brackets"),
        ("<sip:a@b;;>", "empty SIP URI parameter"),
        (";tag=1", "empty URI"),
    ],
)
def test_name_addr_errors(text: str, reason: str) -> None:
    assert name_addr_error(text).reason == reason


def test_name_addr_with_other_uri_schemes() -> None:  # RFC 4475 3.3.4 unksm2
    assert NameAddress.parse("isbn:2983792873").uri == AbsoluteUri("isbn", "2983792873")
    http = NameAddress.parse("<http://www.example.com>;tag=3234233")
    assert http.uri == AbsoluteUri("http", "//www.example.com") and http.tag == "3234233"
    assert NameAddress.parse("<name:John_Smith>").uri == AbsoluteUri("name", "John_Smith")
    phone = NameAddress.parse('"Alice" <tel:+1-201-555-0123>;tag=x')
    assert phone.uri == tel("tel:+12015550123") and phone.display_name == "Alice"
    # without brackets, ';' ends the tel URI too (RFC 3261 20.10)
    bare = NameAddress.parse("tel:+1-201-555-0123;ext=1")
    assert bare.uri == tel("tel:+1-201-555-0123") and bare.params["ext"] == "1"


def test_name_addr_construction_and_serialization() -> None:
    uri = sip("sip:a@b")
    na = NameAddress(uri, 'Bob "the" \\ builder', Parameters({"tag": "x", "lr": None}))
    assert str(na) == '"Bob \\"the\\" \\\\ builder" <sip:a@b>;tag=x;lr'
    again = NameAddress.parse(str(na))
    assert again == na and again.display_name == 'Bob "the" \\ builder'
    assert str(NameAddress(uri)) == "<sip:a@b>"
    assert str(NameAddress(uri, "tab\tand\x01ctl\r\nnl")) == '"tab\tand\\\x01ctl nl" <sip:a@b>'
    assert str(NameAddress(uri, params=Parameters({"+sip.instance": quote_string("<urn:x>")}))) == (
        '<sip:a@b>;+sip.instance="<urn:x>"')
    with pytest.raises(LocalProtocolError, match="^invalid header parameter name 'a b'$"):
        NameAddress(uri, params=Parameters({"a b": None}))
    with pytest.raises(LocalProtocolError,
                       match=r"^invalid value for header parameter 'a' \(use quote_string\)$"):
        NameAddress(uri, params=Parameters({"a": "x y"}))


def test_name_addr_replace_equality_and_hash() -> None:
    na = NameAddress.parse('  "Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf  ')
    assert str(na) == '"Bob" <sip:bob@biloxi.example.com>;tag=a6c85cf'  # outer LWS dropped
    tagged = na.replace(params=na.params.set("tag", "z9"))
    assert str(tagged) == '"Bob" <sip:bob@biloxi.example.com>;tag=z9'
    assert tagged.tag == "z9" and na.tag == "a6c85cf"
    with pytest.raises(dataclasses.FrozenInstanceError):
        na.display_name = "x"  # type: ignore[misc]
    same = NameAddress.parse('"Bob" <sip:bob@BILOXI.example.com>;TAG=a6c85cf')
    assert na == same and hash(na) == hash(same)
    assert na != NameAddress.parse('"Bob" <sip:bob@biloxi.example.com>;tag=A6C85CF')
    assert na != NameAddress.parse('"Robert" <sip:bob@biloxi.example.com>;tag=a6c85cf')


def test_quote_and_unquote_string() -> None:
    assert quote_string('a"b\\c') == '"a\\"b\\\\c"'
    assert quote_string("x\x00\x7f") == '"x\\\x00\\\x7f"'
    assert quote_string("a\r\nb\nc\rd") == '"a b c d"'
    assert unquote_string('"a\\"b\\\\c"') == 'a"b\\c'
    assert unquote_string("token") == "token"
    assert unquote_string('"') == '"'
    with pytest.raises(SipParseError, match="^invalid character '\\\\x01' in quoted string$"):
        unquote_string('"\x01"')


# --- the RFC 4475 / RFC 5118 corpus, every file -----------------------------------------------

ADDRESS_HEADERS = {"to", "t", "from", "f", "contact", "m", "route", "record-route", "refer-to",
                   "r", "reply-to"}
LIST_HEADERS = {"contact", "m", "route", "record-route"}

# (file stem, where) -> the exact reason; everything else must parse and round-trip.
CORPUS_ERRORS = {
    ("ltgtruri", "request-uri"): "URI must not contain '<' or '>'",
    ("lwsruri", "request-uri"): "URI contains whitespace",
    ("ipv6-bad", "request-uri"): "IPv6 address in URI host must be in brackets",
    ("regbadct", "contact"): "URI containing ',', ';' or '?' must be enclosed in '<' '>'",
    ("badaspec", "to"): "whitespace inside '<' '>' in name-addr",
    ("baddn", "from"): "invalid character ',' in display name",
    ("baddn", "to"): "invalid character ',' in display name",
    ("baddn.terminated", "from"): "invalid character ',' in display name",
    ("baddn.terminated", "to"): "invalid character ',' in display name",
    ("quotbal", "to"): "unterminated quoted string",
    ("badinv01", "contact"): "empty header parameter",
    ("test", "to"): "missing or invalid URI scheme",  # 'alan@jasomi.com': no scheme
    ("test", "from"): "missing or invalid URI scheme",
}


def _split_list(value: str) -> list[str]:
    """Split a list header at commas outside quotes and '<' '>' (the header layer's job)."""
    items, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(value):
        char = value[i]
        if quoted and char == "\\":
            i += 1
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in "<>":
            depth += 1 if char == "<" else -1
        elif not quoted and depth == 0 and char == ",":
            items.append(value[start:i].strip())
            start = i + 1
        i += 1
    items.append(value[start:].strip())
    return items


def _corpus_values(path: Path) -> list[tuple[str, str]]:
    """(where, text) for the Request-URI and every address header value of one message."""
    data = path.read_bytes().split(b"\r\n\r\n", 1)[0]
    lines = data.decode("utf-8", "surrogateescape").split("\r\n")
    found: list[tuple[str, str]] = []
    start = lines[0]
    if not start.startswith("SIP/"):
        rest = start.partition(" ")[2]
        found.append(("request-uri", re.sub(r"\s+SIP/\S*\s*$", "", rest).strip(" ")))
    unfolded: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += "\r\n" + line  # keep the fold: the parser must cope with SWS
        else:
            unfolded.append(line)
    for line in unfolded:
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or name not in ADDRESS_HEADERS:
            continue
        value = value.strip(" \t\r\n")
        for item in _split_list(value) if name in LIST_HEADERS else [value]:
            found.append((name, item))
    return found


def _corpus_files() -> list[Path]:
    if not TESTDATA.is_dir():
        return []
    return sorted([*TESTDATA.glob("rfc4475/*.sip"), *TESTDATA.glob("rfc4475/variants/*.sip"),
                   *TESTDATA.glob("rfc5118/*.sip")])


def test_corpus_is_complete() -> None:
    if not TESTDATA.is_dir():
        pytest.fail(f"torture corpus not found at {TESTDATA}")
    files = _corpus_files()
    assert len([f for f in files if f.parent.name == "rfc4475"]) == 50
    assert len([f for f in files if f.parent.name == "rfc5118"]) == 12
    assert len([f for f in files if f.parent.name == "variants"]) == 1
    stems = {f.name.removesuffix(".sip") for f in files}
    assert {stem for stem, _ in CORPUS_ERRORS} <= stems


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_uris_and_addresses(path: Path) -> None:
    stem = path.name.removesuffix(".sip")
    values = _corpus_values(path)
    assert values or stem in {"insuf"}, "no URI found: the extraction must not skip a message"
    hit = set()
    for where, text in values:
        reason = CORPUS_ERRORS.get((stem, where))
        if reason is not None:
            hit.add((stem, where))
            with pytest.raises(SipParseError) as info:
                parse_uri(text) if where == "request-uri" else NameAddress.parse(text)
            assert info.value.reason == reason, (where, text)
            continue
        if where == "request-uri":
            uri = parse_uri(text)
            assert str(uri) == text
            assert_reserializes(uri)
        else:
            address = NameAddress.parse(text)
            assert str(address) == text
            again = NameAddress.parse(str(address.replace()))
            assert again == address and again.display_name == address.display_name
    assert hit == {key for key in CORPUS_ERRORS if key[0] == stem}


def test_corpus_selected_values() -> None:
    if not TESTDATA.is_dir():
        pytest.fail(f"torture corpus not found at {TESTDATA}")

    def values(name: str) -> dict[str, list[str]]:
        folder = "rfc5118" if "ipv" in name or "port" in name else "rfc4475"
        result: dict[str, list[str]] = {}
        for where, text in _corpus_values(TESTDATA / folder / f"{name}.sip"):
            result.setdefault(where, []).append(text)
        return result

    contacts = [NameAddress.parse(c).uri for c in values("escnull")["contact"]]
    assert [c.user for c in contacts if isinstance(c, SipUri)] == ["\x00", "\x00\x00"]
    assert sip(values("semiuri")["request-uri"][0]).user == "user;par=u@example.net"
    assert sip(values("esc01")["request-uri"][0]).user == "sips:user@example.com"
    record_route = NameAddress.parse(values("inv2543")["record-route"][0]).uri
    assert isinstance(record_route, SipUri) and record_route.maddr == "ss1.example.com"
    # 'To: sip:+16505552222@ss1.example.net;user=phone' has no '<' '>': user=phone is a
    # header parameter there (RFC 3261 20.10), unlike in From, which is enclosed
    to = NameAddress.parse(values("inv2543")["to"][0])
    assert isinstance(to.uri, SipUri) and to.uri.user_param is None
    assert to.params["user"] == "phone"
    from_ = NameAddress.parse(values("inv2543")["from"][0]).uri
    assert isinstance(from_, SipUri) and from_.user_param == "phone"
    long_to = NameAddress.parse(values("longreq")["to"][0])
    assert isinstance(long_to.uri, SipUri) and long_to.uri.port == 6000
    assert len(long_to.uri.params) == 3
    assert sip(values("port-ambiguous")["request-uri"][0]).port is None
    assert sip(values("port-unambiguous")["request-uri"][0]).port == 5070
    unksm2 = values("unksm2")
    assert isinstance(NameAddress.parse(unksm2["to"][0]).uri, AbsoluteUri)
    assert isinstance(parse_uri(values("unkscm")["request-uri"][0]), AbsoluteUri)
    assert isinstance(parse_uri(values("novelsc")["request-uri"][0]), AbsoluteUri)
    route = NameAddress.parse(values("wsinv")["route"][0]).uri
    assert isinstance(route, SipUri) and route.lr
    assert route.params.pairs == (("lr", None), ("unknownwith", "value"), ("unknown-no-value", None))


# --- properties over arbitrary input (hypothesis) ---------------------------------------------

_ALPHABET = "sipSIPtel:+@[]%0123456789abcdefABCDEF;=?&.-_/,$!~*'()<> \t\r\n\"\\#\x00é\udcc3xyz"
_URI_TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=_ALPHABET, max_size=40),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: "sip:" + s),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: "sip:a@b" + s),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: "tel:" + s),
    st.from_regex(r"sips?:([a-z%0-9]{1,4}(:[a-z0-9]{0,3})?@)?(\[[0-9a-f:.]{2,12}\]|[a-z0-9.-]{1,9})"
                  r"(:[0-9]{1,6})?(;[a-z%0-9]{1,4}(=[a-z%0-9]{1,4})?){0,3}(\?[a-z]{1,3}=[a-z%0-9]{0,4})?",
                  fullmatch=True),
)
_NAME_ADDR_TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=_ALPHABET, max_size=40),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: '"x" <sip:a@b>' + s),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: s + " <sip:a@b>"),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: '"' + s + '" <sip:a@b>;tag=1'),
    st.text(alphabet=_ALPHABET, max_size=30).map(lambda s: "sip:a@b" + s),
)
_PROPERTY_SETTINGS = settings(max_examples=400, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY_SETTINGS
@given(_URI_TEXTS)
def test_parse_uri_raises_only_sip_parse_error_and_round_trips(text: str) -> None:
    try:
        uri = parse_uri(text)
    except SipParseError as error:
        assert error.status == 400 and error.reason
        return
    assert str(uri) == text
    assert_reserializes(uri)
    if isinstance(uri, SipUri):  # the fast path and the careful parser agree
        scheme, _, rest = text.partition(":")
        assert fields(_parse_sip(text, scheme.lower(), rest)) == fields(uri)


@_PROPERTY_SETTINGS
@given(_NAME_ADDR_TEXTS)
def test_name_addr_raises_only_sip_parse_error_and_round_trips(text: str) -> None:
    try:
        address = NameAddress.parse(text)
    except SipParseError as error:
        assert error.status == 400 and error.reason
        return
    stripped = text.strip(" \t\r\n")
    assert str(address) == stripped
    careful = _parse_name_addr(stripped)
    assert careful == address and careful.display_name == address.display_name
    again = NameAddress.parse(str(address.replace()))
    assert again == address and hash(again) == hash(address)
    assert again.display_name == address.display_name
    assert again.params.pairs == address.params.pairs


# --- the one-regex name-addr fast path agrees with the careful parser -------------------------

_SHAPED_NAME_ADDRS = st.from_regex(
    r'(("[a-zA-Z ,;<>é]{0,6}"|[a-zA-Z!%*~]{1,5}( [a-z]{1,3}){0,2})[ \t]{0,2})?'
    r"<(sips?|SIP|Sip|tel|http):([a-z0-9%]{1,4}@)?"
    r"([0-9]{1,3}(\.[0-9]{1,3}){3}|[a-z0-9-]{1,6}(\.[a-z0-9-]{1,5}){0,2}\.?|\[[0-9a-f:]{2,9}\])"
    r"(:[0-9]{1,6})?(;[a-zA-Z]{1,3}(=[a-z0-9]{1,3})?){0,3}>"
    r"(;[a-zA-Z]{1,3}(=[a-z0-9]{1,3})?){0,3}",
    fullmatch=True,
)


@_PROPERTY_SETTINGS
@given(_SHAPED_NAME_ADDRS)
def test_name_addr_fast_path_builds_what_the_careful_parser_builds(text: str) -> None:
    try:
        address = NameAddress.parse(text)
    except SipParseError as error:
        with pytest.raises(SipParseError) as careful_error:
            _parse_name_addr(text)
        assert careful_error.value.reason == error.reason
        return
    careful = _parse_name_addr(text)
    assert type(address.uri) is type(careful.uri)
    assert fields(address.uri) == fields(careful.uri)
    assert str(address.uri) == str(careful.uri)
    assert address.display_name == careful.display_name
    assert address.params.pairs == careful.params.pairs
    assert address.params.keys_folded == careful.params.keys_folded
    assert address == careful and str(address) == str(careful) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<sip:a@b:65536>", "port out of range in SIP URI"),
        ("<sip:a@b;x=1;X=2>", "duplicate SIP URI parameter 'X'"),
        ("<sip:a@b>;tag=1;TAG=2", "duplicate header parameter 'TAG'"),
    ],
)
def test_name_addr_fast_path_leaves_errors_to_the_careful_parser(text: str, reason: str) -> None:
    with pytest.raises(SipParseError) as info:
        NameAddress.parse(text)
    assert info.value.reason == reason


def test_parameters_get_ignores_case_and_has_a_default() -> None:
    params = NameAddress.parse("<sip:a@b>;Tag=x;lr").params
    assert params.get("tag") == params.get("TAG") == "x"
    assert params.get("lr") is None and params.get("lr", "d") is None
    assert params.get("nope") is None and params.get("nope", "d") == "d"
