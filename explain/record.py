"""Decision evidence -> a reviewer-readable record (seed 7.3b/c): which model versions, weights, thresholds
and operating points decided a request, on which sub-scores and why; with the model store at hand, also
which registered version that was and whether it was the champion at the time of the decision."""

from __future__ import annotations

import datetime as dt

from models.errors import InvalidInput


def _registered_versions(client, digest: str) -> list:
    from serving import store

    return [v for v in store.list_versions(client) if v.tags.get("veriserve.digest") == digest]


def reviewer_record(response: dict, *, client=None, at: str | dt.datetime | None = None) -> dict:
    """A structured record of one response (anything with an ``evidence`` field as in API.md)."""
    from serving import store

    evidence = response.get("evidence")
    if not isinstance(evidence, dict) or "models" not in evidence:
        raise InvalidInput("not a Veriserve response: no 'evidence' with 'models' in it")
    models = []
    for m in evidence["models"]:
        row = {"model": m["name"], "card_version": m["version"], "backend": m["backend"],
               "weights_sha256": m["weights_digest"]}
        if client is not None:
            found = _registered_versions(client, m["weights_digest"])
            row["registered"] = [f"{v.registered} v{v.version}" for v in found]
            if at is not None:
                row["champion_at_time"] = {}
                for v in found:
                    event = store.alias_at(client, v.registered, at)
                    row["champion_at_time"][f"{v.registered} v{v.version}"] = bool(
                        event and event["version"] == v.version)
        models.append(row)
    return {"request_id": response.get("request_id", ""), "decided_at": str(at) if at else "",
            "models": models, "thresholds": evidence.get("thresholds", []), "scores": evidence.get("scores", {}),
            "reasons": evidence.get("reasons", []), "timings_ms": evidence.get("timings_ms", {}),
            "outcome": {k: response[k] for k in ("match", "live", "passed", "intent", "doc_type") if k in response}}


def render_text(record: dict) -> str:
    """The record as plain text for a case file."""
    lines = [f"Decision record {record['request_id'] or '(no request id)'}"
             + (f" — decided at {record['decided_at']}" if record["decided_at"] else "")]
    if record["outcome"]:
        lines.append("Outcome: " + ", ".join(f"{k} = {v}" for k, v in record["outcome"].items()))
    lines.append("Models:")
    for m in record["models"]:
        line = f"  {m['model']} (card {m['card_version']}, {m['backend']}), weights sha256 {m['weights_sha256'][:16]}…"
        if "registered" in m:
            line += f"; registered as {', '.join(m['registered']) or 'nothing in this store'}"
        for ref, live in (m.get("champion_at_time") or {}).items():
            line += f"; {ref} {'was' if live else 'was NOT'} champion then"
        lines.append(line)
    if record["thresholds"]:
        lines.append("Thresholds applied:")
        for t in record["thresholds"]:
            op = ", ".join(f"{k.upper()} {v:g}" for k, v in (t.get("operating_point") or {}).items())
            lines.append(f"  {t['name']} = {t['value']:g}" + (f" at operating point {op}" if op else "")
                         + (f" ({t['source']})" if t.get("source") else ""))
    if record["scores"]:
        lines.append("Sub-scores: " + ", ".join(f"{k} {v:g}" for k, v in record["scores"].items()))
    lines += ["Reasons:"] + [f"  - {r}" for r in record["reasons"]]
    return "\n".join(lines)
