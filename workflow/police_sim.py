"""A local stand-in for the public-security verification service: a real HTTP service on 127.0.0.1 backed by
SQLite, seeded with test identities, for development and tests. Same protocol as the client
(:class:`workflow.police.HttpPoliceClient`): ``POST /v1/verify`` with ``X-Api-Key``.

Photo comparison compares the submitted photo with the registered one through a Veriserve face-match
endpoint (``face_url``), as the authority's own comparison would; without one it reports ``unavailable``.
"""

from __future__ import annotations

import base64
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

from workflow.masking import mask_number

_SCHEMA = """CREATE TABLE IF NOT EXISTS identities (
    id_number TEXT PRIMARY KEY, name TEXT NOT NULL, bank_card TEXT, phone TEXT, photo BLOB);
CREATE TABLE IF NOT EXISTS requests (
    reference TEXT PRIMARY KEY, at REAL NOT NULL, id_masked TEXT NOT NULL, elements INTEGER NOT NULL,
    consistent INTEGER NOT NULL);"""


class VerifyRequest(BaseModel):
    name: str
    id_number: str
    bank_card: str | None = None
    phone: str | None = None
    photo_b64: str | None = None


class Simulator:
    def __init__(self, db: str | Path, *, api_key: str = "", face_url: str | None = None, delay_s: float = 0.0,
                 delay_from: int = 1, fail_next: int = 0) -> None:
        self.db = Path(db)
        self.api_key = api_key
        self.face_url = face_url
        # fault injection for development and tests: answer slowly from the delay_from-th request, fail a few
        self.delay_s, self.delay_from, self.fail_next = delay_s, delay_from, fail_next
        with self._con() as con:
            con.executescript(_SCHEMA)

    def _con(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db, timeout=10.0)

    def seed(self, identities: list[dict]) -> None:
        """Register identities: ``{name, id_number, bank_card?, phone?, photo? (bytes)}``."""
        with self._con() as con:
            con.executemany("INSERT OR REPLACE INTO identities VALUES (?, ?, ?, ?, ?)",
                            [(i["id_number"], i["name"], i.get("bank_card"), i.get("phone"), i.get("photo"))
                             for i in identities])

    def request_count(self) -> int:
        with self._con() as con:
            return con.execute("SELECT COUNT(*) FROM requests").fetchone()[0]

    def _photo(self, registered: bytes | None, submitted: bytes) -> dict:
        if registered is None:
            return {"status": "no_registered_photo"}
        if not self.face_url:
            return {"status": "unavailable"}
        resp = httpx.post(f"{self.face_url.rstrip('/')}/v1/face/match", timeout=60,
                          files={"id_image": ("registered.jpg", registered), "live_image": ("live.jpg", submitted)})
        if resp.status_code != 200:
            return {"status": "not_comparable", "reason": resp.json().get("error", {}).get("code", "")}
        body = resp.json()
        return {"status": "match" if body["match"] else "mismatch", "similarity": body["similarity"]}

    def verify(self, req: VerifyRequest) -> dict:
        with self._con() as con:
            row = con.execute("SELECT name, bank_card, phone, photo FROM identities WHERE id_number = ?",
                              (req.id_number,)).fetchone()
        checks: dict = {}
        if row is None:
            checks["name_id"] = "not_found"
        else:
            checks["name_id"] = "match" if row[0] == req.name else "mismatch"
            if req.bank_card:
                checks["bank_card"] = "match" if row[1] == req.bank_card else "mismatch"
            if req.phone:
                checks["phone"] = "match" if row[2] == req.phone else "mismatch"
            if req.photo_b64:
                checks["photo"] = self._photo(row[3], base64.b64decode(req.photo_b64))
        elements = 2 + bool(req.bank_card) + bool(req.phone)
        consistent = all(v == "match" for k, v in checks.items() if k != "photo") and (
            "photo" not in checks or checks["photo"]["status"] == "match")
        reference = uuid.uuid4().hex
        with self._con() as con:
            con.execute("INSERT INTO requests VALUES (?, ?, ?, ?, ?)",
                        (reference, time.time(), mask_number(req.id_number), elements, int(consistent)))
        return {"elements": elements, "consistent": consistent, "checks": checks, "reference": reference}

    def app(self) -> FastAPI:
        api = FastAPI(title="Police verification simulator (development only)")

        @api.post("/v1/verify")
        def verify(req: VerifyRequest, x_api_key: str = Header(default="")) -> dict:
            if self.api_key and x_api_key != self.api_key:
                raise HTTPException(status_code=401, detail="bad API key")
            if self.fail_next > 0:
                self.fail_next -= 1
                raise HTTPException(status_code=503, detail="authority busy (injected)")
            result = self.verify(req)
            if self.delay_s and self.request_count() >= self.delay_from:
                time.sleep(self.delay_s)
            return result

        @api.get("/healthz")
        def health() -> dict:
            return {"status": "ok"}

        return api


class Server:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a background thread (tests and ``police-sim serve``)."""

    def __init__(self, app, port: int, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self) -> Server:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
