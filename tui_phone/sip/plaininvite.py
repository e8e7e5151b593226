"""A new INVITE of the usual shape, read from its datagram in one pass, sans I/O.

Most INVITEs that reach a phone straight from another UA look alike: one Via,
the core header fields each once and spelled the usual way, a Contact, an SDP
offer, and a few fields nobody looks at before answering (Subject,
User-Agent, Allow, Supported). :func:`read_plain_invite` recognises that shape
and checks each field the way :meth:`~tui_phone.sip.message.SipMessage.validate`
and the user agent's refusals would (the same parsers: Via, name-addr, URI,
CSeq), without building a :class:`~tui_phone.sip.message.SipRequest`: an
INVITE answered at once (``tui-phone answer``) gets its 200 OK from the
returned :class:`PlainInvite` before anything else is made for it.

A peer that calls again and again (sipp, a gateway, a test rig) sends the same
INVITE each time but for the tokens naming the call and the transaction: the
Via branch, the From tag, the Call-ID and the CSeq number. :class:`InviteShapes`
remembers, per peer address, each plain INVITE answered at once with those four
values cut out; the next INVITE that is the same bytes around four values of
their grammar (a token, a token, ``[!-~]+``, a number below 2**31) is valid
exactly as the remembered one was, and is read by one regex match instead of
the parsers: what an answer costs on a machine that idles between calls is
mostly the code it runs for the first time since.

Anything else is None, and goes the general way, which answers it (400 with the
exact reason for a bad field, 415, 420 ...): compact or unusual spellings of a
field name, folding, a repeated field, several Vias, any field the general path
acts on before answering (Require, Accept, Content-Encoding, Record-Route,
Replaces, Date ...), an offer beyond Content-Length, a Via that is not UDP or
has no RFC 3261 branch, a To tag. None is never a refusal.
"""

from __future__ import annotations

import re
from typing import Any

from ._uri_syntax import slot_setters
from .errors import SipParseError
from .headers import CSeq
from .message import SIP_VERSION
from .responses import response_from_copied
from .routing import Source, Target, may_need_stamp, response_target, stamped_via
from .transaction import ServerTransactionKey, is_rfc3261_branch
from .uri import NameAddress, SipUri, parse_uri
from .via import MAGIC_COOKIE, Via

__all__ = ["InviteShapes", "PlainInvite", "read_plain_invite"]

# The fields of the plain shape, as spelled by nearly every UA. The first
# seven are what validate() and the refusals read; the others nobody reads
# before an INVITE is answered.
_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length")
_FIELDS = frozenset((*_REQUIRED, "Max-Forwards", "Subject", "User-Agent", "Allow", "Supported"))
_SDP = "application/sdp"
#: Shapes remembered per peer address before that peer's list starts afresh.
MAX_SHAPES = 8
#: Peer addresses remembered before the table starts afresh.
MAX_PEERS = 64
# The grammar each cut-out value is matched with (RFC 3261 25.1): a branch is the
# magic cookie and a token (8.1.1.7), a tag a token, a Call-ID what validate()
# accepts, a CSeq number what CSeq.parse reads on its usual path.
_TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
_SLOTS = {"branch": f"({re.escape(MAGIC_COOKIE)}{_TOKEN})", "tag": f"({_TOKEN})",
          "call_id": "([!-~]+)", "cseq": "([0-9]{1,9})"}
_new = object.__new__
_set_key_branch, _set_key_sent_by, _set_key_method = slot_setters(
    ServerTransactionKey, "branch", "sent_by", "method")


class PlainInvite:
    """A new INVITE read by :func:`read_plain_invite`: what an answer to it needs.

    ``uri`` is its Request-URI; ``target`` is where its responses go (RFC 3261
    18.2.2, from its Via stamped with ``received``/``rport`` for the address it
    came from: 18.2.1, RFC 3581 4); ``key`` is its server transaction's key
    (RFC 3261 17.2.3).
    """

    __slots__ = ("uri", "call_id", "body", "target", "key", "_before_to", "_to", "_after_to")

    def __init__(self, uri: SipUri, call_id: str, body: bytes, target: Target,
                 key: ServerTransactionKey, before_to: str, to: str, after_to: str) -> None:
        self.uri = uri
        self.call_id = call_id
        self.body = body
        self.target = target
        self.key = key
        self._before_to = before_to  # the Via and From lines of the response
        self._to = to
        self._after_to = after_to  # its Call-ID and CSeq lines

    def response_bytes(self, status: int, *, to_tag: str | None = None, body: bytes = b"",
                       content_type: str | None = None,
                       extra: tuple[tuple[str, str], ...] = ()) -> bytes:
        """The bytes :func:`~tui_phone.sip.responses.response_bytes` makes for this
        INVITE parsed and stamped (RFC 3261 8.2.6.2: Via, From, To with our tag,
        Call-ID and CSeq copied; no Record-Route to copy)."""
        to = self._to if to_tag is None or status == 100 else f"{self._to};tag={to_tag}"
        copied = f"{self._before_to}To: {to}\r\n{self._after_to}"
        return response_from_copied(status, copied, body=body, content_type=content_type,
                                    extra=extra)


def read_plain_invite(data: bytes, source: Source) -> PlainInvite | None:
    """The INVITE in ``data`` (a datagram from ``source``) if it has the plain
    shape and every field it carries is valid; else None."""
    if not data.startswith(b"INVITE "):
        return None
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    raw_head = data[:end]
    if not raw_head.isascii():
        return None
    head = raw_head.decode("ascii")
    lines = head.split("\r\n")
    # No CR or LF but those of the line ends (RFC 3261 7.3.1: no bare ones).
    if head.count("\r") != len(lines) - 1 or head.count("\n") != len(lines) - 1:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != SIP_VERSION:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(": ")
        # A field spelled otherwise, repeated or folded (a line starting with
        # whitespace has no such name) is the general path's.
        if not sep or name not in _FIELDS or name in fields:
            return None
        fields[name] = value.strip(" \t")  # the value as the general path reads it
    if len(fields) < len(_REQUIRED) or not all(name in fields for name in _REQUIRED):
        return None
    body = data[end + 4 :]
    length = fields["Content-Length"]
    if not (length.isdigit() and int(length) == len(body) > 0):
        return None
    call_id = fields["Call-ID"]
    max_forwards = fields.get("Max-Forwards")
    # Call-ID: RFC 3261 25.1 word ["@" word], which validate() checks as [!-~]+.
    if (fields["Content-Type"].lower() != _SDP or not call_id or not call_id.isprintable()
            or " " in call_id
            or (max_forwards is not None and not max_forwards.isdigit())):
        return None
    via_text, contact = fields["Via"], fields["Contact"]
    if "," in via_text or "," in contact or contact == "*":
        return None  # several values: the general path
    try:
        uri = parse_uri(parts[1])
        cseq = CSeq.parse(fields["CSeq"])
        via = Via.parse(via_text)
        to = NameAddress.parse(fields["To"])
        NameAddress.parse(fields["From"])
        NameAddress.parse(contact)
    except SipParseError:
        return None  # the general path answers with the reason
    if (not isinstance(uri, SipUri) or uri.headers or cseq.method != "INVITE"
            or to.tag is not None or via.transport != "UDP" or via.protocol != SIP_VERSION
            or not is_rfc3261_branch(via.branch) or via.has_param("maddr")
            or via.has_param("received")):
        return None
    host, port = source.remote
    if may_need_stamp(via, host):
        via = stamped_via(via, host, port)
    key = ServerTransactionKey(via.branch or "", (via.host.lower(), via.port), "INVITE")
    return PlainInvite(uri, call_id, body, response_target(via, source), key,
                       f"Via: {via}\r\nFrom: {fields['From']}\r\n", fields["To"],
                       f"Call-ID: {call_id}\r\nCSeq: {fields['CSeq']}\r\n")


class _Shape:
    """One remembered INVITE: its bytes as a regex with the four values cut out,
    and what its answers share."""

    __slots__ = ("pattern", "uri", "body", "target", "sent_by", "around", "to")

    def __init__(self, pattern: re.Pattern[str], invite: PlainInvite,
                 around: tuple[str, str, str]) -> None:
        self.pattern = pattern
        self.uri = invite.uri
        self.body = invite.body
        self.target = invite.target
        self.sent_by = invite.key.sent_by
        #: The response's Via and From lines before the branch, between it and
        #: the tag, after the tag.
        self.around = around
        self.to = invite._to

    def invite(self, match: re.Match[str]) -> PlainInvite:
        branch, tag, call_id, number = match.group("branch", "tag", "call_id", "cseq")
        key = _new(ServerTransactionKey)
        _set_key_branch(key, branch)
        _set_key_sent_by(key, self.sent_by)
        _set_key_method(key, "INVITE")
        before, between, after = self.around
        return PlainInvite(self.uri, call_id, self.body, self.target, key,
                           f"{before}{branch}{between}{tag}{after}", self.to,
                           f"Call-ID: {call_id}\r\nCSeq: {number} INVITE\r\n")


class InviteShapes:
    """Plain INVITEs answered before, per peer address, as shapes (sans I/O).

    :meth:`learn` takes the datagram of an INVITE the general path accepted and
    answered; :meth:`read` gives the :class:`PlainInvite` of a datagram from the
    same address that differs from a learned one only in its branch, From tag,
    Call-ID and CSeq number (each of its grammar), or None. What is read is
    what :func:`read_plain_invite` reads of the same datagram.
    """

    def __init__(self) -> None:
        # By the peer's address and ours: the response's target and stamp depend on them.
        self._shapes: dict[tuple[tuple[str, int], tuple[str, int]], list[_Shape]] = {}

    def __len__(self) -> int:
        return sum(len(shapes) for shapes in self._shapes.values())

    def read(self, data: bytes, source: Source) -> PlainInvite | None:
        """The INVITE in ``data`` from ``source`` if it has a learned shape; else None."""
        shapes = self._shapes.get((source.remote, source.local))
        if shapes is None:
            return None
        text = data.decode("latin-1")  # byte for byte: the shape's text is ASCII
        for shape in shapes:
            match = shape.pattern.fullmatch(text)
            if match is not None:
                return shape.invite(match)
        return None

    def learn(self, data: bytes, source: Source) -> bool:
        """Remember the shape of ``data``, an INVITE from ``source``; False when it has
        none (:func:`read_plain_invite` refuses it, or a value cannot be cut out)."""
        invite = read_plain_invite(data, source)
        if invite is None or self.read(data, source) is not None:
            return False
        text = data.decode("latin-1")
        cut = _cut(text, invite)
        if cut is None:
            return False
        slots, around = cut
        pattern, at = [], 0
        for start, stop, name in sorted(slots):
            pattern += [re.escape(text[at:start]), _SLOTS[name].replace("(", f"(?P<{name}>", 1)]
            at = stop
        pattern.append(re.escape(text[at:]))
        shape = _Shape(re.compile("".join(pattern)), invite, around)
        # What the shape reads of the datagram it was cut from is what was read of it.
        again = shape.invite(shape.pattern.fullmatch(text))  # type: ignore[arg-type]
        if _fields(again) != _fields(invite):
            return False
        where = (source.remote, source.local)
        if len(self._shapes) >= MAX_PEERS and where not in self._shapes:
            self._shapes.clear()
        shapes = self._shapes.setdefault(where, [])
        if len(shapes) >= MAX_SHAPES:
            shapes.clear()
        shapes.append(shape)
        return True


def _fields(invite: PlainInvite) -> tuple[Any, ...]:
    return (invite.uri, invite.call_id, invite.body, invite.target, invite.key,
            invite._before_to, invite._to, invite._after_to)


def _value_span(text: str, name: str) -> tuple[int, int] | None:
    """Where the value of the one ``name`` field is, written without extra space."""
    at = text.find(f"\r\n{name}: ")
    if at < 0:
        return None
    start = at + len(name) + 4
    stop = text.find("\r\n", start)
    value = text[start:stop]
    return (start, stop) if value and value == value.strip(" \t") else None


def _token_span(text: str, span: tuple[int, int], param: str,
                value: str) -> tuple[int, int] | None:
    """Where ``value``, the value of the only ``;param=`` in the span, is."""
    field = text[span[0] : span[1]]
    if field.lower().count(f";{param}=") != 1:
        return None
    at = field.find(f";{param}={value}")
    stop = at + len(param) + 2 + len(value)
    if at < 0 or field[stop : stop + 1] not in ("", ";"):
        return None
    return span[0] + stop - len(value), span[0] + stop


def _cut(text: str, invite: PlainInvite) -> tuple[list[tuple[int, int, str]],
                                                  tuple[str, str, str]] | None:
    """The spans of the four values in ``text``, and the response's Via and From
    lines around the branch and the tag; None when one is not where it should be."""
    branch = invite.key.branch
    via, from_, call_id, cseq = (_value_span(text, name)
                                 for name in ("Via", "From", "Call-ID", "CSeq"))
    if via is None or from_ is None or call_id is None or cseq is None:
        return None
    tag = NameAddress.parse(text[from_[0] : from_[1]]).tag
    number, _, method = text[cseq[0] : cseq[1]].partition(" ")
    if tag is None or method != "INVITE" or not number.isdigit() or len(number) > 9:
        return None
    branch_at = _token_span(text, via, "branch", branch)
    tag_at = _token_span(text, from_, "tag", tag)
    if branch_at is None or tag_at is None:
        return None
    slots = [(*branch_at, "branch"), (*tag_at, "tag"), (*call_id, "call_id"),
             (cseq[0], cseq[0] + len(number), "cseq")]
    lines = invite._before_to  # "Via: <stamped Via>\r\nFrom: <From>\r\n"
    from_line = f"\r\nFrom: {text[from_[0] : from_[1]]}\r\n"
    if not lines.endswith(from_line):
        return None
    via_line = lines[: len(lines) - len(from_line)]
    if via_line.count(branch) != 1:
        return None
    before, after_branch = via_line.split(branch)
    from_text = text[from_[0] : from_[1]]
    tag_start = tag_at[0] - from_[0]
    return slots, (before, f"{after_branch}\r\nFrom: {from_text[:tag_start]}",
                   f"{from_text[tag_start + len(tag) :]}\r\n")
