"""Check digits against the published examples of each standard."""

from __future__ import annotations

from models.ocr import checks


def test_gb11643_id_number():
    assert checks.id_number_problems("11010519491231002X") == []  # the standard's own example
    assert checks.id_check_char("11010519491231002") == "X"
    assert checks.id_sex("11010519491231002X") == "女"
    assert "check character should be X, not 3" in checks.id_number_problems("110105194912310023")
    assert any("not a date" in p for p in checks.id_number_problems("110105194913310021"))
    assert checks.id_number_problems("1101051949") == ["must be 17 digits followed by a digit or X"]


def test_luhn():
    assert checks.luhn_valid("4111111111111111")
    assert checks.luhn_valid("4111 1111 1111 1111")  # as printed on the card
    assert checks.luhn_valid("6011111111111117")
    assert not checks.luhn_valid("4111-1111-1111-1111")
    assert not checks.luhn_valid("4111111111111112")
    assert not checks.luhn_valid("12345")


def test_gb32100_unified_social_credit_code():
    assert checks.uscc_valid("91350100M000100Y43")
    assert not checks.uscc_valid("91350100M000100Y44")
    assert not checks.uscc_valid("91350100M000100I43")  # I is not in the GB 32100 character set


def test_icao9303_td3_specimen():
    line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    mrz = checks.parse_td3(line1, line2)
    assert mrz["valid"] and mrz["surname"] == "ERIKSSON" and mrz["given_names"] == "ANNA MARIA"
    assert mrz["document_number"] == "L898902C3" and mrz["birth_date"] == "740812" and mrz["sex"] == "F"
    broken = checks.parse_td3(line1, line2[:19] + "3" + line2[20:])
    assert not broken["valid"] and "birth_date" in broken["failed_checks"] and "composite" in broken["failed_checks"]


def test_mask():
    assert checks.mask("420106199001011234") == "4201**********1234"
    assert checks.mask("6222 0212 3456 7890") == "6222********7890"
    assert checks.mask("1234") == "****"


def test_vin_check_digit():
    assert checks.vin_check_digit("1M8GDM9AXKP042788") == "X"  # the ISO 3779 worked example
    assert checks.vin_problems("1M8GDM9AXKP042788") == []
    assert "should be X" in checks.vin_problems("1M8GDM9A1KP042788")[0]
    assert checks.vin_problems("1M8GDM9AXKP04278O")  # O never occurs in a VIN


def test_amount_in_chinese_capitals():
    assert checks.rmb_upper(1234.5) == "壹仟贰佰叁拾肆元伍角整"
    assert checks.rmb_upper(100010.05) == "壹拾万零壹拾元零伍分"
    assert checks.rmb_upper(250000000) == "贰亿伍仟万元整"
    assert checks.rmb_upper(105.07) == "壹佰零伍元零柒分"
    assert checks.rmb_upper(0.5) == "伍角整"


def test_masked_fields_keep_no_personal_data():
    from models.ocr.types import DocField

    fields = {"id_number": DocField(value="420106199001011234", confidence=1, valid=True),
              "name": DocField(value="张三", confidence=1, valid=True),
              "card_number": DocField(value="6222021234567890123", confidence=1, valid=False, reason="Luhn"),
              "address": DocField(value="", confidence=0, valid=False)}
    out = checks.masked_fields(fields)
    assert out == {"id_number": "4201**********1234", "name": "ok",
                   "card_number": "6222***********0123 (invalid)", "address": "missing"}
