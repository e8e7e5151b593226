"""The Replaces header value (RFC 3891 6.1): ``callid;to-tag=..;from-tag=..[;early-only]``.

Used by attended transfer and call pickup: the INVITE that replaces a dialog
carries it as a header, the REFER that asks for that INVITE carries it inside
the Refer-To URI. Matching a value to a dialog is :meth:`Dialog.matches_replaces`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LocalProtocolError, SipParseError

_TOKEN_RE = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
# RFC 3261 25.1: callid = word [ "@" word ].
_WORD = r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+"
_CALL_ID_RE = re.compile(rf"{_WORD}(?:@{_WORD})?\Z")


@dataclass(frozen=True, slots=True)
class Replaces:
    """The Replaces header value (RFC 3891 6.1): ``callid;to-tag=..;from-tag=..[;early-only]``.

    The tags are named from the point of view of the UA that receives the
    INVITE with Replaces: ``to_tag`` is the *local* tag of its dialog and
    ``from_tag`` the *remote* one (RFC 3891 3). :meth:`Dialog.replaces`
    builds the value from the sender's dialog, where it is the other way round.
    ``params`` keeps extension parameters.
    """

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False
    params: tuple[tuple[str, str | None], ...] = ()

    def __post_init__(self) -> None:
        if not _CALL_ID_RE.match(self.call_id):
            raise LocalProtocolError(f"invalid Call-ID {self.call_id!r} in Replaces")
        for name, tag in (("to-tag", self.to_tag), ("from-tag", self.from_tag)):
            if not _TOKEN_RE.match(tag):
                raise LocalProtocolError(f"invalid {name} {tag!r} in Replaces")

    @classmethod
    def parse(cls, text: str) -> Replaces:
        """Parse a Replaces value; errors are :class:`SipParseError` (400)."""
        call_id, *items = [part.strip(" \t") for part in text.strip(" \t").split(";")]
        if not call_id:
            raise SipParseError("empty Call-ID in Replaces")
        if not _CALL_ID_RE.match(call_id):
            raise SipParseError(f"invalid Call-ID {call_id[:60]!r} in Replaces")
        tags: dict[str, str] = {}
        early_only = False
        params: list[tuple[str, str | None]] = []
        for item in items:
            name, eq, value = (part.strip(" \t") for part in item.partition("="))
            if not name:
                raise SipParseError("empty parameter in Replaces")
            low = name.lower()
            if not _TOKEN_RE.match(name) or (eq and not _TOKEN_RE.match(value)):
                raise SipParseError(f"invalid parameter {item[:40]!r} in Replaces")
            if low in ("to-tag", "from-tag"):
                if not eq:
                    raise SipParseError(f"{low} without a value in Replaces")
                if low in tags:
                    raise SipParseError(f"duplicate {low} in Replaces")
                tags[low] = value
            elif low == "early-only":
                if eq or early_only:
                    raise SipParseError("invalid early-only flag in Replaces")
                early_only = True
            else:
                params.append((name, value if eq else None))
        # RFC 3891 6.1: exactly one to-tag and one from-tag.
        for required in ("to-tag", "from-tag"):
            if required not in tags:
                raise SipParseError(f"missing {required} in Replaces")
        return cls(call_id, tags["to-tag"], tags["from-tag"], early_only, tuple(params))

    def __str__(self) -> str:
        text = f"{self.call_id};to-tag={self.to_tag};from-tag={self.from_tag}"
        if self.early_only:
            text += ";early-only"
        return text + "".join(
            f";{name}" if value is None else f";{name}={value}" for name, value in self.params
        )


__all__ = ["Replaces"]
