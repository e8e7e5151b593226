"""tui-phone against SIPp on loopback (issue 4, interop a and b)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from tui_phone.testing.peers import (
    environment,
    free_port,
    require,
    sipp_counts,
    start_answer,
    stop,
    tui_phone_command,
)


def sipp_base(tmp_path: Path) -> list[str]:
    return [require("sipp"), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-ci", "127.0.0.1",
            "-nostdin", "-p", str(free_port()), "-mp", str(free_port(pair=True)),
            "-trace_stat", "-stf", str(tmp_path / "stats.csv"), "-fd", "1",
            "-trace_err", "-error_file", str(tmp_path / "errors.log")]


def test_sipp_uac_50_calls_into_answer_echo(tmp_path: Path) -> None:
    answer = start_answer(tmp_path, "--echo")
    try:
        command = [*sipp_base(tmp_path), f"127.0.0.1:{answer.port}", "-sn", "uac", "-s", "echo",
                   "-m", "50", "-r", "10", "-l", "20", "-recv_timeout", "10000",
                   "-timeout", "60s", "-timeout_error"]
        sipp = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=90, check=False)
        counts = sipp_counts(tmp_path / "stats.csv")
        errors = (tmp_path / "errors.log").read_text(errors="replace")[-2000:] if (
            tmp_path / "errors.log").exists() else ""
        assert (counts["SuccessfulCall(C)"], counts["FailedCall(C)"]) == (50, 0), errors
        assert counts["Retransmissions(C)"] == 0
        assert sipp.returncode == 0
    finally:
        assert stop(answer.process) == 0
    ended = [line for line in answer.out.read_text().splitlines() if '"call_ended"' in line]
    assert len(ended) == 50


def test_call_into_sipp_uas(tmp_path: Path) -> None:
    port, pid = sipp_in_background(tmp_path, "-sn", "uas")
    try:
        call = subprocess.run(
            tui_phone_command("call", f"sip:service@127.0.0.1:{port}", "--duration", "1",
                              "--json"),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        assert call.returncode == 0, call.stdout + call.stderr
        assert '"call_answered"' in call.stdout and '"call_ended"' in call.stdout
    finally:
        subprocess.run(["kill", str(pid)], check=False)


def test_a_peer_that_sends_no_media_is_hung_up_after_rtp_timeout(tmp_path: Path) -> None:
    # sipp's uas answers and then sends nothing: no RTP, no RTCP, no BYE.
    config = tmp_path / "quick.toml"
    config.write_text("[phone]\nrtp_timeout = 2\n")
    port, pid = sipp_in_background(tmp_path, "-sn", "uas")
    try:
        started = time.monotonic()
        call = subprocess.run(
            tui_phone_command("call", f"sip:service@127.0.0.1:{port}", "--duration", "60",
                              "--json", "--sip-trace", config=config),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        took = time.monotonic() - started
    finally:
        subprocess.run(["kill", str(pid)], check=False)
    assert call.returncode == 3, call.stdout + call.stderr
    assert json.loads(call.stdout.splitlines()[-1]) == {
        "event": "failed", "status": 408, "reason": "RTP timeout"}
    assert 2.0 <= took < 10.0
    ended = [json.loads(line) for line in call.stdout.splitlines() if '"call_ended"' in line][0]
    assert ended["answered"] and ended["ended_by"] == "local" and ended["rtp"]["rx_packets"] == 0
    messages = [json.loads(line) for line in call.stdout.splitlines() if '"sip_message"' in line]
    answers = [m["data"].split("\r\n", 1)[0] for m in messages if m["direction"] == "received"
               and re.search(r"^CSeq:\s*\d+\s+BYE\s*$", m["data"], re.MULTILINE)]
    assert answers == ["SIP/2.0 200 OK"]  # sipp took our BYE


def test_a_challenged_reinvite_and_bye_are_sent_again_with_credentials(tmp_path: Path) -> None:
    # RFC 3261 22.2 inside a dialog: sipp answers the call, then wants credentials (407)
    # for the hold re-INVITE and for the BYE, and checks that both come again with them.
    config = tmp_path / "alice.toml"
    config.write_text('[accounts.alice]\nuri = "sip:alice@127.0.0.1"\npassword = "alicepw"\n')
    config.chmod(0o600)
    scenario = Path(__file__).parent / "fixtures" / "sipp_challenge_in_dialog.xml"
    port, pid = sipp_in_background(tmp_path, "-sf", str(scenario), "-m", "1")
    try:
        call = subprocess.run(
            tui_phone_command("call", "--account", "alice", f"sip:service@127.0.0.1:{port}",
                              "--duration", "2", "--hold-at", "0.5", "--json", "--sip-trace",
                              config=config),
            capture_output=True, text=True, timeout=60, env=environment(), check=False)
        deadline = time.monotonic() + 10  # sipp ends once the BYE is answered
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
    finally:
        subprocess.run(["kill", str(pid)], check=False)
    assert call.returncode == 0, call.stdout[-3000:] + call.stderr
    events = [json.loads(line) for line in call.stdout.splitlines()]
    assert [(e["local"], e["remote"]) for e in events if e["event"] == "call_hold_changed"] == [
        (True, False)]
    sent = [e["data"] for e in events if e["event"] == "sip_message" and e["direction"] == "sent"]
    cseqs = [re.search(r"^CSeq: (\d+) (\w+)", m, re.MULTILINE).groups() for m in sent
             if not m.startswith("SIP/2.0")]
    # the 407 to the re-INVITE is ACKed in its transaction (RFC 3261 17.1.1.3)
    assert cseqs == [("1", "INVITE"), ("1", "ACK"), ("2", "INVITE"), ("2", "ACK"), ("3", "INVITE"),
                     ("3", "ACK"), ("4", "BYE"), ("5", "BYE")], cseqs
    counts = sipp_counts(tmp_path / "stats.csv")
    assert (counts["SuccessfulCall(C)"], counts["FailedCall(C)"]) == (1, 0), (
        (tmp_path / "errors.log").read_text(errors="replace")[-2000:]
        if (tmp_path / "errors.log").exists() else "")


def sipp_in_background(tmp_path: Path, *scenario: str) -> tuple[int, int]:
    """sipp as a UAS (``-bg``) on a free port, once it listens: (port, pid)."""
    port = free_port()
    # -p is given twice: sipp takes the last one, the port we announce.
    started = subprocess.run([*sipp_base(tmp_path), *scenario, "-p", str(port), "-bg"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=20, check=False)
    pid = int(started.stdout.split("PID=[")[1].split("]")[0])
    try:
        wait_for_udp(port, pid=pid)
    except AssertionError:
        subprocess.run(["kill", str(pid)], check=False)
        raise
    return port, pid


def wait_for_udp(port: int, timeout: float = 5.0, pid: int | None = None) -> None:
    """Wait until some socket is bound to UDP ``port`` (read from /proc/net/udp*).

    Probing by binding the port ourselves raced with sipp's own bind: a probe
    holding the port at that moment made sipp exit.
    """
    suffix = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            rows = Path(table).read_text().splitlines()[1:]
            if any(row.split()[1].endswith(suffix) for row in rows):
                return
        if pid is not None and not Path(f"/proc/{pid}").exists():
            raise AssertionError(f"sipp (pid {pid}) exited before listening on UDP {port}")
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on UDP {port}")
