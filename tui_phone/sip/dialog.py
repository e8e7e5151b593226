"""SIP dialogs (RFC 3261 12, 13.2.2.4, 15; RFC 3891 3), sans-I/O.

A :class:`Dialog` holds the state of RFC 3261 12: the dialog ID, local and
remote URI, remote target, route set, both sequence numbers and the secure
flag. It is created from the messages that establish it
(:meth:`Dialog.from_uac`, :meth:`Dialog.from_uas`), builds the requests sent
within it (:meth:`Dialog.create_request` and the ``create_*`` helpers) and
learns from what is received (:meth:`Dialog.on_request`,
:meth:`Dialog.on_response`). ``dialogset.InviteDialogSet`` follows every
dialog a forked INVITE creates; ``transfer`` builds REFER and its NOTIFYs.

Nothing here sends, waits or draws random numbers: Via branches come from a
``new_branch`` callable and tags are arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .errors import LocalProtocolError, RemoteProtocolError
from .message import SipRequest, SipResponse
from .replaces import Replaces
from .requests import (
    DEFAULT_MAX_FORWARDS,
    DIALOG_CREATING_METHODS,
    MAX_CSEQ,
    MAX_INITIAL_CSEQ,
    ContactLike,
    as_name_address,
    assemble_request,
    contact_text,
    route_request,
    via_template,
    with_branch,
)
from .uri import NameAddress, SipUri, Uri
from .via import Via

#: Requests that may change the remote target (RFC 3261 12.2, RFC 3311 5.1,
#: RFC 6665 4.1.2 and 4.2.2, RFC 3515 via RFC 6665 4.1).
TARGET_REFRESH_METHODS: frozenset[str] = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})

NewBranch = Callable[[], str]


class DialogState(enum.Enum):
    """The states of a dialog (RFC 3261 12)."""

    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class DialogRequestError(RemoteProtocolError):
    """A request the dialog must refuse; answer it with ``status``.

    Raised by :meth:`Dialog.on_request` (500 for an out-of-order CSeq, 481 in a
    terminated dialog), :meth:`Dialog.from_uas` (400) and the Replaces checks
    (RFC 3891 3: 481, 486, 603). ``reason`` is also the ``str()``.
    """

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __repr__(self) -> str:
        return f"DialogRequestError({self.reason!r}, status={self.status})"


@dataclass(frozen=True, slots=True)
class DialogId:
    """Call-ID, local tag and remote tag (RFC 3261 12). A missing remote tag
    (an RFC 2543 peer, 12.1.2) is None."""

    call_id: str
    local_tag: str
    remote_tag: str | None

    @classmethod
    def of_incoming_request(cls, request: SipRequest) -> DialogId | None:
        """The ID of the dialog a received request belongs to, or None when
        its To has no tag (the request is outside any dialog, 12.2.2)."""
        local_tag = request.to_addr.tag
        if local_tag is None:
            return None
        return cls(_call_id(request), local_tag, request.from_addr.tag)

    @classmethod
    def of_response(cls, response: SipResponse) -> DialogId:
        """The ID of the dialog a response to one of our requests belongs to."""
        local_tag = response.from_addr.tag
        if local_tag is None:
            raise LocalProtocolError("response to our request has no From tag")
        return cls(_call_id(response), local_tag, response.to_addr.tag)


def _call_id(message: SipRequest | SipResponse) -> str:
    call_id = message.call_id
    assert call_id is not None  # parse_message rejects a message without one
    return call_id


def _is_sips(uri: Uri) -> bool:
    return isinstance(uri, SipUri) and uri.is_secure


def _route_set(values: list[str]) -> list[str]:
    """Record-Route values, checked now so that a malformed one fails as the
    peer's fault (:class:`SipParseError`) rather than when we next send."""
    return [str(NameAddress.parse(value)) for value in values]


class Dialog:
    """One dialog: the state of RFC 3261 12 and the requests sent within it.

    ``local_party`` / ``remote_party`` are the From / To values of the
    requests we send (tags included, display names kept as received);
    ``route_set`` holds name-addr texts in the order Route will list them;
    ``local_cseq`` / ``remote_cseq`` are None while empty. ``is_uac`` tells
    whether this UA sent the request that created the dialog, ``method``
    which request that was (INVITE, SUBSCRIBE, REFER).
    """

    def __init__(
        self,
        *,
        call_id: str,
        local_party: NameAddress,
        remote_party: NameAddress,
        remote_target: Uri,
        route_set: Sequence[str] = (),
        local_cseq: int | None = None,
        remote_cseq: int | None = None,
        secure: bool = False,
        state: DialogState = DialogState.EARLY,
        is_uac: bool = True,
        method: str = "INVITE",
        local_contact: str | None = None,
        local_via: Via | None = None,
        first_local_cseq: int = 1,
    ) -> None:
        local_tag = local_party.tag
        if local_tag is None:
            raise LocalProtocolError("the local party of a dialog needs a tag")
        if not 0 <= first_local_cseq <= MAX_INITIAL_CSEQ:
            raise LocalProtocolError(f"initial CSeq {first_local_cseq} is not in 0..2**31-1")
        self.call_id = call_id
        self.local_tag: str = local_tag
        self.remote_tag = remote_party.tag
        self.local_party = local_party
        self.remote_party = remote_party
        self.remote_target = remote_target
        self.route_set = list(route_set)
        self.local_cseq = local_cseq
        self.remote_cseq = remote_cseq
        self.secure = secure
        self.state = state
        self.is_uac = is_uac
        self.method = method
        self.local_contact = local_contact
        self.local_via = local_via
        self.first_local_cseq = first_local_cseq

    # ------------------------------------------------------------ creation
    @classmethod
    def from_uac(
        cls, request: SipRequest, response: SipResponse, *, over_tls: bool = True
    ) -> Dialog:
        """The dialog our ``request`` and a 1xx-with-tag or 2xx ``response`` create (12.1.2).

        The route set is the response's Record-Route in reverse order, the
        remote target its Contact (the Request-URI while a provisional
        response has none), the local sequence number the request's CSeq.
        The dialog is secure if the Request-URI was a SIPS URI and
        ``over_tls``. Our Via and Contact of the request are kept for the
        requests the dialog sends later.
        """
        if request.method not in DIALOG_CREATING_METHODS:
            raise LocalProtocolError(f"{request.method} does not create a dialog")
        if not 101 <= response.status <= 299:
            raise LocalProtocolError(f"a {response.status} response does not create a dialog")
        if response.call_id != request.call_id or response.cseq != request.cseq:
            raise LocalProtocolError("the response does not answer this request")
        if response.status < 200 and response.to_addr.tag is None:
            raise LocalProtocolError("a provisional response without a To tag creates no dialog")
        contacts = response.contacts
        return cls(
            call_id=_call_id(request),
            local_party=request.from_addr,
            remote_party=response.to_addr,
            remote_target=contacts[0].uri if contacts else request.uri,
            route_set=_route_set(response.headers.get_all("record-route")[::-1]),
            local_cseq=request.cseq.number,
            secure=over_tls and _is_sips(request.uri),
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
            is_uac=True,
            method=request.method,
            local_contact=request.headers.get("contact"),
            local_via=via_template(request.via),
        )

    @classmethod
    def from_uas(
        cls,
        request: SipRequest,
        local_tag: str,
        *,
        contact: ContactLike | None = None,
        local_via: Via | None = None,
        state: DialogState = DialogState.EARLY,
        first_local_cseq: int = 1,
        over_tls: bool = True,
    ) -> Dialog:
        """The dialog a received ``request`` creates when we answer with ``local_tag`` (12.1.1).

        The route set is the request's Record-Route in order, the remote
        target its Contact, the remote sequence number its CSeq; the local
        sequence number stays empty until we send a request (the first one
        gets ``first_local_cseq``). ``contact`` is the Contact of our
        responses; ``local_via`` is the Via template of the requests we will
        send, e.g. ``Via("UDP", "192.0.2.4", 5060, (("rport", None),))``. A
        dialog answered with a 1xx is early; :meth:`on_response_sent`
        confirms it.
        """
        if request.method not in DIALOG_CREATING_METHODS:
            raise LocalProtocolError(f"{request.method} does not create a dialog")
        if request.to_addr.tag is not None:
            raise LocalProtocolError("the request already belongs to a dialog (its To has a tag)")
        contacts = request.contacts
        if not contacts:
            raise DialogRequestError(f"{request.method} without a Contact cannot create a dialog", 400)
        to_value = request.headers.values("to")[0]
        local_party = NameAddress.parse(f"{to_value};tag={local_tag}")
        if local_party.tag != local_tag:
            raise LocalProtocolError(f"invalid tag {local_tag!r}")
        return cls(
            call_id=_call_id(request),
            local_party=local_party,
            remote_party=request.from_addr,
            remote_target=contacts[0].uri,
            route_set=_route_set(request.headers.get_all("record-route")),
            remote_cseq=request.cseq.number,
            secure=over_tls and _is_sips(request.uri),
            state=state,
            is_uac=False,
            method=request.method,
            local_contact=None if contact is None else contact_text(contact),
            local_via=None if local_via is None else via_template(local_via),
            first_local_cseq=first_local_cseq,
        )

    # ------------------------------------------------------------ views
    @property
    def id(self) -> DialogId:
        """The dialog ID (RFC 3261 12)."""
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    @property
    def local_uri(self) -> Uri:
        """The local URI (our From URI)."""
        return self.local_party.uri

    @property
    def remote_uri(self) -> Uri:
        """The remote URI (the To URI of our requests)."""
        return self.remote_party.uri

    @property
    def is_early(self) -> bool:
        """True while the dialog is early."""
        return self.state is DialogState.EARLY

    @property
    def is_confirmed(self) -> bool:
        """True once the dialog is confirmed (and not yet terminated)."""
        return self.state is DialogState.CONFIRMED

    @property
    def is_terminated(self) -> bool:
        """True once the dialog is terminated."""
        return self.state is DialogState.TERMINATED

    def terminate(self) -> None:
        """End the dialog (BYE sent or received, 15; or the INVITE failed, 12.3)."""
        self.state = DialogState.TERMINATED

    def __repr__(self) -> str:
        return (
            f"<Dialog {self.state.value} {self.call_id} local={self.local_tag} "
            f"remote={self.remote_tag} target={self.remote_target}>"
        )

    # ------------------------------------------------------------ sending
    def create_request(
        self,
        method: str,
        new_branch: NewBranch,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
        contact: ContactLike | None = None,
        via: Via | None = None,
        max_forwards: int = DEFAULT_MAX_FORWARDS,
    ) -> SipRequest:
        """A request within the dialog (RFC 3261 12.2.1.1).

        To and From carry the remote and local URI and tags; Request-URI and
        Route follow the route set (loose or strict routing, see
        :func:`route_request`); CSeq is the local sequence number plus one.
        Target refresh requests get a Contact: ``contact``, which becomes the
        dialog's, or the one in use. ``via`` overrides the dialog's Via
        template; its branch comes from ``new_branch()``. ACK and CANCEL are
        not built here: see :meth:`create_ack` and :func:`build_cancel`.
        """
        if method == "ACK":
            raise LocalProtocolError("the ACK of a 2xx is built by create_ack(invite, ...)")
        if method == "CANCEL":
            raise LocalProtocolError("a CANCEL is built from its INVITE by build_cancel()")
        if self.state is DialogState.TERMINATED:
            raise LocalProtocolError(f"cannot send {method} in a terminated dialog")
        if method == "BYE" and self.state is DialogState.EARLY and not self.is_uac:
            raise LocalProtocolError("the callee must not send BYE in an early dialog (RFC 3261 15)")
        contact_value = None if contact is None else contact_text(contact)
        if method in TARGET_REFRESH_METHODS:
            if contact_value is None:
                contact_value = self.local_contact
            if contact_value is None:
                raise LocalProtocolError(f"{method} is a target refresh request and needs a Contact")
        cseq = self._following_cseq()
        request = self._build(
            method, cseq, new_branch, body=body, content_type=content_type,
            extra_headers=extra_headers, contact=contact_value, via=via, max_forwards=max_forwards,
        )
        # Commit only once the request is built: a refused request changes nothing.
        self.local_cseq = cseq
        if method in TARGET_REFRESH_METHODS:
            self.local_contact = contact_value
        return request

    def create_ack(
        self,
        invite: SipRequest,
        new_branch: NewBranch,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        via: Via | None = None,
    ) -> SipRequest:
        """The ACK of a 2xx to ``invite`` (RFC 3261 13.2.2.4).

        Built like any request of the dialog, in a new transaction (a new
        branch), but with the INVITE's CSeq number and its credentials; the
        local sequence number does not move. ``body`` is the SDP answer when
        the 2xx carried the offer.
        """
        if invite.method != "INVITE":
            raise LocalProtocolError(f"only an INVITE is acknowledged, not {invite.method}")
        if invite.call_id != self.call_id:
            raise LocalProtocolError("the INVITE does not belong to this dialog")
        credentials = [
            (name, value)
            for name in ("Authorization", "Proxy-Authorization")
            for value in invite.headers.values(name)
        ]
        return self._build(
            "ACK", invite.cseq.number, new_branch, body=body, content_type=content_type,
            extra_headers=credentials, contact=None, via=via, max_forwards=DEFAULT_MAX_FORWARDS,
        )

    def create_bye(
        self, new_branch: NewBranch, *, extra_headers: Iterable[tuple[str, str]] = ()
    ) -> SipRequest:
        """A BYE (RFC 3261 15.1.1). The dialog ends when it is answered or times out."""
        return self.create_request("BYE", new_branch, extra_headers=extra_headers)

    def create_reinvite(
        self,
        new_branch: NewBranch,
        *,
        body: bytes = b"",
        content_type: str | None = "application/sdp",
        contact: ContactLike | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> SipRequest:
        """A re-INVITE (RFC 3261 14.1), a target refresh: ``contact`` may move us."""
        if self.state is not DialogState.CONFIRMED:
            raise LocalProtocolError("a re-INVITE needs a confirmed dialog")
        return self.create_request(
            "INVITE", new_branch, body=body, content_type=content_type if body else None,
            contact=contact, extra_headers=extra_headers,
        )

    def create_notify(
        self,
        new_branch: NewBranch,
        *,
        event: str,
        subscription_state: str,
        body: bytes = b"",
        content_type: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> SipRequest:
        """A NOTIFY (RFC 6665 4.2.2) with Event and Subscription-State."""
        headers = [("Event", event), ("Subscription-State", subscription_state)]
        return self.create_request(
            "NOTIFY", new_branch, body=body, content_type=content_type,
            extra_headers=[*headers, *extra_headers],
        )

    def create_info(
        self,
        new_branch: NewBranch,
        body: bytes,
        content_type: str,
        *,
        info_package: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> SipRequest:
        """An INFO (RFC 6086 4.2.1); ``info_package`` sets Info-Package."""
        headers = [] if info_package is None else [("Info-Package", info_package)]
        return self.create_request(
            "INFO", new_branch, body=body, content_type=content_type,
            extra_headers=[*headers, *extra_headers],
        )

    def create_options(
        self, new_branch: NewBranch, *, extra_headers: Iterable[tuple[str, str]] = ()
    ) -> SipRequest:
        """An OPTIONS within the dialog (RFC 3261 11.1), e.g. as a keep-alive."""
        return self.create_request("OPTIONS", new_branch, extra_headers=extra_headers)

    def _following_cseq(self) -> int:
        """The CSeq number of the next request (RFC 3261 12.2.1.1), not yet taken."""
        number = self.first_local_cseq if self.local_cseq is None else self.local_cseq + 1
        if number > MAX_CSEQ:
            raise LocalProtocolError("the local CSeq number would exceed 2**32-1")
        return number

    def _build(
        self,
        method: str,
        cseq: int,
        new_branch: NewBranch,
        *,
        body: bytes,
        content_type: str | None,
        extra_headers: Iterable[tuple[str, str]],
        contact: ContactLike | None,
        via: Via | None,
        max_forwards: int,
    ) -> SipRequest:
        template = via if via is not None else self.local_via
        if template is None:
            raise LocalProtocolError("no Via: pass via= or give the dialog a local_via")
        # RFC 3261 8.1.1.8: a SIPS target needs a SIPS Contact.
        if self.secure and contact is not None and not _is_sips(as_name_address(contact).uri):
            raise LocalProtocolError("a secure dialog needs a SIPS Contact")
        request_uri, routes = route_request(self.remote_target, self.route_set)
        return assemble_request(
            method, request_uri, with_branch(template, new_branch()), str(self.local_party),
            str(self.remote_party), self.call_id, cseq, contact=contact, routes=routes,
            max_forwards=max_forwards, body=body, content_type=content_type,
            extra_headers=extra_headers,
        )

    # ------------------------------------------------------------ receiving
    def on_request(self, request: SipRequest) -> None:
        """Take in a request received within the dialog (RFC 3261 12.2.2).

        Raises :class:`DialogRequestError` with the status to answer: 481 in
        a terminated dialog, 500 when the CSeq is lower than the remote
        sequence number. Otherwise the remote sequence number becomes the
        request's, a target refresh request with a Contact replaces the
        remote target, and a BYE terminates the dialog (15.1.2). ACK and
        CANCEL reuse the CSeq of their INVITE and change nothing.
        """
        self._check_incoming(request)
        if request.method in ("ACK", "CANCEL"):
            return
        if self.state is DialogState.TERMINATED:
            raise DialogRequestError("dialog is terminated", 481)
        number = request.cseq.number
        remote = self.remote_cseq
        if remote is not None and number < remote:
            raise DialogRequestError(
                f"CSeq {number} is lower than the remote sequence number {remote}", 500
            )
        self.remote_cseq = number
        if request.method == "BYE":
            self.terminate()
        elif request.method in TARGET_REFRESH_METHODS:
            contacts = request.contacts
            if contacts:
                self.remote_target = contacts[0].uri

    def on_response(self, request: SipRequest, response: SipResponse) -> None:
        """Take in the response to a request we sent in the dialog (12.2.1.2, 13.2.2.4).

        A 2xx to a target refresh request replaces the remote target with its
        Contact; a 2xx to the INVITE of an early dialog confirms it and
        recomputes the route set from its Record-Route; a later 1xx of an
        early dialog updates the remote target. A 2xx to a BYE, a 481 and a
        408 end the dialog (15.1.1, 12.2.1.2), and so does any failure of the
        INVITE that created an early one (12.3). Other failures change nothing
        (a 401 or 407 is retried with credentials in the same dialog).
        """
        if response.call_id != self.call_id or response.cseq != request.cseq:
            raise LocalProtocolError("the response does not answer this request")
        if response.from_addr.tag != self.local_tag or response.to_addr.tag != self.remote_tag:
            raise LocalProtocolError("the response belongs to another dialog")
        status = response.status
        contacts = response.contacts
        if status < 200:
            if self.is_early and request.method == "INVITE" and contacts:
                self.remote_target = contacts[0].uri
        elif status < 300:
            if request.method == "BYE":
                self.terminate()
            elif request.method in TARGET_REFRESH_METHODS and contacts:
                self.remote_target = contacts[0].uri
            if request.method == "INVITE" and self.is_early:
                self.route_set = _route_set(response.headers.get_all("record-route")[::-1])
                self.state = DialogState.CONFIRMED
        elif status in (408, 481) or (request.method == "INVITE" and self.is_early):
            self.terminate()

    def on_request_timeout(self, request: SipRequest) -> None:
        """No response at all to ``request``: the dialog ends (RFC 3261 12.2.1.2)."""
        self.terminate()

    def on_response_sent(self, request: SipRequest, response: SipResponse) -> None:
        """Take in our final response to the request that created the dialog (UAS).

        A 2xx confirms an early dialog; a failure ends it (12.3).
        """
        if not self.is_early or request.method != self.method or response.status < 200:
            return
        if response.status < 300:
            self.state = DialogState.CONFIRMED
        else:
            self.terminate()

    def _check_incoming(self, request: SipRequest) -> None:
        if (
            request.call_id != self.call_id
            or request.to_addr.tag != self.local_tag
            or request.from_addr.tag != self.remote_tag
        ):
            raise LocalProtocolError("the request belongs to another dialog")

    # ------------------------------------------------------------ Replaces
    def replaces(self, *, early_only: bool = False) -> Replaces:
        """The Replaces value naming this dialog, for the peer that will receive it.

        RFC 3891 3: the receiving UA compares ``to-tag`` with its local tag,
        and the dialog it holds with our peer has our remote tag as its local
        tag. So ``to-tag`` is our remote tag and ``from-tag`` our local tag.
        """
        if self.remote_tag is None:
            raise LocalProtocolError("a dialog without a remote tag cannot be replaced")
        return Replaces(self.call_id, self.remote_tag, self.local_tag, early_only)

    def matches_replaces(self, replaces: Replaces) -> bool:
        """True if a received Replaces names this dialog (RFC 3891 3):
        ``to-tag`` is our local tag and ``from-tag`` our remote tag."""
        return (
            replaces.call_id == self.call_id
            and replaces.to_tag == self.local_tag
            and replaces.from_tag == self.remote_tag
        )

    def check_replaces(self, replaces: Replaces) -> None:
        """Whether an INVITE with ``replaces`` may replace this dialog (RFC 3891 3).

        Raises :class:`DialogRequestError`: 481 if it does not match, if the
        dialog was not created by an INVITE, or if it is an early dialog we
        did not initiate; 603 if it is terminated; 486 if it is confirmed and
        the Replaces says ``early-only``.
        """
        if not self.matches_replaces(replaces):
            raise DialogRequestError("Replaces matches no dialog", 481)
        if self.method != "INVITE":
            raise DialogRequestError("Replaces matches a dialog not created by an INVITE", 481)
        if self.state is DialogState.TERMINATED:
            raise DialogRequestError("Replaces matches a terminated dialog", 603)
        if self.state is DialogState.CONFIRMED and replaces.early_only:
            raise DialogRequestError("Replaces is early-only but the dialog is confirmed", 486)
        if self.state is DialogState.EARLY and not self.is_uac:
            raise DialogRequestError("Replaces matches an early dialog this UA did not initiate", 481)


__all__ = [
    "TARGET_REFRESH_METHODS",
    "Dialog",
    "DialogId",
    "DialogRequestError",
    "DialogState",
]
