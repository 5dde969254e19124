"""Resident identity card (居民身份证), front and back."""

from __future__ import annotations

import re

from models.ocr import checks
from models.ocr.parsers.common import (
    ETHNICITIES,
    Page,
    add_years,
    all_dates,
    date_field,
    found,
    missing,
    parse_date,
)
from models.ocr.types import DocField, TextLine

FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
BACK_LABELS = ("签发机关", "有效期限", "中华人民共和国", "居民身份证")
ID_RX = re.compile(r"(?<![0-9])([1-9]\d{16}[\dX])(?![0-9])")
NAME_RX = re.compile(r"^[\u3400-\u9fff\U00020000-\U0002a6df]+(·[\u3400-\u9fff\U00020000-\U0002a6df]+)*$")


def id_number_field(page: Page, *labels: str) -> DocField:
    hits = page.candidates(*labels) if labels else []
    hit, m = None, None
    for h in hits:
        m = ID_RX.search(h[0].upper())
        if m:
            hit = h
            break
    if m is None:
        hit = page.search(re.compile(r"(?<![0-9])([1-9]\d{16}[\dXx])(?![0-9])"))
        if hit is None:
            return missing("ID number")
        text, conf = hit[0].upper(), hit[1]
    else:
        text, conf = m.group(1), hit[1]
    return found(text, conf, checks.id_number_problems(text), "GB 11643 check character and birth date verified")


def name_field(hit: tuple[str, float] | None) -> DocField:
    if hit is None:
        return missing("name")
    name, conf = hit
    problems = [] if NAME_RX.match(name) and 2 <= len(name) <= 40 else [
        f"{name!r} is not a Chinese name (characters, parts joined by ·)"]
    return found(name, conf, problems, "Chinese characters, minority names joined by ·")


def cross_check(fields: dict[str, DocField]) -> None:
    """Sex and birth date must agree with the ID number (when all three were read)."""
    number = fields.get("id_number") or fields.get("licence_number")
    if number is None or not number.valid:
        return
    sex = fields.get("sex")
    if sex is not None and sex.valid and sex.value != checks.id_sex(number.value):
        says = checks.id_sex(number.value)
        fields["sex"] = sex.model_copy(update={"valid": False, "reason": f"ID number says {says}"})
    birth = fields.get("birth_date")
    expected = f"{number.value[6:10]}-{number.value[10:12]}-{number.value[12:14]}"
    if birth is not None and birth.valid and birth.value != expected:
        fields["birth_date"] = birth.model_copy(update={"valid": False, "reason": f"ID number says {expected}"})


def sex_field(hit: tuple[str, float] | None) -> DocField:
    if hit is None:
        return missing("sex")
    value = hit[0][:1]
    return found(value, hit[1], [] if value in ("男", "女") else [f"{hit[0]!r} is not 男 or 女"], "男 or 女")


def ethnicity_field(hit: tuple[str, float] | None) -> DocField:
    if hit is None:
        return missing("ethnicity")
    value = hit[0].removesuffix("族")
    return found(value, hit[1], [] if value in ETHNICITIES else [f"{value!r} is not one of the 56 ethnic groups"],
                 "one of the 56 ethnic groups")


def parse_front(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, FRONT_LABELS)
    fields = {
        "name": name_field(page.after("姓名")),
        "sex": sex_field(page.after("性别")),
        "ethnicity": ethnicity_field(page.after("民族")),
        "birth_date": date_field(page.after("出生"), "birth date"),
        "address": _address(page),
        "id_number": id_number_field(page, "公民身份号码"),
    }
    cross_check(fields)
    return fields


def _address(page: Page) -> DocField:
    hit = page.block("住址", stop=("公民身份号码",))
    if hit is None:
        return missing("address")
    value, conf = hit
    return found(value, conf, [] if len(value) >= 6 else ["address too short"], "lines under 住址 merged")


def validity_field(hit: tuple[str, float] | None, allowed_years: tuple[int, ...]) -> tuple[DocField, DocField]:
    """(valid_from, valid_to) from "2015.03.07-2025.03.07" or "...-长期", with the term checked."""
    if hit is None:
        return missing("validity start"), missing("validity end")
    text, conf = hit
    dates = all_dates(text)
    if not dates:
        return found(text, conf, ["no date in the validity period"]), found(text, conf, ["no date"])
    start = found(dates[0].isoformat(), conf, checked="a calendar date")
    if "长期" in text:
        return start, found("长期", conf, checked="permanent (长期)")
    if len(dates) < 2:
        return start, found(text, conf, ["no end date in the validity period"])
    end = dates[1]
    problems = []
    if end <= dates[0]:
        problems.append(f"end {end} is not after start {dates[0]}")
    elif not any(add_years(dates[0], y) == end for y in allowed_years):
        problems.append(f"term {dates[0]} to {end} is not {'/'.join(map(str, allowed_years))} years")
    terms = "/".join(map(str, allowed_years))
    return start, found(end.isoformat(), conf, problems, f"end after start, term of {terms} years")


def parse_back(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, BACK_LABELS)
    authority = page.after("签发机关")
    fields = {"issuing_authority": missing("issuing authority") if authority is None else found(
        authority[0], authority[1], [] if authority[0].endswith(("公安局", "分局", "派出所")) else
        ["an issuing authority is a public security bureau (…公安局 / …分局)"], "a public security bureau")}
    fields["valid_from"], fields["valid_to"] = validity_field(page.after("有效期限"), (5, 10, 20))
    return fields


__all__ = ["parse_front", "parse_back", "parse_date", "id_number_field", "name_field", "sex_field",
           "ethnicity_field", "cross_check", "validity_field"]
