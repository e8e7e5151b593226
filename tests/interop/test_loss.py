"""Two tui-phone instances through a relay dropping 20 % of the SIP datagrams both ways
(issue 4, interop g): 20 calls in a row still set up and tear down."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tui_phone.testing.peers import environment, start_answer, stop, tui_phone_command, wait_for_line

CALLS = 20
LOSS = 0.2


def test_20_calls_through_20_percent_loss(tmp_path: Path) -> None:
    callee = start_answer(tmp_path, "--echo")
    relay_out = tmp_path / "relay.out"
    with relay_out.open("wb") as sink:
        relay = subprocess.Popen(
            [sys.executable, "-m", "tui_phone.testing.sip_relay", str(callee.port), str(LOSS),
             "4"], stdout=sink, stderr=subprocess.STDOUT, env=environment())
    results = []
    try:
        relay_port = int(wait_for_line(relay_out, "relay on", process=relay).rsplit(":", 1)[1])
        for index in range(CALLS):
            call = subprocess.run(
                tui_phone_command("call", f"sip:echo@127.0.0.1:{relay_port}", "--duration",
                                  "0.3", "--json"),
                capture_output=True, text=True, timeout=90, env=environment(), check=False)
            lines = [json.loads(line) for line in call.stdout.splitlines()
                     if line.startswith("{")]
            ended = [line for line in lines if line["event"] == "call_ended"]
            results.append((index, call.returncode, ended[0]["status"] if ended else None,
                            call.stdout[-300:] + call.stderr[-300:]))
    finally:
        stop(relay)
        stop(callee.process)
    failed = [result for result in results if result[1:3] != (0, 200)]
    assert not failed, failed
    callee_ended = [json.loads(line) for line in callee.out.read_text().splitlines()
                    if '"call_ended"' in line]
    # every call was also torn down on the callee's side, by our BYE through the relay
    assert len(callee_ended) == CALLS
    assert all(end["ended_by"] == "remote" and end["status"] == 200 for end in callee_ended)
    # the relay did drop datagrams both ways (so retransmissions carried the calls)
    counters = relay_out.read_text()
    dropped = [int(value) for value in re.findall(r"dropped=(\d+)", counters)]
    assert len(dropped) == 2 and min(dropped) > 0, counters
