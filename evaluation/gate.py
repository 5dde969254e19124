"""The promotion gate (seed 7.3): an alias moves to a version only when the version has its AI-risk report
for its latest evidence and breaks no line of the policy; ``force`` overrides with a recorded reason."""

from __future__ import annotations

from evaluation.policy import Policy, breaches, load_policy
from evaluation.risk import TAG_EVIDENCE, TAG_REPORT, load_evidence
from models.errors import InvalidInput, VeriserveError


class PromotionRefused(VeriserveError):
    """The version does not meet the promotion policy."""

    code = "promotion_refused"

    def __init__(self, message: str, reasons: list[str] | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.reasons = reasons or []


def check(client, info, policy: Policy) -> list[str]:
    """Why ``info`` may not be promoted under ``policy`` (empty: it may)."""
    reasons = []
    evidence_run = info.tags.get(TAG_EVIDENCE)
    if not evidence_run:
        return [f"no risk evidence: run 'veriserve evaluate {info.registered} --version {info.version}'"]
    if policy.require_report:
        report_run = info.tags.get(TAG_REPORT)
        if not report_run:
            reasons.append(f"no AI-risk report: run 'veriserve report {info.registered}/{info.version}'")
        elif report_run != evidence_run:
            reasons.append("the report predates the latest evidence: run "
                           f"'veriserve report {info.registered}/{info.version}' again")
    evidence, _, _ = load_evidence(client, info)
    return reasons + breaches(evidence, policy)


def promote(client, name: str, version: str, *, alias: str = "champion", reason: str, user: str | None = None,
            force: bool = False, policy: Policy | None = None) -> dict:
    """Move ``alias`` to ``version`` through the gate; returns the recorded event."""
    from evaluation.risk import resolve
    from serving import store

    if not reason or not reason.strip():
        raise InvalidInput("a reason is required (it is kept in the alias history)")
    info = resolve(client, f"{name}/{version}")
    reasons = check(client, info, policy or load_policy())
    if reasons and not force:
        raise PromotionRefused(f"{name} v{version} may not become {alias}: " + "; ".join(reasons), reasons)
    return store.set_alias(client, name, version, alias, reason=reason, user=user, forced=bool(reasons),
                           overridden=reasons)
