"""Call detail records: one CSV row per finished call.

The file is $TUI_PHONE_CDR, else $XDG_DATA_HOME/tui-phone/cdr.csv
(~/.local/share/tui-phone/cdr.csv); the header is written when the file is new.
"""

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

from tui_phone.scripts import on

FIELDS = ["ended_at", "direction", "remote", "remote_user", "answered", "status", "reason",
          "duration_s", "codec", "loss_pct", "jitter_ms", "mos", "ended_by"]


def cdr_path():
    if os.environ.get("TUI_PHONE_CDR"):
        return Path(os.environ["TUI_PHONE_CDR"])
    data = os.environ.get("XDG_DATA_HOME", "")
    root = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return root / "tui-phone" / "cdr.csv"


@on("call_ended")
def write_cdr(phone, event):
    call = event.call
    row = {
        "ended_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "direction": "out" if getattr(call, "outgoing", False) else "in",
        "remote": event.remote,
        "remote_user": call.remote_user or "",
        "answered": event.answered,
        "status": event.status,
        "reason": event.reason,
        "duration_s": f"{event.duration_s:.1f}",
        "codec": event.codec or "",
        "loss_pct": event.rtp.loss_pct,
        "jitter_ms": event.rtp.jitter_ms,
        "mos": "" if event.rtp.mos is None else event.rtp.mos,
        "ended_by": event.ended_by,
    }
    path = cdr_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(row)
