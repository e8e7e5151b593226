"""The ladder's pure helpers: redaction, summaries, arrows."""

from __future__ import annotations

from tui_phone.widgets.ladder import LadderEntry, arrow, redact, summary


def test_redact_authorization_and_proxy_authorization() -> None:
    text = ('INVITE sip:b@h SIP/2.0\nAuthorization: Digest username="a", response="x"\n'
            'proxy-authorization:Digest nonce="n"\nFrom: <sip:a@h>\n')
    out = redact(text)
    assert 'response="x"' not in out and 'nonce="n"' not in out
    assert "Authorization: Digest <redacted>" in out
    assert "proxy-authorization:Digest <redacted>" in out and "From: <sip:a@h>" in out


def test_summary_and_arrow() -> None:
    assert summary(b"SIP/2.0 180 Ringing\r\n\r\n") == "180 Ringing"
    assert summary(b"BYE sip:b@h SIP/2.0\r\n\r\n") == "BYE"
    sent = LadderEntry("sent", ("127.0.0.1", 5060), ("127.0.0.1", 5070), 1.0, b"BYE x SIP/2.0\r\n")
    assert arrow(sent, 0.25) == "+  0.250  us ───────BYE────────▶ 127.0.0.1:5070"
    got = LadderEntry("received", sent.local, sent.remote, 1.0, b"SIP/2.0 200 OK\r\n")
    assert arrow(got, 0.0).startswith("+  0.000  us ◀")
