"""Dual-recording (双录) sessions: a script of questions, the answers heard, and a record that can be signed.

A session is created from a script (each question is either ``intent`` — the customer must affirm — or
``read_aloud`` — the customer reads ``expected_text``). Each answer is stored with its result and the SM3
digest of the exact audio bytes received (the audio itself is not kept here), so the record can be
signed and later checked against the archived recording. State lives in SQLite under VERISERVE_HOME so
every replica on a node sees the same sessions.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from models.digests import sm3_hex
from models.errors import InvalidInput

KINDS = ("intent", "read_aloud")
MAX_QUESTIONS = 30


class UnknownSession(InvalidInput):
    code = "unknown_session"


def default_db() -> Path:
    return Path(os.environ.get("VERISERVE_HOME", "var")) / "speech_sessions.db"


def check_script(questions: object) -> list[dict]:
    """Validate a script: a list of ``{id?, text, kind?, expected_text?}``; returns normalised questions."""
    if not isinstance(questions, list) or not questions:
        raise InvalidInput("questions: expected a non-empty list")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(f"questions: at most {MAX_QUESTIONS} per session")
    out, seen = [], set()
    for i, q in enumerate(questions):
        if not isinstance(q, dict) or not isinstance(q.get("text"), str) or not q["text"].strip():
            raise InvalidInput(f"questions[{i}]: expected an object with a non-empty text")
        kind = q.get("kind", "intent")
        if kind not in KINDS:
            raise InvalidInput(f"questions[{i}].kind: expected one of {', '.join(KINDS)}")
        qid = str(q.get("id", f"q{i + 1}"))
        if qid in seen:
            raise InvalidInput(f"questions[{i}].id {qid!r} is used twice")
        seen.add(qid)
        expected = q.get("expected_text", "")
        if kind == "read_aloud" and (not isinstance(expected, str) or not expected.strip()):
            raise InvalidInput(f"questions[{i}]: a read_aloud question needs expected_text")
        out.append({"id": qid, "text": q["text"].strip(), "kind": kind, "expected_text": expected or ""})
    return out


class SessionStore:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, lang TEXT NOT NULL, "
                       "script TEXT NOT NULL, created_at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS answers (session_id TEXT NOT NULL, question_id TEXT NOT NULL, "
                       "attempt INTEGER NOT NULL, at REAL NOT NULL, audio_sm3 TEXT NOT NULL, audio_bytes INTEGER "
                       "NOT NULL, result TEXT NOT NULL, PRIMARY KEY (session_id, question_id, attempt))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def create(self, questions: object, lang: str) -> dict:
        script = check_script(questions)
        sid = secrets.token_urlsafe(12)
        now = time.time()
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (sid, lang, json.dumps(script, ensure_ascii=False),
                                                                    now))
        return {"session_id": sid, "lang": lang, "questions": script, "created_at": now}

    def question(self, session_id: str, question_id: str) -> tuple[dict, str]:
        """The question and the session's language."""
        with self._connect() as db:
            row = db.execute("SELECT script, lang FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise UnknownSession(f"session {session_id!r} not found")
        for q in json.loads(row[0]):
            if q["id"] == question_id:
                return q, row[1]
        raise InvalidInput(f"session {session_id}: no question {question_id!r}", code="unknown_question")

    def record_answer(self, session_id: str, question_id: str, audio: bytes, result: dict) -> dict:
        self.question(session_id, question_id)
        digest = sm3_hex(audio)
        with self._lock, self._connect() as db:
            attempt = db.execute("SELECT COUNT(*) FROM answers WHERE session_id = ? AND question_id = ?",
                                 (session_id, question_id)).fetchone()[0] + 1
            db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (session_id, question_id, attempt, time.time(), digest, len(audio),
                        json.dumps(result, ensure_ascii=False)))
        return {"attempt": attempt, "audio_sm3": digest}

    def record(self, session_id: str) -> dict:
        """The session record: script, every answer attempt (latest counts), per-question outcome, and the
        SM3 digest over the whole record for signing."""
        with self._connect() as db:
            row = db.execute("SELECT script, lang, created_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise UnknownSession(f"session {session_id!r} not found")
            answers = db.execute("SELECT question_id, attempt, at, audio_sm3, audio_bytes, result FROM answers "
                                 "WHERE session_id = ? ORDER BY at, attempt", (session_id,)).fetchall()
        script = json.loads(row[0])
        items = []
        for q in script:
            attempts = [{"attempt": a, "at": at, "audio_sm3": d, "audio_bytes": n, **json.loads(r)}
                        for qid, a, at, d, n, r in answers if qid == q["id"]]
            last = attempts[-1] if attempts else None
            items.append({**q, "attempts": attempts, "passed": bool(last and last.get("passed"))})
        body = {"session_id": session_id, "lang": row[1], "created_at": row[2], "questions": items,
                "complete": all(i["attempts"] for i in items), "passed": all(i["passed"] for i in items)}
        body["record_sm3"] = sm3_hex(json.dumps(body, ensure_ascii=False, sort_keys=True).encode())
        return body
