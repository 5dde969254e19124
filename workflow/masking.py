"""Masking of personal data in the workflow (seed 8.3 脱敏): ID numbers, bank cards and phones keep their
first and last digits (``4201**********1234``); names keep the surname."""

from __future__ import annotations

import re

SENSITIVE = {"id_number", "bank_card", "card_number", "phone", "mobile", "account_number"}
# ID numbers (18, last may be X), bank cards (15-19) and mobile numbers (11, starting with 1), standing alone
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15,19}|1\d{10})(?![0-9A-Za-z])")


def mask_number(value: str, keep_head: int = 4, keep_tail: int = 4) -> str:
    v = str(value)
    if len(v) <= keep_head + keep_tail:
        return "*" * len(v)
    return v[:keep_head] + "*" * (len(v) - keep_head - keep_tail) + v[-keep_tail:]


def mask_name(name: str) -> str:
    if "·" in name:
        first, _, _ = name.partition("·")
        return first[:1] + "*" * (len(first) - 1) + "·*"
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_text(text: str) -> str:
    """ID, card and phone numbers inside free text (e.g. a reason string) are masked."""
    return _LONG_DIGITS.sub(lambda m: mask_number(m.group(0)), text)


def mask_detail(detail, key: str = ""):
    """A JSON-like structure with sensitive fields masked, recursively."""
    if isinstance(detail, dict):  # {"id_number": {"value": ...}}: the value inherits its parent's key
        return {k: mask_detail(v, key if k == "value" else k) for k, v in detail.items()}
    if isinstance(detail, list):
        return [mask_detail(v, key) for v in detail]
    if isinstance(detail, str):
        if key in SENSITIVE:
            return mask_number(detail)
        if key in ("name", "customer_name"):
            return mask_name(detail)
        return mask_text(detail)
    return detail
