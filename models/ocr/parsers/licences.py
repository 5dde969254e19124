"""Business licence (营业执照), household register page (常住人口登记卡), driving and vehicle licences."""

from __future__ import annotations

import re

from models.ocr import checks
from models.ocr.parsers.common import Page, date_field, found, missing, parse_date
from models.ocr.parsers.id_card import (
    cross_check,
    ethnicity_field,
    id_number_field,
    name_field,
    sex_field,
    validity_field,
)
from models.ocr.types import DocField, TextLine

USCC_RX = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10})(?![0-9A-Z])")


def uscc_field(hits: list[tuple[str, float]] | tuple[str, float] | None) -> DocField:
    """The first reading that looks like a credit code; its check character decides ``valid``."""
    if isinstance(hits, tuple):
        hits = [hits]
    if not hits:
        return missing("unified social credit code")
    value, conf = hits[0][0].upper(), hits[0][1]
    for text, c in hits:
        # I, O, S, V and Z never occur in a credit code (GB 32100): an O or I read there is a 0 or 1
        m = USCC_RX.search(text.upper().translate(str.maketrans("OI", "01")))
        if m:
            value, conf = m.group(1), c
            break
    ok = checks.uscc_valid(value)
    return found(value, conf, [] if ok else ["GB 32100 check character does not match (or not 18 characters)"],
                 "GB 32100 check character verified")


def text_field(hit: tuple[str, float] | None, what: str, min_len: int = 2) -> DocField:
    if hit is None:
        return missing(what)
    return found(hit[0], hit[1], [] if len(hit[0]) >= min_len else [f"{what} too short"], "read as printed")


BUSINESS_LABELS = ("统一社会信用代码", "名称", "类型", "法定代表人", "注册资本", "成立日期", "营业期限", "住所",
                   "经营范围", "登记机关")


def parse_business_licence(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, BUSINESS_LABELS)
    code = page.candidates("统一社会信用代码") or ([hit] if (hit := page.search(USCC_RX)) else [])
    capital = page.after("注册资本")
    fields = {
        "credit_code": uscc_field(code),
        "name": text_field(page.after("名称"), "company name", 4),
        "legal_representative": name_field(page.after("法定代表人")),
        "registered_capital": missing("registered capital") if capital is None else found(
            capital[0], capital[1], [] if re.search(r"\d", capital[0]) and "元" in capital[0] else
            ["capital is an amount in 元"], "an amount in 元"),
        "established": date_field(page.after("成立日期"), "date of establishment"),
        "address": text_field(page.block("住所", stop=("经营范围", "登记机关")), "address", 6),
    }
    return fields


HOUSEHOLD_LABELS = ("姓名", "户主或与户主关系", "性别", "民族", "出生日期", "出生地", "公民身份号码",
                    "常住人口登记卡", "曾用名", "籍贯", "宗教信仰")
RELATIONS = ("户主", "妻", "夫", "子", "女", "长子", "次子", "长女", "次女", "父", "母", "孙子", "孙女", "儿媳",
             "女婿", "兄", "弟", "姐", "妹", "祖父", "祖母", "外孙子", "外孙女")


def parse_household_register(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, HOUSEHOLD_LABELS)
    relation = page.after("户主或与户主关系")
    fields = {
        "name": name_field(page.after("姓名")),
        "relation": missing("relation to the head of household") if relation is None else found(
            relation[0], relation[1], [] if relation[0] in RELATIONS else [f"{relation[0]!r} is not a known relation"],
            "a relation used in household registers"),
        "sex": sex_field(page.after("性别")),
        "ethnicity": ethnicity_field(page.after("民族")),
        "birth_date": date_field(page.after("出生日期"), "birth date"),
        "birthplace": text_field(page.after("出生地"), "birthplace"),
        "id_number": id_number_field(page, "公民身份号码"),
    }
    cross_check(fields)
    return fields


DRIVING_LABELS = ("证号", "姓名", "性别", "国籍", "住址", "出生日期", "初次领证日期", "准驾车型", "有效期限",
                  "机动车驾驶证")
VEHICLE_CLASSES = {"A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P"}


def parse_driving_licence(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, DRIVING_LABELS)
    cls = page.after("准驾车型")
    fields = {
        "licence_number": id_number_field(page, "证号"),
        "name": name_field(page.after("姓名")),
        "sex": sex_field(page.after("性别")),
        "birth_date": date_field(page.after("出生日期"), "birth date"),
        "first_issued": date_field(page.after("初次领证日期"), "first issue date"),
        "vehicle_class": missing("vehicle class") if cls is None else found(
            cls[0].upper(), cls[1], [] if all(c in VEHICLE_CLASSES for c in re.findall(r"[A-Z]\d?", cls[0].upper()))
            and cls[0] else [f"{cls[0]!r} is not a GA/T vehicle class"], "A1…P classes"),
    }
    fields["valid_from"], fields["valid_to"] = validity_field(page.after("有效期限"), (6, 10))
    cross_check(fields)
    first, birth = fields["first_issued"], fields["birth_date"]
    d1 = parse_date(first.value) if first.valid else None
    d0 = parse_date(birth.value) if birth.valid else None
    if d1 and d0 and (d1 - d0).days < 18 * 365:
            fields["first_issued"] = first.model_copy(update={"valid": False,
                                                              "reason": "first issued before the holder was 18"})
    return fields


VEHICLE_LABELS = ("号牌号码", "车辆类型", "所有人", "住址", "使用性质", "品牌型号", "车辆识别代号", "发动机号码",
                  "注册日期", "发证日期", "机动车行驶证")
PLATE_RX = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}$")
_VIN_FIX = str.maketrans({"O": "0", "Q": "0", "I": "1"})


def parse_vehicle_licence(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, VEHICLE_LABELS)
    plate = page.after("号牌号码")
    vin = page.after("车辆识别代号")
    # I and O are not used on plates (GA 36), so an O or I read after the province letter is a 0 or 1
    plate_value = plate[0].upper()[:2] + plate[0].upper()[2:].translate(_VIN_FIX) if plate else ""
    fields = {
        "plate_number": missing("plate number") if plate is None else found(
            plate_value, plate[1],
            [] if PLATE_RX.match(plate_value) else ["not a plate number (省 + letter + 5-6)"],
            "province character, letter, 5 or 6 characters"),
        "owner": text_field(page.after("所有人"), "owner"),
        "registration_date": date_field(page.after("注册日期"), "registration date"),
    }
    if vin is None:
        fields["vin"] = missing("VIN")
    else:
        # I, O and Q never occur in a VIN (ISO 3779), so where OCR reads one it can only be 1 or 0
        value = vin[0].upper().translate(_VIN_FIX)
        fields["vin"] = found(value, vin[1], checks.vin_problems(value), "ISO 3779 / GB 16735 check character")
    return fields
