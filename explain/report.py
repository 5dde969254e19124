"""The model card and AI-risk report of one model version: one self-contained HTML file (plots inline,
opens offline) plus the raw numbers as JSON, both logged to MLflow beside the evidence.

Sections: intended use, data provenance, licence, metrics at the operating point, fairness tables with
intervals, explanations, monitoring, known limitations, and the seed clause 7.3 table — (a) privacy and
security, (b) transparency, (c) errors and uncertainty, (d) bias and fairness, (e) legal and ethics — each
with its evidence and pass / fail / not assessed.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from pathlib import Path

from evaluation.policy import Policy, fairness_breaches, fairness_exclusions, licence_breaches, metric_breaches

PASS, FAIL, NOT_ASSESSED = "pass", "fail", "not assessed"
SECTIONS = ("intended-use", "provenance", "licence", "metrics", "fairness", "explanations", "monitoring",
            "limitations", "clause-7-3")


def fmt(value) -> str:
    """How every number is written in the report (the tests read it back the same way)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4g}"
    return str(value)


def clauses(evidence: dict, policy: Policy, monitoring: dict | None = None) -> list[dict]:
    """The 7.3 table: one row per sub-clause with status and the evidence behind it."""
    card, ex = evidence["card"], evidence.get("explanations") or {}
    weights = card.get("weights") or []
    rows = [{
        "clause": "7.3(a)", "title": "privacy and security",
        "status": PASS if weights else FAIL,
        "evidence": [f"{len(weights)} weight files pinned by SHA-256 and SM3, verified before loading"
                     if weights else "no pinned weight files on the card",
                     "inference logs carry masked identifiers only; monitoring stores scores and decisions, "
                     "never images, audio or personal data"]}]
    if ex.get("method"):
        top = list((ex.get("importance") or {}).items())[:3]
        rows.append({"clause": "7.3(b)", "title": "transparency and explainability", "status": PASS,
                     "evidence": [ex["method"]] + ([f"strongest features: {', '.join(k for k, _ in top)}"] if top
                                                   else []) + ([ex["notes"]] if ex.get("notes") else [])})
    else:
        rows.append({"clause": "7.3(b)", "title": "transparency and explainability", "status": NOT_ASSESSED,
                     "evidence": ["no explanation in the evidence"]})
    m_breach = metric_breaches(evidence, policy)
    drift = bool(monitoring and monitoring.get("flags"))
    rows.append({"clause": "7.3(c)", "title": "errors and uncertainty",
                 "status": FAIL if m_breach or drift else PASS,
                 "evidence": [f"metrics at the operating point {json.dumps(evidence['operating_point'])}; "
                              "fairness figures carry 95 % bootstrap intervals"]
                 + (m_breach or ["every metric within the policy"])
                 + ([f"monitoring: {', '.join(monitoring['flags'])}"] if drift else
                    ["monitoring: no drift flagged" if monitoring else "monitoring: no traffic recorded yet"])})
    if evidence["fairness"]:
        f_breach = fairness_breaches(evidence, policy)
        rows.append({"clause": "7.3(d)", "title": "bias and fairness", "status": FAIL if f_breach else PASS,
                     "evidence": [f"groups: {evidence['group_source']}",
                                  f"attributes: {', '.join(evidence['fairness'])}"]
                     + (f_breach or ["every group gap within the policy"])
                     + fairness_exclusions(evidence, policy)})
    else:
        rows.append({"clause": "7.3(d)", "title": "bias and fairness", "status": NOT_ASSESSED,
                     "evidence": ["no group labels in the evaluation data"]})
    l_breach = licence_breaches(evidence, policy)
    missing = [] if card.get("intended_use") else ["the card states no intended use"]
    rows.append({"clause": "7.3(e)", "title": "legal and ethics", "status": FAIL if l_breach or missing else PASS,
                 "evidence": [f"licence: {card['licence']}", f"commercial use: {card['commercial_use']}"]
                 + l_breach + missing + [f"{len(evidence['limitations'])} known limitations stated"]})
    return rows


def build(evidence: dict, plots_dir: Path | None, policy: Policy, *, monitoring: dict | None = None,
          evidence_run: str = "") -> tuple[str, dict]:
    """(HTML, report JSON) for one model version."""
    table = clauses(evidence, policy, monitoring)
    report = {
        "registered": evidence["registered"], "version": evidence["version"], "model": evidence["card"]["name"],
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "evidence_run": evidence_run,
        "policy": policy.source, "clauses": table,
        "breaches": metric_breaches(evidence, policy) + fairness_breaches(evidence, policy)
        + licence_breaches(evidence, policy),
        "monitoring": monitoring, "evidence": evidence,
    }
    return _html(report, plots_dir), report


def _img(plots_dir: Path | None, key: str) -> str:
    if plots_dir is None or not (plots_dir / f"{key}.png").is_file():
        return ""
    data = base64.b64encode((plots_dir / f"{key}.png").read_bytes()).decode()
    return f'<img alt="{html.escape(key)}" src="data:image/png;base64,{data}">'


def _html(report: dict, plots_dir: Path | None) -> str:
    ev, card, e = report["evidence"], report["evidence"]["card"], html.escape
    parts = [f"<h1>{e(report['registered'])} v{e(report['version'])} — model card and AI-risk report</h1>",
             f"<p class=meta>model <b>{e(card['name'])}</b> ({e(card['backend'])}, card version "
             f"{e(card['version'])}); evidence of {e(ev['created'])}; report generated {e(report['generated'])}; "
             f"policy {e(report['policy'])}</p>"]
    verdict = "may be promoted" if not report["breaches"] else f"{len(report['breaches'])} policy breach(es)"
    parts.append(f"<p class=verdict id=verdict>Gate: <b>{e(verdict)}</b></p>")
    if report["breaches"]:
        parts.append("<ul>" + "".join(f"<li class=breach>{e(b)}</li>" for b in report["breaches"]) + "</ul>")
    parts.append(_section("intended-use", "Intended use", f"<p>{e(card.get('intended_use') or 'not stated')}</p>"
                          f"<p>Task: {e(card['task'])}; family: {e(card['family'])}</p>"))
    parts.append(_section("provenance", "Data provenance",
                          f"<p><b>Training:</b> {e(card['data_provenance'])}</p><p><b>Evaluation:</b> "
                          f"{e(ev['dataset']['name'])} — {e(ev['dataset']['provenance'])}</p>"
                          f"<p><b>Group labels:</b> {e(ev['group_source'] or 'none')}</p>"))
    nc = "" if card["commercial_use"] else (
        "<p class=warn><b>Not for commercial use:</b> these weights carry a non-commercial licence; a "
        "brokerage's production deployment needs commercially licensed weights.</p>")
    parts.append(_section("licence", "Licence", f"<p>{e(card['licence'])}</p>{nc}" + "".join(
        f"<p class=small>{e(w['path'])}: sha256 {e(w['sha256'][:16])}…, sm3 {e(w['sm3'][:16])}…</p>"
        for w in card.get("weights") or [])))
    rows = "".join(f"<tr><th>{e(k)}</th><td data-metric=\"{e(k)}\">{e(fmt(v))}</td></tr>"
                   for k, v in ev["metrics"].items())
    op = "".join(f"<tr><th>{e(k)}</th><td data-op=\"{e(k)}\">{e(fmt(v))}</td></tr>"
                 for k, v in ev["operating_point"].items())
    plots = "".join(_img(plots_dir, k) for k in ev["plots"] if not k.startswith("fairness_") and k != "importance"
                    and k != "heat_maps")
    parts.append(_section("metrics", "Metrics at the operating point",
                          f"<table>{op}</table><table>{rows}</table>{plots}"))
    parts.append(_section("fairness", "Fairness by group", _fairness(ev, plots_dir)))
    ex = ev.get("explanations") or {}
    imp = "".join(f"<tr><th>{e(k)}</th><td data-importance=\"{e(k)}\">{e(fmt(v))}</td></tr>"
                  for k, v in list((ex.get("importance") or {}).items())[:15])
    parts.append(_section("explanations", "Explanations (SHAP)",
                          f"<p>{e(ex.get('method', 'none'))}</p><p>{e(ex.get('notes', ''))}</p>"
                          + (f"<table><tr><th>feature</th><th>mean |SHAP|</th></tr>{imp}</table>" if imp else "")
                          + _img(plots_dir, "importance") + _img(plots_dir, "heat_maps")))
    parts.append(_section("monitoring", "Monitoring in operation", _monitoring(report["monitoring"])))
    parts.append(_section("limitations", "Known limitations",
                          "<ul>" + "".join(f"<li>{e(x)}</li>" for x in ev["limitations"]) + "</ul>"
                          if ev["limitations"] else "<p>none stated</p>"))
    crow = "".join(f"<tr><td>{e(c['clause'])}</td><td>{e(c['title'])}</td>"
                   f"<td class=\"status {c['status'].replace(' ', '-')}\" data-clause=\"{e(c['clause'])}\">"
                   f"{e(c['status'])}</td><td>{'<br>'.join(e(x) for x in c['evidence'])}</td></tr>"
                   for c in report["clauses"])
    parts.append(_section("clause-7-3", "Seed clause 7.3 — AI risk",
                          f"<table><tr><th>clause</th><th>risk</th><th>status</th><th>evidence</th></tr>{crow}"
                          "</table>"))
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{e(report['registered'])} "
            f"v{e(report['version'])} — AI-risk report</title><style>{_CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>")


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{html.escape(title)}</h2>{body}</section>'


def _fairness(ev: dict, plots_dir: Path | None) -> str:
    e = html.escape
    if not ev["fairness"]:
        return "<p>not assessed: the evaluation data carries no group labels</p>"
    out = []
    for attribute, entry in ev["fairness"].items():
        metrics = list(entry["gaps"]) or sorted({m for g in entry["table"].values() for m in g})
        head = "".join(f"<th>{e(m)} [95 % CI]</th>" for m in metrics)
        body = ""
        for group, vals in entry["table"].items():
            cells = "".join(
                f"<td data-cell=\"{e(attribute)}|{e(group)}|{e(m)}\">{e(fmt(vals[m]['value']))}</td>"
                if m in vals else "<td></td>" for m in metrics)
            ci = "".join(f"<td class=small>[{e(fmt(vals[m]['low']))}, {e(fmt(vals[m]['high']))}] n={vals[m]['n']}"
                         "</td>" if m in vals else "<td></td>" for m in metrics)
            body += f"<tr><th>{e(group)}</th>{cells}{ci}</tr>"
        gaps = "; ".join(f"{m}: difference {fmt(g['difference'])} ({g['highest']} vs {g['lowest']}), ratio "
                         f"{fmt(g['ratio'])}" for m, g in entry["gaps"].items())
        out.append(f"<h3>by {e(attribute)}</h3><table><tr><th>group</th>{head}"
                   f"{''.join('<th>interval</th>' for _ in metrics)}</tr>{body}</table><p>{e(gaps)}</p>"
                   + "".join(_img(plots_dir, f"fairness_{attribute}_{m}") for m in entry["gaps"]))
    return "".join(out)


def _monitoring(mon: dict | None) -> str:
    if not mon:
        return "<p>no traffic recorded for this version yet (<code>veriserve monitor NAME</code>)</p>"
    e = html.escape
    rows = "".join(f"<tr><th>{e(k)}</th><td data-monitor=\"{e(k)}\">{e(fmt(v))}</td></tr>"
                   for k, v in mon.items() if not isinstance(v, (list, dict)))
    flags = "".join(f"<li class=breach>{e(f)}</li>" for f in mon.get("flags", []))
    return f"<table>{rows}</table>" + (f"<ul>{flags}</ul>" if flags else "<p>no drift flagged</p>")


_CSS = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.small{font-size:80%;color:#555}.status.pass{background:#d4edda}.status.fail{background:#f8d7da}
.status.not-assessed{background:#fff3cd}.breach{color:#a00}.warn{background:#fff3cd;padding:.5em}
img{max-width:480px;margin:4px}.meta{color:#555}h2{border-bottom:2px solid #4c72b0}"""


def log_report(client, info, html_text: str, report: dict, evidence_run: str) -> None:
    """Store the HTML and JSON in the evidence run and point the model version at them."""
    import mlflow

    from evaluation.risk import RISK_DIR, TAG_REPORT

    with mlflow.start_run(run_id=evidence_run):
        mlflow.log_text(html_text, f"{RISK_DIR}/report.html")
        mlflow.log_dict(report, f"{RISK_DIR}/report.json")
    client.set_model_version_tag(info.registered, info.version, TAG_REPORT, evidence_run)


def write(path: Path, html_text: str, report: dict) -> tuple[Path, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_text, encoding="utf-8")
    js = path.with_suffix(".json")
    js.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return path, js
