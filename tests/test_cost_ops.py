"""Cost per case and per month against hand-computed figures; operations metrics and anomaly alerts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from workflow import cost, ops
from workflow.db import cases, connect, reviews, step_runs

CN = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CN).timestamp()


def add_case(db, cid, branch, channel, created, steps, review_minutes=None, status="completed"):
    with db.begin() as con:
        con.execute(insert(cases).values(id=cid, case_type="account_opening", channel=channel, branch=branch,
                                         status=status, current_step=None, created_by="t", created_at=created,
                                         updated_at=created, data={}))
        for name, cpu_ms, passed, police in steps:
            con.execute(insert(step_runs).values(
                case_id=cid, step=name, status="done" if passed else "review", attempts=1, input_sm3="0" * 64,
                output={}, evidence={"authority_reference": "r"} if police else {}, passed=int(passed),
                cpu_ms=cpu_ms, wall_ms=cpu_ms, started_at=created, finished_at=created))
        if review_minutes is not None:
            con.execute(insert(reviews).values(case_id=cid, step="liveness", reason="x", status="approved",
                                               opened_at=created, minutes=review_minutes))


@pytest.fixture()
def db(tmp_path):
    return connect(f"sqlite:///{tmp_path / 'wf.db'}")


def test_case_and_month_costs_match_hand_computation(db):
    model = cost.load_model()
    steps = [("ocr_front", 1500.0, True, False), ("police", 20.0, True, True), ("liveness", 480.0, True, False)]
    add_case(db, "C1", "wuhan", "online", at(3, 10), steps)
    add_case(db, "C2", "wuhan", "online", at(4, 11), steps, review_minutes=6)
    add_case(db, "C3", "chengdu", "counter", at(5, 9), steps[:2])
    add_case(db, "C-dec", "wuhan", "online", dt.datetime(2026, 12, 1, 9, tzinfo=CN).timestamp(), steps)
    per = {c["case_id"]: c for c in cost.case_costs(db, model, "2026-11")}
    assert set(per) == {"C1", "C2", "C3"}  # December's case is not in November
    v = model["variable"]
    c1 = 2.0 * v["cpu_second"] + 1 * v["police_check"]  # 1.5 + 0.02 + 0.48 CPU-seconds, one authority call
    assert per["C1"]["variable_total"] == pytest.approx(c1, abs=1e-4)
    assert per["C2"]["variable_total"] == pytest.approx(c1 + 6 * v["review_minute"], abs=1e-4)
    assert per["C3"]["cpu_seconds"] == pytest.approx(1.52)
    rep = cost.report(db, model, "2026-11")
    fixed = cost.monthly_fixed(model)
    assert fixed["indirect"] == pytest.approx(60000 + 30000 + 240000 / 36 + 90000 / 36)
    allocation = sum(fixed.values()) / model["capacity_cases_per_month"]  # a quiet month: sized capacity
    assert rep["fixed_per_case"] == pytest.approx(allocation, abs=1e-4)
    manual = 40 * 1.6 + 12
    assert rep["manual_per_case"] == pytest.approx(manual)
    w = rep["by_branch"]["wuhan"]
    assert w["cases"] == 2 and w["total"] == pytest.approx(round(2 * c1 + 6 * v["review_minute"] + 2 * allocation, 2))
    assert w["saving"] == pytest.approx(round(2 * manual - w["total"], 2), abs=0.01)
    assert set(rep["by_channel"]) == {"online", "counter"}


def test_cost_report_files_and_bad_month(db, tmp_path):
    add_case(db, "C1", "wuhan", "online", at(3, 10), [("ocr_front", 1000.0, True, False)])
    rep = cost.report(db, cost.load_model(), "2026-11")
    files = cost.write(rep, tmp_path / "out")
    assert files["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and files["json"].is_file()
    with pytest.raises(Exception, match="YYYY-MM"):
        cost.report(db, cost.load_model(), "November")


def test_ops_metrics_and_a_liveness_spike_alert(db):
    now = at(20, 12)
    for i in range(20):  # wuhan: 8 of 20 liveness checks fail
        add_case(db, f"W{i}", "wuhan", "online", at(19, 10, i), [("liveness", 100.0, i >= 8, False)])
    for branch in ("chengdu", "shenzhen"):
        for i in range(20):  # 1 of 20 fails elsewhere
            add_case(db, f"{branch}{i}", branch, "online", at(19, 10, i), [("liveness", 100.0, i != 0, False)])
    for i in range(12):  # nightly openings at one branch
        add_case(db, f"N{i}", "nanjing", "online", at(19, 23, i), [("liveness", 100.0, True, False)])
    m = ops.metrics(db, hours=48, now=now)
    assert m["branches"]["wuhan"]["steps"]["liveness"] == {"runs": 20, "failed": 8, "pass_rate": 0.6}
    assert m["branches"]["nanjing"]["after_hours"] == 12 and m["branches"]["wuhan"]["after_hours"] == 0
    kinds = {(a["branch"], a["kind"]) for a in m["alerts"]}
    assert kinds == {("wuhan", "failure_spike"), ("nanjing", "after_hours")}
    assert ops.after_hours(dt.datetime(2026, 11, 21, 10, tzinfo=CN).timestamp())  # a Saturday
