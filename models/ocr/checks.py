"""Check-digit rules of the identifiers found on cards and bills, and masking for logs.

- GB 11643-1999 citizen identity number (18 characters, ISO 7064 MOD 11-2 check character);
- ISO/IEC 7812 Luhn check of bank card numbers;
- GB 32100-2015 unified social credit code (18 characters, MOD 31 check character);
- ICAO Doc 9303 check digits and the TD3 (passport) machine readable zone;
- GB 16735 / ISO 3779 vehicle identification number check digit (9th character);
- amounts in Chinese capitals (大写) as printed on invoices and bills.
"""

from __future__ import annotations

import datetime as dt

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_problems(number: str) -> list[str]:
    """Reasons an 18-character ID number is invalid (empty list: valid): format, birth date, check."""
    n = number.strip().upper()
    if len(n) != 18 or not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        return ["must be 17 digits followed by a digit or X"]
    problems = []
    try:
        birth = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
        if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
            problems.append(f"birth date {birth} out of range")
    except ValueError:
        problems.append(f"birth date {n[6:14]} is not a date")
    if id_check_char(n[:17]) != n[17]:
        problems.append(f"check character should be {id_check_char(n[:17])}, not {n[17]}")
    return problems


def id_sex(number: str) -> str:
    """"男" (odd 17th digit) or "女" (even), per GB 11643."""
    return "男" if int(number[16]) % 2 else "女"


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 12 or len(digits) != len(number.replace(" ", "")):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character for the first 17 characters."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    c = code.strip().upper()
    return len(c) == 18 and all(ch in _USCC_CHARS for ch in c) and uscc_check_char(c[:17]) == c[17]


def mrz_check_digit(field: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1, digits as themselves, A–Z as 10–35, '<' as 0."""
    def value(ch: str) -> int:
        if ch.isdigit():
            return int(ch)
        if "A" <= ch <= "Z":
            return ord(ch) - 55
        return 0

    return str(sum(value(ch) * (7, 3, 1)[i % 3] for i, ch in enumerate(field)) % 10)


def parse_td3(line1: str, line2: str) -> dict:
    """Fields of a passport MRZ (two 44-character lines) with every check digit verified."""
    if len(line1) != 44 or len(line2) != 44 or not line1.startswith("P"):
        raise ValueError("a TD3 MRZ is two lines of 44 characters, the first starting with P")
    surname, _, given = line1[5:].partition("<<")
    checks = {
        "document_number": (line2[0:9], line2[9]),
        "birth_date": (line2[13:19], line2[19]),
        "expiry_date": (line2[21:27], line2[27]),
        "personal_number": (line2[28:42], line2[42]),
        "composite": (line2[0:10] + line2[13:20] + line2[21:43], line2[43]),
    }
    failed = [name for name, (field, digit) in checks.items() if mrz_check_digit(field) != digit]
    return {
        "document_type": line1[0:2].rstrip("<"), "issuing_state": line1[2:5],
        "surname": surname.replace("<", " ").strip(), "given_names": given.replace("<", " ").strip(),
        "document_number": line2[0:9].rstrip("<"), "nationality": line2[10:13], "birth_date": line2[13:19],
        "sex": line2[20], "expiry_date": line2[21:27], "personal_number": line2[28:42].rstrip("<"),
        "valid": not failed, "failed_checks": failed,
    }


_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The 9th character of a 17-character VIN (GB 16735-2019 appendix / ISO 3779): 0-9 or X."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def vin_problems(vin: str) -> list[str]:
    v = vin.strip().upper()
    if len(v) != 17 or any(c not in _VIN_VALUES for c in v):
        return ["must be 17 characters from 0-9 and A-Z without I, O, Q"]
    digit = vin_check_digit(v)
    return [] if v[8] == digit else [f"check character (9th) should be {digit}, not {v[8]}"]


def rmb_upper(amount: float) -> str:
    """An amount in Chinese capitals, e.g. 1234.50 -> 壹仟贰佰叁拾肆元伍角整 (GB/T usage on bills)."""
    from models.text import DIGITS_CAPITAL, UNITS_CAPITAL, chinese_integer

    cents = round(amount * 100)
    if cents < 0:
        raise ValueError("amount must not be negative")
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    out = chinese_integer(yuan, DIGITS_CAPITAL, UNITS_CAPITAL) + "元" if yuan else ""
    if not jiao and not fen:
        return (out or "零元") + "整"
    if jiao:
        out += DIGITS_CAPITAL[jiao] + "角"
    elif out:
        out += "零"
    return out + (DIGITS_CAPITAL[fen] + "分" if fen else "整")


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """``4201**********1234``: keep the ends of an ID or card number, star the rest (for logs and reports)."""
    v = value.replace(" ", "")
    if len(v) <= keep_start + keep_end:
        return "*" * len(v)
    return v[:keep_start] + "*" * (len(v) - keep_start - keep_end) + v[-keep_end:]


SENSITIVE_FIELDS = frozenset({
    "id_number", "licence_number", "card_number", "passport_number", "permit_number", "drawer_account",
    "payee_account", "mrz",
})


def masked_fields(fields: dict) -> dict[str, str]:
    """A log-safe view of parsed fields: identifiers masked (``4201**********1234``), every other value
    (names, addresses, dates) replaced by its check result, so no personal data reaches a log."""
    out = {}
    for name, f in fields.items():
        valid = getattr(f, "valid", True)
        value = f.value if hasattr(f, "value") else str(f)
        if name in SENSITIVE_FIELDS and value:
            out[name] = mask(value) + ("" if valid else " (invalid)")
        else:
            out[name] = ("ok" if valid else "invalid") if value else "missing"
    return out
