"""What every parser needs: text normalisation, label lookup on a page of lines, field records, dates."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from models.ocr.types import DocField, TextLine

ETHNICITIES = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
    "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
    "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
"""The 56 ethnic groups as written on ID cards (GB 3304)."""

# Traditional / Japanese forms the recogniser sometimes returns for the simplified characters of labels.
_VARIANTS = str.maketrans("別號碼發證駕車戶與關係漢", "别号码发证驾车户与关系汉")
_DOTS = re.compile(r"(?<=[\u3400-\u9fff])\s*[•・‧∙.．。·]\s*(?=[\u3400-\u9fff])")


def norm(text: str) -> str:
    """NFKC (full-width to half-width), no spaces, one middle dot ``·`` between Chinese name parts."""
    t = unicodedata.normalize("NFKC", text).translate(_VARIANTS)
    t = _DOTS.sub("·", t)
    return re.sub(r"\s+", "", t)


def found(value: str, confidence: float, problems: list[str] | None = None, checked: str = "") -> DocField:
    problems = problems or []
    return DocField(value=value, confidence=round(confidence, 4), valid=not problems,
                    reason="; ".join(problems) if problems else checked)


def missing(what: str = "field") -> DocField:
    return DocField(value="", confidence=0.0, valid=False, reason=f"{what} not found on the document")


def text_lines(lines: list[TextLine]) -> list[TextLine]:
    """Drop detections that are not print: one or two glyphs on a box far taller than the text
    (the portrait, a seal, a chip), which the detector reports as "O" or "●"."""
    if not lines:
        return []
    heights = sorted(ln.height for ln in lines)
    median = heights[len(heights) // 2]
    return [ln for ln in lines if not (ln.height > 2.2 * median and len(norm(ln.text)) <= 2)]


def reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Top-to-bottom rows (lines whose centres are within half a line height), left to right in a row."""
    rows: list[list[TextLine]] = []
    for ln in sorted(text_lines(lines), key=lambda ln: ln.y):
        if rows and abs(ln.y - rows[-1][0].y) < 0.5 * max(ln.height, rows[-1][0].height):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.x)]


class Page:
    """Recognised lines in reading order, with lookups by label.

    ``labels`` lists every label printed on this document type: a value never runs into the next label.
    """

    def __init__(self, lines: list[TextLine], labels: tuple[str, ...] = ()) -> None:
        self.lines = reading_order(lines)
        self.texts = [norm(ln.text) for ln in self.lines]
        self.labels = tuple(sorted(labels, key=len, reverse=True))

    @property
    def full_text(self) -> str:
        return "\n".join(self.texts)

    def _cut(self, text: str, own: str) -> str:
        """``text`` up to the first other label in it."""
        end = len(text)
        for label in self.labels:
            if label in own:
                continue
            i = text.find(label)
            if i >= 0:
                end = min(end, i)
        return text[:end]

    def _same_row_right(self, i: int) -> list[int]:
        ln = self.lines[i]
        row = [j for j, other in enumerate(self.lines) if j != i and other.x > ln.x + 1
               and abs(other.y - ln.y) < 0.6 * max(ln.height, other.height)]
        return sorted(row, key=lambda j: self.lines[j].x)

    def locate(self, *labels: str) -> tuple[int, str] | None:
        """Index of the first line holding one of ``labels``, and that label."""
        for label in labels:
            for i, text in enumerate(self.texts):
                if label in text:
                    return i, label
        return None

    def after(self, *labels: str, strip: str = ":：") -> tuple[str, float] | None:
        """The value printed after a label: the rest of its line, else the next line to its right."""
        hit = self.locate(*labels)
        if hit is None:
            return None
        i, label = hit
        text = self.texts[i]
        rest = self._cut(text[text.index(label) + len(label):].lstrip(strip), label)
        if rest:
            return rest, self.lines[i].confidence
        for j in self._same_row_right(i):
            value = self._cut(self.texts[j].lstrip(strip), label)
            if value:
                return value, self.lines[j].confidence
            break
        return None

    def candidates(self, *labels: str, strip: str = ":：") -> list[tuple[str, float]]:
        """Every reading of a label's value, most likely first: the rest of its line, that rest joined
        with the next line to the right, and that next line alone (the detector sometimes splits or
        duplicates a glyph at the boundary)."""
        hit = self.locate(*labels)
        if hit is None:
            return []
        i, label = hit
        text = self.texts[i]
        rest = self._cut(text[text.index(label) + len(label):].lstrip(strip), label)
        out = [(rest, self.lines[i].confidence)] if rest else []
        right = self._same_row_right(i)
        if right:
            j = right[0]
            nxt = self._cut(self.texts[j].lstrip(strip), label)
            if nxt:
                conf = min(self.lines[i].confidence, self.lines[j].confidence)
                out += [(rest + nxt, conf)] if rest else []
                out.append((nxt, self.lines[j].confidence))
        return out

    def block(self, label: str, stop: tuple[str, ...]) -> tuple[str, float] | None:
        """A value that wraps over several lines below its label (addresses, business scope)."""
        first = self.after(label)
        hit = self.locate(label)
        if first is None or hit is None:
            return None
        i = hit[0]
        head = self.lines[i]
        parts, confs = [first[0]], [first[1]]
        last_y = head.y
        for j in range(len(self.lines)):
            ln, text = self.lines[j], self.texts[j]
            if ln.y <= head.y + 0.6 * head.height or j == i:
                continue
            if any(s in text for s in stop) or ln.y - last_y > 2.2 * max(head.height, ln.height):
                break
            if ln.x < head.x + 0.5 * head.height:  # starts under the label column: another field
                break
            parts.append(self._cut(text, label))
            confs.append(ln.confidence)
            last_y = ln.y
        return "".join(parts), sum(confs) / len(confs)

    def search(self, pattern: str | re.Pattern) -> tuple[str, float] | None:
        """First regex match over single lines, then over the whole page with lines joined."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        for text, ln in zip(self.texts, self.lines, strict=True):
            m = rx.search(text)
            if m:
                return m.group(m.lastindex or 0), ln.confidence
        return None


_DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(text: str) -> dt.date | None:
    for rx in _DATE_PATTERNS:
        m = rx.search(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def date_field(hit: tuple[str, float] | None, what: str) -> DocField:
    if hit is None:
        return missing(what)
    value, conf = hit
    d = parse_date(value)
    if d is None:
        return found(value, conf, [f"{value!r} is not a date"])
    return found(d.isoformat(), conf, checked="a calendar date")


def all_dates(text: str) -> list[dt.date]:
    out = []
    for rx in _DATE_PATTERNS[:2]:
        for m in rx.finditer(text):
            try:
                out.append(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
            except ValueError:
                continue
        if out:
            break
    return out


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)
