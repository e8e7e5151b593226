"""SRTP/SRTCP with SDES keys (RFC 3711, RFC 4568) through pylibsrtp."""

from __future__ import annotations

import base64
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.rtp.packet import RtpPacket
from tui_phone.rtp.srtp import (
    AES_CM_128_HMAC_SHA1_32,
    AES_CM_128_HMAC_SHA1_80,
    SRTP_PROFILES,
    SrtpAuthenticationError,
    SrtpContext,
    SrtpKeyError,
    SrtpReplayError,
    make_crypto_attribute,
)
from tui_phone.sip.sdpattributes import (
    SDES_SUITES,
    CryptoAttribute,
    CryptoKeyError,
    InlineKey,
    SdpParseError,
)

# The AES_CM_128_HMAC_SHA1_80 test packet of libsrtp's test driver (also used
# by other SRTP implementations): ROC 0, SSRC 0xcafebabe, SEQ 0x1234.
VECTOR_KEY = bytes.fromhex("e1f97a0d3e018be0d64fa32c06de4139")
VECTOR_SALT = bytes.fromhex("0ec675ad498afeebb6960b3aabe6")
VECTOR_RTP = bytes.fromhex("800f1234decafbadcafebabe") + b"\xab" * 16
VECTOR_SRTP_80 = bytes.fromhex(
    "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb"
)
VECTOR_SRTP_32 = VECTOR_SRTP_80[:-6]  # same keystream, 4-byte tag
VECTOR_RTCP = bytes.fromhex("81c8000bcafebabe") + b"\xab" * 16
VECTOR_SRTCP_80 = bytes.fromhex(
    "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798"
)

# RFC 4568 4: the example offer (with an MKI).
RFC4568_EXAMPLE = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"


def _vector_key(suite: str = AES_CM_128_HMAC_SHA1_80) -> CryptoAttribute:
    return CryptoAttribute.with_key(1, suite, InlineKey(VECTOR_KEY + VECTOR_SALT))


def _pair(suite: str = AES_CM_128_HMAC_SHA1_80, seed: int = 1) -> tuple[SrtpContext, SrtpContext]:
    rng = random.Random(seed)
    alice_key = make_crypto_attribute(1, suite, rng.randbytes)
    bob_key = make_crypto_attribute(1, suite, rng.randbytes)
    return SrtpContext(alice_key, bob_key), SrtpContext(bob_key, alice_key)


def _rtp(seq: int, payload: bytes = b"\x55" * 160, ssrc: int = 0x01020304) -> bytes:
    return bytes(RtpPacket(0, seq, seq * 160, ssrc, payload))


# -- known answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "expected"),
    [(AES_CM_128_HMAC_SHA1_80, VECTOR_SRTP_80), (AES_CM_128_HMAC_SHA1_32, VECTOR_SRTP_32)],
)
def test_protect_matches_the_libsrtp_test_vector(suite: str, expected: bytes) -> None:
    context = SrtpContext(_vector_key(suite), _vector_key(suite))
    assert context.protect(VECTOR_RTP) == expected


@pytest.mark.parametrize(
    ("suite", "packet"),
    [(AES_CM_128_HMAC_SHA1_80, VECTOR_SRTP_80), (AES_CM_128_HMAC_SHA1_32, VECTOR_SRTP_32)],
)
def test_unprotect_the_test_vector(suite: str, packet: bytes) -> None:
    context = SrtpContext(_vector_key(suite), _vector_key(suite))
    assert context.unprotect(packet) == VECTOR_RTP


def test_srtcp_matches_the_libsrtp_test_vector() -> None:
    context = SrtpContext(_vector_key(), _vector_key())
    assert context.protect_rtcp(VECTOR_RTCP) == VECTOR_SRTCP_80
    assert SrtpContext(_vector_key(), _vector_key()).unprotect_rtcp(VECTOR_SRTCP_80) == VECTOR_RTCP


# -- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("suite", [AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32])
def test_two_contexts_with_swapped_keys_round_trip(suite: str) -> None:
    alice, bob = _pair(suite)
    tag = 10 if suite == AES_CM_128_HMAC_SHA1_80 else 4
    for seq in range(100, 120):
        plain = _rtp(seq)
        protected = alice.protect(plain)
        assert len(protected) == len(plain) + tag
        assert protected[12:] != plain[12:] and protected[:12] == plain[:12]
        assert bob.unprotect(protected) == plain
        answer = _rtp(seq, b"\x66" * 160, ssrc=0x0A0B0C0D)
        assert alice.unprotect(bob.protect(answer)) == answer


def test_rtcp_round_trip() -> None:
    alice, bob = _pair()
    report = bytes.fromhex("80c90001") + (0x01020304).to_bytes(4, "big")  # an empty RR
    protected = alice.protect_rtcp(report)
    assert protected != report
    assert bob.unprotect_rtcp(protected) == report


def test_tampered_packet_is_rejected() -> None:
    alice, bob = _pair()
    protected = bytearray(alice.protect(_rtp(7)))
    protected[30] ^= 0x01
    with pytest.raises(SrtpAuthenticationError) as error:
        bob.unprotect(bytes(protected))
    assert str(error.value) == "SRTP packet rejected: authentication failure"
    assert error.value.reason == "authentication failure"
    assert bob.authentication_failures == 1
    # The genuine packet still gets through afterwards.
    assert bob.unprotect(alice.protect(_rtp(8))) == _rtp(8)


def test_replayed_packet_is_rejected() -> None:
    alice, bob = _pair()
    protected = alice.protect(_rtp(7))
    bob.unprotect(protected)
    with pytest.raises(SrtpReplayError) as error:
        bob.unprotect(protected)
    assert str(error.value) == "SRTP packet replayed: replay check failed (bad index)"
    assert bob.replays == 1


def test_replayed_rtcp_is_rejected() -> None:
    alice, bob = _pair()
    protected = alice.protect_rtcp(bytes.fromhex("80c9000101020304"))
    bob.unprotect_rtcp(protected)
    with pytest.raises(SrtpReplayError):
        bob.unprotect_rtcp(protected)


def test_wrong_key_is_rejected() -> None:
    alice, _ = _pair(seed=1)
    _, mallory = _pair(seed=2)
    with pytest.raises(SrtpAuthenticationError):
        mallory.unprotect(alice.protect(_rtp(1)))


def test_plain_rtp_is_rejected() -> None:
    _, bob = _pair()
    with pytest.raises(SrtpAuthenticationError):
        bob.unprotect(_rtp(1))


# -- a=crypto (RFC 4568 9.1) -----------------------------------------------------------


def test_parse_the_rfc_4568_example() -> None:
    attribute = CryptoAttribute.parse(RFC4568_EXAMPLE)
    assert attribute.tag == 1
    assert attribute.suite == AES_CM_128_HMAC_SHA1_80
    key = InlineKey.parse(attribute.key_params[0])
    material = base64.b64decode("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
    assert key.key == material[:16] and key.salt == material[16:]
    assert key.lifetime == "2^20"
    assert key.mki == (1, 4)
    assert str(key) == attribute.key_params[0]
    assert str(attribute) == RFC4568_EXAMPLE


def test_mki_is_refused_by_the_context() -> None:
    attribute = CryptoAttribute.parse(RFC4568_EXAMPLE)
    assert not attribute.usable
    with pytest.raises(SrtpKeyError, match=r"^crypto attributes with an MKI are not supported$"):
        SrtpContext(attribute, attribute)


@pytest.mark.parametrize(
    "text",
    [
        "1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj",
        "2 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31",
        "3 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|1048576 UNENCRYPTED_SRTCP",
    ],
)
def test_attribute_round_trips_through_text(text: str) -> None:
    attribute = CryptoAttribute.parse(text)
    assert str(attribute) == text
    assert str(attribute.srtp_key()) == attribute.key_params[0]
    SrtpContext(attribute, attribute)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 F8_128_HMAC_SHA1_80 inline:QUJD", "unsupported SRTP crypto suite 'F8_128_HMAC_SHA1_80'"),
        ("1 AES_CM_128_HMAC_SHA1_80 uri:foo", "malformed crypto key parameters 'uri:foo'"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD", ("crypto key material must be 30 bytes for "
         "AES_CM_128_HMAC_SHA1_80, got 3")),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJ", "crypto key is not valid base64: 'QUJ'"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|2^20|1:4;inline:QUJD|2^20|2:4",
         "crypto attributes with several keys are not supported"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|1:200",
         "crypto MKI length must be 1-128, got 200"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4",
         "crypto attributes with an MKI are not supported"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|",
         "malformed crypto key parameters 'inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|'"),
    ],
)
def test_bad_attributes(text: str, message: str) -> None:
    """Parsed as SDP, refused as a key: by ``usable``, ``srtp_key`` and the context alike."""
    attribute = CryptoAttribute.parse(text)
    assert not attribute.usable
    with pytest.raises(CryptoKeyError) as error:
        attribute.srtp_key()
    assert str(error.value) == message
    with pytest.raises(SrtpKeyError) as srtp_error:
        SrtpContext(_vector_key(), attribute)
    assert str(srtp_error.value) == message


def test_every_suite_the_sdp_side_offers_has_a_libsrtp_profile() -> None:
    assert set(SDES_SUITES) == set(SRTP_PROFILES)


def test_make_crypto_attribute() -> None:
    ours = make_crypto_attribute(1, AES_CM_128_HMAC_SHA1_32, random.Random(5).randbytes)
    again = make_crypto_attribute(1, AES_CM_128_HMAC_SHA1_32, random.Random(5).randbytes)
    assert ours == again
    key = ours.srtp_key()
    assert len(key.key) == 16 and len(key.salt) == 14 and key.lifetime is None and key.mki is None
    assert ours.key_params == ("inline:" + base64.b64encode(key.key_salt).decode(),)
    assert CryptoAttribute.parse(str(ours)) == ours
    assert make_crypto_attribute(2) != make_crypto_attribute(2)  # os.urandom by default


@pytest.mark.parametrize(
    ("tag", "suite", "message"),
    [
        (0, AES_CM_128_HMAC_SHA1_80, "crypto tag must be 1-999999999, got 0"),
        (1, "AEAD_AES_128_GCM", "unsupported SRTP crypto suite 'AEAD_AES_128_GCM'"),
    ],
)
def test_make_crypto_attribute_refuses(tag: int, suite: str, message: str) -> None:
    with pytest.raises(SrtpKeyError) as error:
        make_crypto_attribute(tag, suite)
    assert str(error.value) == message


# -- the SDP side and the SRTP side agree ----------------------------------------------

# a=crypto values near the edge of what we take: key material of about the right
# length (or not base64 at all), lifetimes good and bad, MKIs, other methods and
# suites, several keys.
_THIRTY_BYTES = st.binary(min_size=30, max_size=30).map(lambda b: base64.b64encode(b).decode())
_KEY_SALT = st.one_of(
    _THIRTY_BYTES,
    _THIRTY_BYTES,
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.text(string.ascii_letters + string.digits + "+/=!-_", max_size=44),
)
_LIFETIME = st.sampled_from(["", "", "|2^31", "|2^20", "|1048576", "|2^100", "|abc", "|", "|2^"])
_MKI = st.sampled_from(["", "", "", "", "|1:4", "|1:0", "|1:200", "|12:", "|:4"])
_METHOD = st.sampled_from(["inline", "inline", "inline", "inline", "INLINE", "uri"])
_KEY_PARAM = st.builds(lambda m, k, lt, mki: f"{m}:{k}{lt}{mki}", _METHOD, _KEY_SALT, _LIFETIME, _MKI)
_KEY_PARAMS = st.one_of(_KEY_PARAM.map(lambda k: [k]), _KEY_PARAM.map(lambda k: [k]),
                        st.lists(_KEY_PARAM, min_size=2, max_size=2))
_SUITE = st.sampled_from(
    [*SDES_SUITES, *SDES_SUITES, "F8_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_80", "aes_cm_128_hmac_sha1_80"]
)
_SESSION_PARAMS = st.lists(st.sampled_from(["KDR=1", "UNENCRYPTED_SRTCP", "FEC_ORDER=FEC_SRTP"]), max_size=2)
_TAG = st.integers(0, 10**9 - 1)
CRYPTO_VALUES = st.one_of(
    st.builds(  # what peers send: one inline key, maybe a lifetime
        lambda tag, suite, key, lifetime, session: " ".join(
            [str(tag), suite, f"inline:{key}{lifetime}", *session]),
        _TAG, st.sampled_from(SDES_SUITES), _THIRTY_BYTES, st.sampled_from(["", "|2^31", "|1048576"]),
        _SESSION_PARAMS,
    ),
    st.builds(
        lambda tag, suite, keys, session: " ".join([str(tag), suite, ";".join(keys), *session]),
        _TAG, _SUITE, _KEY_PARAMS, _SESSION_PARAMS,
    ),
)


@settings(max_examples=400, deadline=None)
@given(CRYPTO_VALUES, st.booleans())
def test_what_the_sdp_side_accepts_keys_srtp_and_what_it_refuses_srtp_refuses(
    value: str, ours_sends: bool
) -> None:
    """``usable`` (the offer/answer's test, before the answer goes out) says True
    exactly when SrtpContext keys with the attribute, in either direction."""
    try:
        attribute = CryptoAttribute.parse(value)
    except SdpParseError:
        return
    local, remote = (_vector_key(), attribute) if ours_sends else (attribute, _vector_key())
    if not attribute.usable:
        with pytest.raises(SrtpKeyError):
            SrtpContext(local, remote)
        return
    sender, receiver = SrtpContext(local, remote), SrtpContext(remote, local)
    packet = _rtp(1)
    assert receiver.unprotect(sender.protect(packet)) == packet
    assert sender.unprotect(receiver.protect(packet)) == packet
