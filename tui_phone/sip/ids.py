"""Random identifiers: Via branches, tags, Call-IDs and cnonces.

The randomness source is injected, so tests seed a ``random.Random`` and get
the same identifiers on every run; the phone uses ``random.SystemRandom()``
(the default), because tags and Call-IDs must be hard to guess (RFC 3261 8.1.1.4,
19.3) and the cnonce protects digest authentication (RFC 2617 3.2.2).
"""

from __future__ import annotations

import random
import re
from typing import Protocol

from .errors import LocalProtocolError
from .via import MAGIC_COOKIE

# RFC 3261 19.3: tags need at least 32 random bits; Call-IDs and branches must
# be unique across space and time, so they get more.
BRANCH_BITS = 96
TAG_BITS = 64
CALL_ID_BITS = 128
CNONCE_BITS = 128

# RFC 3261 25.1: the characters of ``word`` (the grammar of each half of a Call-ID).
_WORD_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+\Z")


class RandomSource(Protocol):
    """What :class:`IdGenerator` needs from a random number generator."""

    def getrandbits(self, k: int, /) -> int:
        """A non-negative integer with ``k`` random bits."""
        ...


class IdGenerator:
    """Makes the random identifiers a user agent puts in its requests.

    Every identifier is lower-case hexadecimal, which is a valid ``token``
    (branch, tag, cnonce) and ``word`` (Call-ID) in RFC 3261 25.1.
    """

    __slots__ = ("_rng",)

    def __init__(self, rng: RandomSource | None = None) -> None:
        self._rng: RandomSource = rng if rng is not None else random.SystemRandom()

    def token(self, bits: int) -> str:
        """``bits`` random bits as hexadecimal, zero-padded to a fixed width."""
        if bits <= 0:
            raise LocalProtocolError(f"a token needs a positive number of bits, not {bits}")
        width = (bits + 3) // 4
        return f"{self._rng.getrandbits(bits):0{width}x}"

    def branch(self) -> str:
        """A Via branch: the magic cookie and a random part (RFC 3261 8.1.1.7)."""
        return MAGIC_COOKIE + self.token(BRANCH_BITS)

    def tag(self) -> str:
        """A From or To tag (RFC 3261 19.3)."""
        return self.token(TAG_BITS)

    def call_id(self, host: str | None = None) -> str:
        """A Call-ID, ``random@host`` when a host is given (RFC 3261 8.1.1.4, 20.8)."""
        local = self.token(CALL_ID_BITS)
        if host is None:
            return local
        if not _WORD_RE.match(host):
            raise LocalProtocolError(f"invalid Call-ID host {host!r}")
        return f"{local}@{host}"

    def cnonce(self) -> str:
        """A client nonce for digest authentication (RFC 2617 3.2.2, RFC 7616 3.4)."""
        return self.token(CNONCE_BITS)


__all__ = [
    "BRANCH_BITS",
    "CALL_ID_BITS",
    "CNONCE_BITS",
    "TAG_BITS",
    "IdGenerator",
    "RandomSource",
]
