"""Chinese text normalisation before synthesis: numbers, dates, amounts and percentages written out in
words, so they are read the way a person reads them aloud (二零二四年三月七日, 一千二百三十四元五角)."""

from __future__ import annotations

import re

from models.text import DIGITS_ZH, chinese_integer

DIGITS = DIGITS_ZH


def integer(n: int) -> str:
    """0 -> 零, 10 -> 十, 1234 -> 一千二百三十四, 100010 -> 十万零一十 (as read aloud)."""
    if n < 0:
        return "负" + integer(-n)
    out = chinese_integer(n)
    return out[1:] if out.startswith("一十") else out


def digits(s: str) -> str:
    return "".join(DIGITS[int(c)] for c in s)


def number(s: str) -> str:
    whole, _, frac = s.replace(",", "").partition(".")
    out = integer(int(whole)) if whole else "零"
    return out + ("点" + digits(frac) if frac else "")


def amount(s: str) -> str:
    """Yuan with jiao and fen: 1234.50 -> 一千二百三十四元五角."""
    value = round(float(s.replace(",", "")) * 100)
    yuan, jiao, fen = value // 100, value // 10 % 10, value % 10
    out = integer(yuan) + "元"
    if jiao:
        out += DIGITS[jiao] + "角"
    if fen:
        out += ("零" if not jiao else "") + DIGITS[fen] + "分"
    return out if jiao or fen else out + "整"


_RULES: list[tuple[re.Pattern, callable]] = [
    (re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?"),
     lambda m: f"{digits(m.group(1))}年{integer(int(m.group(2)))}月{integer(int(m.group(3)))}日"),
    (re.compile(r"(\d{4})\s*年"), lambda m: f"{digits(m.group(1))}年"),
    (re.compile(r"[¥￥]\s*([\d,]+(?:\.\d{1,2})?)\s*元?"), lambda m: amount(m.group(1))),
    (re.compile(r"([\d,]+(?:\.\d{1,2})?)\s*元"), lambda m: amount(m.group(1))),
    (re.compile(r"(\d+(?:\.\d+)?)\s*%"), lambda m: "百分之" + number(m.group(1))),
    (re.compile(r"\d{7,}"), lambda m: digits(m.group(0))),  # phone, account and ID numbers: digit by digit
    (re.compile(r"\d+(?:\.\d+)?"), lambda m: number(m.group(0))),
]


def normalise(text: str) -> str:
    for rx, fn in _RULES:
        text = rx.sub(fn, text)
    return text
