"""Calls over IPv6 loopback (RFC 5118): UDP and TCP, Via and Contact with [::1].

Until these tests, a phone listening on [::1] could not place a call at all:
its Contact and Via carried a bare ``::1`` (RFC 5118 4.1 wants brackets), which
our own URI and Via types rightly refused.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from tui_phone.testing.peers import environment, json_events, stop, tui_phone_command, wait_for_line


@pytest.fixture
def answer_v6(tmp_path: Path):  # noqa: ANN201 - yields (port, output file)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
        probe.bind(("::1", 0))  # a machine without IPv6 loopback fails here, saying so
        port = probe.getsockname()[1]
    out = tmp_path / "answer.out"
    with out.open("wb") as sink:
        answer = subprocess.Popen(
            tui_phone_command("answer", "--listen", f"[::1]:{port}", "--echo", "--json",
                              "--sip-trace"),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(out, '"listening"', process=answer)
        yield port, out
    finally:
        stop(answer)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_call_over_ipv6_loopback(answer_v6: tuple[int, Path], transport: str) -> None:
    port, out = answer_v6
    uri = f"sip:echo@[::1]:{port}" + (";transport=tcp" if transport == "tcp" else "")
    call = subprocess.run(
        tui_phone_command("call", uri, "--listen", "[::1]:0", "--duration", "1", "--json",
                          "--sip-trace"),
        capture_output=True, text=True, timeout=60, env=environment(), check=False)
    assert call.returncode == 0, call.stdout[-3000:] + call.stderr
    events = [json.loads(line) for line in call.stdout.splitlines()]
    ended = [e for e in events if e["event"] == "call_ended"][0]
    assert ended["status"] == 200 and ended["rtp"]["rx_packets"] >= 40 and ended["rtp"]["rx_lost"] == 0
    [invite] = [e["data"] for e in events if e["event"] == "sip_message"
                and e["direction"] == "sent" and e["data"].startswith("INVITE ")]
    assert re.search(rf"^Via: SIP/2.0/{transport.upper()} \[::1\]:\d+;", invite, re.MULTILINE)
    assert re.search(r"^Contact: <sip:[^@]+@\[::1\]:\d+", invite, re.MULTILINE)
    assert re.search(r"^c=IN IP6 ::1\r?$", invite, re.MULTILINE)  # SDP: no brackets (RFC 4566)
    # the callee's 200 OK went back to [::1] over the same transport
    callee = json_events(out)
    sent = [e for e in callee if e["event"] == "sip_message" and e["direction"] == "sent"
            and e["data"].startswith("SIP/2.0 200 OK")]
    assert sent and all(e["transport"] == transport.upper() and e["remote"][0] == "::1" for e in sent)
