"""The dialogs of one outgoing INVITE, forked or not (RFC 3261 12.1.2, 13.2.2.4).

A forking proxy may deliver an INVITE to several phones; each answers with
its own To tag, so one INVITE can yield several early dialogs and even
several confirmed ones. :class:`InviteDialogSet` sorts the responses by tag.
"""

from __future__ import annotations

from .dialog import Dialog
from .errors import LocalProtocolError
from .message import SipRequest, SipResponse


class InviteDialogSet:
    """Every dialog one outgoing INVITE creates, as forking proxies fan it out.

    RFC 3261 12.1.2 / 13.2.2.4: each 1xx with a new To tag creates an early
    dialog; a 2xx confirms the dialog of its tag or creates a confirmed one.
    Several 2xx with different tags each give a confirmed dialog: the UA
    must ACK every one, keep :attr:`answered` (the first) and BYE the
    :attr:`extra` ones. A failure response terminates the early dialogs; after
    a 2xx they linger until the INVITE transaction completes (64*T1 after the
    first 2xx), when the UA calls :meth:`terminate_early`.
    """

    def __init__(self, invite: SipRequest, *, over_tls: bool = True) -> None:
        if invite.method != "INVITE":
            raise LocalProtocolError(f"an InviteDialogSet follows an INVITE, not {invite.method}")
        self.invite = invite
        self.over_tls = over_tls
        self._dialogs: dict[str | None, Dialog] = {}
        self.answered: Dialog | None = None
        self.extra: list[Dialog] = []
        #: The status of the first final response, None until one arrives.
        self.final_status: int | None = None
        self._failed = False

    @property
    def dialogs(self) -> list[Dialog]:
        """Every dialog created so far, in order of creation."""
        return list(self._dialogs.values())

    @property
    def early(self) -> list[Dialog]:
        """The dialogs still early."""
        return [d for d in self._dialogs.values() if d.is_early]

    def get(self, remote_tag: str | None) -> Dialog | None:
        """The dialog with this remote (To) tag, or None."""
        return self._dialogs.get(remote_tag)

    def is_extra(self, dialog: Dialog) -> bool:
        """True for a dialog confirmed after :attr:`answered`: ACK it, then BYE it."""
        return any(dialog is d for d in self.extra)

    def on_response(self, response: SipResponse) -> Dialog | None:
        """Take in a response to the INVITE; returns the dialog it concerns, if any.

        A 100 or a tagless 1xx concerns no dialog; nor does a failure, which
        terminates every early dialog. A retransmitted 2xx returns its
        (already confirmed) dialog again, so the UA can repeat the ACK.
        """
        invite = self.invite
        if (
            response.call_id != invite.call_id
            or response.cseq != invite.cseq
            or response.from_addr.tag != invite.from_addr.tag
        ):
            raise LocalProtocolError("the response does not answer this INVITE")
        status = response.status
        if status >= 200 and self.final_status is None:
            self.final_status = status
        if status >= 300:
            self._failed = True
            self.terminate_early()
            return None
        tag = response.to_addr.tag
        if status < 200 and (tag is None or status == 100 or self._failed):
            return None
        dialog = self._dialogs.get(tag)
        if dialog is None or (dialog.is_terminated and status >= 200):
            # A 2xx for an early dialog already given up still establishes
            # one: the UA must ACK it (and will BYE it as extra).
            dialog = Dialog.from_uac(invite, response, over_tls=self.over_tls)
            self._dialogs[tag] = dialog
        elif not dialog.is_terminated:
            dialog.on_response(invite, response)
        if status >= 200:
            if self.answered is None:
                self.answered = dialog
            elif dialog is not self.answered and not self.is_extra(dialog):
                self.extra.append(dialog)
        return dialog

    def terminate_early(self) -> list[Dialog]:
        """Terminate the dialogs still early (the INVITE transaction is over); returns them."""
        ended = self.early
        for dialog in ended:
            dialog.terminate()
        return ended


__all__ = ["InviteDialogSet"]
