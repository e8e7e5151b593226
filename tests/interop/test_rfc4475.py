"""RFC 4475 torture messages sent raw over UDP to ``tui-phone answer`` (issue 4, interop f).

The messages name outside addresses (192.0.2.x, example.com) in Via, Contact
and SDP, so the phone and the sender run in a network namespace this test
creates with only ``lo`` up: nothing the phone sends in reply can leave the
machine (needs root, as CI has).
"""

from __future__ import annotations

import csv
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_phone.sip.routing import top_via
from tui_phone.testing.peers import environment, require, stop, tui_phone_command, wait_for_line

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "rfc4475"
PORTS = (5070, 5072)  # inside the namespace: nothing else listens there

#: What a UA (not a proxy, not a registrar) answers, per RFC 4475 and RFC 3261 8.2.
#: A tuple lists the answers the RFC accepts; None: the message must be dropped.
#: For INVITEs the final answer is listed (auto-answer: a 200 at once, no 180).
EXPECTED: dict[str, int | tuple[int, ...] | None] = {
    # 3.1.1 valid messages
    "wsinv": 481,            # INVITE with a To tag and no such dialog (RFC 3261 12.2.2)
    "intmeth": 501,          # unknown method
    "esc01": 200,            # OPTIONS
    "escnull": 405,          # REGISTER: we are not a registrar (RFC 3261 8.2.1)
    "esc02": 501,            # RE%47IST%45R is not REGISTER
    "lwsdisp": 200,          # OPTIONS
    "longreq": 200,          # INVITE
    "dblreq": 405,           # the REGISTER is processed; the trailing INVITE is ignored
    "semiuri": 200,          # OPTIONS
    "transports": 200,       # OPTIONS
    "mpart01": 405,          # MESSAGE: known, not served (RFC 3261 8.2.1)
    "unreason": None,        # responses are dropped
    "noreason": None,
    # 3.1.2 invalid messages
    "badinv01": 400,
    "clerr": 400,
    "ncl": 400,
    "scalar02": 400,
    "scalarlg": None,
    "quotbal": 400,
    "ltgtruri": 400,
    "lwsruri": 400,
    "lwsstart": 400,
    "trws": 400,
    "escruri": 400,
    "baddate": (400, 200),   # may be rejected, or processed ignoring the Date
    "regbadct": (400, 405),
    "badaspec": 400,
    "baddn": 400,
    "badvers": 505,
    "mismatch01": 400,
    "mismatch02": (501, 400),
    "bigcode": None,
    # 3.2, 3.3, 3.4
    "badbranch": (400, 200),
    "insuf": (400, None),    # no Call-ID/From/To to build a response from: dropped
    "unkscm": 416,
    "novelsc": 416,
    "unksm2": (405, 400),    # REGISTER with non-SIP URIs
    "bext01": 420,
    "invut": 415,
    "regaut01": 405,
    "multi01": 400,
    "mcl01": 400,
    "bcast": None,
    "zeromf": 200,           # a UAS processes Max-Forwards: 0 normally
    "cparam01": 405,
    "cparam02": 405,
    "regescrt": 405,
    "sdp01": (406, 400),
    # RFC 2543 style: processed, but refused for its missing Contact (RFC 3261 8.1.1.8,
    # 12.1.1: no remote target); 2543 compatibility (200) would be better.
    "inv2543": (200, 400),
    "test": (400, None),
}


def final(statuses: list[int]) -> int | None:
    finals = [status for status in statuses if status >= 200]
    return finals[0] if finals else None


@pytest.fixture
def namespace() -> Iterator[str]:
    ip = require("ip")
    name = f"tuiphone-{secrets.token_hex(4)}"
    subprocess.run([ip, "netns", "add", name], check=True)
    try:
        subprocess.run([ip, "-n", name, "link", "set", "lo", "up"], check=True)
        links = subprocess.run([ip, "-n", name, "-o", "link"], check=True, capture_output=True,
                               text=True).stdout.splitlines()
        assert len(links) == 1 and ": lo:" in links[0], links
        yield name
    finally:
        subprocess.run([ip, "netns", "delete", name], check=False)


def test_every_rfc4475_request_gets_its_answer(tmp_path: Path, namespace: str) -> None:
    rows = list(csv.DictReader((TESTDATA / "EXPECTED.tsv").open(), delimiter="\t"))
    names = [row["name"] for row in rows]
    assert set(names) == set(EXPECTED), set(names) ^ set(EXPECTED)
    files = [str(TESTDATA / f"{name}.sip") for name in names]
    netns = [require("ip"), "netns", "exec", namespace]
    # Some messages reuse another's branch and sent-by (cparam01/cparam02): to one UAS
    # that is a retransmission (RFC 3261 17.2.3), so those go to a second instance.
    batches: list[list[str]] = [[], []]
    seen: list[set[tuple[str, str, str]]] = [set(), set()]
    for path in files:
        via = top_via(Path(path).read_bytes())
        key = ("", "", path) if via is None or not via.branch else (
            via.branch, via.host, Path(path).read_bytes().split(b" ", 1)[0].decode())
        index = 0 if key not in seen[0] else 1
        seen[index].add(key)
        batches[index].append(path)
    results: dict[str, list[int]] = {}
    answers = []
    outs = []
    try:
        for port in PORTS:
            out = tmp_path / f"answer{port}.out"
            outs.append(out)
            with out.open("wb") as sink:
                answers.append(subprocess.Popen(
                    [*netns, *tui_phone_command("answer", "--listen", f"127.0.0.1:{port}",
                                                "--json")],
                    stdout=sink, stderr=subprocess.STDOUT, env=environment(), cwd=tmp_path))
        for out, answer in zip(outs, answers):
            wait_for_line(out, '"listening"', process=answer)
        for port, batch in zip(PORTS, batches):
            sender = subprocess.run(
                [*netns, sys.executable, "-m", "tui_phone.testing.raw_sip", "127.0.0.1",
                 str(port), *batch],
                capture_output=True, text=True, timeout=120, env=environment(), check=False)
            assert sender.returncode == 0, sender.stderr
            lines = [json.loads(line) for line in sender.stdout.splitlines()]
            results.update({line["name"]: line["statuses"] for line in lines[:-1]})
            # afterwards, the phone still answers OPTIONS
            assert lines[-1]["name"] == "OPTIONS" and final(lines[-1]["statuses"]) == 200
        for out, answer in zip(outs, answers):
            assert answer.poll() is None, out.read_text()[-3000:]
    finally:
        statuses = [stop(answer) for answer in answers]
    got = {name: final(results[name]) for name in names}
    wrong = {}
    for name in names:
        wanted = EXPECTED[name]
        allowed = wanted if isinstance(wanted, tuple) else (wanted,)
        if got[name] not in allowed:
            wrong[name] = (got[name], wanted, results[name])
    assert not wrong, "\n".join(f"{k}: got {v[0]} want {v[1]} {v[2]}" for k, v in wrong.items())
    assert statuses == [0, 0]
