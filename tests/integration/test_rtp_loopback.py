"""Two RTP endpoints over real UDP on 127.0.0.1: plain and SRTP calls.

Each call runs in a subprocess (``python -m tui_phone.testing.rtp_scenarios
call``): both endpoints send 20 ms PCMU for 3 s, Alice sends DTMF, Bob's SDP
view of Alice is wrong (symmetric RTP must find her), a stranger injects
garbage and foreign packets at Bob, RTCP runs with a 1 s minimum so RTT is
measured both ways, and Alice hangs up with an RTCP BYE.
"""

from __future__ import annotations

from typing import Any

import pytest

from tui_phone.testing.rtp_scenarios import run_rtp_scenario

STRANGERS = 3  # each: one garbage datagram, one wrong SSRC, one wrong payload type


def _call(*extra: str) -> dict[str, Any]:
    return run_rtp_scenario(
        "call", "--duration", "3", "--dtmf", "147#", "--wrong-signalling",
        "--strangers", str(STRANGERS), "--rtcp-min", "1", *extra,
    )


def _check_call(result: dict[str, Any], reactor: str = "asyncio") -> tuple[dict[str, Any], dict[str, Any]]:
    alice, bob = result["alice"], result["bob_before_bye"]
    assert result["digits"] == "147#"
    # On the asyncio reactor RTP is read on the media thread's ticks while
    # sending (rtp/mediathread.py; the reactor reads before and after), and the
    # digits reach listeners on the loop's thread.
    ticks = "tui-phone-media" if reactor == "asyncio" else "MainThread"
    assert ticks in result["threads"]["frames"]
    assert result["threads"]["dtmf"] == ["MainThread"]
    assert result["byes"] == ["call ended"]
    # About 150 frames each way in 3 s; a few DTMF ticks replace Alice's audio.
    assert result["frames"]["bob"] >= 100 and result["frames"]["alice"] >= 130
    for side in (alice, bob):
        assert side["received"]["packets_lost"] == 0
        assert side["rtt_ms"] is not None and 0 <= side["rtt_ms"] < 50
        assert side["rtcp_sent"] >= 2 and side["rtcp_received"] >= 2
        assert side["quality"]["mos"] > 4.0
        assert side["send_errors"] == 0
    # Symmetric RTP: Bob latched onto where Alice's packets come from.
    assert bob["latched"] and bob["remote_mismatch"]
    assert bob["signalled_remote"] == ["127.0.0.1", 9]
    assert bob["remote"] == alice["local_rtp"]
    assert not alice["latched"] and not alice["remote_mismatch"]
    return alice, bob


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reactor", ["asyncio", "default"])
def test_plain_rtp_call(reactor: str) -> None:
    _, bob = _check_call(_call("--reactor", reactor), reactor)
    assert (bob["garbage"], bob["strangers"], bob["srtp_auth_failures"]) == (STRANGERS, 2 * STRANGERS, 0)
    assert not bob["srtp"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
def test_srtp_call(suite: str) -> None:
    alice, bob = _check_call(_call("--srtp", suite))
    assert alice["srtp"] and bob["srtp"]
    assert alice["srtp_auth_failures"] == 0 and alice["srtp_replays"] == 0
    # Plain RTP from the stranger fails SRTP authentication instead of the SSRC check.
    assert (bob["garbage"], bob["strangers"], bob["srtp_auth_failures"]) == (STRANGERS, 0, 2 * STRANGERS)
