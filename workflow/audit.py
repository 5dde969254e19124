"""The append-only audit log (seed 7.2, 3.3): every action as a record chained with SM3 —
``sm3 = SM3(prev_sm3 || canonical record)`` — so :func:`verify` finds any edited, deleted or inserted record.
Details are masked before they are written: no ID numbers, card numbers or phone numbers in clear."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from workflow.db import audit
from workflow.masking import mask_detail
from workflow.signing.sm import sm3

GENESIS = "0" * 64


def _digest(prev: str, record: dict) -> str:
    body = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sm3(bytes.fromhex(prev) + body.encode()).hex()


def _record(row) -> dict:
    return {"seq": row.seq, "at": round(float(row.at), 6), "actor": row.actor, "role": row.role,
            "action": row.action, "case_id": row.case_id, "detail": row.detail}


def append(engine: Engine, actor: str, role: str, action: str, *, case_id: str | None = None,
           detail: dict | None = None) -> dict:
    """Add one record at the end of the chain (retries when another writer took the same sequence number)."""
    for _ in range(20):
        with engine.begin() as con:
            last = con.execute(select(audit.c.seq, audit.c.sm3).order_by(audit.c.seq.desc()).limit(1)).first()
            seq, prev = (last.seq + 1, last.sm3) if last else (1, GENESIS)
            rec = {"seq": seq, "at": round(time.time(), 6), "actor": actor, "role": role, "action": action,
                   "case_id": case_id, "detail": mask_detail(detail or {})}
            try:
                con.execute(insert(audit).values(**rec, prev_sm3=prev, sm3=_digest(prev, rec)))
            except IntegrityError:
                continue
            return rec
    raise RuntimeError("audit log: could not append after 20 attempts")


def verify(engine: Engine) -> list[str]:
    """Problems in the chain (empty: intact)."""
    problems, prev, expected_seq = [], GENESIS, 1
    with engine.connect() as con:
        for row in con.execute(select(audit).order_by(audit.c.seq)):
            if row.seq != expected_seq:
                problems.append(f"records {expected_seq}..{row.seq - 1} are missing (deleted)")
            if row.prev_sm3 != prev:
                problems.append(f"record {row.seq}: does not follow record {row.seq - 1} (chain broken)")
            if _digest(row.prev_sm3, _record(row)) != row.sm3:
                problems.append(f"record {row.seq} ({row.action} by {row.actor}): content altered")
            prev, expected_seq = row.sm3, row.seq + 1
    return problems


def records(engine: Engine, case_id: str | None = None, limit: int = 1000) -> list[dict]:
    q = select(audit).order_by(audit.c.seq)
    if case_id:
        q = q.where(audit.c.case_id == case_id)
    with engine.connect() as con:
        return [_record(r) | {"sm3": r.sm3} for r in con.execute(q.limit(limit))]


def count(engine: Engine) -> int:
    with engine.connect() as con:
        return con.execute(select(func.count()).select_from(audit)).scalar_one()
