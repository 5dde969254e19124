"""VAT invoices (增值税发票) and bank acceptance bills (银行承兑汇票): numbers, dates, amounts that add up."""

from __future__ import annotations

import re

from models.ocr import checks
from models.ocr.parsers.common import Page, date_field, found, missing, parse_date
from models.ocr.parsers.licences import USCC_RX, uscc_field
from models.ocr.types import DocField, TextLine

AMOUNT_RX = re.compile(r"[¥￥]?\s*(-?\d{1,3}(?:,?\d{3})*\.\d{2})")
INVOICE_LABELS = ("发票代码", "发票号码", "开票日期", "校验码", "购买方名称", "购买方纳税人识别号", "销售方名称",
                  "销售方纳税人识别号", "金额", "税额", "价税合计(大写)", "(小写)", "价税合计")


def digits_field(hits: list[tuple[str, float]], what: str, lengths: tuple[int, ...]) -> DocField:
    """The first reading with an expected number of digits (else the first reading, flagged)."""
    if not hits:
        return missing(what)
    hit = next((h for h in hits if len(re.sub(r"\D", "", h[0])) in lengths), hits[0])
    value = re.sub(r"\D", "", hit[0])
    expected = " or ".join(map(str, lengths)) if len(lengths) < 4 else f"{lengths[0]}-{lengths[-1]}"
    problems = [] if len(value) in lengths else [f"{what} has {len(value)} digits, expected {expected}"]
    return found(value, hit[1], problems, f"{expected} digits")


def amount_of(hit: tuple[str, float] | None) -> tuple[str, float] | None:
    if hit is None:
        return None
    m = AMOUNT_RX.search(hit[0])
    return (m.group(1).replace(",", ""), hit[1]) if m else None


def amount_field(hit: tuple[str, float] | None, what: str) -> DocField:
    a = amount_of(hit)
    if a is None:
        return missing(what)
    return found(a[0], a[1], checked="an amount with two decimals")


def words_match(figures: DocField, words: tuple[str, float] | None) -> DocField:
    """The amount in figures must equal the amount in Chinese capitals printed beside it."""
    if not figures.valid or words is None:
        return figures
    expected = checks.rmb_upper(float(figures.value))
    said = words[0].replace("正", "整").replace("圆", "元")
    if said.rstrip("整") == expected.rstrip("整"):
        return figures.model_copy(update={"reason": "matches the amount in words (大写)"})
    return figures.model_copy(update={"valid": False, "reason": f"amount in words says {said!r}, figures say "
                                      f"{figures.value} ({expected})"})


def parse_vat_invoice(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, INVOICE_LABELS)
    fields = {
        "invoice_code": digits_field(page.candidates("发票代码"), "invoice code", (10, 12)),
        "invoice_number": digits_field(page.candidates("发票号码"), "invoice number", (8, 20)),
        "date": date_field(page.after("开票日期"), "invoice date"),
        "check_code": digits_field(page.candidates("校验码"), "check code", (20,)),
        "buyer_tax_id": uscc_field(page.candidates("购买方纳税人识别号")),
        "seller_tax_id": uscc_field(page.candidates("销售方纳税人识别号")),
        "amount": amount_field(page.after("金额"), "amount"),
        "tax": amount_field(page.after("税额"), "tax"),
        "total": amount_field(page.after("(小写)"), "total"),
    }
    fields["total"] = words_match(fields["total"], page.after("价税合计(大写)", "价税合计"))
    a, t, s = fields["amount"], fields["tax"], fields["total"]
    if a.valid and t.valid and s.valid and abs(float(a.value) + float(t.value) - float(s.value)) > 0.005:
        fields["total"] = s.model_copy(update={"valid": False, "reason": f"amount {a.value} + tax {t.value} "
                                               f"≠ total {s.value}"})
    return fields


BILL_LABELS = ("出票日期", "票据号码", "汇票号码", "出票人全称", "出票人账号", "收款人全称", "收款人账号",
               "出票金额(大写)", "(小写)", "汇票到期日", "银行承兑汇票")


def parse_bank_bill(lines: list[TextLine]) -> dict[str, DocField]:
    page = Page(lines, BILL_LABELS)
    fields = {
        "bill_number": digits_field(page.candidates("票据号码", "汇票号码"), "bill number", (8, 16, 30)),
        "issue_date": date_field(page.after("出票日期"), "issue date"),
        "due_date": date_field(page.after("汇票到期日"), "due date"),
        "drawer_account": digits_field(page.candidates("出票人账号"), "drawer account", tuple(range(8, 26))),
        "payee_account": digits_field(page.candidates("收款人账号"), "payee account", tuple(range(8, 26))),
        "amount": amount_field(page.after("(小写)"), "amount"),
    }
    fields["amount"] = words_match(fields["amount"], page.after("出票金额(大写)"))
    issued, due = fields["issue_date"], fields["due_date"]
    if issued.valid and due.valid:
        d0, d1 = parse_date(issued.value), parse_date(due.value)
        if d1 <= d0 or (d1 - d0).days > 366:
            fields["due_date"] = due.model_copy(update={"valid": False, "reason": "due date must be after the issue "
                                                        "date and at most one year later"})
    return fields


__all__ = ["parse_vat_invoice", "parse_bank_bill", "USCC_RX"]
