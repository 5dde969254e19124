"""What the models decide in operation (seed 7.3c): one row per scored request — model version, score,
decision, time — in ``$VERISERVE_HOME/monitoring.db``. Numbers only: never images, audio or personal data.
``veriserve monitor NAME`` compares a recent window with the evaluation distribution (evaluation/drift.py).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS observations (
    at REAL NOT NULL, registered TEXT NOT NULL, version TEXT NOT NULL, score_name TEXT NOT NULL,
    score REAL, passed INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS obs_model ON observations (registered, version, at);"""


def default_db() -> Path:
    from serving import store

    return store.home() / "monitoring.db"


class MonitorLog:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or default_db())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def record(self, registered: str, version: str, score_name: str, score: float | None, passed: bool, *,
               at: float | None = None) -> None:
        """Add one observation; a failure to write is logged and never fails the request."""
        try:
            with self._connect() as db:
                db.execute("INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?)",
                           (at or time.time(), registered, str(version), score_name,
                            None if score is None else float(score), int(bool(passed))))
        except sqlite3.Error as exc:
            log.warning("monitoring: could not record an observation of %s: %s", registered, exc)

    def window(self, registered: str, version: str | None = None, *, since: float | None = None,
               until: float | None = None) -> list[tuple[float, str, float | None, bool]]:
        """(time, version, score, passed) rows of one model, oldest first."""
        sql = "SELECT at, version, score, passed FROM observations WHERE registered = ?"
        args: list = [registered]
        for cond, value in (("version = ?", version), ("at >= ?", since), ("at <= ?", until)):
            if value is not None:
                sql += f" AND {cond}"
                args.append(value)
        with self._connect() as db:
            return [(a, v, s, bool(p)) for a, v, s, p in db.execute(sql + " ORDER BY at", args)]
