"""Reading the requests of a transfer: an incoming REFER and the NOTIFYs of its
implicit subscription (RFC 3515, RFC 3891 7.1, RFC 3892).

Pure: these functions take a parsed :class:`SipRequest` and return what it
asks for, or raise :class:`~tui_phone.sip.errors.SipParseError` carrying the
status the UAS should answer with (the peer's fault).

* :func:`parse_refer` gives a :class:`Referral`: the URI to call (its URI
  headers removed), the Replaces the INVITE must carry, and Referred-By.
* :func:`parse_refer_notify` gives a :class:`ReferNotification`: the status
  line of the sipfrag body (RFC 3420) and whether the subscription ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SipParseError
from .message import SipRequest
from .replaces import Replaces
from .uri import NameAddress, SipUri

#: RFC 3515 2.4.2: the answer that accepts a REFER.
ACCEPTED = 202
#: RFC 6665 8.3.1: a NOTIFY for an event package we did not subscribe to.
BAD_EVENT = 489
REFER_EVENT = "refer"


@dataclass(frozen=True, slots=True)
class Referral:
    """What a REFER asks for: call ``target`` (RFC 3515 2.4.2).

    ``replaces`` came from the Refer-To URI's ``Replaces`` header (attended
    transfer, RFC 3891 7.1); the other URI headers are dropped, since an
    INVITE built from them could carry anything. ``referred_by`` is the
    Referred-By value to copy into the INVITE (RFC 3892 3), or None.
    ``refer_to`` is the Refer-To value as received.
    """

    target: SipUri
    refer_to: str
    replaces: Replaces | None = None
    referred_by: str | None = None


@dataclass(frozen=True, slots=True)
class ReferNotification:
    """One NOTIFY of a REFER subscription (RFC 3515 2.4.4, 2.4.5).

    ``status``/``reason`` come from the sipfrag Status-Line; ``terminated``
    tells whether Subscription-State ended the subscription; ``event_id`` is
    the ``id`` parameter of the Event header (the CSeq of the REFER), or None.
    """

    status: int
    reason: str
    terminated: bool
    event_id: int | None = None

    @property
    def is_final(self) -> bool:
        """True when the sipfrag holds a final status (200-699)."""
        return self.status >= 200


def parse_refer(request: SipRequest) -> Referral:
    """The :class:`Referral` of a REFER; 400 without exactly one usable Refer-To,
    416 when it names no SIP URI (we can only send INVITEs)."""
    values = request.headers.get_all("refer-to")
    if len(values) != 1:
        raise SipParseError(f"REFER needs exactly one Refer-To, not {len(values)}", status=400)
    value = values[0].strip()
    try:
        address = NameAddress.parse(value)
    except SipParseError as error:
        raise SipParseError(f"bad Refer-To: {error}", status=400) from None
    uri = address.uri
    if not isinstance(uri, SipUri):
        raise SipParseError("Refer-To is not a SIP URI", status=416)
    replaces = None
    for name, header in uri.headers:
        if name.lower() == "replaces":
            try:
                replaces = Replaces.parse(header)
            except SipParseError as error:
                raise SipParseError(f"bad Replaces in Refer-To: {error}", status=400) from None
    method = uri.params.get("method")
    if method is not None and method.upper() != "INVITE":
        raise SipParseError(f"Refer-To asks for {method.upper()}, not INVITE", status=501)
    referred_by = request.headers.get("referred-by")
    # The method parameter is for the REFER recipient, not for the INVITE's Request-URI.
    params = [(name, item) for name, item in uri.params.pairs if name.lower() != "method"]
    return Referral(uri.replace(headers=(), params=params), value, replaces, referred_by)


def parse_refer_notify(request: SipRequest) -> ReferNotification:
    """The :class:`ReferNotification` of a NOTIFY; 489 when its Event is not
    ``refer``, 400 when the Event id or the sipfrag body is unusable."""
    event = request.headers.get("event")
    if event is None:
        raise SipParseError("NOTIFY without an Event header", status=BAD_EVENT)
    package, *params = (part.strip() for part in event.split(";"))
    if package.lower() != REFER_EVENT:
        raise SipParseError(f"NOTIFY for event {package!r}, not refer", status=BAD_EVENT)
    event_id = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "id":
            try:
                event_id = int(value.strip())
            except ValueError:
                raise SipParseError(f"bad Event id {value.strip()[:20]!r}", status=400) from None
    state = (request.headers.get("subscription-state") or "").split(";")[0].strip().lower()
    status, reason = _status_line(request.body)
    return ReferNotification(status, reason, state == "terminated", event_id)


def _status_line(body: bytes) -> tuple[int, str]:
    # RFC 3515 2.4.5: the body is a message/sipfrag whose first line is a Status-Line.
    first = body.decode("utf-8", "replace").lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    version, _, rest = first.partition(" ")
    code, _, reason = rest.partition(" ")
    if version.upper() != "SIP/2.0" or len(code) != 3 or not code.isdigit():
        raise SipParseError(f"sipfrag without a Status-Line: {first[:60]!r}", status=400)
    status = int(code)
    if not 100 <= status <= 699:
        raise SipParseError(f"sipfrag status {status} out of range", status=400)
    return status, reason.strip()


__all__ = [
    "ACCEPTED",
    "BAD_EVENT",
    "ReferNotification",
    "Referral",
    "parse_refer",
    "parse_refer_notify",
]
