"""Did the customer confirm? Intent of an answer (affirm / deny / unclear) and read-aloud matching.

Refusals are looked for first: "不同意" contains "同意", "I do not agree" contains "agree". An answer
with both an affirmation and a refusal, with neither, or recognised with low confidence is "unclear":
a dual recording never treats silence or mumbling as consent.
"""

from __future__ import annotations

import re

from models.text import cer

DENY_ZH = ("不是", "不同意", "不清楚", "不确认", "不明白", "不知道", "没有", "不愿意", "不对", "拒绝")
AFFIRM_ZH = ("是", "对", "确认", "同意", "自愿", "清楚", "明白", "知晓", "好的", "可以")
DENY_EN = (r"\bno\b", r"\bnot\b", r"\bdon'?t\b", r"\bdisagree\b", r"\bnever\b", r"\brefuse\b", r"\bnope\b")
AFFIRM_EN = (r"\byes\b", r"\byeah\b", r"\bconfirm\b", r"\bagree\b", r"\bunderstand\b", r"\bcorrect\b")


_NEGATED = re.compile(r"\b(?:no|not|don'?t|never|nope|disagree|refuse)\b(?:\s+[a-z']+){0,2}")


def intent(transcript: str, confidence: float = 1.0, min_confidence: float = 0.5) -> tuple[str, str]:
    """``(affirm | deny | unclear, reason)`` for one answer."""
    text = re.sub(r"\s+", " ", transcript.strip().lower())
    if not text:
        return "unclear", "no speech recognised"
    if confidence < min_confidence:
        return "unclear", f"recognition confidence {confidence:.2f} below {min_confidence:.2f}"
    deny = [w for w in DENY_ZH if w in text] + [m.group(0) for p in DENY_EN if (m := re.search(p, text))]
    rest = text
    for w in DENY_ZH:
        rest = rest.replace(w, " ")
    # a negation takes the next two words with it: "do not agree", "don't really understand"
    rest = _NEGATED.sub(" ", rest)
    affirm = [w for w in AFFIRM_ZH if w in rest] + [m.group(0) for p in AFFIRM_EN if (m := re.search(p, rest))]
    if deny and affirm:
        return "unclear", f"both a refusal ({deny[0]}) and an affirmation ({affirm[0]})"
    if deny:
        return "deny", f"refusal: {deny[0]}"
    if affirm:
        return "affirm", f"affirmation: {affirm[0]}"
    return "unclear", "neither an affirmation nor a refusal"


def _plain(text: str) -> str:
    return re.sub(r"[\s，。,.!?！？、；;：:\"'“”]", "", text.lower())


def match_ratio(expected: str, said: str) -> float:
    """1 - CER of what was said against the expected text (punctuation and spaces ignored), floored at 0."""
    return round(max(0.0, 1.0 - cer(_plain(expected), _plain(said))), 4)
