"""tel URIs (RFC 3966): global and local telephone numbers with their parameters.

:class:`TelUri` is one of the three kinds of :data:`~.uri.Uri`; ``parse_uri``
(:mod:`~tui_phone.sip.uri`, which re-exports :class:`TelUri`) reads a ``tel:``
URI through :func:`parse_tel`. Bad input raises :class:`SipParseError` (400)
with an exact reason, a bad :class:`TelUri` made in code
:class:`LocalProtocolError`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._uri_syntax import DOMAIN_RE, PARAM_CHARS, URIC_CHARS, Charset, Parameters, fold
from .errors import LocalProtocolError, SipParseError

_GLOBAL_NUMBER_RE = re.compile(r"\+[0-9\-.()]*\Z")
_LOCAL_NUMBER_RE = re.compile(r"[0-9A-Fa-f*#\-.()]*\Z")
_NUMBER_DIGIT_RE = re.compile(r"[0-9A-Fa-f*#]")
_VISUAL_SEPARATORS_RE = re.compile(r"[\-.()]")
_TEL_PNAME_RE = re.compile(r"[A-Za-z0-9\-]+\Z")

_TEL_NUMBER = Charset.of("tel URI number", r"0-9A-Fa-f*+\-.()")  # '#' travels as %23
_TEL_PARAM = Charset.of("tel URI parameter", PARAM_CHARS)
_TEL_ISUB = Charset.of("tel URI isub parameter", URIC_CHARS.replace(";", ""))


@dataclass(frozen=True, eq=False, slots=True)
class TelUri:
    """A tel URI (RFC 3966): ``number`` is '+'-prefixed (global) or local, as written.

    A local number needs a ``phone-context`` parameter (RFC 3966 5.1.5).
    Equality follows RFC 3966 4: visual separators are ignored, every
    parameter must be in both, comparison is case-insensitive.
    """

    number: str
    params: Parameters = field(default_factory=Parameters)
    _raw: str | None = field(default=None, repr=False, kw_only=True)
    scheme: ClassVar[str] = "tel"

    def __post_init__(self) -> None:
        if type(self.params) is not Parameters:  # type(): cheaper than an ABC isinstance
            object.__setattr__(self, "params", Parameters(self.params))
        if self._raw is None:
            reason = _tel_error(self.number, self.params)
            if reason is not None:
                raise LocalProtocolError(reason)

    @classmethod
    def parse(cls, text: str) -> TelUri:
        """Parse a tel URI; other schemes raise ``SipParseError`` (416)."""
        from .uri import parse_uri  # uri imports this module: parse_uri reads every scheme

        uri = parse_uri(text)
        if not isinstance(uri, TelUri):
            raise SipParseError(f"unsupported URI scheme {uri.scheme!r}", 416)
        return uri

    def replace(self, **changes: Any) -> TelUri:
        """A copy with ``changes`` applied; it serializes from its fields."""
        return dataclasses.replace(self, _raw=None, **changes)

    @property
    def is_global(self) -> bool:
        """True for a global (E.164, '+'-prefixed) number."""
        return self.number.startswith("+")

    @property
    def digits(self) -> str:
        """The number without visual separators ('-', '.', '(', ')')."""
        return _VISUAL_SEPARATORS_RE.sub("", self.number)

    @property
    def phone_context(self) -> str | None:
        """The ``phone-context`` parameter, or None."""
        return self.params.get("phone-context")

    def _key(self) -> tuple[Any, ...]:
        params = frozenset(
            (key, _tel_param_key(key, value))
            for key, (_, value) in zip(self.params.keys_folded, self.params.pairs)
        )
        return (self.is_global, self.digits.lower(), params)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TelUri):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self._raw is not None:
            return self._raw
        parts = ["tel:", _TEL_NUMBER.encode(self.number)]
        for name, value in self.params.pairs:
            parts += [";", name]
            if value is not None:
                charset = _TEL_ISUB if name.lower() == "isub" else _TEL_PARAM
                parts += ["=", charset.encode(value)]
        return "".join(parts)


def _tel_param_key(key: str, value: str | None) -> str | None:
    # RFC 3966 4: a global-number phone-context (and ext) compare without separators.
    if value is not None and (key == "ext" or (key == "phone-context" and value[:1] == "+")):
        value = _VISUAL_SEPARATORS_RE.sub("", value)
    return fold(value)


def _phone_number_error(number: str, is_context: bool = False) -> str | None:
    what = "phone-context" if is_context else "telephone number"
    if number.startswith("+"):  # global-number-digits = "+" *phonedigit DIGIT *phonedigit
        valid = _GLOBAL_NUMBER_RE.match(number) and _NUMBER_DIGIT_RE.search(number)
    elif is_context:
        valid = DOMAIN_RE.match(number)
    else:  # local-number-digits: at least one HEXDIG / "*" / "#"
        valid = _LOCAL_NUMBER_RE.match(number) and _NUMBER_DIGIT_RE.search(number)
    return None if valid else f"invalid {what} in tel URI"


def _tel_error(number: str, params: Parameters) -> str | None:
    """Why a tel URI with these (unescaped) parts is invalid (RFC 3966 3, 5.1.5)."""
    reason = _phone_number_error(number)
    if reason is not None:
        return reason
    for name, value in params.pairs:
        if not _TEL_PNAME_RE.match(name):
            return f"invalid tel URI parameter name {name!r}"
        if value == "":
            return f"empty value for tel URI parameter {name!r}"
    context = params.get("phone-context")
    if context is not None:
        return _phone_number_error(context, is_context=True)
    if "phone-context" in params:
        return "empty value for tel URI parameter 'phone-context'"
    if not number.startswith("+"):
        return "local number in tel URI requires a phone-context parameter"
    return None


def parse_tel(text: str, rest: str) -> TelUri:
    """RFC 3966 3 telephone-subscriber: the tel URI ``text``, ``rest`` its part after
    ``tel:`` (what :func:`~.uri.parse_uri` calls for that scheme)."""
    number_text, semi, params_text = rest.partition(";")
    number = _TEL_NUMBER.decode(number_text.replace("#", "%23"))
    items: list[tuple[str, str | None]] = []
    keys: list[str] = []
    for item in params_text.split(";") if semi else ():
        name, eq, value_text = item.partition("=")
        if not name:
            raise SipParseError("empty tel URI parameter")
        if not _TEL_PNAME_RE.match(name):
            raise SipParseError(f"invalid tel URI parameter name {name[:32]!r}")
        key = name.lower()
        if key in keys:
            raise SipParseError(f"duplicate tel URI parameter {name!r}")
        charset = _TEL_ISUB if key == "isub" else _TEL_PARAM
        items.append((name, charset.decode(value_text) if eq else None))
        keys.append(key)
    params = Parameters.trusted(items, keys)
    reason = _tel_error(number, params)
    if reason is not None:
        raise SipParseError(reason)
    return TelUri(number, params, _raw=text)


__all__ = ["TelUri", "parse_tel"]
