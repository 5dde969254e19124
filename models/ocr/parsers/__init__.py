"""Field parsers, one per document type (recognised lines in, validated fields out), and ``auto``
classification of the document type from its text and layout."""

from __future__ import annotations

import re
from collections.abc import Callable

from models.errors import InvalidInput
from models.ocr.parsers import bills, cards, id_card, licences, travel
from models.ocr.parsers.common import norm
from models.ocr.types import DOC_TYPES, DocField, TextLine

Parser = Callable[[list[TextLine]], dict[str, DocField]]

PARSERS: dict[str, Parser] = {
    "id_card_front": id_card.parse_front,
    "id_card_back": id_card.parse_back,
    "bank_card": cards.parse_bank_card,
    "business_licence": licences.parse_business_licence,
    "passport": travel.parse_passport,
    "hk_macau_permit": travel.parse_hk_macau_permit,
    "household_register": licences.parse_household_register,
    "driving_licence": licences.parse_driving_licence,
    "vehicle_licence": licences.parse_vehicle_licence,
    "vat_invoice": bills.parse_vat_invoice,
    "bank_bill": bills.parse_bank_bill,
}
assert set(PARSERS) == set(DOC_TYPES)

# Words printed on one document type (weight 3: its title; 1: its field labels).
CUES: dict[str, dict[str, int]] = {
    "id_card_front": {"公民身份号码": 3, "姓名": 1, "性别": 1, "民族": 1, "出生": 1, "住址": 1},
    "id_card_back": {"居民身份证": 3, "签发机关": 2, "有效期限": 1},
    "bank_card": {"银联": 2, "UNIONPAY": 2, "VALIDTHRU": 2, "银行": 1},
    "business_licence": {"营业执照": 3, "统一社会信用代码": 2, "法定代表人": 1, "注册资本": 1, "经营范围": 1},
    "passport": {"护照": 3, "PASSPORT": 2, "P<": 2},
    "hk_macau_permit": {"往来港澳通行证": 4, "签发地点": 1},
    "household_register": {"常住人口登记卡": 6, "户主或与户主关系": 2, "出生地": 1},
    "driving_licence": {"驾驶证": 4, "准驾车型": 2, "初次领证日期": 2},
    "vehicle_licence": {"行驶证": 4, "车辆识别代号": 2, "号牌号码": 2},
    "vat_invoice": {"发票": 3, "发票代码": 2, "价税合计": 2, "纳税人识别号": 1},
    "bank_bill": {"汇票": 3, "承兑": 2, "出票人": 1, "收款人": 1, "出票金额": 1},
}
CARD_SIZED = ("id_card_front", "id_card_back", "bank_card", "hk_macau_permit", "driving_licence", "vehicle_licence")
_CARD_NUMBER = re.compile(r"(?<!\d)\d{16,19}(?!\d)")


def classify(lines: list[TextLine], aspect: float | None = None) -> tuple[str | None, dict[str, float]]:
    """Most likely document type from the words on it (and its shape: cards are ID-1, 1.58:1).

    Returns ``(doc_type, scores)``; ``doc_type`` is None when no type scores at least 2.
    """
    text = "".join(norm(ln.text).upper() for ln in lines)
    scores = {t: float(sum(w for cue, w in cues.items() if cue.upper() in text)) for t, cues in CUES.items()}
    if _CARD_NUMBER.search(text) and not scores["bank_bill"] and not scores["vat_invoice"]:
        scores["bank_card"] += 2
    if "居民身份证" in text and "公民身份号码" in text:
        scores["id_card_back"] -= 3
    if aspect is not None and 1.45 <= aspect <= 1.7:  # ID-1 card proportions favour cards over sheets
        for t in CARD_SIZED:
            scores[t] += 0.5 if scores[t] else 0
    best = max(scores, key=scores.get)
    return (best if scores[best] >= 2 else None), scores


def parse(doc_type: str, lines: list[TextLine], **options) -> dict[str, DocField]:
    if doc_type not in PARSERS:
        raise InvalidInput(f"unknown doc_type {doc_type!r}; expected auto or one of {', '.join(DOC_TYPES)}")
    if doc_type == "bank_card":
        return cards.parse_bank_card(lines, options.get("bin_table"))
    return PARSERS[doc_type](lines)
