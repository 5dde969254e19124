"""Bank cards: number (Luhn), issuer from the shipped BIN table, expiry."""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from models.ocr import checks
from models.ocr.parsers.common import Page, found, missing
from models.ocr.types import DocField, TextLine

BIN_TABLE = Path(__file__).resolve().parent.parent / "data" / "card_bins.csv"
NUMBER_RX = re.compile(r"(?<!\d)(\d{16,19})(?!\d)")


@functools.lru_cache(maxsize=4)
def bin_table(path: str = str(BIN_TABLE)) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["bin"]: r for r in rows}


def lookup_bin(number: str, path: str | None = None) -> dict[str, str] | None:
    """Longest matching prefix (8, then 6 digits) in the BIN table."""
    table = bin_table(path or str(BIN_TABLE))
    for n in (8, 6):
        row = table.get(number[:n])
        if row:
            return row
    return None


def parse_bank_card(lines: list[TextLine], bin_path: str | None = None) -> dict[str, DocField]:
    page = Page(lines)
    number: tuple[str, float] | None = None
    for text, ln in zip(page.texts, page.lines, strict=True):  # norm() already removed the spaces
        m = NUMBER_RX.search(text)
        if m:
            number = (m.group(1), ln.confidence)
            break
    fields: dict[str, DocField] = {}
    if number is None:
        fields["card_number"] = missing("card number")
        fields["issuer"] = missing("issuer")
    else:
        value, conf = number
        ok = checks.luhn_valid(value)
        fields["card_number"] = found(value, conf, [] if ok else ["Luhn check digit does not match"],
                                      "ISO/IEC 7812 Luhn check")
        row = lookup_bin(value, bin_path)
        printed = next((t for t in page.texts if "银行" in t), "")
        if row is None:
            fields["issuer"] = found(printed, conf, [f"BIN {value[:6]} is not in the BIN table"])
        else:
            problems = [] if not printed or row["issuer"] in printed else [
                f"BIN {value[:6]} belongs to {row['issuer']}, the card says {printed}"]
            fields["issuer"] = found(row["issuer"], conf, problems, f"BIN {value[:6]} ({row['card_type']}, "
                                     f"{row['scheme']}) from the BIN table")
    expiry = page.search(re.compile(r"(?<!\d)(\d{2}/\d{2})(?!\d)"))
    if expiry is None:
        fields["valid_thru"] = missing("expiry")
    else:
        month = int(expiry[0][:2])
        fields["valid_thru"] = found(expiry[0], expiry[1], [] if 1 <= month <= 12 else [f"month {month} is not 1-12"],
                                     "MM/YY")
    return fields
