"""Server-issued random action challenges for liveness: single use, short-lived, kept in SQLite so
every replica on the node sees the same state."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from models.errors import InvalidInput, VeriserveError

ACTIONS = ("blink", "turn_left", "turn_right", "nod", "open_mouth")


class ChallengeExpired(VeriserveError):
    code = "challenge_expired"


class ChallengeUsed(VeriserveError):
    code = "challenge_used"


class UnknownChallenge(InvalidInput):
    code = "unknown_challenge"


def default_db() -> Path:
    return Path(os.environ.get("VERISERVE_HOME", "var")) / "challenges.db"


class ChallengeStore:
    """Issue and redeem challenges. ``ttl_s``: seconds a challenge stays valid (default 60)."""

    def __init__(self, path: str | Path | None = None, *, ttl_s: float = 60.0) -> None:
        self.path = Path(path) if path else default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS challenges (id TEXT PRIMARY KEY, actions TEXT NOT NULL, "
                       "issued_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def issue(self, n_actions: int | None = None, *, now: float | None = None) -> dict:
        """A new challenge of 2–3 distinct random actions (never both turns in a row)."""
        rng = secrets.SystemRandom()
        n = n_actions or rng.choice((2, 3))
        if not 1 <= n <= len(ACTIONS):
            raise InvalidInput(f"n_actions must be between 1 and {len(ACTIONS)}")
        actions = rng.sample(ACTIONS, n)
        now = time.time() if now is None else now
        cid = secrets.token_urlsafe(18)
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO challenges VALUES (?, ?, ?, ?, NULL)", (cid, json.dumps(actions), now,
                                                                          now + self.ttl_s))
            db.execute("DELETE FROM challenges WHERE expires_at < ?", (now - 86400,))
        return {"challenge_id": cid, "actions": actions, "issued_at": now, "expires_at": now + self.ttl_s}

    def redeem(self, challenge_id: str, *, now: float | None = None) -> list[str]:
        """The challenge's actions; it can never be redeemed again. Unknown, used or expired ids raise."""
        if not isinstance(challenge_id, str) or not challenge_id or len(challenge_id) > 64:
            raise UnknownChallenge("challenge_id: missing or malformed")
        now = time.time() if now is None else now
        with self._lock, self._connect() as db:
            row = db.execute("SELECT actions, expires_at, used_at FROM challenges WHERE id = ?",
                             (challenge_id,)).fetchone()
            if row is None:
                raise UnknownChallenge("challenge_id: unknown challenge; ask for a new one")
            actions, expires_at, used_at = row
            if used_at is not None:
                raise ChallengeUsed("challenge_id: this challenge was already used; ask for a new one")
            if now > expires_at:
                raise ChallengeExpired(f"challenge_id: expired {now - expires_at:.0f} s ago; ask for a new one")
            cur = db.execute("UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL", (now, challenge_id))
            if cur.rowcount != 1:
                raise ChallengeUsed("challenge_id: this challenge was already used; ask for a new one")
        return json.loads(actions)
