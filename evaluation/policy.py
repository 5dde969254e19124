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
        for metric, rule in ((rules or {}).get("fairness") or {}).items():
            if not isinstance(rule, dict):
                raise InvalidInput(f"{path}: model {name}: fairness {metric}: expected a mapping such as "
                                   "{max_difference: 0.1}")
            odd = set(rule) - {"max_difference", "min_ratio", "min_n"}
            if odd:
                raise InvalidInput(f"{path}: model {name}: fairness {metric}: unknown keys {sorted(odd)} "
                                   "(expected max_difference, min_ratio, min_n)")
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


def _sized(table: dict, metric: str, min_n: int) -> tuple[dict, list[str]]:
    """The groups of ``table`` measured on at least ``min_n`` samples for ``metric``, and those left out."""
    kept, left = {}, []
    for group, metrics in table.items():
        n = metrics.get(metric, {}).get("n")
        if metric in metrics and n is not None and n < min_n:
            left.append(f"{group} (n={n})")
        else:
            kept[group] = metrics
    return kept, left


def fairness_breaches(evidence: dict, policy: Policy) -> list[str]:
    """Group gaps beyond the policy's limits, per group attribute. A rule with ``min_n`` compares only
    groups measured on at least that many samples (see :func:`fairness_exclusions`)."""
    rules = policy.rules(evidence["registered"]).get("fairness") or {}
    out = []
    for attribute, entry in evidence["fairness"].items():
        for metric, rule in rules.items():
            table, _ = _sized(entry["table"], metric, int(rule.get("min_n") or 0))
            limit = Limit(metric, rule.get("max_difference"), rule.get("min_ratio"))
            out += [f"fairness by {attribute}: {b}" for b in check_limits(values(table), [limit])]
    if rules and not evidence["fairness"]:
        out.append("fairness: no group tables in the evidence")
    return out


def fairness_exclusions(evidence: dict, policy: Policy) -> list[str]:
    """Groups a ``min_n`` rule left out of a gap check: not a breach, but not assessed either."""
    rules = policy.rules(evidence["registered"]).get("fairness") or {}
    out = []
    for attribute, entry in evidence["fairness"].items():
        for metric, rule in rules.items():
            if rule.get("min_n"):
                _, left = _sized(entry["table"], metric, int(rule["min_n"]))
                if left:
                    out.append(f"fairness by {attribute}: {metric} not assessed for {', '.join(left)} "
                               f"(fewer than min_n {rule['min_n']})")
    return out


def licence_breaches(evidence: dict, policy: Policy) -> list[str]:
    card = evidence["card"]
    if policy.require_commercial_use and not card.get("commercial_use", False):
        return [f"licence: {card['name']} weights are not licensed for commercial use (licence: {card['licence']})"]
    return []


def breaches(evidence: dict, policy: Policy) -> list[str]:
    """Everything in the evidence that the policy forbids (empty: the version may be promoted)."""
    return metric_breaches(evidence, policy) + fairness_breaches(evidence, policy) + licence_breaches(evidence, policy)
