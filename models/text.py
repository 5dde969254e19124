"""Edit distance and character error rate, shared by the OCR and speech families and their evaluations."""

from __future__ import annotations


def edit_distance(ref: str, hyp: str) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    prev = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1]


def cer(ref: str, hyp: str) -> float:
    """Character error rate: edit distance over the reference length (an empty reference: 0 or 1)."""
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def wer(ref: str, hyp: str) -> float:
    """Word error rate over whitespace-separated words."""
    r, h = ref.split(), hyp.split()
    if not r:
        return 0.0 if not h else 1.0
    return edit_distance(r, h) / len(r)  # type: ignore[arg-type]  # works on any sequences


DIGITS_ZH = "零一二三四五六七八九"
DIGITS_CAPITAL = "零壹贰叁肆伍陆柒捌玖"
UNITS_ZH = ("", "十", "百", "千")
UNITS_CAPITAL = ("", "拾", "佰", "仟")
_BIG = ("", "万", "亿", "万亿")


def chinese_integer(n: int, digits: str = DIGITS_ZH, units: tuple[str, ...] = UNITS_ZH) -> str:
    """A non-negative integer in Chinese numerals: 1234 -> 一千二百三十四, 100010 -> 一十万零一十
    (callers reading aloud drop a leading 一十); with the capital digits and units it is the 大写 of bills."""
    if n == 0:
        return digits[0]
    parts, i = [], 0
    while n:
        parts.append((n % 10000, i))
        n //= 10000
        i += 1
    out, pending_zero = "", False
    for value, big in reversed(parts):
        if value == 0:
            pending_zero = True
            continue
        if out and (pending_zero or value < 1000):
            out += digits[0]
        section, zero = "", False
        for k in range(3, -1, -1):
            d = value // 10**k % 10
            if d:
                if zero and section:
                    section += digits[0]
                section += digits[d] + units[k]
                zero = False
            else:
                zero = True
        out += section + _BIG[big]
        pending_zero = False
    return out
