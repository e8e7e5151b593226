"""The RTP timeout: a connected call whose peer has gone silent is hung up.

A peer that crashes, loses its network or forgets the call sends no BYE; the
only sign is that its media stops. Without a timeout such a call stays up
forever (and an ``answer --max-calls N`` run never ends). The watchdog looks
at the RTP session every few seconds: any RTP, RTCP or RFC 4733 packet from
the peer counts as life. After ``[phone] rtp_timeout`` seconds without one,
the call is hung up (BYE) and ends with status 408, reason "RTP timeout".

While either side holds the call the peer may legitimately send nothing
(RFC 3264 8.4: a held stream is sendonly or inactive, and many phones send no
music on hold), so the clock is paused then. RTCP (RFC 3550 6.2: at least
every few seconds, during hold too) keeps a quiet, VAD-silent stream alive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .call import Call

TIMEOUT_STATUS = 408
TIMEOUT_REASON = "RTP timeout"


class RtpWatchdog:
    """Hangs ``call`` up after ``timeout`` seconds without a packet from its peer."""

    def __init__(self, call: Call, timeout: float) -> None:
        self.call = call
        self.timeout = timeout
        self.interval = min(5.0, timeout / 2)
        self._seen = -1  # packets from the peer at the last look
        self._quiet_since = call.reactor.seconds()
        self._timer: Any = None

    def start(self) -> None:
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _schedule(self) -> None:
        self._timer = self.call.reactor.callLater(self.interval, self._look)

    def _look(self) -> None:
        self._timer = None
        call = self.call
        now = call.reactor.seconds()
        seen = call.media.session.packets_heard()
        if seen != self._seen or call.on_hold or call.remote_hold:
            self._seen, self._quiet_since = seen, now
        elif now - self._quiet_since >= self.timeout:
            call.hangup(status=TIMEOUT_STATUS, reason=TIMEOUT_REASON)
            return
        self._schedule()


__all__ = ["RtpWatchdog", "TIMEOUT_REASON", "TIMEOUT_STATUS"]
