"""SDP answers remembered per offer, as templates (RFC 3264 6), sans I/O.

A UA that is called again and again by the same peer gets the same offer
bytes call after call (sipp, a gateway, a test rig). Our answer to such an
offer differs from one call to the next only in three fields: the session id
and version of our o= line (RFC 4566 5.2: a fresh session starts with the
version equal to the id) and the port of our audio m= line. An
:class:`AnswerTemplates` keeps, per (offer bytes, our media without its port),
the answer cut at those fields, so that the next identical offer is answered
by joining five pieces instead of parsing the offer and building the answer.

What is remembered is always the output of the real negotiation
(:meth:`~tui_phone.sip.sdpsession.SdpSession.create_answer`) for the very
same offer bytes, checked when it is learned: a template renders exactly the
answer it was cut from. The key is the whole offer, so an offer that differs
in any byte (another o= line, another port, c=0.0.0.0 for hold ...) is not
found and goes the general way.
"""

from __future__ import annotations

from typing import Any

from .offeranswer import LocalMedia

__all__ = ["AnswerTemplates"]

#: Offer shapes remembered before the table starts afresh (a phone talks to few peers).
MAX_TEMPLATES = 64

# (head, between the id and the version, after the version up to the port, tail):
# an answer is head + id + " " + id + middle + port + tail.
_Template = tuple[bytes, bytes, bytes]


def _local_shape(local: LocalMedia) -> tuple[Any, ...]:
    """Everything of our media an answer depends on, except the port."""
    return (local.address, local.codecs, local.dtmf_pt, local.dtmf_events, local.direction,
            local.ptime, local.rtcp_port, local.srtp_required, local.username,
            local.session_name)


class AnswerTemplates:
    """Our SDP answers to offers already answered once, by offer bytes.

    :meth:`learn` takes an answer the general path built; :meth:`render`
    gives the answer to the same offer for another session id and port, or
    None when that offer (with that media of ours) was never learned.
    Media with SDES keys (RFC 4568) is never remembered: its answer carries
    a key of its own.
    """

    def __init__(self, size: int = MAX_TEMPLATES) -> None:
        self._size = size
        # By offer, then by our media: the shapes are compared, not hashed (a
        # codec's dataclass hash is Python code, and the answer waits for it).
        self._templates: dict[bytes, list[tuple[tuple[Any, ...], _Template]]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def render(self, offer: bytes, local: LocalMedia, sess_id: int) -> bytes | None:
        """Our answer to ``offer`` in a new session ``sess_id`` (version = id) on
        ``local.port``, or None when this offer was not learned."""
        if local.crypto:
            return None
        entries = self._templates.get(offer)
        if entries is None:
            return None
        shape = _local_shape(local)
        for known, (head, middle, tail) in entries:
            if known == shape:
                number = str(sess_id).encode()
                return b"%s%s %s%s%d%s" % (head, number, number, middle, local.port, tail)
        return None

    def learn(self, offer: bytes, local: LocalMedia, answer: bytes, sess_id: int,
              sess_version: int) -> bool:
        """Remember ``answer``, our SDP answer to ``offer`` for session ``sess_id``
        (version ``sess_version``) with ``local``; False when it cannot serve as
        a template (keys in it, a version that is not the id, fields not found)."""
        if local.crypto or sess_version != sess_id:
            return False
        template = _cut(answer, local, sess_id)
        if template is None:
            return False
        shape = _local_shape(local)
        entries = self._templates.get(offer, [])
        kept = [(known, cut) for known, cut in entries if known != shape]
        if len(kept) == len(entries) and self._count >= self._size:
            self._templates.clear()
            self._count = 0
            entries = kept = []
        self._count += len(kept) + 1 - len(entries)
        self._templates[offer] = [*kept, (shape, template)]
        return True


def _cut(answer: bytes, local: LocalMedia, sess_id: int) -> _Template | None:
    """``answer`` cut at our o= id and version and our audio port, checked by rendering."""
    number = str(sess_id).encode()
    origin = b"\no=%s %s %s " % (local.username.encode(), number, number)
    at = answer.find(origin)
    if at < 0 or answer.find(origin, at + 1) >= 0:
        return None
    head = answer[: at + len(origin) - 2 * len(number) - 2]
    rest = answer[at + len(origin) - 1 :]
    # Our stream is the only m= line with our port; declined ones have port 0.
    port_text = b"\r\nm=audio %d " % local.port
    found = rest.find(port_text)
    if found < 0 or rest.find(port_text, found + 1) >= 0:
        return None
    middle = rest[: found + len(port_text) - len(str(local.port)) - 1]
    tail = rest[found + len(port_text) - 1 :]
    template = (head, middle, tail)
    head_, middle_, tail_ = template
    rendered = b"%s%s %s%s%d%s" % (head_, number, number, middle_, local.port, tail_)
    return template if rendered == answer else None
