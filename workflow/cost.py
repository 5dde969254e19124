"""Cost of account opening (seed clause 9): a cost model from ``workflow/cost.yaml``, the cost of each case from
its measured model CPU-seconds, review minutes and partner calls, and monthly reports by branch and channel
with the saving against manual processing."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from workflow.db import cases, reviews, step_runs
from workflow.errors import InvalidInput

DEFAULT_MODEL = Path(__file__).with_name("cost.yaml")


def load_model(path: str | Path | None = None) -> dict:
    path = Path(path or DEFAULT_MODEL)
    if not path.is_file():
        raise InvalidInput(f"cost model not found: {path}")
    model = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section in ("direct", "indirect", "fintech", "variable", "manual_baseline"):
        if section not in model:
            raise InvalidInput(f"{path}: missing section {section!r}")
    return model


def monthly_fixed(model: dict) -> dict[str, float]:
    """Fixed cost per month by category (depreciation by its schedules)."""
    indirect = {k: v for k, v in model["indirect"].items() if k != "depreciation"}
    depreciation = sum(d["cost"] / d["months"] for d in model["indirect"].get("depreciation", []))
    return {"direct": float(sum(model["direct"].values())),
            "indirect": float(sum(indirect.values()) + depreciation),
            "fintech": float(sum(model["fintech"].values()))}


def case_costs(engine: Engine, model: dict, month: str) -> list[dict]:
    """Variable cost of every case created in ``month`` (YYYY-MM, UTC+8)."""
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    except ValueError as exc:
        raise InvalidInput(f"month {month!r}: expected YYYY-MM") from exc
    end = (start + dt.timedelta(days=32)).replace(day=1)
    v = model["variable"]
    with engine.connect() as con:
        rows = con.execute(select(cases.c.id, cases.c.branch, cases.c.channel, cases.c.status).where(
            (cases.c.created_at >= start.timestamp()) & (cases.c.created_at < end.timestamp()))).all()
        ids = [r.id for r in rows]
        steps = con.execute(select(step_runs.c.case_id, step_runs.c.cpu_ms, step_runs.c.attempts,
                                   step_runs.c.evidence).where(step_runs.c.case_id.in_(ids))).all()
        revs = con.execute(select(reviews.c.case_id, reviews.c.minutes).where(reviews.c.case_id.in_(ids))).all()
    cpu, police, minutes = defaultdict(float), defaultdict(int), defaultdict(float)
    for s in steps:
        cpu[s.case_id] += s.cpu_ms / 1000
        if (s.evidence or {}).get("authority_reference"):
            police[s.case_id] += s.attempts
    for r in revs:
        minutes[r.case_id] += r.minutes or v["default_review_minutes"]
    out = []
    for r in rows:
        parts = {"model_cpu": cpu[r.id] * v["cpu_second"], "review": minutes[r.id] * v["review_minute"],
                 "police": police[r.id] * v["police_check"]}
        out.append({"case_id": r.id, "branch": r.branch, "channel": r.channel, "status": r.status,
                    "cpu_seconds": round(cpu[r.id], 4), "review_minutes": minutes[r.id],
                    "police_calls": police[r.id], "variable": {k: round(x, 4) for k, x in parts.items()},
                    "variable_total": round(sum(parts.values()), 4)})
    return out


def report(engine: Engine, model: dict, month: str) -> dict:
    """Monthly totals, by branch and by channel: cases, variable and allocated fixed cost, cost per case,
    manual baseline and saving."""
    per_case = case_costs(engine, model, month)
    fixed = monthly_fixed(model)
    n = len(per_case)
    allocation = sum(fixed.values()) / max(n, model.get("capacity_cases_per_month", 1)) if n else 0.0
    base = model["manual_baseline"]
    manual_per_case = base["staff_minutes_per_case"] * base["staff_minute"] + base["paper_and_archive"]

    def summary(items: list[dict]) -> dict:
        variable = sum(c["variable_total"] for c in items)
        total = variable + allocation * len(items)
        manual = manual_per_case * len(items)
        return {"cases": len(items), "completed": sum(c["status"] == "completed" for c in items),
                "variable": round(variable, 2), "fixed_allocated": round(allocation * len(items), 2),
                "total": round(total, 2), "per_case": round(total / len(items), 2) if items else 0.0,
                "manual_baseline": round(manual, 2), "saving": round(manual - total, 2),
                "cpu_seconds": round(sum(c["cpu_seconds"] for c in items), 2),
                "review_minutes": round(sum(c["review_minutes"] for c in items), 1)}

    def grouped(key: str) -> dict:
        groups = defaultdict(list)
        for c in per_case:
            groups[c[key]].append(c)
        return {k: summary(v) for k, v in sorted(groups.items())}

    return {"month": month, "currency": model.get("currency", "CNY"), "fixed_monthly": fixed,
            "fixed_per_case": round(allocation, 4), "manual_per_case": round(manual_per_case, 2),
            "overall": summary(per_case), "by_branch": grouped("branch"), "by_channel": grouped("channel"),
            "cases": per_case}


def chart(rep: dict, path: Path) -> Path:
    """Cost per case by branch (variable and allocated fixed, stacked) against the manual baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    branches = list(rep["by_branch"])
    var = [rep["by_branch"][b]["variable"] / max(1, rep["by_branch"][b]["cases"]) for b in branches]
    fix = [rep["fixed_per_case"]] * len(branches)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.bar(branches, fix, label="fixed (allocated)", color="#8da0cb")
    a.bar(branches, var, bottom=fix, label="variable (CPU, review, police)", color="#fc8d62")
    a.axhline(rep["manual_per_case"], ls="--", c="k", label=f"manual baseline {rep['manual_per_case']:.0f}")
    a.set(ylabel=f"{rep['currency']} per case", title=f"Cost per case by branch, {rep['month']}")
    a.legend(fontsize=7)
    channels = list(rep["by_channel"])
    b.bar(channels, [rep["by_channel"][c]["saving"] for c in channels], color="#66c2a5")
    b.set(ylabel=f"{rep['currency']}", title="Saving against manual processing, by channel")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write(rep: dict, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / f"cost-{rep['month']}.json"
    js.write_text(json.dumps(rep, ensure_ascii=False, indent=1))
    return {"json": js, "chart": chart(rep, out_dir / f"cost-{rep['month']}.png")}
