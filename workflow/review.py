"""Human review of failed steps, with the four-eyes rule: an operator (经办) decides, a different checker (复核)
confirms. Agreement settles it — approved lets the case continue, rejected ends it; disagreement sends the
review back to the queue."""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from workflow import audit
from workflow.db import cases, reviews, step_runs
from workflow.errors import InvalidInput
from workflow.masking import mask_detail
from workflow.rbac import Forbidden, User, require

DECISIONS = ("approve", "reject")


def queue(engine: Engine, user: User, status: tuple[str, ...] = ("pending", "checking")) -> list[dict]:
    require(user, "review.queue")
    with engine.connect() as con:
        rows = con.execute(select(reviews, cases.c.branch, cases.c.channel).join(cases, cases.c.id == reviews.c.case_id)
                           .where(reviews.c.status.in_(status)).order_by(reviews.c.opened_at))
        return [mask_detail(dict(r._mapping)) for r in rows]


def case_of(engine: Engine, review_id: int) -> str | None:
    """The case a review belongs to (None for an unknown review)."""
    with engine.connect() as con:
        return con.execute(select(reviews.c.case_id).where(reviews.c.id == review_id)).scalar_one_or_none()


def _review(con, review_id: int):
    row = con.execute(select(reviews).where(reviews.c.id == review_id)).first()
    if row is None:
        raise InvalidInput(f"no review {review_id}")
    return row


def decide(engine: Engine, user: User, review_id: int, decision: str, note: str = "", minutes: float = 0.0) -> dict:
    """The operator's decision; the review then waits for a checker."""
    require(user, "review.decide")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {DECISIONS}")
    with engine.begin() as con:
        r = _review(con, review_id)
        if r.status != "pending":
            raise InvalidInput(f"review {review_id} is {r.status}, not pending")
        con.execute(update(reviews).where(reviews.c.id == review_id).values(
            status="checking", operator=user.name, operator_decision=decision, minutes=r.minutes + minutes))
    audit.append(engine, user.name, user.role, "review.decide", case_id=r.case_id,
                 detail={"review": review_id, "step": r.step, "decision": decision, "note": note})
    return {"review": review_id, "status": "checking", "decision": decision}


def check(engine: Engine, user: User, review_id: int, decision: str, note: str = "", minutes: float = 0.0) -> dict:
    """The checker's confirmation (four eyes: never the operator who decided)."""
    require(user, "review.check")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {DECISIONS}")
    with engine.begin() as con:
        r = _review(con, review_id)
        if r.status != "checking":
            raise InvalidInput(f"review {review_id} is {r.status}, not waiting for a check")
        if r.operator == user.name:
            raise Forbidden(f"four-eyes rule: {user.name} decided review {review_id} and may not also check it")
        now, total = time.time(), r.minutes + minutes
        if decision != r.operator_decision:
            con.execute(update(reviews).where(reviews.c.id == review_id).values(
                status="pending", operator=None, operator_decision=None, minutes=total))
            outcome = "returned"
        else:
            final = "approved" if decision == "approve" else "rejected"
            con.execute(update(reviews).where(reviews.c.id == review_id).values(
                status=final, checker=user.name, decided_at=now, minutes=total))
            if final == "approved":
                con.execute(update(step_runs).where((step_runs.c.case_id == r.case_id) & (step_runs.c.step == r.step))
                            .values(status="done"))
                con.execute(update(cases).where(cases.c.id == r.case_id).values(status="open", updated_at=now))
            else:
                con.execute(update(cases).where(cases.c.id == r.case_id).values(status="rejected", updated_at=now))
            outcome = final
    audit.append(engine, user.name, user.role, "review.check", case_id=r.case_id,
                 detail={"review": review_id, "step": r.step, "decision": decision, "outcome": outcome, "note": note})
    return {"review": review_id, "status": outcome}
