"""Call transfer across processes: tui-phone ``answer`` instances and baresip.

The transferor is a Phone scenario (the CLI has no transfer command); the
transferee and the target are separate processes: ``tui-phone answer`` or a
headless baresip 1.0.0 configured from tests/interop/fixtures/.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tui_phone.testing.peers import (
    baresip_console,
    json_events,
    free_port,
    require,
    start_answer,
    start_baresip,
    stop,
    stop_baresip,
    wait_for_line,
)
from tui_phone.testing.scenario_tools import run_scenario

FIXTURES = Path(__file__).parent / "fixtures"
SCENARIOS = "tui_phone.testing.transfer_scenarios"


def named(items: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [item for item in items if item["event"] == name]


def test_blind_transfer_among_three_tui_phone_processes(tmp_path: Path) -> None:
    bob = start_answer(tmp_path, name="bob")
    carol = start_answer(tmp_path, name="carol")
    try:
        result = run_scenario("transfer_peer", {"peer": f"sip:bob@127.0.0.1:{bob.port}",
                                                "target": f"sip:carol@127.0.0.1:{carol.port}"},
                              module=SCENARIOS, timeout=60)
        wait_for_line(carol.out, '"call_answered"', process=carol.process)
    finally:
        assert stop(bob.process) == 0 and stop(carol.process) == 0
    alice = result["alice"]
    assert alice["completed"] == ["transferor"] and alice["ended"] == [[200, "local"]]
    # carol answers at once: a 200 OK with no 180 before it
    assert [frag.strip() for frag in result["sipfrags"]] == ["SIP/2.0 100 Trying",
                                                             "SIP/2.0 200 OK"]
    assert result["call_state"] == "ended"
    # ``answer`` prints call events only: B answered A, then its call to C was answered
    bob_events, carol_events = json_events(bob.out), json_events(carol.out)
    assert [e["remote"].split("@")[0] for e in named(bob_events, "call_answered")] == [
        "sip:alice", "sip:carol"]
    first_end = named(bob_events, "call_ended")[0]
    assert first_end["remote"].startswith("sip:alice@") and first_end["ended_by"] == "remote"
    answered = named(carol_events, "call_answered")
    assert len(answered) == 1 and answered[0]["remote"].startswith("sip:tui-phone@")


def test_attended_transfer_among_three_tui_phone_processes(tmp_path: Path) -> None:
    bob = start_answer(tmp_path, name="bob")
    carol = start_answer(tmp_path, name="carol")
    try:
        result = run_scenario("attended_peers", {"peer": f"sip:bob@127.0.0.1:{bob.port}",
                                                 "target": f"sip:carol@127.0.0.1:{carol.port}"},
                              module=SCENARIOS, timeout=60)
        wait_for_line(carol.out, '"call_ended"', process=carol.process)
    finally:
        assert stop(bob.process) == 0 and stop(carol.process) == 0
    alice = result["alice"]
    assert alice["completed"] == ["transferor"]
    # both of A's calls end: A BYEs the transferred one, C BYEs the replaced one
    assert sorted(result["ended"]) == [[False, "remote"], [True, "local"]]
    carol_events = json_events(carol.out)
    answered = named(carol_events, "call_answered")
    assert [a["remote"].split("@")[0] for a in answered] == ["sip:alice", "sip:tui-phone"]
    replaced = named(carol_events, "call_ended")[0]
    assert replaced["call_id"] == answered[0]["call_id"] and replaced["ended_by"] == "local"
    # B's new call shares its Call-ID with C's: it is the replacing INVITE's dialog
    bob_answered = named(json_events(bob.out), "call_answered")
    assert bob_answered[-1]["call_id"] == answered[1]["call_id"]


def write_baresip_config(root: Path, port: int, rtp_lo: int) -> Path:
    config_dir = root / "baresip"
    record_dir = root / "recordings"
    config_dir.mkdir()
    record_dir.mkdir()
    template = (FIXTURES / "baresip_transferee.config").read_text()
    (config_dir / "config").write_text(template.format(
        port=port, rtp_lo=rtp_lo, rtp_hi=rtp_lo + 19, record_dir=record_dir))
    # RFC 3515 transferee: baresip answers at once and follows the REFER itself.
    (config_dir / "accounts").write_text(
        f"<sip:bob@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=pcmu,pcma\n")
    (config_dir / "contacts").write_text("")
    return config_dir


def test_blind_transfer_of_a_call_with_baresip(tmp_path: Path) -> None:
    baresip_bin = require("baresip")
    port = free_port(both=True)
    rtp_lo = free_port(pair=True)
    config_dir = write_baresip_config(tmp_path, port, rtp_lo)
    log = tmp_path / "baresip.log"
    with log.open("wb") as sink:
        baresip = subprocess.Popen([baresip_bin, "-4", "-v", "-f", str(config_dir)],
                                   stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=tmp_path)
    carol = start_answer(tmp_path, name="carol")
    try:
        wait_for_line(log, "baresip is ready", timeout=10, process=baresip)
        result = run_scenario("transfer_peer", {"peer": f"sip:bob@127.0.0.1:{port}",
                                                "target": f"sip:carol@127.0.0.1:{carol.port}"},
                              module=SCENARIOS, timeout=60)
        wait_for_line(carol.out, '"call_answered"', process=carol.process)
    finally:
        stop(carol.process)
        stop(baresip, timeout=3)
    assert result["connected"], log.read_text(errors="replace")[-3000:]
    alice = result["alice"]
    # baresip accepted the REFER and sent NOTIFY 100 then NOTIFY 200 back
    assert alice["progress"][0] == ["transferor", 202]
    assert [frag.strip() for frag in result["sipfrags"]][-1] == "SIP/2.0 200 OK"
    assert alice["completed"] == ["transferor"] and result["call_state"] == "ended"
    # baresip's INVITE reached the target, which answered it
    answered = named(json_events(carol.out), "call_answered")
    assert len(answered) == 1 and answered[0]["remote"].startswith("sip:bob@127.0.0.1")


def test_baresip_blind_transfers_its_call_with_tui_phone(tmp_path: Path) -> None:
    # tui-phone as the transferee (RFC 3515) of a transferor we did not write.
    baresip, port, log = start_baresip(tmp_path, user="alice")
    bob = start_answer(tmp_path, "--echo", "--sip-trace", name="bob")
    carol = start_answer(tmp_path, "--echo", name="carol")
    try:
        baresip_console(port, f"/dial sip:bob@127.0.0.1:{bob.port}")
        wait_for_line(bob.out, '"call_answered"', process=bob.process)
        baresip_console(port, f"/transfer sip:carol@127.0.0.1:{carol.port}")
        wait_for_line(carol.out, '"call_answered"', process=carol.process)
        wait_for_line(bob.out, '"ended_by": "remote"', process=bob.process)  # baresip's BYE
    finally:
        stop(bob.process)
        stop(carol.process)
        stop_baresip(baresip)
    bob_events = json_events(bob.out)
    messages = [e["data"] for e in named(bob_events, "sip_message")]
    sent = [m for m in messages if not m.startswith("SIP/2.0")]
    replies = [m.split("\r\n", 1)[0] for m in messages if m.startswith("SIP/2.0 202")]
    assert replies == ["SIP/2.0 202 Accepted"], log.read_text(errors="replace")[-2000:]
    frags = [m.split("\r\n\r\n", 1)[1].strip() for m in sent if m.startswith("NOTIFY ")]
    assert frags[0].startswith("SIP/2.0 100") and frags[-1] == "SIP/2.0 200 OK", frags
    answered = named(bob_events, "call_answered")
    assert [a["remote"].split("@")[0] for a in answered] == ["sip:alice", "sip:carol"]
    first_end = named(bob_events, "call_ended")[0]
    assert first_end["call_id"] == answered[0]["call_id"] and first_end["ended_by"] == "remote"
    assert len(named(json_events(carol.out), "call_answered")) == 1
