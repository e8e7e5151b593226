"""Call flows between two Phones (UAC and UAS) on real loopback, each scenario in
its own interpreter (tui_phone.testing.phone_scenarios)."""

from __future__ import annotations

from typing import Any

import pytest

from tui_phone.testing.scenario_tools import run_scenario


def scenario(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return run_scenario(name, args, module="tui_phone.testing.phone_scenarios", timeout=60)


@pytest.mark.parametrize("hangup_by", ["caller", "callee"])
def test_call_answer_media_and_hangup_by_either_side(hangup_by: str) -> None:
    result = scenario("call", {"hangup_by": hangup_by, "talk": 1.0})
    caller, callee = result["caller"], result["callee"]
    for side in (caller, callee):
        assert side["status"] == 200 and side["answered"] and side["codec"] == "PCMU"
        # 1 s of 20 ms frames both ways, nothing lost on loopback
        assert side["rx"] >= 40 and side["tx"] >= 40 and side["lost"] == 0
    assert caller["by"] == ("local" if hangup_by == "caller" else "remote")
    assert callee["by"] == ("remote" if hangup_by == "caller" else "local")
    # Answered at once: the 200 OK alone, no 180 before it (RFC 3261 13.3.1.1).
    assert result["caller_states"] == ["connected", "ended"]
    assert result["callee_sip"] == ["INVITE", "200", "ACK", "BYE", "200"]


def test_cancel_before_answer_gives_487_on_both_sides() -> None:
    result = scenario("cancel")
    assert result["incoming"] == 1
    assert (result["caller"]["status"], result["caller"]["reason"]) == (487, "Request Terminated")
    assert result["callee"]["status"] == 487 and not result["callee"]["answered"]
    # RFC 3261 9.1: the CANCEL follows a provisional; the 487 is ACKed by the transaction
    assert result["caller_sip"] == ["INVITE", "180", "CANCEL", "200", "487", "ACK"]


def test_reject_486() -> None:
    result = scenario("reject", {"status": 486})
    assert (result["caller"]["status"], result["caller"]["reason"]) == (486, "Busy Here")
    assert result["callee"]["by"] == "local"


def test_reject_603() -> None:
    result = scenario("reject", {"status": 603})
    assert result["caller"]["status"] == 603


def test_hold_and_resume_from_both_sides() -> None:
    steps = {s["step"]: s for s in scenario("hold")["steps"]}
    assert steps["a hold"]["a_local"] and steps["a hold"]["b_remote"]
    # RFC 3264 8.4: the holder may keep sending (sendonly); the held side stops.
    assert steps["a hold"]["a_sending"] and not steps["a hold"]["b_sending"]
    assert not any(steps["a resume"][k] for k in ("a_local", "a_remote", "b_local", "b_remote"))
    assert steps["a resume"]["b_sending"]
    assert steps["b hold"]["b_local"] and steps["b hold"]["a_remote"]
    assert not steps["b hold"]["a_sending"]
    assert steps["b resume"]["a_sending"] and steps["b resume"]["b_sending"]


def test_glare_491_then_backoff_retry() -> None:
    result = scenario("glare")
    assert result["caller_sip"].count("491") == 2  # one sent, one received
    # RFC 3261 14.1: both retry after backoff, the callee first (0-2 s), then the caller
    assert result["caller_sip"].count("INVITE") == 5
    assert 0.0 < result["took"] < 8.0


def test_dtmf_by_sip_info() -> None:
    result = scenario("dtmf", {"dtmf": "info", "digits": "12#"})
    assert result["digits"] == [["1", "info"], ["2", "info"], ["#", "info"]]
    assert result["caller_sip"].count("INFO") == 3


def test_dtmf_by_rfc4733() -> None:
    result = scenario("dtmf", {"digits": "5*9"})
    assert result["digits"] == [["5", "rfc4733"], ["*", "rfc4733"], ["9", "rfc4733"]]
    assert "INFO" not in result["caller_sip"]


def test_stateless_answers_options_501_416_420_415_481() -> None:
    requests = [
        ["OPTIONS", "sip:bob@{host}:{port}", [], ""],
        ["FOO", "sip:bob@{host}:{port}", [], ""],
        ["INVITE", "tel:+15551234", ["Contact: <sip:a@127.0.0.1>"], ""],
        ["INVITE", "sip:bob@{host}:{port}", ["Contact: <sip:a@127.0.0.1>", "Require: foo"], ""],
        ["INVITE", "sip:bob@{host}:{port}", ["Contact: <sip:a@127.0.0.1>", "Content-Type: text/plain"], "hi"],
        ["BYE", "sip:bob@{host}:{port}", [], ""],
        ["INFO", "sip:bob@{host}:{port}", [], ""],
    ]
    answers = scenario("raw", {"requests": requests})["answers"]
    options, foo, tel, require, content, bye, info = answers
    assert options["status"] == 200
    assert "INVITE" in options["allow"] and "OPTIONS" in options["allow"]
    assert "application/sdp" in options["accept"] and options["supported"]
    assert foo["status"] == 501 and "BYE" in foo["allow"]
    assert tel["status"] == 416
    assert require["status"] == 420 and require["unsupported"] == "foo"
    assert content["status"] == 415 and content["accept"] == "application/sdp"
    assert bye["status"] == 481 and info["status"] == 481
