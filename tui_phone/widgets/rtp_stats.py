"""The live RTP panel of the selected call: figures and 60 s sparklines."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static

REFRESH_S = 0.5  # the app samples call.stats() this often
WINDOW_S = 60.0
SAMPLES = int(WINDOW_S / REFRESH_S)


@dataclass(frozen=True, slots=True)
class StatsSample:
    """One reading of a call's media statistics (None: not known)."""

    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    rtt_ms: float | None = None
    mos: float | None = None
    tx_packets: int = 0
    rx_packets: int = 0
    rx_lost: int = 0
    bitrate_kbps: float | None = None
    jb_current_ms: float | None = None
    jb_target_ms: float | None = None
    concealed_frames: int | None = None
    sender: str | None = None
    expected_sender: str | None = None


class RtpStats(Widget):
    """Jitter, loss, RTT, MOS, packets, bitrate, jitter buffer, concealment and the
    RTP sender (flagged when it is not the address the SDP announced)."""

    DEFAULT_CSS = """
    RtpStats {
        height: auto;
        border: round $primary;
        border-title-color: $text;
        padding: 0 1;
    }
    RtpStats #stats-figures {
        height: auto;
    }
    RtpStats #stats-warning {
        height: auto;
        color: $warning;
        text-style: bold;
    }
    RtpStats .spark-row {
        height: 1;
    }
    RtpStats .spark-row Label {
        width: 8;
    }
    RtpStats Sparkline {
        width: 1fr;
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = "rtp-stats") -> None:
        super().__init__(id=id)
        self.border_title = "RTP"
        self.jitter: deque[float] = deque(maxlen=SAMPLES)
        self.loss: deque[float] = deque(maxlen=SAMPLES)
        self.mos: deque[float] = deque(maxlen=SAMPLES)
        self.last: StatsSample | None = None

    def compose(self) -> ComposeResult:
        yield Static("no call selected", id="stats-figures")
        warning = Static("", id="stats-warning")
        warning.display = False
        yield warning
        for name in ("jitter", "loss", "mos"):
            with Horizontal(classes="spark-row"):
                yield Label(name)
                yield Sparkline([], id=f"spark-{name}")

    def clear(self, title: str = "RTP") -> None:
        """Forget the samples (another call was selected, or none)."""
        self.jitter.clear()
        self.loss.clear()
        self.mos.clear()
        self.last = None
        self.border_title = title
        self.query_one("#stats-figures", Static).update("no call selected")
        self.query_one("#stats-warning", Static).update("")
        self.query_one("#stats-warning", Static).display = False
        self._sparks()

    def push(self, sample: StatsSample, title: str | None = None) -> None:
        """Add a reading and redraw."""
        self.last = sample
        if title is not None:
            self.border_title = title
        self.jitter.append(sample.jitter_ms)
        self.loss.append(sample.loss_pct)
        self.mos.append(sample.mos if sample.mos is not None else 0.0)
        self.query_one("#stats-figures", Static).update(_figures(sample))
        warning = ""
        if sample.sender and sample.expected_sender and sample.sender != sample.expected_sender:
            warning = f"⚠ RTP from {sample.sender}, expected {sample.expected_sender}"
        shown = self.query_one("#stats-warning", Static)
        shown.update(warning)
        shown.display = bool(warning)
        self._sparks()

    def _sparks(self) -> None:
        for name, values in (("jitter", self.jitter), ("loss", self.loss), ("mos", self.mos)):
            self.query_one(f"#spark-{name}", Sparkline).data = list(values)


def _figures(s: StatsSample) -> str:
    def opt(value: float | None, fmt: str) -> str:
        return "n/a" if value is None else format(value, fmt)

    return (
        f"jitter {s.jitter_ms:.1f} ms  loss {s.loss_pct:.1f} %  RTT {opt(s.rtt_ms, '.0f')} ms"
        f"  MOS {opt(s.mos, '.2f')}\n"
        f"packets tx {s.tx_packets} rx {s.rx_packets} lost {s.rx_lost}"
        f"  bitrate {opt(s.bitrate_kbps, '.1f')} kb/s\n"
        f"jitter buffer {opt(s.jb_current_ms, '.0f')}/{opt(s.jb_target_ms, '.0f')} ms"
        f"  concealed {opt(s.concealed_frames, 'd')}  from {s.sender or 'n/a'}"
    )


__all__ = ["RtpStats", "StatsSample"]
