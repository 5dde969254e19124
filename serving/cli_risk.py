"""Model-risk commands (seed 7.3): ``evaluate NAME`` producing a version's risk evidence, ``report``,
``monitor`` and ``evidence``. Registered on the apps of :mod:`serving.cli`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from models.errors import VeriserveError
from serving.cli import JsonOpt, UriOpt, _fail, _setup_logging, app, console, err, evaluate_app

RefArg = Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION (default alias: champion).")]
PolicyOpt = Annotated[Path | None, typer.Option(help="Promotion policy YAML (default evaluation/policy.yaml).")]


def assess(registered: str, ref: str, as_json: bool, tracking_uri: str | None, **options) -> None:
    """Load the version ``ref`` of ``registered`` from the store, measure its risk evidence, log it."""
    from rich.progress import Progress

    from evaluation import assess as assessors
    from evaluation.risk import log_evidence, resolve
    from models.base import CARD_FILE, ModelCard
    from models.registry import create_model
    from serving import store

    _setup_logging()
    if not ref.startswith(registered):  # "3", "/3", "@challenger", "challenger"
        ref = ref.lstrip("/@")
        ref = f"{registered}/{ref}" if ref.isdigit() else f"{registered}@{ref}"
    try:
        client = store.configure(tracking_uri)
        info = resolve(client, ref)
        weights = store.download(client, info)
        card = ModelCard.from_file(weights / CARD_FILE)
        model = create_model(card.name, weights, **card.config)
        fn = getattr(assessors, registered.replace("-", "_").replace("liveness_passive", "liveness"))
        if registered == "liveness-passive":
            options["weights"] = weights
        with tempfile.TemporaryDirectory() as tmp, Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"evaluating {registered} v{info.version}", total=None)
            evidence, plots = fn(model, info, Path(tmp), progress=lambda n, t: bar.update(task, completed=n, total=t),
                                 **options)
            bar.update(task, description="logging evidence")
            run_id = log_evidence(client, evidence, plots)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps({"registered": registered, "version": info.version, "evidence_run": run_id,
                                       "metrics": evidence["metrics"],
                                       "gaps": {a: e["gaps"] for a, e in evidence["fairness"].items()}}))
        return
    console.print(f"{registered} v{info.version} ({card.name}): " + ", ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in evidence["metrics"].items()))
    table = Table("group attribute", "metric", "highest", "lowest", "difference", "ratio")
    for attribute, entry in evidence["fairness"].items():
        for metric, g in entry["gaps"].items():
            table.add_row(attribute, metric, g["highest"], g["lowest"], f"{g['difference']:.4f}", f"{g['ratio']:.3f}")
    console.print(table)
    console.print(f"evidence logged to MLflow run {run_id}; next: 'veriserve report {registered}/{info.version}'")


@evaluate_app.command("face-quality")
def evaluate_face_quality(ref: RefArg = "face-quality",
                          variants: Annotated[int, typer.Option(min=1, help="Captures per demo person.")] = 6,
                          tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Risk evidence of a face-quality version: failure rate per group, SHAP over the measures."""
    assess("face-quality", ref, as_json, tracking_uri, variants=variants)


@evaluate_app.command("liveness-passive")
def evaluate_liveness_passive(
    ref: RefArg = "liveness-passive",
    dataset: Annotated[Path | None, typer.Option(help="Labelled dataset (default: synthetic attacks rendered from "
                                                      "the demo photos, seed 1).")] = None,
    groups: Annotated[Path | None, typer.Option(help="CSV subject,group for --dataset.")] = None,
    tracking_uri: UriOpt = None, as_json: JsonOpt = False,
) -> None:
    """Risk evidence of a passive-liveness version: 30107-3 figures, APCER per attack type, BPCER per group,
    SHAP (TreeExplainer or GradientExplainer heat maps)."""
    from evaluation.liveness import read_groups

    try:
        labels = read_groups(groups) if groups else None
    except VeriserveError as exc:
        _fail(exc, as_json)
    assess("liveness-passive", ref, as_json, tracking_uri, dataset=dataset, groups=labels)


@evaluate_app.command("asr-zh")
def evaluate_asr_zh(ref: RefArg = "asr-zh",
                    repeats: Annotated[int, typer.Option(min=1, help="Clips per phrase and voice.")] = 1,
                    tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Risk evidence of a Mandarin answer recogniser: accuracy and CER per voice, rate, sample rate, noise."""
    assess("asr-zh", ref, as_json, tracking_uri, repeats=repeats)


@app.command()
def report(ref: RefArg,
           out: Annotated[Path | None, typer.Option(help="HTML file to write (default reports/NAME-vN.html); "
                                                        "the JSON goes beside it.")] = None,
           policy: PolicyOpt = None, tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Write the model card and AI-risk report of a version (self-contained HTML + JSON) and log both to MLflow."""
    from evaluation import drift
    from evaluation.policy import load_policy
    from evaluation.risk import load_evidence, resolve
    from explain import report as rep
    from serving import store
    from serving.monitoring import MonitorLog

    _setup_logging()
    try:
        client = store.configure(tracking_uri)
        info = resolve(client, ref)
        pol = load_policy(policy)
        with tempfile.TemporaryDirectory() as tmp:
            evidence, run_id, local = load_evidence(client, info, Path(tmp))
            monitoring = None
            rows = MonitorLog().window(info.registered, info.version)
            if rows and evidence.get("monitoring_reference"):
                monitoring = drift.compare(evidence["monitoring_reference"], [r[2] for r in rows],
                                           [r[3] for r in rows])
            html_text, data = rep.build(evidence, local / "plots", pol, monitoring=monitoring, evidence_run=run_id)
        rep.log_report(client, info, html_text, data, run_id)
        path, js = rep.write(out or Path("reports") / f"{info.registered}-v{info.version}.html", html_text, data)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps({"html": str(path), "json": str(js), "clauses": data["clauses"],
                                       "breaches": data["breaches"]}))
        return
    for c in data["clauses"]:
        colour = {"pass": "green", "fail": "red"}.get(c["status"], "yellow")
        console.print(f"{c['clause']} {c['title']}: [{colour}]{c['status']}[/{colour}]")
    for b in data["breaches"]:
        console.print(f"  [red]breach[/red] {b}")
    console.print(f"report: {path} (JSON {js}); logged to MLflow run {run_id}")


@app.command()
def monitor(ref: RefArg,
            hours: Annotated[float, typer.Option(help="Window: the last N hours of traffic.")] = 24.0,
            tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Compare recent decisions of a version (recorded by the serving layer) with its evaluation: PSI and
    KS on the scores, shift of the pass rate; flags drift."""
    import time

    from evaluation import drift
    from evaluation.risk import load_evidence, resolve
    from serving import store
    from serving.monitoring import MonitorLog

    _setup_logging()
    try:
        client = store.configure(tracking_uri)
        info = resolve(client, ref)
        evidence, _, _ = load_evidence(client, info)
        rows = MonitorLog().window(info.registered, info.version, since=time.time() - hours * 3600)
        result = drift.compare(evidence["monitoring_reference"] or {}, [r[2] for r in rows], [r[3] for r in rows])
    except VeriserveError as exc:
        _fail(exc, as_json)
    result.update(registered=info.registered, version=info.version, hours=hours)
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(f"{info.registered} v{info.version}, last {hours:g} h: {result['window_n']} decisions "
                      f"(evaluation reference: {result['reference_n']} scores)")
        for k in ("pass_rate", "reference_pass_rate", "psi", "ks_statistic", "ks_pvalue", "window_mean",
                  "reference_mean"):
            if result.get(k) is not None:
                console.print(f"  {k}: {result[k]}")
        for n in result["notes"]:
            console.print(f"  note: {n}")
        for f in result["flags"]:
            console.print(f"  [red]DRIFT[/red] {f}")
        if not result["flags"] and not result["notes"]:
            console.print("  no drift flagged")
    if result["flags"]:
        raise typer.Exit(1)


@app.command()
def evidence(response: Annotated[Path, typer.Argument(help="A saved JSON response of any model endpoint.")],
             at: Annotated[str | None, typer.Option(help="When the decision was made (ISO 8601): also says whether "
                                                         "each model version was champion then.")] = None,
             tracking_uri: UriOpt = None, as_json: JsonOpt = False) -> None:
    """Turn a response's decision evidence into a reviewer-readable record."""
    from explain.record import render_text, reviewer_record
    from models.errors import InvalidInput
    from serving import store

    try:
        try:
            data = json.loads(response.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{response}: not a readable JSON file ({exc})") from exc
        record = reviewer_record(data, client=store.configure(tracking_uri),
                                 at=at.replace("Z", "+00:00") if at else None)
    except VeriserveError as exc:
        _fail(exc, as_json)
    if as_json:
        console.print_json(json.dumps(record, ensure_ascii=False))
    else:
        console.print(render_text(record), markup=False, highlight=False)
