"""Call history in SQLite: one row per call with its final quality record.

The database lives in the XDG data dir (``$XDG_DATA_HOME/tui-phone/history.sqlite``,
``~/.local/share/...`` when unset) unless ``[phone] history_db`` names a file.
WAL mode and a commit per row: a row is on disk as soon as the call ended, so a
crash of the UI loses nothing.  :func:`history_command` is the click group the
CLI registers as ``tui-phone history`` (``export --format csv|json``).
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from .events import CallEnded

DATA_DIR_NAME = "tui-phone"
DB_FILE_NAME = "history.sqlite"
EXPORT_FORMATS = ("csv", "json")

COLUMNS = (
    "id", "started_at", "ended_at", "direction", "account", "remote", "status", "reason",
    "answered", "ended_by", "duration_s", "codec", "tx_packets", "rx_packets", "rx_lost",
    "loss_pct", "jitter_ms", "max_jitter_ms", "rtt_ms", "mos",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    direction TEXT NOT NULL,
    account TEXT,
    remote TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    answered INTEGER NOT NULL,
    ended_by TEXT NOT NULL,
    duration_s REAL NOT NULL,
    codec TEXT,
    tx_packets INTEGER NOT NULL,
    rx_packets INTEGER NOT NULL,
    rx_lost INTEGER NOT NULL,
    loss_pct REAL NOT NULL,
    jitter_ms REAL NOT NULL,
    max_jitter_ms REAL NOT NULL,
    rtt_ms REAL,
    mos REAL
);
CREATE INDEX IF NOT EXISTS calls_ended_at ON calls (ended_at);
"""


def default_history_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/tui-phone/history.sqlite``, else under ``~/.local/share``."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME", "")
    # XDG Base Directory spec: a relative path in the variable is invalid and ignored.
    if base and Path(base).is_absolute():
        root = Path(base)
    else:
        root = Path(env.get("HOME") or Path.home()) / ".local" / "share"
    return root / DATA_DIR_NAME / DB_FILE_NAME


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One finished call as stored."""

    id: int
    started_at: float
    ended_at: float
    direction: str
    account: str | None
    remote: str
    status: int
    reason: str
    answered: bool
    ended_by: str
    duration_s: float
    codec: str | None
    tx_packets: int
    rx_packets: int
    rx_lost: int
    loss_pct: float
    jitter_ms: float
    max_jitter_ms: float
    rtt_ms: float | None
    mos: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict, in column order."""
        return {name: getattr(self, name) for name in COLUMNS}


class History:
    """The call history database (opened, created and migrated on construction)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def record(self, event: CallEnded, *, direction: str, account: str | None = None,
               ended_at: float | None = None) -> int:
        """Store the call ``event`` ended; returns the new row id (committed at once)."""
        ended = time.time() if ended_at is None else ended_at
        rtp = event.rtp
        cursor = self._db.execute(
            "INSERT INTO calls (started_at, ended_at, direction, account, remote, status, reason,"
            " answered, ended_by, duration_s, codec, tx_packets, rx_packets, rx_lost, loss_pct,"
            " jitter_ms, max_jitter_ms, rtt_ms, mos) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (ended - event.duration_s, ended, direction, account, event.remote, event.status,
             event.reason, int(event.answered), event.ended_by, event.duration_s, event.codec,
             rtp.tx_packets, rtp.rx_packets, rtp.rx_lost, rtp.loss_pct, rtp.jitter_ms,
             rtp.max_jitter_ms, rtp.rtt_ms, rtp.mos),
        )
        self._db.commit()
        return int(cursor.lastrowid or 0)

    def rows(self, limit: int | None = None) -> list[HistoryRow]:
        """The calls, newest first (``limit`` of them; None: all)."""
        query = f"SELECT {', '.join(COLUMNS)} FROM calls ORDER BY ended_at DESC, id DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            query += " LIMIT ?"
            params = (limit,)
        return [_row(values) for values in self._db.execute(query, params)]

    def last_outgoing(self) -> str | None:
        """The remote of the newest outgoing call (what redial dials)."""
        found = self._db.execute(
            "SELECT remote FROM calls WHERE direction = 'outgoing' ORDER BY ended_at DESC, id DESC"
            " LIMIT 1").fetchone()
        return None if found is None else str(found[0])

    def remotes(self, limit: int = 200) -> list[str]:
        """Distinct remotes, most recent first (for dial completion)."""
        found = self._db.execute(
            "SELECT remote, MAX(ended_at) AS last FROM calls GROUP BY remote ORDER BY last DESC"
            " LIMIT ?", (limit,))
        return [str(remote) for remote, _ in found]

    def export(self, out: IO[str], fmt: str = "csv") -> int:
        """Write every call's quality record to ``out`` as CSV or JSON; returns the count."""
        return export_rows(self.rows(), out, fmt)


def export_rows(rows: Iterable[HistoryRow], out: IO[str], fmt: str) -> int:
    """Write ``rows`` as CSV (a header line, then a line per call) or a JSON array."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use csv or json)")
    items = [row.as_dict() for row in rows]
    if fmt == "json":
        json.dump(items, out, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
    return len(items)


def _row(values: tuple[Any, ...]) -> HistoryRow:
    data = dict(zip(COLUMNS, values, strict=True))
    data["answered"] = bool(data["answered"])
    return HistoryRow(**data)


def history_command() -> click.Group:
    """The ``history`` click group (``tui-phone history export``), for cli.py to register."""

    @click.group("history")
    def history() -> None:
        """The call history (SQLite in the XDG data dir)."""

    @history.command("export")
    @click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv",
                  show_default=True, help="Output format.")
    @click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="History database (default: [phone] history_db, else the XDG data dir).")
    @click.option("--output", "-o", type=click.File("w"), default="-",
                  help="Where to write (default: stdout).")
    @click.pass_context
    def export(ctx: click.Context, fmt: str, db_path: Path | None, output: IO[str]) -> None:
        """Export every call's final quality record as CSV or JSON."""
        path = db_path
        if path is None:
            path = _configured_path(ctx)
        if not path.exists():
            raise click.ClickException(f"no call history at {path}")
        store = History(path)
        try:
            store.export(output, fmt)
        finally:
            store.close()

    return history


def history_path(configured: Path | None) -> Path:
    """``[phone] history_db`` if set, else :func:`default_history_path`."""
    return configured if configured is not None else default_history_path()


def _configured_path(ctx: click.Context) -> Path:
    from .config import load_config

    obj = ctx.find_root().obj or {}
    config = load_config(obj.get("config_path"))
    return history_path(config.phone.history_db)


__all__ = ["History", "HistoryRow", "default_history_path", "export_rows", "history_command",
           "history_path"]
