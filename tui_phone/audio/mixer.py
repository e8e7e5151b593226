"""The local conference mixer: every participant hears all the others (N-1).

Pure logic, driven by the call's audio clock once per frame (``tick``):

1. :meth:`ConferenceMixer.push` hands in a participant's PCM at its own rate
   (the microphone, a decoded remote stream); it is resampled at once to the
   conference rate (8, 16 or 48 kHz) with ``ratecv`` state kept per
   participant, and queued.
2. :meth:`ConferenceMixer.mix` takes one frame per participant (silence if
   it pushed nothing this tick), and gives each participant the sum of all
   the *other* frames, resampled back to the participant's own rate (again
   with per-participant state).

Summing: each frame is widened to 32-bit (``lin2lin`` then ``mul`` by 2^-16
keeps the values, merely in a wider container), the total is summed with
``audioop.add`` at width 4 (no overflow below 65536 participants), each
participant's own frame is subtracted, and the result is narrowed to 16 bits
once, saturating: ``mul`` by 2^16 clips at the 32-bit limits and ``lin2lin``
keeps the top 16 bits.  So loud talkers clip (as ``audioop.add`` does at
width 2) instead of wrapping around, and the result does not depend on the
order of the participants, as summing in 16 bits with a clip at every step
would.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from . import _audioop
from .errors import AudioUsageError
from .resample import SAMPLE_WIDTH, FrameResampler, check_pcm

CONFERENCE_RATES = (8000, 16_000, 48_000)
WIDE = 4  # bytes per sample while summing
_NARROW_TO_WIDE = 2.0**-16  # undoes lin2lin(2 -> 4)'s shift by 16 bits
_WIDE_TO_NARROW = 2.0**16

ParticipantId = TypeVar("ParticipantId", bound=Hashable)


@dataclass
class _Participant:
    rate: int
    inbound: FrameResampler  # participant rate -> conference rate
    outbound: FrameResampler  # conference rate -> participant rate
    pushed: bool = False  # pushed anything since the last tick
    silent_ticks: int = 0  # ticks in which it had nothing queued


@dataclass(frozen=True, slots=True)
class ParticipantStats:
    """Counters of one participant's streams in a :class:`ConferenceMixer`."""

    rate: int
    silent_ticks: int  # ticks in which it pushed nothing
    dropped_samples: int  # conference-rate samples dropped: it pushed too much


class ConferenceMixer(Generic[ParticipantId]):
    """N-1 mixer of participants at any rates, mixing at ``rate``.

    ``frame_ms`` is the tick length (ptime).  Each participant may queue up
    to ``max_frames`` frames ahead before its oldest samples are dropped.
    """

    def __init__(self, rate: int = 16_000, frame_ms: int = 20, *, max_frames: int = 4) -> None:
        if rate not in CONFERENCE_RATES:
            raise AudioUsageError(
                f"conference rate must be 8000, 16000 or 48000 Hz, not {rate}"
            )
        if frame_ms <= 0 or rate * frame_ms % 1000:
            raise AudioUsageError(f"frame length {frame_ms} ms does not fit {rate} Hz")
        self.rate = rate
        self.frame_ms = frame_ms
        self.frame_samples = rate * frame_ms // 1000
        self._max_frames = max_frames
        self._participants: dict[ParticipantId, _Participant] = {}

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._participants

    def __len__(self) -> int:
        return len(self._participants)

    @property
    def participants(self) -> list[ParticipantId]:
        """Participant ids in the order they were added."""
        return list(self._participants)

    def frame_samples_for(self, participant_id: ParticipantId) -> int:
        """Samples per tick at the participant's own rate."""
        return self._get(participant_id).rate * self.frame_ms // 1000

    def add(self, participant_id: ParticipantId, rate: int) -> None:
        """Join a participant whose PCM is at ``rate`` Hz."""
        if participant_id in self._participants:
            raise AudioUsageError(f"participant {participant_id!r} is already in the conference")
        if rate * self.frame_ms % 1000:
            raise AudioUsageError(
                f"participant rate {rate} Hz has no whole {self.frame_ms} ms frames"
            )
        own_frame = rate * self.frame_ms // 1000
        self._participants[participant_id] = _Participant(
            rate=rate,
            inbound=FrameResampler(rate, self.rate, self.frame_samples, max_frames=self._max_frames),
            outbound=FrameResampler(self.rate, rate, own_frame, max_frames=self._max_frames),
        )

    def remove(self, participant_id: ParticipantId) -> None:
        """Leave the conference (unknown ids raise :class:`AudioUsageError`)."""
        self._get(participant_id)
        del self._participants[participant_id]

    def push(self, participant_id: ParticipantId, pcm: bytes) -> None:
        """Queue PCM from a participant, at its own rate."""
        participant = self._get(participant_id)
        check_pcm(pcm)
        participant.inbound.push(pcm)
        participant.pushed = True

    def mix(self) -> dict[ParticipantId, bytes]:
        """One tick: for each participant, the frame it hears, at its own rate."""
        if not self._participants:
            return {}
        wide: dict[ParticipantId, bytes] = {}
        for pid, participant in self._participants.items():
            if not participant.pushed and participant.inbound.buffered_samples == 0:
                participant.silent_ticks += 1
            participant.pushed = False
            frame = participant.inbound.pop_frame()
            wide[pid] = _audioop.mul(_audioop.lin2lin(frame, SAMPLE_WIDTH, WIDE), WIDE, _NARROW_TO_WIDE)
        total = bytes(self.frame_samples * WIDE)
        for frame in wide.values():
            total = _audioop.add(total, frame, WIDE)
        heard: dict[ParticipantId, bytes] = {}
        for pid, participant in self._participants.items():
            others = _audioop.add(total, _audioop.mul(wide[pid], WIDE, -1.0), WIDE)
            narrow = _audioop.lin2lin(_audioop.mul(others, WIDE, _WIDE_TO_NARROW), WIDE, SAMPLE_WIDTH)
            heard[pid] = participant.outbound.convert_frame(narrow)
        return heard

    def stats(self, participant_id: ParticipantId) -> ParticipantStats:
        """Counters of one participant."""
        participant = self._get(participant_id)
        return ParticipantStats(
            rate=participant.rate,
            silent_ticks=participant.silent_ticks,
            dropped_samples=participant.inbound.dropped_samples,
        )

    def _get(self, participant_id: ParticipantId) -> _Participant:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise AudioUsageError(f"no participant {participant_id!r} in the conference") from None

