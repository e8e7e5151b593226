"""Transfer and conference among three Phones on real loopback, each scenario in
its own interpreter (tui_phone.testing.transfer_scenarios): A transferor or
conference host, B transferee, C target."""

from __future__ import annotations

from typing import Any

from tui_phone.testing.scenario_tools import run_scenario


def scenario(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return run_scenario(name, args, module="tui_phone.testing.transfer_scenarios", timeout=60)


def test_blind_transfer_connects_b_with_c_and_ends_a() -> None:
    result = scenario("blind")
    alice, bob, carol = result["alice"], result["bob"], result["carol"]
    assert result["bob_peer_is_carol"] and result["carol_calls"] == 1
    assert carol["ended"] == [[200, "remote"]]  # B hung up the new call at the end
    assert result["carol_remote"].startswith("sip:bob@")
    # RFC 3515: 202, then sipfrag NOTIFYs 100 ... 200, each answered 200 (C answers
    # at once, with no 180)
    assert alice["progress"] == [["transferor", 202], ["transferor", 100], ["transferor", 200]]
    assert alice["completed"] == ["transferor"] and alice["failed"] == []
    assert alice["sip"].count("NOTIFY") == 2 and alice["sip"].count("REFER") == 1
    # RFC 5589 6.1: the transferor BYEs the original call after the final NOTIFY
    assert alice["ended"] == [[200, "local"]]
    assert alice["sip"][-2:] == ["BYE", "200"]
    assert bob["completed"] == ["transferee"]
    assert bob["ended"][0] == [200, "remote"]
    # B: 202 to the REFER, NOTIFY 100 Trying, then the INVITE to C
    refer = bob["sip"].index("REFER")
    assert bob["sip"][refer:refer + 4] == ["REFER", "202", "NOTIFY", "INVITE"]


def test_blind_transfer_rejected_by_target_keeps_and_resumes_the_call() -> None:
    result = scenario("blind", {"reject": 486})
    alice, bob = result["alice"], result["bob"]
    assert alice["failed"] == [["transferor", 486, "Busy Here"]] and alice["completed"] == []
    assert alice["progress"][-1] == ["transferor", 486]
    # the call stays up and, held before the REFER, is resumed
    assert result["alice_call"] == ["connected", False]
    assert result["bob_calls"] == ["connected"]
    assert bob["failed"] == [["transferee", 486, "Busy Here"]]
    assert result["carol"]["ended"] == [[486, "local"]]


def test_attended_transfer_replaces_the_consultation_call() -> None:
    result = scenario("attended")
    alice, bob, carol = result["alice"], result["bob"], result["carol"]
    assert result["replaces_sent"]
    assert result["bob_call_id_matches"]  # B and C share the new dialog
    assert result["carol_old_ended"] == "ended"
    assert result["replaced"] == [[True, True]]
    # the replacing INVITE is answered at once, not offered as an incoming call
    assert result["carol_incoming_events"] == 1 and result["carol_answered"] == 2
    assert result["rx_bob"] > 20  # media flows between B and C
    assert alice["completed"] == ["transferor"]
    assert sorted(alice["ended"]) == [[200, "local"], [200, "remote"]]  # both of A's calls end
    assert bob["completed"] == ["transferee"]
    assert carol["ended"][0] == [200, "local"]  # C BYEs the consultation call it replaced


def test_invite_with_unmatched_replaces_gets_481() -> None:
    contact = "Contact: <sip:a@127.0.0.1>"
    requests = [
        ["INVITE", "sip:bob@{host}:{port}", [contact, "Replaces: nope@x;to-tag=a;from-tag=b"], ""],
        ["INVITE", "sip:bob@{host}:{port}",
         [contact, "Require: replaces", "Replaces: nope@x;to-tag=a;from-tag=b"], ""],
        ["INVITE", "sip:bob@{host}:{port}", [contact, "Replaces: nope@x;to-tag=a"], ""],
        ["OPTIONS", "sip:bob@{host}:{port}", [], ""],
        ["REFER", "sip:bob@{host}:{port}", ["Refer-To: <sip:c@127.0.0.1>"], ""],
    ]
    answers = run_scenario("raw", {"requests": requests}, module="tui_phone.testing.phone_scenarios",
                           timeout=60)["answers"]
    unmatched, required, bad, options, refer = answers
    assert unmatched["status"] == 481 and required["status"] == 481  # RFC 3891 3
    assert bad["status"] == 400
    assert "REFER" in options["allow"] and "NOTIFY" in options["allow"]
    assert refer["status"] == 481  # REFER outside a dialog


def test_conference_mixes_each_remote_into_the_other() -> None:
    result = scenario("conference")
    bob, carol, local = result["bob"], result["carol"], result["alice_local"]
    assert result["carol_before"]["rms"] < 50  # C heard only A's silence before
    assert result["on_hold"] == [False, False]  # the held call was resumed
    # B (600 Hz) hears C's 1000 Hz and not itself; C hears B's 600 Hz
    assert bob["rms"] > 1000 and bob["f1000"] > 1000 * max(bob["f600"], 1.0)
    assert carol["rms"] > 1000 and carol["f600"] > 1000 * max(carol["f1000"], 1.0)
    # we hear both
    assert local["f600"] > 1e5 and local["f1000"] > 1e5
    after = result["after_split"]
    assert after["calls"] == 2 and after["taps"] == [True, True]
    assert after["bob_held"] and not after["carol_held"]
    assert after["carol_hears_rms"] < 50  # back to A's (silent) microphone only
