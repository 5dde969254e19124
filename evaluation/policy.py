"""The promotion policy (``evaluation/policy.yaml``) and the checks the gate and the report share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from evaluation.fairness import Limit, check_limits, values
from models.errors import InvalidInput

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


@dataclass(frozen=True)
class Policy:
    require_report: bool = True
    require_commercial_use: bool = True
    models: dict[str, dict] = field(default_factory=dict)
    source: str = ""

    def rules(self, registered: str) -> dict:
        return self.models.get(registered, {})


def load_policy(path: str | Path | None = None) -> Policy:
    path = Path(path or DEFAULT_POLICY)
    if not path.is_file():
        raise InvalidInput(f"policy file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from exc
    unknown = set(raw) - {"require_report", "require_commercial_use", "models"}
    if unknown:
        raise InvalidInput(f"{path}: unknown keys {sorted(unknown)}")
    for name, rules in (raw.get("models") or {}).items():
        bad = set(rules or {}) - {"metrics", "fairness"}
        if bad:
            raise InvalidInput(f"{path}: model {name}: unknown keys {sorted(bad)} (expected metrics, fairness)")
    return Policy(bool(raw.get("require_report", True)), bool(raw.get("require_commercial_use", True)),
                  raw.get("models") or {}, str(path))


def metric_breaches(evidence: dict, policy: Policy) -> list[str]:
    """Metrics outside their ``min``/``max``; a metric the policy names but the evidence lacks is a breach."""
    out = []
    for name, bound in (policy.rules(evidence["registered"]).get("metrics") or {}).items():
        value = evidence["metrics"].get(name)
        if value is None:
            out.append(f"metric {name}: not in the evidence")
            continue
        if "max" in bound and value > bound["max"] + 1e-12:
            out.append(f"metric {name} = {value:.4g} > max {bound['max']:g}")
        if "min" in bound and value < bound["min"] - 1e-12:
            out.append(f"metric {name} = {value:.4g} < min {bound['min']:g}")
    return out


def fairness_breaches(evidence: dict, policy: Policy) -> list[str]:
    """Group gaps beyond the policy's limits, per group attribute."""
    rules = policy.rules(evidence["registered"]).get("fairness") or {}
    limits = [Limit(m, r.get("max_difference"), r.get("min_ratio")) for m, r in rules.items()]
    out = []
    for attribute, entry in evidence["fairness"].items():
        out += [f"fairness by {attribute}: {b}" for b in check_limits(values(entry["table"]), limits)]
    if limits and not evidence["fairness"]:
        out.append("fairness: no group tables in the evidence")
    return out


def licence_breaches(evidence: dict, policy: Policy) -> list[str]:
    card = evidence["card"]
    if policy.require_commercial_use and not card.get("commercial_use", False):
        return [f"licence: {card['name']} weights are not licensed for commercial use (licence: {card['licence']})"]
    return []


def breaches(evidence: dict, policy: Policy) -> list[str]:
    """Everything in the evidence that the policy forbids (empty: the version may be promoted)."""
    return metric_breaches(evidence, policy) + fairness_breaches(evidence, policy) + licence_breaches(evidence, policy)
