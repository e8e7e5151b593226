"""Tests of tui_phone.sip.auth and tui_phone.sip.auth_server: digest parsing, the client
and the verifier (tested together: most tests are client-against-verifier round trips)."""

from __future__ import annotations

import ast
import hashlib
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tui_phone
from tui_phone.sip import auth

from tui_phone.sip.auth import (
    AUTHORIZATION,
    MAX_STALE_RETRIES,
    NONCES_KEPT,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    WWW_AUTHENTICATE,
    Challenge,
    Credentials,
    DigestClient,
    UnsupportedChallenge,
    choose_challenge,
    digest_response,
    userhash,
)
from tui_phone.sip.auth_server import AuthStatus, DigestVerifier
from tui_phone.sip.errors import LocalProtocolError, SipParseError

TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "rfc4475"


def h(algorithm: str, text: str | bytes) -> str:
    """Independent hash helper: hashlib by name, UTF-8 text."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.new(algorithm, data).hexdigest()


def counter(prefix: str = "cn") -> Callable[[], str]:
    """A deterministic cnonce / salt factory: cn1, cn2, ..."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


# ---------------------------------------------------------------- RFC examples

# RFC 7616 3.9.1 (the password has a lower-case "of": erratum 4495).
RFC7616 = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    "uri": "/dir/index.html",
}
RFC7616_CHALLENGES = [
    'Digest\n realm="http-auth@example.org",\n qop="auth, auth-int",\n algorithm=SHA-256,\n'
    ' nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",\n'
    ' opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    'Digest\n realm="http-auth@example.org",\n qop="auth, auth-int",\n algorithm=MD5,\n'
    ' nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",\n'
    ' opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
]
RFC7616_RESPONSES = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_rfc7616_worked_example(algorithm: str) -> None:
    challenges = [Challenge.parse(v) for v in RFC7616_CHALLENGES]
    challenge = next(c for c in challenges if c.algorithm == algorithm)
    client = DigestClient("Mufasa", "Circle of Life", cnonce_factory=lambda: RFC7616["cnonce"])
    creds = client.authorize(challenge, "GET", "/dir/index.html")
    assert creds.response == RFC7616_RESPONSES[algorithm]
    assert creds.header_name == AUTHORIZATION
    assert str(creds) == (
        'Digest username="Mufasa", realm="http-auth@example.org", '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", '
        f'response="{RFC7616_RESPONSES[algorithm]}", algorithm={algorithm}, '
        'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", qop=auth, nc=00000001'
    )


def test_rfc7616_worked_example_values_by_hand() -> None:
    # The same figures from the RFC 7616 3.4 formulas, without our code.
    for algorithm, lib in (("MD5", "md5"), ("SHA-256", "sha256")):
        ha1 = h(lib, "Mufasa:http-auth@example.org:Circle of Life")
        ha2 = h(lib, "GET:/dir/index.html")
        expected = h(lib, f"{ha1}:{RFC7616['nonce']}:00000001:{RFC7616['cnonce']}:auth:{ha2}")
        assert expected == RFC7616_RESPONSES[algorithm]
        assert RFC7616_RESPONSES[algorithm] == digest_response(
            algorithm=algorithm, username="Mufasa", realm=RFC7616["realm"],
            password="Circle of Life", nonce=RFC7616["nonce"], method="GET",
            uri="/dir/index.html", qop="auth", nc=1, cnonce=RFC7616["cnonce"],
        )  # fmt: skip


def test_rfc7616_example_client_picks_sha256() -> None:
    chosen = choose_challenge(Challenge.parse(v) for v in reversed(RFC7616_CHALLENGES))
    assert chosen is not None and chosen.algorithm == "SHA-256"
    assert chosen.qop == ("auth", "auth-int")
    assert chosen.chosen_qop == "auth"
    assert chosen.opaque == RFC7616["opaque"]


def test_rfc2617_example_md5() -> None:
    # RFC 2617 3.5: capital "Of" in the password, no algorithm parameter.
    challenge = Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    client = DigestClient("Mufasa", "Circle Of Life", cnonce_factory=lambda: "0a4f113b")
    creds = client.authorize(challenge, "GET", "/dir/index.html")
    assert creds.response == "6629fae49393a05397450978507c4ef1"
    assert creds.algorithm is None and "algorithm" not in str(creds)
    assert creds.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    parsed = Credentials.parse(
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
        'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert parsed == creds


@pytest.mark.parametrize(("algorithm", "lib"), [("MD5-sess", "md5"), ("SHA-256-sess", "sha256")])
def test_sess_algorithms_by_hand(algorithm: str, lib: str) -> None:
    challenge = Challenge.parse(
        f'Digest realm="atlanta.example.com", nonce="n0nce", qop="auth", algorithm={algorithm}'
    )
    client = DigestClient("alice", "s3cret", cnonce_factory=lambda: "c0ffee")
    creds = client.authorize(challenge, "REGISTER", "sip:atlanta.example.com")
    # RFC 7616 3.4.2: HA1 = H(H(user:realm:pass):nonce:cnonce)
    ha1 = h(lib, f"{h(lib, 'alice:atlanta.example.com:s3cret')}:n0nce:c0ffee")
    ha2 = h(lib, "REGISTER:sip:atlanta.example.com")
    assert creds.response == h(lib, f"{ha1}:n0nce:00000001:c0ffee:auth:{ha2}")
    assert f"algorithm={algorithm}," in str(creds)


@pytest.mark.parametrize(("algorithm", "lib"), [(None, "md5"), ("MD5", "md5"), ("SHA-256", "sha256")])
def test_no_qop_is_rfc2069_form(algorithm: str | None, lib: str) -> None:
    alg = f", algorithm={algorithm}" if algorithm else ""
    challenge = Challenge.parse(f'Digest realm="biloxi.com", nonce="abc"{alg}')
    creds = DigestClient("bob", "zanzibar").authorize(challenge, "INVITE", "sip:bob@biloxi.com")
    ha1 = h(lib, "bob:biloxi.com:zanzibar")
    ha2 = h(lib, "INVITE:sip:bob@biloxi.com")
    assert creds.response == h(lib, f"{ha1}:abc:{ha2}")
    assert creds.qop is None and creds.nc is None and creds.cnonce is None
    assert "qop" not in str(creds) and "nc=" not in str(creds) and "cnonce" not in str(creds)


def test_auth_int_by_hand() -> None:
    challenge = Challenge.parse('Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-256')
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    client = DigestClient("u", "p", cnonce_factory=lambda: "cn")
    creds = client.authorize(challenge, "INVITE", "sip:x@r", body)
    ha2 = h("sha256", f"INVITE:sip:x@r:{h('sha256', body)}")
    expected = h("sha256", f"{h('sha256', 'u:r:p')}:n:00000001:cn:auth-int:{ha2}")
    assert creds.qop == "auth-int" and creds.response == expected


# ---------------------------------------------------------------- client against server


def make_verifier(**kwargs: object) -> DigestVerifier:
    users = {"alice": "wonderland", 'o"d\\d': 'pa"ss\\word'}
    options: dict[str, object] = {
        "realm": "atlanta.example.com",
        "secret": b"k" * 32,
        "lookup": users.get,
        "salt_factory": counter("salt"),
    }
    options.update(kwargs)
    return DigestVerifier(**options)  # type: ignore[arg-type]


ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]
QOPS = [(), ("auth",), ("auth-int",), ("auth", "auth-int")]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("qop", QOPS)
@pytest.mark.parametrize("proxy", [False, True])
def test_round_trip(algorithm: str, qop: tuple[str, ...], proxy: bool) -> None:
    if "sha512_256" not in hashlib.algorithms_available and algorithm.startswith("SHA-512"):
        pytest.skip("no SHA-512/256 in this hashlib")
    if algorithm.endswith("-sess") and not qop:
        with pytest.raises(LocalProtocolError, match="requires qop"):
            make_verifier(algorithms=(algorithm,), qop=qop)
        return
    verifier = make_verifier(algorithms=(algorithm,), qop=qop, proxy=proxy, opaque="op/aque")
    [challenge] = verifier.challenge(now=1000.0)
    header = PROXY_AUTHENTICATE if proxy else WWW_AUTHENTICATE
    assert challenge.header_name == header
    parsed = Challenge.parse(str(challenge), header)  # over the wire and back
    assert parsed == challenge
    client = DigestClient("alice", "wonderland", cnonce_factory=counter())
    body = b"hello"
    creds = client.authorize(parsed, "INVITE", "sip:bob@biloxi.com", body)
    assert creds.header_name == (PROXY_AUTHORIZATION if proxy else AUTHORIZATION)
    assert creds.qop == (parsed.chosen_qop)
    result = verifier.verify(str(creds), "INVITE", 1001.0, uri="sip:bob@biloxi.com", body=body)
    assert (result.status, result.username) == (AuthStatus.OK, "alice")
    # The wrong method, body (auth-int only) or password does not verify.
    again = client.authorize(parsed, "INVITE", "sip:bob@biloxi.com", body)
    assert verifier.verify(str(again), "BYE", 1001.0).status is AuthStatus.WRONG_PASSWORD
    if qop == ("auth-int",):
        assert verifier.verify(str(again), "INVITE", 1001.0, body=b"x").status is (
            AuthStatus.WRONG_PASSWORD
        )
    bad = DigestClient("alice", "looking-glass").authorize(parsed, "INVITE", "sip:b@x")
    assert verifier.verify(bad, "INVITE", 1001.0).status is AuthStatus.WRONG_PASSWORD


def test_round_trip_with_quotes_and_backslashes_in_names() -> None:
    verifier = make_verifier()
    challenge = choose_challenge(verifier.challenge(now=0.0))
    assert challenge is not None and challenge.algorithm == "SHA-256"
    creds = DigestClient('o"d\\d', 'pa"ss\\word').authorize(challenge, "REGISTER", "sip:a.com")
    text = str(creds)
    assert 'username="o\\"d\\\\d"' in text
    assert Credentials.parse(text).username == 'o"d\\d'
    assert verifier.verify(text, "REGISTER", 1.0).ok


def test_userhash_round_trip() -> None:
    realm = "atlanta.example.com"
    table = {userhash("SHA-256", "alice", realm): "alice"}
    verifier = make_verifier(algorithms=("SHA-256",), userhash_lookup=table.get)
    [challenge] = verifier.challenge(now=0.0)
    assert challenge.userhash and "userhash=true" in str(challenge)
    creds = DigestClient("alice", "wonderland", cnonce_factory=counter()).authorize(
        challenge, "REGISTER", "sip:atlanta.example.com"
    )
    # RFC 7616 3.4.4: username = H(username:realm), computed independently here.
    assert creds.username == h("sha256", f"alice:{realm}")
    assert creds.userhash and str(creds).endswith("userhash=true")
    assert verifier.verify(str(creds), "REGISTER", 1.0).username == "alice"
    [fresh] = verifier.challenge(now=1.0)  # nc is per nonce: another client, another nonce
    plain = DigestClient("alice", "wonderland", use_userhash=False).authorize(
        fresh, "REGISTER", "sip:atlanta.example.com"
    )
    assert plain.username == "alice" and verifier.verify(plain, "REGISTER", 1.0).ok


# ---------------------------------------------------------------- nonce counting


def test_nc_increments_per_nonce_and_resets_on_new_nonce() -> None:
    first = Challenge.parse('Digest realm="r", nonce="one", qop="auth"')
    second = Challenge.parse('Digest realm="r", nonce="two", qop="auth"')
    client = DigestClient("u", "p", cnonce_factory=counter())
    ncs = [client.authorize(first, "OPTIONS", "sip:r").nc for _ in range(3)]
    assert ncs == [1, 2, 3]
    assert str(client.authorize(first, "OPTIONS", "sip:r")).endswith("nc=00000004")
    assert client.authorize(second, "OPTIONS", "sip:r").nc == 1
    assert client.authorize(second, "OPTIONS", "sip:r").nc == 2
    # Another realm keeps its own count.
    other = Challenge.parse('Digest realm="other", nonce="two", qop="auth"')
    assert client.authorize(other, "OPTIONS", "sip:r").nc == 1
    assert client.authorize(second, "OPTIONS", "sip:r").nc == 3
    # Going back to an earlier nonce of the realm continues its count, never repeats it.
    assert client.authorize(first, "OPTIONS", "sip:r").nc == 5


def test_nc_memory_per_realm_is_bounded() -> None:
    client = DigestClient("u", "p", cnonce_factory=counter())
    for n in range(NONCES_KEPT + 1):
        challenge = Challenge.parse(f'Digest realm="r", nonce="n{n}", qop="auth"')
        assert client.authorize(challenge, "OPTIONS", "sip:r").nc == 1
    oldest = Challenge.parse('Digest realm="r", nonce="n0", qop="auth"')
    assert client.authorize(oldest, "OPTIONS", "sip:r").nc == 1  # forgotten: a new nonce


def test_nc_is_eight_hex_digits_and_cnonce_fresh_each_time() -> None:
    challenge = Challenge.parse('Digest realm="r", nonce="n", qop=auth')
    client = DigestClient("u", "p", cnonce_factory=counter())
    answers = [client.authorize(challenge, "MESSAGE", "sip:r") for _ in range(17)]
    assert str(answers[15]).endswith('cnonce="cn16", qop=auth, nc=00000010')
    assert [a.cnonce for a in answers[:3]] == ["cn1", "cn2", "cn3"]


def test_default_cnonce_factory_is_random() -> None:
    challenge = Challenge.parse('Digest realm="r", nonce="n", qop=auth')
    client = DigestClient("u", "p")
    a, b = (client.authorize(challenge, "MESSAGE", "sip:r").cnonce for _ in range(2))
    assert a and b and a != b


def test_verifier_refuses_replayed_nc() -> None:
    verifier = make_verifier()
    [challenge, _] = verifier.challenge(now=0.0)
    client = DigestClient("alice", "wonderland", cnonce_factory=counter())
    one, two = (client.authorize(challenge, "MESSAGE", "sip:x") for _ in range(2))
    assert verifier.verify(two, "MESSAGE", 1.0).ok
    replay = verifier.verify(two, "MESSAGE", 1.0)
    assert (replay.status, replay.reason, replay.stale) == (
        AuthStatus.REPLAY,
        "nc 00000002 already used",
        True,
    )
    assert verifier.verify(one, "MESSAGE", 1.0).status is AuthStatus.REPLAY  # lower nc
    three = client.authorize(challenge, "MESSAGE", "sip:x")
    assert verifier.verify(three, "MESSAGE", 2.0).ok


# ---------------------------------------------------------------- stale and retries


def test_stale_nonce_then_retry_without_password_prompt() -> None:
    verifier = make_verifier(nonce_lifetime=60.0)
    client = DigestClient("alice", "wonderland", cnonce_factory=counter())
    [challenge, _] = verifier.challenge(now=0.0)
    assert client.should_retry(challenge, sent=None)
    creds = client.authorize(challenge, "REGISTER", "sip:a")
    assert verifier.verify(creds, "REGISTER", 30.0).ok
    # An hour later the UA reuses the nonce: right digest, expired nonce.
    later = client.authorize(challenge, "REGISTER", "sip:a")
    result = verifier.verify(later, "REGISTER", 3600.0)
    assert (result.status, result.reason, result.stale) == (
        AuthStatus.STALE,
        "nonce expired",
        True,
    )
    [fresh, _] = verifier.challenge(now=3600.0, stale=result.stale)
    assert fresh.stale and "stale=true" in str(fresh)
    assert client.should_retry(Challenge.parse(str(fresh)), sent=later)
    retry = client.authorize(fresh, "REGISTER", "sip:a")
    assert retry.nc == 1 and verifier.verify(retry, "REGISTER", 3601.0).ok


def test_nonce_from_elsewhere_with_right_digest_is_stale() -> None:
    verifier = make_verifier()
    forged = Challenge(realm="atlanta.example.com", nonce="123.abc.deadbeef", qop=("auth",))
    creds = DigestClient("alice", "wonderland").authorize(forged, "REGISTER", "sip:a")
    result = verifier.verify(creds, "REGISTER", 0.2)
    assert (result.status, result.reason) == (
        AuthStatus.STALE,
        "nonce was not issued by this verifier",
    )
    other = make_verifier(secret=b"another secret")
    [theirs, _] = other.challenge(now=0.0)
    creds = DigestClient("alice", "wonderland").authorize(theirs, "REGISTER", "sip:a")
    assert verifier.verify(creds, "REGISTER", 0.2).status is AuthStatus.STALE
    # A nonce from the future (clock went back) is not accepted either.
    [future, _] = verifier.challenge(now=500.0)
    creds = DigestClient("alice", "wonderland").authorize(future, "REGISTER", "sip:a")
    assert verifier.verify(creds, "REGISTER", 10.0).reason == "nonce expired"


def test_no_retry_after_rejection_with_same_credentials() -> None:
    verifier = make_verifier()
    client = DigestClient("alice", "wrong", cnonce_factory=counter())
    [challenge, _] = verifier.challenge(now=0.0)
    assert client.should_retry(challenge)
    sent = client.authorize(challenge, "REGISTER", "sip:a")
    result = verifier.verify(sent, "REGISTER", 1.0)
    assert (result.status, result.reason, result.stale) == (
        AuthStatus.WRONG_PASSWORD,
        "wrong response",
        False,
    )
    [again, _] = verifier.challenge(now=1.0, stale=result.stale)
    assert not client.should_retry(again, sent=sent)  # a new nonce but not stale: stop


def test_should_retry_rules() -> None:
    client = DigestClient("u", "p", cnonce_factory=counter())
    first = Challenge.parse('Digest realm="r", nonce="n1", qop="auth"')
    sent = client.authorize(first, "INVITE", "sip:x")
    same_nonce_stale = Challenge.parse('Digest realm="r", nonce="n1", qop="auth", stale=TRUE')
    assert not client.should_retry(same_nonce_stale, sent)  # no progress: stop
    other_realm = Challenge.parse('Digest realm="proxy", nonce="p1"')
    assert client.should_retry(other_realm, sent)  # a second realm needs its own answer
    assert not client.should_retry(Challenge.parse("Basic realm=x"), None)
    assert not client.should_retry(Challenge.parse('Digest realm="r", nonce="z", stale=no'), sent)


def test_stale_loop_is_bounded() -> None:
    # A broken server that always says stale=true with a new nonce.
    client = DigestClient("u", "p", cnonce_factory=counter())
    sent = None
    answered: list[Challenge] = []
    for n in range(10):
        value = f'Digest realm="r", nonce="n{n}", qop="auth"' + (", stale=true" if n else "")
        challenge = Challenge.parse(value)
        if not client.should_retry(challenge, sent):
            break
        sent = client.authorize(challenge, "REGISTER", "sip:r")
        answered.append(challenge)
    assert len(answered) == 1 + MAX_STALE_RETRIES
    # A new request that reuses the last nonce answered starts a fresh chain.
    sent = client.authorize(answered[-1], "REGISTER", "sip:r")
    assert sent.nc == 2
    assert client.should_retry(Challenge.parse('Digest realm="r", nonce="x", stale=true'), sent)


# ---------------------------------------------------------------- verifier outcomes


def test_verifier_outcomes() -> None:
    verifier = make_verifier(opaque="op")
    [challenge, md5] = verifier.challenge(now=0.0)
    assert [c.algorithm for c in (challenge, md5)] == ["SHA-256", "MD5"]
    assert challenge.nonce == md5.nonce == "0.salt1." + challenge.nonce.split(".")[2]
    good = DigestClient("alice", "wonderland", cnonce_factory=counter())

    def check(creds: Credentials | str, status: AuthStatus, reason: str, **kw: object) -> None:
        result = verifier.verify(creds, "REGISTER", 1.0, **kw)  # type: ignore[arg-type]
        assert (result.status, result.reason) == (status, reason)

    wrong_realm = Challenge(realm="evil.com", nonce=challenge.nonce, qop=("auth",))
    check(good.authorize(wrong_realm, "REGISTER", "sip:a"), AuthStatus.WRONG_REALM,
          "unknown realm 'evil.com'")  # fmt: skip
    stranger = DigestClient("mallory", "x").authorize(challenge, "REGISTER", "sip:a")
    check(stranger, AuthStatus.UNKNOWN_USER, "unknown user 'mallory'")
    check("Digest username=", AuthStatus.MALFORMED,
          "Authorization: expected token or quoted-string for 'username'")  # fmt: skip
    check("NoOneKnowsThisScheme opaque-data=here", AuthStatus.UNSUPPORTED,
          "unsupported auth-scheme 'NoOneKnowsThisScheme'")  # fmt: skip
    sess = Challenge(realm=challenge.realm, nonce=challenge.nonce, algorithm="MD5-sess",
                     qop=("auth",), opaque="op")  # fmt: skip
    check(good.authorize(sess, "REGISTER", "sip:a"), AuthStatus.UNSUPPORTED,
          "algorithm 'MD5-sess' not offered")  # fmt: skip
    no_qop = Challenge(realm=challenge.realm, nonce=challenge.nonce, opaque="op")
    check(good.authorize(no_qop, "REGISTER", "sip:a"), AuthStatus.MALFORMED, "qop missing")
    int_only = Challenge(realm=challenge.realm, nonce=challenge.nonce, qop=("auth-int",),
                         opaque="op")  # fmt: skip
    check(good.authorize(int_only, "REGISTER", "sip:a"), AuthStatus.UNSUPPORTED,
          "qop 'auth-int' not offered")  # fmt: skip
    check(good.authorize(challenge, "REGISTER", "sip:a"), AuthStatus.MALFORMED,
          "digest-uri does not match the Request-URI", uri="sip:b")  # fmt: skip
    no_opaque = Challenge(realm=challenge.realm, nonce=challenge.nonce, qop=("auth",))
    check(good.authorize(no_opaque, "REGISTER", "sip:a"), AuthStatus.MALFORMED,
          "opaque does not match")  # fmt: skip
    check(good.authorize(challenge, "REGISTER", "sip:a"), AuthStatus.OK, "ok", uri="sip:a")


def test_verifier_configuration_errors() -> None:
    with pytest.raises(LocalProtocolError, match="^unsupported algorithm 'SHA-1'$"):
        make_verifier(algorithms=("SHA-1",))
    with pytest.raises(LocalProtocolError, match="^unsupported qop 'auth-conf'$"):
        make_verifier(qop=("auth-conf",))
    with pytest.raises(LocalProtocolError, match="^the nonce secret must not be empty$"):
        make_verifier(secret=b"")
    with pytest.raises(LocalProtocolError, match="^at least one algorithm is required$"):
        make_verifier(algorithms=())


def test_nc_memory_is_pruned_after_nonce_lifetime() -> None:
    verifier = make_verifier(nonce_lifetime=10.0)
    client = DigestClient("alice", "wonderland", cnonce_factory=counter())
    for t in range(0, 100, 5):
        [challenge, _] = verifier.challenge(now=float(t))
        assert verifier.verify(client.authorize(challenge, "MESSAGE", "sip:x"), "MESSAGE", t + 1.0).ok
    assert len(verifier._highest_nc) <= 3


# ---------------------------------------------------------------- header names


def test_proxy_authenticate_answers_with_proxy_authorization() -> None:
    value = 'Digest realm="biloxi.com", nonce="n", qop="auth"'
    www = Challenge.parse(value)
    proxy = Challenge.parse(value, "proxy-authenticate")  # header names are case-insensitive
    assert (www.header_name, www.answer_header_name) == (WWW_AUTHENTICATE, AUTHORIZATION)
    assert (proxy.header_name, proxy.answer_header_name) == (PROXY_AUTHENTICATE, PROXY_AUTHORIZATION)
    creds = DigestClient("bob", "pw").authorize(proxy, "INVITE", "sip:bob@biloxi.com")
    assert creds.header_name == PROXY_AUTHORIZATION
    parsed = Credentials.parse(str(creds), "Proxy-Authorization")
    assert parsed == creds
    with pytest.raises(LocalProtocolError, match="expected WWW-Authenticate or Proxy-Authenticate"):
        Challenge.parse(value, "Authorization")
    with pytest.raises(LocalProtocolError, match="expected Authorization or Proxy-Authorization"):
        Credentials.parse(str(creds), "Proxy-Authenticate")
    with pytest.raises(SipParseError, match="^Proxy-Authenticate: missing auth-scheme$"):
        Challenge.parse("", PROXY_AUTHENTICATE)


# ---------------------------------------------------------------- parsing


def test_parse_odd_whitespace_quoted_commas_and_unknown_params() -> None:
    value = (
        ' \tDIGEST   REALM \t=\t"a, b \\"c\\" \\\\ d" ,NONCE="n,1"\r\n\t, Algorithm = sha-256 ,'
        '  qop=" Auth ,, auth-int ", stale="TRUE", domain="sip:a.com  sip:b.com",'
        " UserHash=True, X-Vendor=yes, Charset=UTF-8, empty=\"\" \t"
    )
    c = Challenge.parse(value)
    assert c.scheme == "DIGEST" and c.is_digest
    assert c.realm == 'a, b "c" \\ d'
    assert c.nonce == "n,1"
    assert c.algorithm == "sha-256" and c.supported  # kept as given, matched case-insensitively
    assert c.qop == ("auth", "auth-int")
    assert c.stale and c.userhash
    assert c.domain == ("sip:a.com", "sip:b.com")
    assert c.extra == (("x-vendor", "yes"), ("charset", "UTF-8"), ("empty", ""))
    assert c.param("X-VENDOR") == "yes" and c.param("missing") is None
    assert c.opaque is None
    again = Challenge.parse(str(c))
    assert again == c
    creds = DigestClient("u", "p", cnonce_factory=counter()).authorize(c, "GET", "sip:x")
    assert "algorithm=sha-256," in str(creds)  # echoed as given


@pytest.mark.parametrize(
    ("value", "stale"),
    [("stale=true", True), ("stale=FALSE", False), ('stale="true"', True), ("stale=yes", False)],
)
def test_stale_values(value: str, stale: bool) -> None:
    assert Challenge.parse(f'Digest realm="r", nonce="n", {value}').stale is stale


def test_algorithm_quoted_and_echoed() -> None:
    c = Challenge.parse('Digest realm="r", nonce="n", algorithm="SHA-256"')
    assert c.algorithm == "SHA-256" and c.supported
    creds = DigestClient("u", "p").authorize(c, "GET", "sip:x")
    assert "algorithm=SHA-256" in str(creds)  # algorithm is never quoted (RFC 7616 3.4)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "WWW-Authenticate: missing auth-scheme"),
        ('  "Digest"', "WWW-Authenticate: missing auth-scheme"),
        ("Digest", "WWW-Authenticate: missing 'realm' parameter"),
        ('Digest realm="r"', "WWW-Authenticate: missing 'nonce' parameter"),
        ('Digest,realm="r"', "WWW-Authenticate: expected whitespace after auth-scheme 'Digest'"),
        ('Digest realm "r"', "WWW-Authenticate: expected '=' after 'realm'"),
        ("Digest realm=", "WWW-Authenticate: expected token or quoted-string for 'realm'"),
        ("Digest realm=a/b", "WWW-Authenticate: expected ',' at offset 14"),
        ('Digest realm="r', "WWW-Authenticate: unterminated quoted-string in 'realm'"),
        ('Digest realm="r\\', "WWW-Authenticate: unterminated quoted-string in 'realm'"),
        ('Digest realm="a\rb"', "WWW-Authenticate: invalid character '\\r' in quoted-string of 'realm'"),
        ('Digest realm="a\\\u00e9"', "WWW-Authenticate: invalid quoted-pair in 'realm'"),
        ('Digest realm="r", nonce="n",', "WWW-Authenticate: expected auth-param name at offset 28"),
        ('Digest realm="r",, nonce="n"', "WWW-Authenticate: expected auth-param name at offset 17"),
        ('Digest realm="r", Realm="s"', "WWW-Authenticate: duplicate auth-param 'realm'"),
        ('Digest realm="r" nonce="n"', "WWW-Authenticate: expected ',' at offset 17"),
        ('Digest realm="r"\r\nnonce="n"', "WWW-Authenticate: expected ',' at offset 16"),
        ('Digest =r', "WWW-Authenticate: expected auth-param name at offset 7"),
    ],
)
def test_challenge_syntax_errors(value: str, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        Challenge.parse(value)
    assert info.value.reason == message and str(info.value) == message
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('Digest realm="r", nonce="n", uri="u", response="x"',
         "Authorization: missing 'username' parameter"),
        ('Digest username="a", realm="r", nonce="n", uri="u"',
         "Authorization: missing 'response' parameter"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=00000001',
         "Authorization: missing 'cnonce' parameter"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c"',
         "Authorization: missing 'nc' parameter"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c", '
         "nc=1", "Authorization: invalid nc '1'"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, cnonce="c", '
         'nc="0000000g"', "Authorization: invalid nc '0000000g'"),
    ],
)  # fmt: skip
def test_credentials_errors(value: str, message: str) -> None:
    with pytest.raises(SipParseError, match=f"^{message}$"):
        Credentials.parse(value)


def test_folded_challenge_and_lower_case_scheme() -> None:
    c = Challenge.parse('digest realm="r",\r\n   nonce="n",\r\n\tqop=auth')
    assert (c.realm, c.nonce, c.qop, c.is_digest) == ("r", "n", ("auth",), True)


# ---------------------------------------------------------------- unsupported


def test_regaut01_unknown_scheme_in_authorization() -> None:
    message = (TESTDATA / "regaut01.sip").read_bytes().decode("utf-8")
    lines = message.replace("\r\n", "\n").split("\n")
    value = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Authorization:"))
    assert value == "NoOneKnowsThisScheme opaque-data=here"
    creds = Credentials.parse(value)
    assert (creds.scheme, creds.is_digest, creds.unparsed) == (
        "NoOneKnowsThisScheme",
        False,
        "opaque-data=here",
    )
    assert str(creds) == value
    result = make_verifier().verify(value, "REGISTER", 0.0)
    assert (result.status, result.reason) == (
        AuthStatus.UNSUPPORTED,
        "unsupported auth-scheme 'NoOneKnowsThisScheme'",
    )
    challenge = Challenge.parse(value)
    assert challenge.unsupported_reason == "unsupported auth-scheme 'NoOneKnowsThisScheme'"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('Basic realm="WallyWorld"', "unsupported auth-scheme 'Basic'"),
        ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "unsupported auth-scheme 'Basic'"),
        ("Negotiate", "unsupported auth-scheme 'Negotiate'"),
        ('Digest realm="r", nonce="n", algorithm=AKAv1-MD5', "unsupported algorithm 'AKAv1-MD5'"),
        ('Digest realm="r", nonce="n", algorithm=SHA-1', "unsupported algorithm 'SHA-1'"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "unsupported qop 'auth-conf'"),
        ('Digest realm="r", nonce="n", algorithm=MD5-sess', "algorithm 'MD5-sess' requires qop"),
    ],
)
def test_unsupported_challenges_are_reported(value: str, reason: str) -> None:
    challenge = Challenge.parse(value)
    assert not challenge.supported and challenge.unsupported_reason == reason
    client = DigestClient("u", "p")
    with pytest.raises(UnsupportedChallenge, match=f"^{reason}$"):
        client.authorize(challenge, "REGISTER", "sip:r")
    assert not client.should_retry(challenge)
    assert choose_challenge([challenge]) is None


def test_unknown_scheme_keeps_its_text() -> None:
    c = Challenge.parse("  Basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ")
    assert (c.scheme, c.unparsed, str(c)) == (
        "Basic",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    )


def test_choose_challenge_prefers_strength_then_order() -> None:
    values = [
        'Basic realm="x"',
        'Digest realm="r", nonce="1", algorithm=MD5, qop="auth"',
        'Digest realm="r", nonce="2", algorithm=AKAv1-MD5',
        'Digest realm="r", nonce="3", algorithm=sha-256-SESS, qop="auth"',
        'Digest realm="r", nonce="4", algorithm=SHA-256, qop="auth"',
    ]
    chosen = choose_challenge(Challenge.parse(v) for v in values)
    assert chosen is not None and chosen.nonce == "3"  # SHA-256 family, topmost
    md5_only = choose_challenge(Challenge.parse(v) for v in values[:3])
    assert md5_only is not None and md5_only.nonce == "1"
    assert choose_challenge([]) is None


def test_cannot_quote_control_characters() -> None:
    challenge = Challenge.parse('Digest realm="r", nonce="n"')
    with pytest.raises(LocalProtocolError, match="control character"):
        str(DigestClient("bad\nname", "p").authorize(challenge, "GET", "sip:x"))


# ---------------------------------------------------------------- properties

# Deterministic (STYLE.md: tests are deterministic) and leaves no example database behind.
DETERMINISTIC = settings(derandomize=True, database=None, max_examples=300)

AUTH_ALPHABET = st.sampled_from(list('Digest realm="nonce,qop=auth\\ \t\r\n\x00é"=,') + ["Digest "])


@DETERMINISTIC
@given(st.text())
def test_challenge_parse_raises_only_sip_parse_error(text: str) -> None:
    try:
        Challenge.parse(text)
    except SipParseError:
        pass


@DETERMINISTIC
@given(st.lists(AUTH_ALPHABET, max_size=40).map("".join))
def test_grammar_shaped_garbage_raises_only_sip_parse_error(text: str) -> None:
    for parse in (Challenge.parse, Credentials.parse):
        try:
            str(parse(text))
        except SipParseError:
            pass


@DETERMINISTIC
@given(st.text())
def test_credentials_parse_raises_only_sip_parse_error(text: str) -> None:
    try:
        Credentials.parse("Digest " + text)
    except SipParseError:
        pass
    try:
        make_verifier().verify("Digest " + text, "INVITE", 0.0)
    except SipParseError:  # pragma: no cover - verify reports, never raises
        pytest.fail("verify raised")


PRINTABLE = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"), max_size=20
)


@DETERMINISTIC
@given(username=PRINTABLE, password=PRINTABLE, realm=PRINTABLE, uri=PRINTABLE)
def test_credentials_round_trip_and_verify(username: str, password: str, realm: str, uri: str) -> None:
    verifier = make_verifier(realm=realm, lookup={username: password}.get)
    [challenge, _] = verifier.challenge(now=0.0)
    creds = DigestClient(username, password, cnonce_factory=counter()).authorize(
        Challenge.parse(str(challenge)), "INVITE", uri
    )
    assert Credentials.parse(str(creds)) == creds
    assert verifier.verify(str(creds), "INVITE", 1.0, uri=uri).ok


# ---------------------------------------------------------------- purity


FORBIDDEN = {"twisted", "textual", "sounddevice", "socket", "time"}


def test_module_imports_no_io() -> None:
    # The interpreter loads 'time' itself at start-up, so compare with a baseline.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import tui_phone.sip.auth\n"
        f"print(sorted({FORBIDDEN!r} & (set(sys.modules) - before)))\n"
    )
    root = Path(tui_phone.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    # And the source itself never names them.
    tree = ast.parse(Path(auth.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert not imported & FORBIDDEN
