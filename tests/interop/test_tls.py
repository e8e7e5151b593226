"""``--transport tls``: two tui-phone instances call each other over TLS with a test PKI,
and the account's ``tls_verify`` / ``tls_ca_file`` decide whether the server is trusted."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_phone.testing.certs import TestPki, make_test_pki
from tui_phone.testing.peers import environment, start_answer, stop, tui_phone_command


@pytest.fixture
def callee(tmp_path: Path) -> Iterator[tuple[int, TestPki, Path]]:
    pki = make_test_pki(tmp_path / "pki")
    answer = start_answer(tmp_path, "--echo", "--sip-trace", "--transport", "tls", "--tls-cert",
                          str(pki.server_cert), "--tls-key", str(pki.server_key))
    try:
        yield answer.port, pki, answer.out
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
                                                  callee: tuple[int, TestPki, Path]) -> None:
    port, pki, out = callee
    result = call(tmp_path, port, pki, "trusting")
    assert result.returncode == 0, result.stdout + result.stderr
    ended = [json.loads(line) for line in result.stdout.splitlines() if '"call_ended"' in line][0]
    assert ended["status"] == 200 and ended["rtp"]["rx_packets"] > 30
    trace = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    received = [m for m in trace if m["event"] == "sip_message" and m["direction"] == "received"]
    assert {m["transport"] for m in received} == {"TLS"}
    assert {m["data"].split(" ", 1)[0] for m in received} >= {"INVITE", "ACK", "BYE"}


def test_untrusted_server_fails_unless_verification_is_off(
        tmp_path: Path, callee: tuple[int, TestPki, Path]) -> None:
    port, pki, _out = callee
    refused = call(tmp_path, port, pki, "system")  # the system CAs do not know the test CA
    assert refused.returncode == 3, refused.stdout + refused.stderr
    blind = call(tmp_path, port, pki, "blind")
    assert blind.returncode == 0, blind.stdout + blind.stderr
