"""Render labelled synthetic documents of every OCR document type, then degrade them like a phone capture.

Fonts come from the Debian packages ``fonts-wqy-zenhei`` and ``fonts-noto-cjk`` (installed by
``scripts/install.sh``). Layouts follow the public specimens of each document (field order, labels,
number formats), not their security printing. Each :class:`Sample` carries the ground-truth field
values the OCR parsers should return and the evaluation groups of its content.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from evaluation.documents import identities as ids
from models.ocr import checks

FONT_FILES = {
    "wqy": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    "noto_sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "noto_serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    "mono": ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 1),
}
CARD = (856, 540)  # ID-1 card at 10 px/mm
SHEET = (1200, 800)


@dataclass
class Sample:
    doc_type: str
    image: np.ndarray  # RGB uint8
    truth: dict[str, str]
    groups: list[str]
    capture: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=64)
def font(kind: str, size: int) -> ImageFont.FreeTypeFont:
    path, index = FONT_FILES[kind]
    if not Path(path).is_file():
        raise FileNotFoundError(f"font {path} is missing: install the Debian packages fonts-wqy-zenhei and "
                                "fonts-noto-cjk (scripts/install.sh does, as root)")
    return ImageFont.truetype(path, size, index=index)


class Page:
    """A blank document with a text cursor; ``face`` picks the body font."""

    def __init__(self, size: tuple[int, int], rng: random.Random, tint: tuple[int, int, int]) -> None:
        jitter = [max(0, min(255, c + rng.randint(-12, 12))) for c in tint]
        self.img = Image.new("RGB", size, tuple(jitter))
        self.draw = ImageDraw.Draw(self.img)
        self.face = rng.choice(["wqy", "noto_sans", "noto_serif"])
        self.rng = rng

    def text(self, xy: tuple[float, float], text: str, size: int = 26, kind: str | None = None,
             fill: tuple[int, int, int] = (20, 20, 20)) -> None:
        self.draw.text(xy, text, font=font(kind or self.face, size), fill=fill)

    def pair(self, x: float, y: float, label: str, value: str, size: int = 26, gap: int = 28) -> None:
        """A blue-grey label followed by its black value, as printed on Chinese cards."""
        self.text((x, y), label, size, fill=(60, 90, 130))
        width = self.draw.textlength(label, font=font(self.face, size))
        self.text((x + width + gap, y), value, size)

    def box(self, xy: tuple[float, float, float, float], fill=None, outline=(120, 120, 120)) -> None:
        self.draw.rectangle(xy, fill=fill, outline=outline, width=2)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def _photo_block(page: Page, xy: tuple[float, float, float, float]) -> None:
    """A stand-in portrait: a soft head-and-shoulders silhouette (no real face)."""
    x1, y1, x2, y2 = xy
    page.box(xy, fill=(214, 220, 228), outline=(200, 200, 200))
    cx, w = (x1 + x2) / 2, x2 - x1
    hh = y2 - y1
    page.draw.ellipse((cx - w * 0.22, y1 + hh * 0.18, cx + w * 0.22, y1 + hh * 0.55), fill=(160, 150, 140))
    page.draw.ellipse((cx - w * 0.42, y1 + (y2 - y1) * 0.6, cx + w * 0.42, y2 + (y2 - y1) * 0.3), fill=(90, 95, 110))


def id_front(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(CARD, rng, (236, 238, 240))
    person = ids.identity(rng)
    p.pair(60, 50, "姓名", person.name)
    p.pair(60, 110, "性别", person.sex)
    p.pair(250, 110, "民族", person.ethnicity)
    p.pair(60, 170, "出生", f"{person.birth.year}年{person.birth.month}月{person.birth.day}日")
    p.text((60, 230), "住址", 26, fill=(60, 90, 130))
    for i, part in enumerate(_wrap(person.address, 11)):
        p.text((146, 230 + 40 * i), part, 26)
    p.text((60, 440), "公民身份号码", 26, fill=(60, 90, 130))
    p.text((290, 436), person.id_number, 32, kind="mono")
    _photo_block(p, (590, 60, 800, 330))
    truth = {"name": person.name, "sex": person.sex, "ethnicity": person.ethnicity,
             "birth_date": person.birth.isoformat(), "address": person.address, "id_number": person.id_number}
    return p.img, truth, person.groups


def _validity(rng: random.Random, years: int | None) -> tuple[dt.date, str]:
    start = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 14))
    if years is None:
        return start, "长期"
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return start, f"{end:%Y.%m.%d}"


def id_back(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(CARD, rng, (232, 238, 236))
    person = ids.identity(rng)
    province, city, district, _ = person.area
    authority = f"{city or province}公安局{district}分局"
    start, end = _validity(rng, rng.choice([5, 10, 20, None]))
    p.text((300, 90), "中华人民共和国", 40)
    p.text((290, 170), "居民身份证", 56)
    p.pair(120, 380, "签发机关", authority)
    p.pair(120, 440, "有效期限", f"{start:%Y.%m.%d}-{end}")
    p.draw.ellipse((60, 40, 200, 180), outline=(180, 60, 60), width=4)
    valid_to = end if end == "长期" else dt.datetime.strptime(end, "%Y.%m.%d").date().isoformat()
    return p.img, {"issuing_authority": authority, "valid_from": start.isoformat(), "valid_to": valid_to}, ["common"]


def bank_card(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    bin_, bank = rng.choice(ids.BANKS)
    number = ids.luhn_complete(bin_, rng.choice([16, 19]), rng)
    p = Page(CARD, rng, rng.choice([(40, 70, 120), (150, 30, 40), (30, 100, 80), (200, 200, 205)]))
    light = sum(p.img.getpixel((0, 0))) > 500
    ink = (20, 20, 20) if light else (245, 245, 245)
    p.text((50, 40), bank, 40, fill=ink)
    p.text((560, 50), "银联 UnionPay", 28, fill=ink)
    p.draw.rectangle((70, 170, 170, 245), fill=(212, 180, 90))
    grouped = " ".join(number[i:i + 4] for i in range(0, len(number), 4)) if len(number) == 16 else \
        f"{number[:6]} {number[6:]}"
    p.text((60, 300), grouped, 46, kind="mono", fill=ink)
    month, year = rng.randint(1, 12), rng.randint(26, 35)
    p.text((420, 390), f"VALID THRU {month:02d}/{year:02d}", 24, kind="mono", fill=ink)
    return p.img, {"card_number": number, "issuer": bank, "valid_thru": f"{month:02d}/{year:02d}"}, ["common"]


def business_licence(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(SHEET, rng, (246, 242, 232))
    area = rng.choice(ids.PLACES)
    code = ids.uscc(rng, area[3])
    person = ids.identity(rng)
    trade = rng.choice(["恒信", "华远", "博通", "鑫达", "启明"]) + rng.choice(["科技", "贸易", "咨询"])
    company = f"{area[2].rstrip('区')}{trade}有限公司"
    capital = f"{rng.choice([50, 100, 500, 1000, 3000])}万元人民币"
    founded = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 24))
    p.text((470, 50), "营业执照", 64)
    p.pair(80, 190, "统一社会信用代码", code, 26)
    rows = [("名称", company), ("类型", "有限责任公司"), ("法定代表人", person.name), ("注册资本", capital),
            ("成立日期", f"{founded.year}年{founded.month:02d}月{founded.day:02d}日"),
            ("住所", person.address[:24])]
    for i, (label, value) in enumerate(rows):
        p.pair(80, 270 + 62 * i, label, value, 26)
    p.text((840, 660), "登记机关", 24)
    truth = {"credit_code": code, "name": company, "legal_representative": person.name,
             "registered_capital": capital, "established": founded.isoformat(), "address": person.address[:24]}
    return p.img, truth, person.groups


def _mrz_name(text: str) -> str:
    return text.upper().replace(" ", "<")


def passport(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(SHEET, rng, (238, 236, 246))
    person = ids.identity(rng)
    surname, given = rng.choice([("ZHANG", "SAN"), ("LI", "XIAOMING"), ("WANG", "FANG"), ("CHEN", "JIANGUO")])
    number = f"E{rng.randrange(10**7, 10**8)}"
    expiry = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(0, 3650))
    sex = "M" if person.sex == "男" else "F"
    names = f"{surname}<<{given}"
    line1 = f"P<CHN{_mrz_name(names)}".ljust(44, "<")[:44]
    birth = person.birth.strftime("%y%m%d")
    exp = expiry.strftime("%y%m%d")
    personal = "<" * 14
    composite = (number.ljust(9, "<") + checks.mrz_check_digit(number.ljust(9, "<")) + birth +
                 checks.mrz_check_digit(birth) + exp + checks.mrz_check_digit(exp) + personal +
                 checks.mrz_check_digit(personal))
    line2 = (number.ljust(9, "<") + checks.mrz_check_digit(number.ljust(9, "<")) + "CHN" + birth +
             checks.mrz_check_digit(birth) + sex + exp + checks.mrz_check_digit(exp) + personal +
             checks.mrz_check_digit(personal))
    line2 += checks.mrz_check_digit(composite[:10] + composite[10:17] + composite[17:24] + composite[24:])
    p.text((80, 60), "中华人民共和国 护照", 36)
    p.text((80, 110), "PEOPLE'S REPUBLIC OF CHINA  PASSPORT", 24)
    _photo_block(p, (80, 170, 330, 480))
    p.pair(380, 180, "姓名/Name", f"{person.name if 'minority_name' not in person.groups else person.name}", 26)
    p.pair(380, 240, "护照号/Passport No.", number, 26)
    p.pair(380, 300, "出生日期/Date of birth", person.birth.isoformat(), 26)
    p.pair(380, 360, "有效期至/Date of expiry", expiry.isoformat(), 26)
    p.text((50, 620), line1, 36, kind="mono")
    p.text((50, 690), line2, 36, kind="mono")
    truth = {"passport_number": number, "surname": surname, "given_names": given, "nationality": "CHN",
             "birth_date": person.birth.isoformat(), "sex": sex, "expiry_date": expiry.isoformat(),
             "mrz_line1": line1, "mrz_line2": line2}
    return p.img, truth, ["common"]


def hk_macau_permit(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(CARD, rng, (228, 236, 244))
    person = ids.identity(rng)
    number = rng.choice("CE") + f"{rng.randrange(10**7, 10**8)}"
    start, end = _validity(rng, rng.choice([5, 10]))
    p.text((150, 30), "中华人民共和国往来港澳通行证", 32)
    p.pair(300, 110, "姓名", person.name)
    p.pair(300, 170, "出生日期", f"{person.birth:%Y.%m.%d}")
    p.pair(600, 170, "性别", person.sex)
    p.pair(300, 230, "有效期限", f"{start:%Y.%m.%d}-{end}")
    p.pair(300, 290, "签发地点", person.area[0].rstrip("省市"))
    p.text((560, 440), number, 36, kind="mono", fill=(170, 30, 30))
    _photo_block(p, (40, 110, 260, 390))
    truth = {"permit_number": number, "name": person.name, "birth_date": person.birth.isoformat(),
             "sex": person.sex, "valid_from": start.isoformat(),
             "valid_to": dt.datetime.strptime(end, "%Y.%m.%d").date().isoformat()}
    return p.img, truth, person.groups


def household_register(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(SHEET, rng, (244, 240, 226))
    person = ids.identity(rng)
    relation = rng.choice(["户主", "妻", "子", "女", "母"])
    p.text((420, 40), "常住人口登记卡", 48)
    rows = [(("姓名", person.name), ("户主或与户主关系", relation)),
            (("性别", person.sex), ("民族", person.ethnicity)),
            (("出生日期", f"{person.birth.year}年{person.birth.month}月{person.birth.day}日"), None),
            (("出生地", f"{person.area[0]}{person.area[1]}"), None),
            (("公民身份号码", person.id_number), None)]
    for i, (left, right) in enumerate(rows):
        y = 150 + 90 * i
        p.box((60, y - 20, 1140, y + 60))
        p.pair(80, y, *left, 28)
        if right:
            p.pair(620, y, *right, 28)
    truth = {"name": person.name, "relation": relation, "sex": person.sex, "ethnicity": person.ethnicity,
             "birth_date": person.birth.isoformat(), "birthplace": f"{person.area[0]}{person.area[1]}",
             "id_number": person.id_number}
    return p.img, truth, person.groups


def driving_licence(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(CARD, rng, (236, 240, 232))
    person = ids.identity(rng)
    first = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 15))
    start, end = _validity(rng, rng.choice([6, 10]))
    cls = rng.choice(["C1", "C2", "B2", "A1"])
    p.text((150, 20), "中华人民共和国机动车驾驶证", 34)
    p.pair(40, 90, "证号", person.id_number, 26)
    p.pair(40, 145, "姓名", person.name, 26)
    p.pair(330, 145, "性别", person.sex, 26)
    p.pair(40, 200, "住址", person.address[:16], 24)
    p.pair(40, 255, "出生日期", person.birth.isoformat(), 24)
    p.pair(40, 310, "初次领证日期", first.isoformat(), 24)
    p.pair(40, 365, "准驾车型", cls, 26)
    p.pair(40, 420, "有效期限", f"{start.isoformat()}至{dt.datetime.strptime(end, '%Y.%m.%d').date().isoformat()}", 24)
    _photo_block(p, (640, 150, 820, 390))
    truth = {"licence_number": person.id_number, "name": person.name, "sex": person.sex,
             "birth_date": person.birth.isoformat(), "first_issued": first.isoformat(), "vehicle_class": cls,
             "valid_from": start.isoformat(), "valid_to": dt.datetime.strptime(end, "%Y.%m.%d").date().isoformat()}
    return p.img, truth, person.groups


def vin(rng: random.Random) -> str:
    chars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    body = "L" + "".join(rng.choice(chars) for _ in range(16))
    return body[:8] + checks.vin_check_digit(body) + body[9:]


def vehicle_licence(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(CARD, rng, (236, 240, 232))
    person = ids.identity(rng)
    tail = "".join(rng.choice("0123456789ABCDEFGHJK") for _ in range(5))
    plate = rng.choice("京沪鄂粤川浙新苏") + rng.choice("ABCDE") + tail
    number = vin(rng)
    registered = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 16))
    p.text((150, 20), "中华人民共和国机动车行驶证", 34)
    rows = [("号牌号码", plate), ("车辆类型", "小型轿车"), ("所有人", person.name), ("使用性质", "非营运"),
            ("品牌型号", rng.choice(["大众牌FV7152", "丰田牌TV7250", "比亚迪牌BYD7005"])),
            ("车辆识别代号", number), ("注册日期", registered.isoformat())]
    for i, (label, value) in enumerate(rows):
        p.pair(40, 85 + 60 * i, label, value, 25)
    truth = {"plate_number": plate, "owner": person.name, "vin": number, "registration_date": registered.isoformat()}
    return p.img, truth, person.groups


def vat_invoice(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(SHEET, rng, (248, 246, 238))
    code = "".join(str(rng.randrange(10)) for _ in range(rng.choice([10, 12])))
    number = "".join(str(rng.randrange(10)) for _ in range(8))
    date = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 5))
    check = "".join(str(rng.randrange(10)) for _ in range(20))
    buyer, seller = ids.uscc(rng), ids.uscc(rng, "310101")
    amount = round(rng.uniform(100, 99999), 2)
    rate = rng.choice([0.13, 0.06, 0.09])
    tax = round(amount * rate, 2)
    total = round(amount + tax, 2)
    p.text((380, 30), "增值税电子普通发票", 44, fill=(150, 60, 40))
    p.pair(760, 110, "发票代码", code, 24)
    p.pair(760, 150, "发票号码", number, 24)
    p.pair(760, 190, "开票日期", f"{date.year}年{date.month:02d}月{date.day:02d}日", 24)
    p.pair(760, 230, "校验码", " ".join(check[i:i + 5] for i in range(0, 20, 5)), 22)
    p.box((40, 280, 1160, 720))
    p.pair(60, 300, "购买方名称", "北京恒信科技有限公司", 24)
    p.pair(60, 345, "购买方纳税人识别号", buyer, 24)
    p.pair(60, 430, "金额", f"{amount:.2f}", 24)
    p.pair(420, 430, "税额", f"{tax:.2f}", 24)
    p.pair(60, 500, "价税合计(大写)", checks.rmb_upper(total), 24)
    p.pair(700, 500, "(小写)", f"¥{total:.2f}", 24)
    p.pair(60, 580, "销售方名称", "上海华远贸易有限公司", 24)
    p.pair(60, 625, "销售方纳税人识别号", seller, 24)
    truth = {"invoice_code": code, "invoice_number": number, "date": date.isoformat(), "check_code": check,
             "buyer_tax_id": buyer, "seller_tax_id": seller, "amount": f"{amount:.2f}", "tax": f"{tax:.2f}",
             "total": f"{total:.2f}"}
    return p.img, truth, ["common"]


def bank_bill(rng: random.Random) -> tuple[Image.Image, dict, list[str]]:
    p = Page(SHEET, rng, (240, 246, 242))
    issued = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 4))
    due = issued + dt.timedelta(days=rng.choice([90, 180, 360]))
    number = "".join(str(rng.randrange(10)) for _ in range(rng.choice([16, 30])))
    amount = round(rng.uniform(10000, 5_000_000), 2)
    drawer_account = "".join(str(rng.randrange(10)) for _ in range(19))
    payee_account = "".join(str(rng.randrange(10)) for _ in range(19))
    p.text((420, 30), "银行承兑汇票", 48)
    p.pair(60, 120, "出票日期", f"{issued.year}年{issued.month:02d}月{issued.day:02d}日", 24)
    p.pair(640, 120, "票据号码", number, 22)
    p.pair(60, 200, "出票人全称", "武汉博通科技有限公司", 24)
    p.pair(60, 250, "出票人账号", drawer_account, 24)
    p.pair(60, 330, "收款人全称", "深圳启明贸易有限公司", 24)
    p.pair(60, 380, "收款人账号", payee_account, 24)
    p.pair(60, 470, "出票金额(大写)", checks.rmb_upper(amount), 24)
    p.pair(760, 470, "(小写)", f"¥{amount:.2f}", 24)
    p.pair(60, 560, "汇票到期日", f"{due.year}年{due.month:02d}月{due.day:02d}日", 24)
    truth = {"bill_number": number, "issue_date": issued.isoformat(), "due_date": due.isoformat(),
             "drawer_account": drawer_account, "payee_account": payee_account, "amount": f"{amount:.2f}"}
    return p.img, truth, ["common"]


RENDERERS = {
    "id_card_front": id_front, "id_card_back": id_back, "bank_card": bank_card,
    "business_licence": business_licence, "passport": passport, "hk_macau_permit": hk_macau_permit,
    "household_register": household_register, "driving_licence": driving_licence,
    "vehicle_licence": vehicle_licence, "vat_invoice": vat_invoice, "bank_bill": bank_bill,
}


def _background(rng: random.Random, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    base = np.array([rng.randint(40, 200) for _ in range(3)], np.float32)
    nprng = np.random.default_rng(rng.randrange(2**32))
    grain = cv2.GaussianBlur(nprng.normal(0, 25, (h, w)).astype(np.float32), (0, 0), rng.uniform(2, 12))[..., None]
    gradient = np.linspace(-20, 20, w, dtype=np.float32)[None, :, None]
    return np.clip(base + grain + gradient, 0, 255).astype(np.uint8)


def capture(doc: np.ndarray, rng: random.Random, *, perspective: float = 0.06, rotate: int | None = None,
            blur: float = 0.0, noise: float = 0.0, jpeg: int = 95, glare: bool = False,
            corners: list | None = None) -> np.ndarray:
    """Photograph ``doc`` on a textured background: perspective, rotation by a multiple of 90°,
    blur, sensor noise, JPEG and an optional specular highlight. ``corners``, when given a list, receives
    the document's four corners in the returned image (before rotation they are TL, TR, BR, BL)."""
    h, w = doc.shape[:2]
    pad = int(0.18 * max(w, h))
    out_w, out_h = w + 2 * pad, h + 2 * pad
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jit = [(rng.uniform(-1, 1) * perspective * w, rng.uniform(-1, 1) * perspective * h) for _ in range(4)]
    dst = np.float32([[pad + x + dx, pad + y + dy] for (x, y), (dx, dy) in zip(src, jit, strict=True)])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(doc, m, (out_w, out_h), borderValue=0)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (out_w, out_h))
    scene = _background(rng, (out_w, out_h))
    scene[mask > 0] = warped[mask > 0]
    if glare:
        cx, cy = rng.uniform(0.3, 0.7) * out_w, rng.uniform(0.3, 0.7) * out_h
        yy, xx = np.mgrid[0:out_h, 0:out_w]
        spot = np.exp(-(((xx - cx) / (0.12 * out_w)) ** 2 + ((yy - cy) / (0.08 * out_h)) ** 2))
        scene = np.clip(scene + 255 * spot[..., None] * 1.1, 0, 255).astype(np.uint8)
    if blur > 0:
        scene = cv2.GaussianBlur(scene, (0, 0), blur)
    if noise > 0:
        nprng = np.random.default_rng(rng.randrange(2**32))
        scene = np.clip(scene + nprng.normal(0, noise, scene.shape), 0, 255).astype(np.uint8)
    k = rotate if rotate is not None else 0
    pts = dst.copy()
    for _ in range((k // 90) % 4):  # each clockwise quarter turn maps (x, y) to (H - 1 - y, x)
        pts = np.stack([scene.shape[0] - 1 - pts[:, 1], pts[:, 0]], axis=1)
        scene = np.ascontiguousarray(np.rot90(scene, k=-1))
    if corners is not None:
        corners.extend(pts.tolist())
    ok, buf = cv2.imencode(".jpg", scene[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def render(doc_type: str, seed: int, *, captured: bool = True, **capture_args) -> Sample:
    """One labelled document of ``doc_type``; with ``captured`` it is photographed (see :func:`capture`)."""
    rng = random.Random(f"{doc_type}:{seed}")
    img, truth, groups = RENDERERS[doc_type](rng)
    doc = np.asarray(img)
    if not captured:
        return Sample(doc_type, doc, truth, groups, {})
    args = {"perspective": rng.uniform(0.0, 0.06), "blur": rng.choice([0, 0, 0.6, 1.0]),
            "noise": rng.choice([0, 3, 6]), "jpeg": rng.choice([70, 85, 95])} | capture_args
    corners: list = []
    image = capture(doc, rng, **args, corners=corners)
    return Sample(doc_type, image, truth, groups, args | {"corners": corners})


def retype(image: np.ndarray, box: tuple[int, int, int, int], text: str, size: int = 32,
           kind: str = "mono") -> np.ndarray:
    """Paint over ``box`` with the paper colour next to it and print ``text`` there (a forged field)."""
    img = Image.fromarray(image.copy())
    draw = ImageDraw.Draw(img)
    x1, y1, x2, y2 = box
    paper = img.getpixel((max(0, x1 - 3), y1))
    draw.rectangle(box, fill=paper)
    draw.text((x1, y1), text, font=font(kind, size), fill=(20, 20, 20))
    return np.asarray(img)
