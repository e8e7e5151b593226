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
    port = free_port()
    command = [*sipp_base(tmp_path), "-sn", "uas", "-p", str(port), "-bg"]
    # -p is given twice: sipp takes the last one, the port we announce.
    uas = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=20,
                         check=False)
    pid = int(uas.stdout.split("PID=[")[1].split("]")[0])
    try:
        wait_for_udp(port)
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
    port = free_port()
    uas = subprocess.run([*sipp_base(tmp_path), "-sn", "uas", "-p", str(port), "-bg"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=20, check=False)
    pid = int(uas.stdout.split("PID=[")[1].split("]")[0])
    config = tmp_path / "quick.toml"
    config.write_text("[phone]\nrtp_timeout = 2\n")
    try:
        wait_for_udp(port)
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


def wait_for_udp(port: int, timeout: float = 5.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on UDP {port}")
