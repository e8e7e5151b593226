"""tui-phone with kamailio as registrar and proxy, digest auth (issue 4, interop d)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_phone.testing.peers import (
    environment,
    free_port,
    json_events,
    require,
    sip_probe,
    start_answer,
    stop,
    tui_phone_command,
)

FIXTURE = Path(__file__).parent / "fixtures" / "kamailio.cfg"


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[int]:
    port = free_port(both=True)
    log = tmp_path / "kamailio.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [require("kamailio"), "-f", str(FIXTURE), "-DD", "-E", "-l", f"udp:127.0.0.1:{port}",
             "-l", f"tcp:127.0.0.1:{port}", "-Y", str(tmp_path), "-w", str(tmp_path),
             "-m", "32", "-M", "8"],
            stdout=sink, stderr=subprocess.STDOUT)
    try:
        sip_probe(port, process=process)
        yield port
    finally:
        stop(process)


def config(tmp_path: Path, port: int, user: str, password: str, transport: str = "udp") -> Path:
    path = tmp_path / f"{user}.toml"
    path.write_text(
        f'[accounts.{user}]\nuri = "sip:{user}@127.0.0.1"\n'
        f'registrar = "sip:127.0.0.1:{port}"\npassword = "{password}"\ntransport = "{transport}"\n')
    path.chmod(0o600)
    return path


def test_register_alice(tmp_path: Path, kamailio: int) -> None:
    result = subprocess.run(
        tui_phone_command("register", "--account", "alice", "--json",
                          config=config(tmp_path, kamailio, "alice", "alicepw")),
        capture_output=True, text=True, timeout=30, env=environment(), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    event = json.loads(result.stdout.splitlines()[0])
    assert (event["event"], event["state"], event["status"]) == ("registration_changed", "registered", 200)


def test_wrong_password_exits_3_with_403(tmp_path: Path, kamailio: int) -> None:
    result = subprocess.run(
        tui_phone_command("register", "--account", "alice",
                          config=config(tmp_path, kamailio, "alice", "wrong")),
        capture_output=True, text=True, timeout=30, env=environment(), check=False)
    assert result.returncode == 3
    assert result.stdout.splitlines()[-1] == "403 Forbidden - wrong password"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_alice_calls_bob_through_kamailio(tmp_path: Path, kamailio: int, transport: str) -> None:
    bob = start_answer(tmp_path, "--echo", "--max-calls", "1", "--sip-trace", name="bob",
                       config=config(tmp_path, kamailio, "bob", "bobpw", transport),
                       ready='"registered"')
    try:
        call = subprocess.run(
            tui_phone_command("call", "--account", "alice", f"sip:bob@127.0.0.1:{kamailio}",
                              "--duration", "1", "--json",
                              config=config(tmp_path, kamailio, "alice", "alicepw", transport)),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        assert call.returncode == 0, call.stdout + call.stderr
        lines = [json.loads(line) for line in call.stdout.splitlines()]
        ended = [line for line in lines if line["event"] == "call_ended"][0]
        assert ended["status"] == 200 and ended["rtp"]["rx_packets"] > 30
        # bob saw the BYE (through the proxy, by the Record-Route) and ended its call
        assert bob.process.wait(15) == 0
    finally:
        stop(bob.process)
    bob_lines = json_events(bob.out)
    bob_end = [line for line in bob_lines if line["event"] == "call_ended"][0]
    assert bob_end["ended_by"] == "remote" and bob_end["status"] == 200
    # every SIP message of bob's (REGISTER, the call, the un-REGISTER) went over the
    # account's transport
    assert {m["transport"] for m in bob_lines if m["event"] == "sip_message"} == {transport.upper()}
