"""Workflow commands of API.md: ``workflow serve``, ``users create``, ``cases …``, ``audit verify``,
``cost report``, ``ops report`` and ``police-sim serve``. Registered on the app of :mod:`serving.cli`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from serving.cli import Failure, JsonOpt, _fail, _setup_logging, app, console, err

workflow_app = typer.Typer(help="The account-opening workflow service.", no_args_is_help=True)
users_app = typer.Typer(help="Workflow users, roles and API tokens.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases on this machine's workflow store (personal data masked).", no_args_is_help=True)
audit_app = typer.Typer(help="The SM3-chained audit log.", no_args_is_help=True)
cost_app = typer.Typer(help="Cost reports (seed clause 9).", no_args_is_help=True)
ops_app = typer.Typer(help="Operations monitoring per branch.", no_args_is_help=True)
police_app = typer.Typer(help="The local police-verification simulator (development only).", no_args_is_help=True)
for sub, name in ((workflow_app, "workflow"), (users_app, "users"), (cases_app, "cases"), (audit_app, "audit"),
                  (cost_app, "cost"), (ops_app, "ops"), (police_app, "police-sim")):
    app.add_typer(sub, name=name)
DbOpt = Annotated[str | None, typer.Option("--db", envvar="VERISERVE_WORKFLOW_DB",
                                           help="SQLAlchemy URL (default sqlite under VERISERVE_HOME).")]


def _db(url: str | None):
    from workflow.db import connect

    return connect(url)


def build_workflow(db_url: str | None, models_url: str, police_url: str | None, police_key: str,
                   organisations: dict[str, str]):
    from serving import store
    from workflow.blobs import BlobStore
    from workflow.client import ModelClient
    from workflow.engine import Services, Workflow
    from workflow.police import HttpPoliceClient
    from workflow.signing.keystore import Keystore

    services = Services(models=ModelClient(models_url),
                        police=HttpPoliceClient(police_url, police_key) if police_url else None,
                        keystore=Keystore(), blobs=BlobStore(), archive_root=store.home() / "archive",
                        organisations=organisations)
    return Workflow(_db(db_url), services)


@workflow_app.command("serve")
def workflow_serve(
    port: Annotated[int, typer.Option(help="Port of the workflow API.")] = 8100,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    models_url: Annotated[str, typer.Option(help="Veriserve model endpoints.")] = "http://127.0.0.1:8000",
    police_url: Annotated[str | None, typer.Option(help="Police verification service.")] = None,
    police_key: Annotated[str, typer.Option(envvar="VERISERVE_POLICE_KEY", help="Its API key.")] = "",
    org: Annotated[list[str] | None, typer.Option(help="BRANCH=name on its e-seal (repeatable).")] = None,
    db: DbOpt = None,
) -> None:
    """Serve the workflow API; on start every open case is resumed (after a crash nothing is lost)."""
    import threading

    import uvicorn

    from workflow.api import create_app

    _setup_logging()
    organisations = dict(o.split("=", 1) for o in org or [] if "=" in o)
    wf = build_workflow(db, models_url, police_url, police_key, organisations)
    threading.Thread(target=wf.resume_all, daemon=True, name="resume").start()
    console.print(f"workflow API on http://{host}:{port} (OpenAPI /docs); models at {models_url}")
    uvicorn.run(create_app(wf), host=host, port=port, log_level="warning")


@users_app.command("create")
def users_create(name: str, role: Annotated[str, typer.Option(help="acceptor, operator, checker, approver, "
                                                                   "compliance or admin.")],
                 branch: Annotated[str, typer.Option(help="Branch (acceptors).")] = "",
                 db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Add a user; prints the API token once (only its SM3 digest is stored)."""
    from workflow import audit
    from workflow.rbac import create_user

    try:
        engine = _db(db)
        token = create_user(engine, name, role, branch)
        audit.append(engine, "cli-admin", "admin", "user.create", detail={"user": name, "role": role,
                                                                         "branch": branch})
    except Failure as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps({"name": name, "role": role, "branch": branch, "token": token}))
    else:
        console.print(f"user {name} ({role}{', ' + branch if branch else ''}); token (shown once): {token}")


@cases_app.command("list")
def cases_list(status: Annotated[str | None, typer.Option(help="Only this status.")] = None, db: DbOpt = None,
               as_json: JsonOpt = False) -> None:
    """Cases, newest first."""
    from sqlalchemy import select

    from workflow.db import cases

    q = select(cases.c.id, cases.c.branch, cases.c.channel, cases.c.status, cases.c.current_step,
               cases.c.created_at).order_by(cases.c.created_at.desc())
    if status:
        q = q.where(cases.c.status == status)
    with _db(db).connect() as con:
        rows = [dict(r._mapping) for r in con.execute(q)]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("case", "branch", "channel", "status", "step", "created")
    for r in rows:
        table.add_row(r["id"], r["branch"], r["channel"], r["status"], r["current_step"] or "",
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_at"])))
    console.print(table)


@cases_app.command("show")
def cases_show(case_id: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A case's evidence record: inputs by digest, steps, audit trail (masked)."""
    from workflow.engine import evidence_record

    try:
        out = evidence_record(_db(db), case_id)
    except Failure as exc:
        _fail(exc, as_json)
    console.print_json(json.dumps(out, ensure_ascii=False, default=str))


@cases_app.command("resume")
def cases_resume(models_url: Annotated[str, typer.Option()] = "http://127.0.0.1:8000",
                 police_url: Annotated[str | None, typer.Option()] = None,
                 police_key: Annotated[str, typer.Option(envvar="VERISERVE_POLICE_KEY")] = "",
                 db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Advance every open case once (what ``workflow serve`` does at start)."""
    _setup_logging()
    out = build_workflow(db, models_url, police_url, police_key, {}).resume_all("cli")
    console.print_json(json.dumps(out)) if as_json else console.print(
        "\n".join(f"{k}: {v}" for k, v in out.items()) or "no open cases")


@audit_app.command("verify")
def audit_verify(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Check the audit chain; exit 1 and name every edited, deleted or inserted record."""
    from workflow import audit

    engine = _db(db)
    problems, n = audit.verify(engine), audit.count(engine)
    if as_json:
        console.print_json(json.dumps({"records": n, "intact": not problems, "problems": problems}))
    elif problems:
        for p in problems:
            err.print(f"[red]TAMPERED[/red] {p}")
    else:
        console.print(f"audit log intact: {n} records, SM3 chain verified")
    if problems:
        raise typer.Exit(1)


@cost_app.command("report")
def cost_report(month: Annotated[str, typer.Option(help="YYYY-MM (UTC+8).")] = time.strftime("%Y-%m"),
                model: Annotated[Path | None, typer.Option(help="Cost model YAML (default workflow/cost.yaml).")]
                = None,
                out: Annotated[Path, typer.Option(help="Folder for the JSON and the chart.")] = Path("reports"),
                db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Monthly cost by branch and channel, with the saving against manual processing and a chart."""
    from workflow import cost

    try:
        rep = cost.report(_db(db), cost.load_model(model), month)
        files = cost.write(rep, out)
    except Failure as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps({k: v for k, v in rep.items() if k != "cases"} | {
            "files": {k: str(v) for k, v in files.items()}}, ensure_ascii=False))
        return
    table = Table("branch", "cases", "variable", "fixed allocated", "per case", "manual baseline", "saving")
    for b, s in rep["by_branch"].items():
        table.add_row(b, str(s["cases"]), f"{s['variable']:.2f}", f"{s['fixed_allocated']:.2f}", f"{s['per_case']:.2f}",
                      f"{s['manual_baseline']:.2f}", f"{s['saving']:.2f}")
    console.print(table)
    o = rep["overall"]
    console.print(f"{month}: {o['cases']} cases, {o['total']:.2f} {rep['currency']} "
                  f"({o['per_case']:.2f} per case) against {o['manual_baseline']:.2f} manual; saving "
                  f"{o['saving']:.2f}. Files: {files['json']}, {files['chart']}")


@ops_app.command("report")
def ops_report(hours: Annotated[float, typer.Option(help="Window in hours.")] = 168.0, db: DbOpt = None,
               as_json: JsonOpt = False) -> None:
    """Per-branch cases, step pass rates, review backlog, after-hours activity and alerts (exit 1 on alerts)."""
    from workflow import ops

    m = ops.metrics(_db(db), hours=hours)
    if as_json:
        console.print_json(json.dumps(m, ensure_ascii=False))
    else:
        table = Table("branch", "cases", "completed", "rejected", "review backlog", "after hours", "step pass rates")
        for b, s in m["branches"].items():
            rates = ", ".join(f"{k} {v['pass_rate']:.0%}" for k, v in s["steps"].items() if v["pass_rate"] is not None)
            table.add_row(b, str(s["cases"]), str(s["completed"]), str(s["rejected"]), str(s["review_backlog"]),
                          str(s["after_hours"]), rates)
        console.print(table)
        for a in m["alerts"]:
            console.print(f"[red]ALERT[/red] {a['message']}")
    if m["alerts"]:
        raise typer.Exit(1)


@police_app.command("serve")
def police_serve(port: Annotated[int, typer.Option()] = 8200,
                 db: Annotated[Path | None, typer.Option(help="SQLite file (default VERISERVE_HOME/police_sim.db).")]
                 = None,
                 seed_demo: Annotated[int, typer.Option(help="Register N fake identities (ID cards rendered by "
                                                             "evaluation/documents, same seeds).")] = 0,
                 face_url: Annotated[str | None, typer.Option(help="Veriserve endpoints for photo comparison.")]
                 = None,
                 api_key: Annotated[str, typer.Option(envvar="VERISERVE_POLICE_KEY")] = "") -> None:
    """Run the simulator on 127.0.0.1 until Ctrl-C."""
    from serving import store
    from workflow.police_sim import Server, Simulator

    sim = Simulator(db or store.home() / "police_sim.db", api_key=api_key, face_url=face_url)
    if seed_demo:
        from evaluation.documents.render import render

        people = [render("id_card_front", i, captured=False).truth for i in range(seed_demo)]
        sim.seed([{"name": p["name"], "id_number": p["id_number"]} for p in people])
        console.print(f"seeded {len(people)} fake identities (id_card_front seeds 0..{seed_demo - 1})")
    server = Server(sim.app(), port).start()
    console.print(f"police simulator on {server.url} (development only)")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()
