"""Field parsers on hand-placed text lines: each check fires on exactly the inconsistency it guards."""

from __future__ import annotations

from models.ocr.parsers import classify, parse
from models.ocr.types import TextLine


def _lines(*rows: tuple[float, float, str]) -> list[TextLine]:
    """(x, y, text) -> lines 30 px high, 20 px per character wide."""
    return [TextLine(text=t, confidence=0.98, box=[(x, y - 15), (x + 20 * len(t), y - 15), (x + 20 * len(t), y + 15),
                                                   (x, y + 15)]) for x, y, t in rows]


FRONT = [(60, 60, "姓名 买买提•艾力"), (60, 120, "性别 男"), (250, 120, "民族维吾尔"),
         (60, 180, "出生 1990年3月7日"), (60, 240, "住址"), (146, 240, "新疆维吾尔自治区乌鲁"),
         (146, 280, "木齐市天山区人民路"), (146, 320, "12号"), (60, 450, "公民身份号码"),
         (290, 450, "650102199003071234")]


def _front(**replace: str) -> dict:
    rows = [(x, y, replace.get(t, t)) for x, y, t in FRONT]
    return parse("id_card_front", _lines(*rows))


def test_id_front_fields_and_minority_name():
    from models.ocr import checks

    number = "65010219900307123"
    number += checks.id_check_char(number)
    f = _front(**{"650102199003071234": number})
    assert f["name"].value == "买买提·艾力" and f["name"].valid  # a bullet read for the middle dot is normalised
    assert (f["sex"].value, f["ethnicity"].value, f["birth_date"].value) == ("男", "维吾尔", "1990-03-07")
    assert f["address"].value == "新疆维吾尔自治区乌鲁木齐市天山区人民路12号"
    assert f["id_number"].valid and all(x.valid for x in f.values())


def test_id_front_inconsistencies_are_flagged():
    from models.ocr import checks

    number = "65010219900307122"  # even 17th digit: a woman's number
    number += checks.id_check_char(number)
    f = _front(**{"650102199003071234": number, "出生 1990年3月7日": "出生 1990年3月8日", "民族维吾尔": "民族火星"})
    assert f["id_number"].valid
    assert not f["sex"].valid and "女" in f["sex"].reason
    assert not f["birth_date"].valid and "1990-03-07" in f["birth_date"].reason
    assert not f["ethnicity"].valid and "56" in f["ethnicity"].reason


def test_id_back_validity_terms():
    def back(period: str) -> dict:
        rows = [(120, 380, "签发机关 武汉市公安局江岸分局"), (120, 440, f"有效期限 {period}")]
        return parse("id_card_back", _lines(*rows))

    ok = back("2015.03.07-2025.03.07")
    assert (ok["valid_from"].value, ok["valid_to"].value, ok["valid_to"].valid) == ("2015-03-07", "2025-03-07", True)
    assert back("2010.01.02-长期")["valid_to"].value == "长期" and back("2010.01.02-长期")["valid_to"].valid
    assert not back("2015.03.07-2022.03.07")["valid_to"].valid  # 7 years is not a term
    assert "not after" in back("2015.03.07-2010.03.07")["valid_to"].reason
    assert back("2015.03.07-2035.03.07")["valid_to"].valid  # 20 years
    assert back("2015.03.07-2025.03.07")["issuing_authority"].valid


def test_vat_invoice_amounts_must_add_up_and_match_the_words():
    rows = [(757, 128, "发票代码"), (878, 128, "4347334540"), (757, 168, "发票号码 76590306"),
            (757, 209, "开票日期 2022年11月13日"), (757, 248, "校验码"), (851, 248, "38898 96816 51476 71169"),
            (57, 364, "购买方纳税人识别号 91350100M000100Y43"), (57, 449, "金额 100.00"), (416, 449, "税额 13.00"),
            (58, 519, "价税合计(大写)"), (244, 519, "壹佰壹拾叁元整"), (698, 520, "(小写)"), (778, 520, "¥113.00"),
            (58, 644, "销售方纳税人识别号 91350100M000100Y44")]
    f = parse("vat_invoice", _lines(*rows))
    assert f["total"].valid and "大写" in f["total"].reason
    assert f["buyer_tax_id"].valid and not f["seller_tax_id"].valid
    assert f["check_code"].value == "38898968165147671169"
    wrong_sum = parse("vat_invoice", _lines(*[(x, y, "税额 14.00" if t == "税额 13.00" else t) for x, y, t in rows]))
    assert not wrong_sum["total"].valid and "≠" in wrong_sum["total"].reason
    wrong_words = parse("vat_invoice", _lines(*[(x, y, "壹佰壹拾肆元整" if t == "壹佰壹拾叁元整" else t)
                                               for x, y, t in rows]))
    assert not wrong_words["total"].valid and "in words" in wrong_words["total"].reason


def test_vehicle_licence_vin_and_plate():
    rows = [(40, 100, "号牌号码 鄂A12345"), (40, 220, "所有人 张三"), (40, 400, "车辆识别代号 1M8GDM9AXKP042788"),
            (40, 460, "注册日期 2019-08-15")]
    f = parse("vehicle_licence", _lines(*rows))
    assert f["vin"].valid and f["plate_number"].valid and f["registration_date"].value == "2019-08-15"
    misread = parse("vehicle_licence", _lines(*[(x, y, t.replace("鄂A12345", "鄂A1234O")) for x, y, t in rows]))
    assert misread["plate_number"].value == "鄂A12340"  # plates never use O (GA 36)
    bad = parse("vehicle_licence", _lines(*[(x, y, t.replace("AXK", "A1K")) for x, y, t in rows]))
    assert not bad["vin"].valid and "check character" in bad["vin"].reason


def test_bank_bill_due_date_after_issue():
    rows = [(60, 140, "出票日期 2024年03月16日"), (640, 140, "票据号码 5776986048094253"),
            (60, 490, "出票金额(大写) 壹万元整"), (760, 490, "(小写) ¥10000.00"),
            (60, 580, "汇票到期日 2024年01月14日")]
    f = parse("bank_bill", _lines(*rows))
    assert f["amount"].valid and not f["due_date"].valid


def test_classifier_uses_titles_and_labels():
    assert classify(_lines(*FRONT))[0] == "id_card_front"
    assert classify(_lines((50, 40, "中国工商银行"), (60, 300, "6222 0202 0000 1234 567")), 1.58)[0] == "bank_card"
    assert classify(_lines((420, 40, "常住人口登记卡"), (80, 150, "姓名 张三"), (80, 240, "性别 男")))[0] == \
        "household_register"
    assert classify(_lines((10, 10, "hello world")))[0] is None
