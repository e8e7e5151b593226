"""Error types of the audio package.

Errors say whose fault it was, as elsewhere in tui-phone:

* :class:`AudioUnavailable`: something this machine lacks (a sound card,
  PortAudio, libopus, the G722 package).  Its message is meant for the user
  as is, and says what to do instead; the phone prints it, never a traceback.
* :class:`AudioSpecError`: the user asked for something malformed (a bad
  ``--audio`` spec, an unknown tone).
* :class:`WavFormatError`: a WAV file we cannot read or play.
* :class:`PayloadError`: a payload from the peer that its codec cannot decode.
* :class:`AudioUsageError`: our own code called the audio API wrongly (PCM of
  the wrong length, an unknown conference participant): a bug on our side.

Every message is exact and stable: tests assert it.
"""

from __future__ import annotations


class AudioError(Exception):
    """Base class of every error raised by the audio package."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r})"


class AudioUnavailable(AudioError):
    """A device, library or codec this machine does not have."""


class CodecUnavailable(AudioUnavailable):
    """A codec that is unknown or whose library is missing here."""


class AudioSpecError(AudioError, ValueError):
    """A malformed audio choice from the user (``--audio``, a tone name)."""


class WavFormatError(AudioError, ValueError):
    """A WAV file that cannot be read, or is in a format we do not play."""


class PayloadError(AudioError, ValueError):
    """A codec payload from the peer that cannot be decoded (the peer's fault)."""


class AudioUsageError(AudioError, ValueError):
    """Our own code used the audio API wrongly (a bug on our side)."""
