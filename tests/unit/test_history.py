"""History: WAL, one row per CallEnded, redial, CSV/JSON export, the click command."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from tui_phone.events import CallEnded, RtpSummary
from tui_phone.history import History, default_history_path, history_command


def _ended(remote: str = "sip:bob@127.0.0.1", status: int = 200) -> CallEnded:
    return CallEnded(None, "cid", remote, status, "OK", 12.5, "PCMU",
                     RtpSummary(600, 598, 2, 0.33, 1.5, 4.0, 10.0, 4.3), True, "local")


def test_row_written_in_wal_mode_and_read_back(tmp_path: Path) -> None:
    store = History(tmp_path / "h.sqlite")
    store.record(_ended(), direction="outgoing", account="alice", ended_at=1000.0)
    mode = sqlite3.connect(tmp_path / "h.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    # a second connection sees the committed row at once (nothing lost if the UI dies)
    assert sqlite3.connect(tmp_path / "h.sqlite").execute("SELECT COUNT(*) FROM calls").fetchone() == (1,)
    (row,) = store.rows()
    assert (row.remote, row.started_at, row.rx_lost, row.mos, row.answered) == \
        ("sip:bob@127.0.0.1", 987.5, 2, 4.3, True)
    assert store.last_outgoing() == "sip:bob@127.0.0.1"


def test_export_csv_and_json(tmp_path: Path) -> None:
    store = History(tmp_path / "h.sqlite")
    store.record(_ended("sip:a@h"), direction="outgoing", ended_at=1.0)
    store.record(_ended("sip:b@h", 486), direction="incoming", ended_at=2.0)
    out = io.StringIO()
    assert store.export(out, "csv") == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("id,started_at,ended_at,direction,") and len(lines) == 3
    out = io.StringIO()
    store.export(out, "json")
    assert [item["remote"] for item in json.loads(out.getvalue())] == ["sip:b@h", "sip:a@h"]


def test_history_export_command(tmp_path: Path) -> None:
    store = History(tmp_path / "h.sqlite")
    store.record(_ended(), direction="outgoing", ended_at=1.0)
    result = CliRunner().invoke(history_command(), ["export", "--format", "json", "--db",
                                                    str(tmp_path / "h.sqlite")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["rx_packets"] == 598


def test_default_path_follows_xdg() -> None:
    assert default_history_path({"XDG_DATA_HOME": "/d"}) == Path("/d/tui-phone/history.sqlite")
    assert default_history_path({"XDG_DATA_HOME": "rel", "HOME": "/h"}) == \
        Path("/h/.local/share/tui-phone/history.sqlite")
