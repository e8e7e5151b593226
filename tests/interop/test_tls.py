"""``--transport tls``: two tui-phone instances call each other over TLS with a test PKI,
and the account's ``tls_verify`` / ``tls_ca_file`` decide whether the server is trusted."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_phone.testing.certs import TestPki, make_test_pki
from tui_phone.testing.peers import (
    RunningAnswer,
    environment,
    json_events,
    start_answer,
    stop,
    tui_phone_command,
    wait_for_line,
)


@pytest.fixture
def callee(tmp_path: Path) -> Iterator[tuple[RunningAnswer, TestPki]]:
    pki = make_test_pki(tmp_path / "pki")
    answer = start_answer(tmp_path, "--echo", "--sip-trace", "--transport", "tls", "--tls-cert",
                          str(pki.server_cert), "--tls-key", str(pki.server_key))
    try:
        yield answer, pki
    finally:
        stop(answer.process)


def call(tmp_path: Path, port: int, pki: TestPki, account: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "caller.toml"
    config.write_text(
        '[accounts.trusting]\nuri = "sip:alice@127.0.0.1"\ntransport = "tls"\n'
        f'tls_ca_file = "{pki.ca_cert}"\n'
        '[accounts.system]\nuri = "sip:alice@127.0.0.1"\ntransport = "tls"\n'
        '[accounts.blind]\nuri = "sip:alice@127.0.0.1"\ntransport = "tls"\ntls_verify = false\n')
    # our own listener presents the rogue (self-signed) certificate: the callee never
    # connects to it (in-dialog requests reuse the connection, RFC 3261 18)
    return subprocess.run(
        tui_phone_command("call", "--account", account, f"sip:echo@127.0.0.1:{port}",
                          "--duration", "1", "--json", "--tls-cert", str(pki.rogue_cert),
                          "--tls-key", str(pki.rogue_key), config=config),
        capture_output=True, text=True, timeout=60, env=environment(), check=False)


def test_call_over_tls_verified_by_the_account_ca(tmp_path: Path,
                                                  callee: tuple[RunningAnswer, TestPki]) -> None:
    answer, pki = callee
    port, out = answer.port, answer.out
    result = call(tmp_path, port, pki, "trusting")
    assert result.returncode == 0, result.stdout + result.stderr
    ended = [json.loads(line) for line in result.stdout.splitlines() if '"call_ended"' in line][0]
    assert ended["status"] == 200 and ended["rtp"]["rx_packets"] > 30
    trace = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    received = [m for m in trace if m["event"] == "sip_message" and m["direction"] == "received"]
    assert {m["transport"] for m in received} == {"TLS"}
    assert {m["data"].split(" ", 1)[0] for m in received} >= {"INVITE", "ACK", "BYE"}


def test_untrusted_server_fails_unless_verification_is_off(
        tmp_path: Path, callee: tuple[RunningAnswer, TestPki]) -> None:
    answer, pki = callee
    port = answer.port
    refused = call(tmp_path, port, pki, "system")  # the system CAs do not know the test CA
    assert refused.returncode == 3, refused.stdout + refused.stderr
    blind = call(tmp_path, port, pki, "blind")
    assert blind.returncode == 0, blind.stdout + blind.stderr


def test_the_callee_hangs_up_over_tls_with_a_tls_via(tmp_path: Path) -> None:
    # Both sides trust the test CA: the callee's BYE opens a TLS connection to the
    # caller's Contact (RFC 3261 12.2.1.1: the remote target, not the INVITE's connection).
    pki = make_test_pki(tmp_path / "pki")
    config = tmp_path / "both.toml"
    config.write_text('[accounts.trusting]\nuri = "sip:alice@127.0.0.1"\ntransport = "tls"\n'
                      f'tls_ca_file = "{pki.ca_cert}"\n')
    tls_files = ("--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key))
    answer = start_answer(tmp_path, "--sip-trace", "--transport", "tls", *tls_files, config=config)
    caller_out = tmp_path / "caller.out"
    with caller_out.open("wb") as sink:
        caller = subprocess.Popen(
            tui_phone_command("call", "--account", "trusting", f"sip:echo@127.0.0.1:{answer.port}",
                              "--duration", "30", "--json", *tls_files, config=config),
            stdout=sink, stderr=subprocess.STDOUT, env=environment())
    try:
        wait_for_line(answer.out, '"call_answered"', timeout=20, process=answer.process)
        assert stop(answer.process) == 0  # SIGTERM: the callee hangs up (BYE), then exits
        assert caller.wait(20) == 0, caller_out.read_text()
    finally:
        stop(caller)
        stop(answer.process)
    ended = [json.loads(line) for line in caller_out.read_text().splitlines() if '"call_ended"' in line][0]
    assert ended["ended_by"] == "remote" and ended["status"] == 200
    trace = json_events(answer.out)
    [bye] = [m for m in trace if m["event"] == "sip_message" and m["direction"] == "sent"
             and m["data"].startswith("BYE ")]
    assert bye["transport"] == "TLS" and "\r\nVia: SIP/2.0/TLS " in bye["data"], bye["data"]
