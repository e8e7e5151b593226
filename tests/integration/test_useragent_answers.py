"""The user agent's own answers that RFC 4475 showed wrong: 405 for methods we know but do
not serve (REGISTER: we are no registrar), 406 when the INVITE's Accept excludes SDP, and
415 with Accept-Encoding for a body in an encoding we cannot undo (RFC 3261 8.2.3)."""

from __future__ import annotations

from tui_phone.testing.scenario_tools import run_scenario


def test_405_for_register_and_message_406_for_an_invite_that_accepts_no_sdp() -> None:
    requests = [
        ["REGISTER", "sip:{host}:{port}", ["Contact: <sip:a@127.0.0.1>"], ""],
        ["MESSAGE", "sip:bob@{host}:{port}", ["Content-Type: text/plain"], "hi"],
        ["NEWMETHOD", "sip:bob@{host}:{port}", [], ""],
        ["INVITE", "sip:bob@{host}:{port}",
         ["Contact: <sip:a@127.0.0.1>", "Accept: text/nobodyKnowsThis"], ""],
        ["INVITE", "sip:bob@{host}:{port}",
         ["Contact: <sip:a@127.0.0.1>", "Content-Type: application/sdp", "e: gzip"], "\x1f\x8b"],
    ]
    answers = run_scenario("raw", {"requests": requests},
                           module="tui_phone.testing.phone_scenarios", timeout=60)["answers"]
    register, message, unknown, invite, gzipped = answers
    assert register["status"] == 405 and "INVITE" in register["allow"]
    assert message["status"] == 405
    assert unknown["status"] == 501 and "BYE" in unknown["allow"]
    assert invite["status"] == 406
    assert gzipped["status"] == 415 and gzipped["accept_encoding"] == "identity"
