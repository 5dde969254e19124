"""Fake but well-formed identity data (names, addresses, numbers with valid check digits).

Every value is generated from a seeded ``random.Random``; nothing here describes a real person. Each
record carries the evaluation groups it belongs to: ``minority_name`` (names with the ``·`` separator),
``rare_char`` (characters outside everyday use, some outside the GB 2312 set), ``long_address``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from models.ocr import checks
from models.ocr.parsers.common import ETHNICITIES

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志鹏宇浩晨欣怡子轩梓涵雨泽思远嘉一诺佳琪"
RARE_GIVEN = ["堃", "赟", "喆", "龑", "燚", "犇", "淼", "垚", "玥", "珺", "翀", "昉", "䶮", "㛃"]
MINORITY = [("维吾尔", ["买买提·艾力", "阿依古丽·买买提", "古丽娜扎尔·阿不都热合曼", "艾克拜尔·吐尔逊"]),
            ("哈萨克", ["努尔兰·沙吾提", "阿依达娜·别克"]),
            ("塔吉克", ["热合曼·夏克尔"]),
            ("乌孜别克", ["阿布都拉·卡德尔"])]
# (province, city, district, area code of the district)
PLACES = [("北京市", "", "朝阳区", "110105"), ("上海市", "", "黄浦区", "310101"),
          ("湖北省", "武汉市", "江岸区", "420102"), ("广东省", "深圳市", "南山区", "440305"),
          ("四川省", "成都市", "锦江区", "510104"), ("浙江省", "杭州市", "西湖区", "330106"),
          ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "650102"), ("江苏省", "南京市", "鼓楼区", "320106")]
STREETS = ["人民路", "解放大道", "建设路", "中山北路", "和平街", "长江路", "友谊路", "光明巷"]
COMMUNITIES = ["幸福里小区", "阳光花园", "锦绣家园", "新华苑", "翠湖天地"]
BANKS = [("622202", "中国工商银行"), ("622848", "中国农业银行"), ("621700", "中国建设银行"),
         ("621661", "中国银行"), ("622262", "交通银行"), ("622588", "招商银行"), ("621098", "中国邮政储蓄银行")]


@dataclass
class Identity:
    name: str
    sex: str
    ethnicity: str
    birth: dt.date
    address: str
    id_number: str
    area: tuple[str, str, str, str]
    groups: list[str] = field(default_factory=list)


def id_number(area: str, birth: dt.date, sex: str, rng: random.Random) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if sex == "男" else [0, 2, 4, 6, 8])
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + checks.id_check_char(first17)


def address(rng: random.Random, place: tuple[str, str, str, str], long: bool) -> str:
    province, city, district, _ = place
    base = f"{province}{city}{district}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    if long:
        base += (f"{rng.choice(COMMUNITIES)}{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元"
                 f"{rng.randrange(101, 2800)}室")
    return base


def identity(rng: random.Random) -> Identity:
    groups = []
    roll = rng.random()
    sex = rng.choice(["男", "女"])
    if roll < 0.2:
        ethnicity, names = rng.choice(MINORITY)
        name = rng.choice(names)
        groups.append("minority_name")
    else:
        ethnicity = "汉" if rng.random() < 0.8 else rng.choice(ETHNICITIES[1:])
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        if roll > 0.8:
            given = given[:1] + rng.choice(RARE_GIVEN)
            groups.append("rare_char")
        name = rng.choice(SURNAMES) + given
    place = rng.choice(PLACES)
    long = rng.random() < 0.35
    if long:
        groups.append("long_address")
    if not groups:
        groups.append("common")
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
    return Identity(name=name, sex=sex, ethnicity=ethnicity, birth=birth, address=address(rng, place, long),
                    id_number=id_number(place[3], birth, sex, rng), area=place, groups=groups)


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """A card number of ``length`` digits starting with ``prefix`` whose Luhn check passes."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        if checks.luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable: one check digit always fits")


def uscc(rng: random.Random, area: str = "110105") -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org = "".join(rng.choice(chars) for _ in range(9))
    first17 = "91" + area + org
    return first17 + checks.uscc_check_char(first17)
