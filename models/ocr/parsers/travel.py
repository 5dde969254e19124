"""Passport (ICAO 9303 TD3 machine readable zone) and the mainland travel permit for Hong Kong and Macau."""

from __future__ import annotations

import datetime as dt
import re

from models.ocr import checks
from models.ocr.parsers.common import Page, date_field, found, missing
from models.ocr.parsers.id_card import name_field, sex_field, validity_field
from models.ocr.types import DocField, TextLine

# Positions of a TD3 line 2 that hold digits (dates, check digits); the rest may be letters or digits.
_DIGIT_POS_2 = set(range(13, 20)) | set(range(21, 28)) | {9, 42, 43}
_TO_DIGIT = str.maketrans({"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8"})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z"})


def _mrz_text(text: str) -> str:
    t = text.upper().replace(" ", "").replace("«", "<").replace("く", "<").replace("‹", "<")
    return re.sub(r"[^A-Z0-9<]", "", t)


def _fix_line1(line: str) -> str:
    """Names and country codes are letters only: a 0 there can only be an O misread."""
    return line[:2] + line[2:].translate(_TO_ALPHA)


def _fix_line2(line: str) -> str:
    chars = list(line)
    for i in _DIGIT_POS_2:
        if i < len(chars):
            chars[i] = chars[i].translate(_TO_DIGIT)
    for i in (10, 11, 12):  # nationality
        if i < len(chars):
            chars[i] = chars[i].translate(_TO_ALPHA)
    return "".join(chars)


def _mrz_date(yymmdd: str, future: bool) -> str:
    try:
        d = dt.datetime.strptime(yymmdd, "%y%m%d").date()
    except ValueError:
        return yymmdd
    today = dt.date.today()
    if not future and d > today:
        d = d.replace(year=d.year - 100)
    if future and d.year > today.year + 50:
        d = d.replace(year=d.year - 100)
    return d.isoformat()


def find_mrz(lines: list[TextLine]) -> tuple[str, str, float] | None:
    cands = [(_mrz_text(ln.text), ln) for ln in sorted(lines, key=lambda ln: ln.y)]
    cands = [(t, ln) for t, ln in cands if len(t) >= 40 and t.count("<") >= 2]
    for i, (t, ln) in enumerate(cands[:-1]):
        if t.startswith("P"):
            nxt, ln2 = cands[i + 1]
            return t[:44].ljust(44, "<"), nxt[:44].ljust(44, "<"), min(ln.confidence, ln2.confidence)
    return None


def parse_passport(lines: list[TextLine]) -> dict[str, DocField]:
    mrz = find_mrz(lines)
    names = ("passport_number", "surname", "given_names", "nationality", "birth_date", "sex", "expiry_date")
    if mrz is None:
        return {n: missing("machine readable zone") for n in names}
    line1, line2, conf = _fix_line1(mrz[0]), _fix_line2(mrz[1]), mrz[2]
    data = checks.parse_td3(line1, line2)
    failed = set(data["failed_checks"])

    def f(name: str, value: str, check: str | None) -> DocField:
        problems = [f"MRZ check digit of {check} does not match"] if check in failed else []
        if "composite" in failed:
            problems.append("MRZ composite check digit does not match")
        return found(value, conf, problems, "ICAO 9303 check digits verified")

    fields = {
        "passport_number": f("passport_number", data["document_number"], "document_number"),
        "surname": f("surname", data["surname"], None),
        "given_names": f("given_names", data["given_names"], None),
        "nationality": f("nationality", data["nationality"], None),
        "birth_date": f("birth_date", _mrz_date(data["birth_date"], False), "birth_date"),
        "sex": f("sex", data["sex"], None),
        "expiry_date": f("expiry_date", _mrz_date(data["expiry_date"], True), "expiry_date"),
    }
    if data["sex"] not in ("M", "F", "<"):
        fields["sex"] = fields["sex"].model_copy(update={"valid": False, "reason": "sex must be M, F or <"})
    fields["mrz"] = found(f"{line1}\n{line2}", conf, [f"failed: {', '.join(sorted(failed))}"] if failed else [],
                          "ICAO 9303 TD3: document number, birth, expiry, personal number and composite checks")
    return fields


PERMIT_LABELS = ("姓名", "出生日期", "性别", "有效期限", "签发地点", "签发机关", "往来港澳通行证")
PERMIT_RX = re.compile(r"(?<![A-Z0-9])([CE][0-9A-Z]\d{7})(?![0-9])")


def parse_hk_macau_permit(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, PERMIT_LABELS)
    number = page.search(PERMIT_RX)
    fields = {
        "permit_number": missing("permit number") if number is None else found(
            number[0], number[1], checked="C or E followed by 8 characters (the 2013 card format)"),
        "name": name_field(page.after("姓名")),
        "birth_date": date_field(page.after("出生日期"), "birth date"),
        "sex": sex_field(page.after("性别")),
    }
    fields["valid_from"], fields["valid_to"] = validity_field(page.after("有效期限"), (5, 10))
    return fields
