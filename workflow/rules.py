"""Pass rules of case steps, as data: ``{path: "fields.name.valid", op: eq, value: true}``. Paths are dotted,
with integer parts indexing lists. No ``eval``."""

from __future__ import annotations

import datetime as dt
from typing import Any

_MISSING = object()


def lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part, _MISSING)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
        if obj is _MISSING:
            return _MISSING
    return obj


def _not_expired(value: Any) -> bool:
    if value == "长期":
        return True
    try:
        return dt.date.fromisoformat(str(value)) >= dt.date.today()
    except ValueError:
        return False


OPS = {
    "eq": lambda v, x: v == x,
    "ne": lambda v, x: v != x,
    "gte": lambda v, x: v is not None and v >= x,
    "lte": lambda v, x: v is not None and v <= x,
    "truthy": lambda v, x: bool(v),
    "not_expired": lambda v, x: _not_expired(v),
}


def check(rules: list[dict], output: dict) -> list[str]:
    """Reasons the output fails the rules (empty: it passes)."""
    failures = []
    for rule in rules:
        op = rule.get("op", "eq")
        if op not in OPS:
            raise ValueError(f"unknown rule op {op!r}")
        value = lookup(output, rule["path"])
        if value is _MISSING:
            failures.append(f"{rule['path']} missing")
        elif not OPS[op](value, rule.get("value")):
            failures.append(f"{rule['path']} = {value!r} fails {op} {rule.get('value', '')!r}".rstrip(" '"))
    return failures
