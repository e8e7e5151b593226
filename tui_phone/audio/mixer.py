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

The result is exact, saturating: participant *i* hears ``clip16(S - n_i)``
where ``S`` is the true sum of all frames, so loud talkers clip (as
``audioop.add`` does at width 2) instead of wrapping around, and the result
does not depend on the order of the participants, as summing in 16 bits with
a clip at every step would.

Speed (``bench/mixer.py``): ``audioop`` costs little per call but a few
nanoseconds per sample and per pass, so the frames of all participants are
joined into one buffer and every pass runs over all of them at once:

* *Narrow path*, the usual one.  ``S`` is summed at width 2 as a tree of
  block-wise ``add`` calls (18 frames: 5 calls).  A partial sum that reached
  the 16-bit limits may have clipped; the peak of each partial sum
  (``audioop.max``, one C pass) says whether any sample came within 256 of a
  limit, and then the wide path below is used instead (once ``count * peak``
  cannot get there, the rest of the tree goes unchecked).  Otherwise ``S`` is
  exact and within +-32511, and
  ``clip16(S - n_i) = clip16((S + 1) + ~n_i)``
  (two's complement: ``-n = ~n + 1``) is one saturating width-2 ``add`` of
  the complemented frames (a byte ``translate``, exact even for -32768,
  whose negation has no 16-bit form) and ``S + 1`` repeated.
* *Wide path*, when partial sums clip.  The frames are widened to 32 bits
  (``lin2lin`` then ``mul`` by 2^-16 keeps the values, in a wider container),
  summed there (no overflow below 65536 participants), ``S`` is subtracted
  from each frame and the result ``-(S - n_i)`` is narrowed to 16 bits once,
  saturating: ``mul`` by -2^16 clips at the 32-bit limits and ``lin2lin``
  keeps the top 16 bits.

A participant at the conference rate that pushes exactly one frame per tick
(the usual case) bypasses the resampler and its FIFO: the frame is kept as
is until the tick.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from . import _audioop
from .errors import AudioUsageError
from .resample import SAMPLE_WIDTH, FrameResampler, check_pcm

CONFERENCE_RATES = (8000, 16_000, 48_000)
WIDE = 4  # bytes per sample while summing on the wide path
_NARROW_TO_WIDE = 2.0**-16  # undoes lin2lin(2 -> 4)'s shift by 16 bits
_WIDE_TO_NARROW_NEGATED = -(2.0**16)
_COMPLEMENT = bytes(255 - value for value in range(256))  # bytes.translate: ~x, sample-wise

ParticipantId = TypeVar("ParticipantId", bound=Hashable)


class _Participant:
    """One participant's queues and counters (mutable, per tick)."""

    __slots__ = ("direct", "frame", "inbound", "outbound", "pushed", "queued", "rate", "silent_ticks")

    def __init__(self, rate: int, inbound: FrameResampler, outbound: FrameResampler | None) -> None:
        self.rate = rate
        self.direct = outbound is None  # at the conference rate: no resampling either way
        self.inbound = inbound  # participant rate -> conference rate, with a FIFO
        self.outbound = outbound  # conference rate -> participant rate (None: same rate)
        self.frame: bytes | None = None  # the fast path: one whole frame pushed, FIFO empty
        self.queued = False  # the inbound FIFO may hold samples
        self.pushed = False  # pushed into the FIFO since the last tick
        self.silent_ticks = 0  # ticks in which it had nothing queued


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
        self._frame_bytes = self.frame_samples * SAMPLE_WIDTH
        self._silence = bytes(self._frame_bytes)
        self._max_frames = max_frames
        self._participants: dict[ParticipantId, _Participant] = {}
        # Kept in step with _participants on add/remove, so a tick builds nothing.
        self._ids: list[ParticipantId] = []
        self._members: list[_Participant] = []
        self._resampling = False  # some participant is not at the conference rate
        self._slices: list[slice] = []  # participant i's frame in the joined buffer

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._participants

    def __len__(self) -> int:
        return len(self._participants)

    @property
    def participants(self) -> list[ParticipantId]:
        """Participant ids in the order they were added."""
        return list(self._ids)

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
        inbound = FrameResampler(rate, self.rate, self.frame_samples, max_frames=self._max_frames)
        outbound = None
        if rate != self.rate:
            outbound = FrameResampler(self.rate, rate, own_frame, max_frames=self._max_frames)
        self._participants[participant_id] = _Participant(rate, inbound, outbound)
        self._members_changed()

    def remove(self, participant_id: ParticipantId) -> None:
        """Leave the conference (unknown ids raise :class:`AudioUsageError`)."""
        self._get(participant_id)
        del self._participants[participant_id]
        self._members_changed()

    def push(self, participant_id: ParticipantId, pcm: bytes) -> None:
        """Queue PCM from a participant, at its own rate."""
        try:
            participant = self._participants[participant_id]
        except KeyError:
            raise AudioUsageError(f"no participant {participant_id!r} in the conference") from None
        if (
            participant.direct
            and participant.frame is None
            and not participant.queued
            and len(pcm) == self._frame_bytes
        ):
            # The usual case: one whole frame, nothing queued before it.
            participant.frame = pcm if type(pcm) is bytes else bytes(pcm)
            return
        check_pcm(pcm)
        if participant.frame is not None:  # a second push in this tick: queue both, in order
            participant.inbound.push(participant.frame)
            participant.frame = None
        participant.inbound.push(pcm)
        participant.queued = True
        participant.pushed = True

    def mix(self) -> dict[ParticipantId, bytes]:
        """One tick: for each participant, the frame it hears, at its own rate."""
        members = self._members
        if not members:
            return {}
        frames: list[bytes] = []
        for participant in members:
            frame = participant.frame
            if frame is None:
                frame = self._pop_queued(participant)
            else:
                participant.frame = None
            frames.append(frame)
        joined = b"".join(frames)
        count = len(frames)
        total = _narrow_sum(joined, count, self._frame_bytes)
        if total is None:
            heard = _mix_wide(joined, count, self._frame_bytes)
        else:
            heard = _audioop.add(
                joined.translate(_COMPLEMENT), _audioop.bias(total, SAMPLE_WIDTH, 1) * count, SAMPLE_WIDTH
            )
        outputs = [heard[part] for part in self._slices]
        if self._resampling:
            for index, participant in enumerate(members):
                if participant.outbound is not None:
                    outputs[index] = participant.outbound.convert_frame(outputs[index])
        return dict(zip(self._ids, outputs))

    def stats(self, participant_id: ParticipantId) -> ParticipantStats:
        """Counters of one participant."""
        participant = self._get(participant_id)
        return ParticipantStats(
            rate=participant.rate,
            silent_ticks=participant.silent_ticks,
            dropped_samples=participant.inbound.dropped_samples,
        )

    def _pop_queued(self, participant: _Participant) -> bytes:
        """The participant's frame from its FIFO (it did not use the fast path)."""
        if not participant.queued and not participant.pushed:
            participant.silent_ticks += 1
            return self._silence
        participant.pushed = False
        frame = participant.inbound.pop_frame()
        participant.queued = participant.inbound.buffered_samples > 0
        return frame

    def _members_changed(self) -> None:
        self._ids = list(self._participants)
        self._members = list(self._participants.values())
        self._resampling = any(not participant.direct for participant in self._members)
        size = self._frame_bytes
        self._slices = [slice(index * size, (index + 1) * size) for index in range(len(self._ids))]

    def _get(self, participant_id: ParticipantId) -> _Participant:
        try:
            return self._participants[participant_id]
        except KeyError:
            raise AudioUsageError(f"no participant {participant_id!r} in the conference") from None


def _narrow_sum(joined: bytes, count: int, frame_bytes: int) -> bytes | None:
    """The sample-wise sum of ``count`` 16-bit frames laid end to end, if exact.

    Summed pairwise, half the frames onto the other half, until one is left;
    ``None`` when a partial sum came near the 16-bit limits (it may have
    clipped) or the sum is not within +-32511 (the narrow path adds 1).
    Once the partial sums are small enough that even adding them all up
    cannot come near the limits, the remaining levels go unchecked.
    """
    if count == 1:
        return None if _audioop.maxabs(joined, SAMPLE_WIDTH) >= _NEAR_LIMIT else joined
    total = joined
    blocks = memoryview(joined)
    checked = True
    while count > 1:
        half = count // 2
        edge = half * frame_bytes
        total = _audioop.add(blocks[:edge], blocks[edge : 2 * edge], SAMPLE_WIDTH)
        if count % 2:
            total += blocks[2 * edge :]
        count = half + count % 2
        if checked:
            peak = _audioop.maxabs(total, SAMPLE_WIDTH)
            if peak >= _NEAR_LIMIT:
                return None  # within 256 of a limit, or at it (it may have clipped)
            # Once count * peak cannot come near a limit, no later level can either.
            checked = count * peak >= _NEAR_LIMIT
        blocks = memoryview(total)
    return total


# A partial sum whose peak reaches this (within 256 of +-32768) may have
# clipped, or the narrow path's +1 could overflow: take the exact wide path.
_NEAR_LIMIT = 32512


def _mix_wide(joined: bytes, count: int, frame_bytes: int) -> bytes:
    """The N-1 mix of ``count`` frames laid end to end, summed at 32 bits."""
    wide = _audioop.mul(_audioop.lin2lin(joined, SAMPLE_WIDTH, WIDE), WIDE, _NARROW_TO_WIDE)
    wide_frame = frame_bytes * WIDE // SAMPLE_WIDTH
    blocks = memoryview(wide)
    while count > 1:
        half = count // 2
        edge = half * wide_frame
        summed = _audioop.add(blocks[:edge], blocks[edge : 2 * edge], WIDE)
        if count % 2:
            summed += blocks[2 * edge :]
        blocks = memoryview(summed)
        count = half + count % 2
    negated_total = _audioop.mul(blocks, WIDE, -1.0)
    own_minus_total = _audioop.add(wide, negated_total * (len(wide) // wide_frame), WIDE)
    return _audioop.lin2lin(_audioop.mul(own_minus_total, WIDE, _WIDE_TO_NARROW_NEGATED), WIDE, SAMPLE_WIDTH)
