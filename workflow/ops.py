"""Operations monitoring (seed 3.3): per-branch metrics — cases, pass rate of each step, review backlog,
after-hours activity — and alerts on anomalies, e.g. one branch's liveness failures far above the rest."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.engine import Engine

from workflow.db import cases, reviews, step_runs

BUSINESS_HOURS = (dt.time(8, 30), dt.time(17, 30))  # local time, UTC+8
CN = dt.timezone(dt.timedelta(hours=8))


def after_hours(ts: float) -> bool:
    t = dt.datetime.fromtimestamp(ts, tz=CN)
    return t.weekday() >= 5 or not (BUSINESS_HOURS[0] <= t.time() <= BUSINESS_HOURS[1])


def metrics(engine: Engine, *, hours: float = 24 * 7, now: float | None = None) -> dict:
    now = now or time.time()
    since = now - hours * 3600
    with engine.connect() as con:
        rows = con.execute(select(cases.c.id, cases.c.branch, cases.c.status, cases.c.created_at)
                           .where(cases.c.created_at >= since)).all()
        branch_of = {r.id: r.branch for r in rows}
        steps = con.execute(select(step_runs.c.case_id, step_runs.c.step, step_runs.c.passed, step_runs.c.status)
                            .where(step_runs.c.case_id.in_(list(branch_of)))).all()
        backlog = con.execute(select(reviews.c.case_id, reviews.c.status, reviews.c.opened_at)
                              .where(reviews.c.status.in_(("pending", "checking")))).all()
    out: dict = defaultdict(lambda: {"cases": 0, "completed": 0, "rejected": 0, "after_hours": 0, "steps": {},
                                     "review_backlog": 0, "oldest_review_hours": 0.0})
    for r in rows:
        b = out[r.branch]
        b["cases"] += 1
        b["completed"] += r.status == "completed"
        b["rejected"] += r.status == "rejected"
        b["after_hours"] += after_hours(r.created_at)
    for s in steps:
        st = out[branch_of[s.case_id]]["steps"].setdefault(s.step, {"runs": 0, "failed": 0})
        st["runs"] += 1
        st["failed"] += not s.passed
    with engine.connect() as con:
        all_branches = dict(con.execute(select(cases.c.id, cases.c.branch)).all())
    for rv in backlog:
        b = out[all_branches.get(rv.case_id, "?")]
        b["review_backlog"] += 1
        b["oldest_review_hours"] = max(b["oldest_review_hours"], round((now - rv.opened_at) / 3600, 2))
    for b in out.values():
        for st in b["steps"].values():
            st["pass_rate"] = round(1 - st["failed"] / st["runs"], 4) if st["runs"] else None
    return {"window_hours": hours, "branches": dict(out), "alerts": alerts(dict(out))}


def alerts(branches: dict, *, min_failures: int = 5, z_limit: float = 3.0, ratio_limit: float = 2.0) -> list[dict]:
    """A branch whose failure rate at a step stands out from the other branches (two-proportion z-test and
    at least ``ratio_limit`` times their rate), and branches with unusual after-hours activity."""
    out = []
    step_names = {s for b in branches.values() for s in b["steps"]}
    for step in sorted(step_names):
        for name, b in branches.items():
            st = b["steps"].get(step)
            if not st or st["failed"] < min_failures:
                continue
            others = [o["steps"][step] for n, o in branches.items() if n != name and step in o["steps"]]
            runs, failed = sum(o["runs"] for o in others), sum(o["failed"] for o in others)
            if runs == 0:
                continue
            p1, p2 = st["failed"] / st["runs"], failed / runs
            pooled = (st["failed"] + failed) / (st["runs"] + runs)
            se = math.sqrt(pooled * (1 - pooled) * (1 / st["runs"] + 1 / runs)) or 1e-9
            z = (p1 - p2) / se
            if z > z_limit and p1 >= ratio_limit * max(p2, 1e-9):
                out.append({"branch": name, "step": step, "kind": "failure_spike",
                            "message": f"{name}: {step} failures {p1:.0%} ({st['failed']}/{st['runs']}) vs "
                                       f"{p2:.0%} at other branches (z={z:.1f})"})
    for name, b in branches.items():
        if b["cases"] >= 10 and b["after_hours"] / b["cases"] > 0.3:
            out.append({"branch": name, "kind": "after_hours",
                        "message": f"{name}: {b['after_hours']}/{b['cases']} cases opened outside business hours"})
    return out
