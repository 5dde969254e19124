"""Image side of document OCR: find the document, flatten it, turn it upright, and check the capture.

- :func:`localise` finds the document's outline on a background (edges, largest convex quadrilateral,
  accepted only when what lies outside it is plain background) and warps it flat;
- :func:`orient` reads the page at 0° and, only when the text is not confidently upright, at the other
  right angles, keeping the rotation with the most confidently read characters;
- :func:`capture_checks` measures sharpness (variance of the Laplacian) and glare (bright, colourless
  highlights well above the paper's own brightness) and turns them into warnings.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from models.ocr.types import TextLine

WORK_SIDE = 1200  # the flattened document's long side, px
CONFIDENT = 0.85


class Engine(Protocol):
    backend: str

    def read(self, image: np.ndarray, use_cls: bool = False) -> list[TextLine]: ...


def _order(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = pts.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _edges(image: np.ndarray) -> np.ndarray:
    """Edges in any colour channel: a dark blue card on a dark green table differs in hue, not grey."""
    blurred = cv2.GaussianBlur(image, (5, 5), 0)
    return np.maximum.reduce([cv2.Canny(blurred[..., c], 40, 120) for c in range(3)])


def _quad(hull: np.ndarray) -> np.ndarray:
    """Four corners of a convex outline: the polygon approximation with the largest area, else the
    hull's extreme points (top-left = min x+y, ...)."""
    pts = hull.reshape(-1, 2).astype(np.float32)
    s, d = pts.sum(1), pts[:, 0] - pts[:, 1]
    best = np.array([pts[np.argmin(s)], pts[np.argmax(d)], pts[np.argmax(s)], pts[np.argmin(d)]], np.float32)
    best_area = cv2.contourArea(best)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4 and cv2.contourArea(approx) > best_area:
            best, best_area = _order(approx), cv2.contourArea(approx)
    return _order(best)


def find_outline(image: np.ndarray) -> np.ndarray | None:
    """The document's four corners in image coordinates, or None when no clear outline is found."""
    h, w = image.shape[:2]
    scale = 800 / max(h, w)
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    edges = _edges(small)
    closed = cv2.dilate(edges, np.ones((5, 5), np.uint8), iterations=2)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    area_img = small.shape[0] * small.shape[1]
    # the document's border may break into pieces: join every sizeable piece touching the largest one's box
    largest = max(contours, key=cv2.contourArea)
    x, y, bw, bh = cv2.boundingRect(largest)
    pad = 0.1 * max(bw, bh)
    pieces = [c for c in contours if cv2.contourArea(c) > 0.002 * area_img or c is largest]
    near = [c for c in pieces if _overlaps(cv2.boundingRect(c), (x - pad, y - pad, bw + 2 * pad, bh + 2 * pad))]
    hull = cv2.convexHull(np.vstack(near))
    area = cv2.contourArea(hull)
    if not 0.15 * area_img <= area <= 0.92 * area_img:
        return None
    quad = _quad(hull)
    # accept only if the outside is plain background: its edge density well below the inside's
    mask = np.zeros(small.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, quad.astype(np.int32), 255)
    inner = cv2.erode(mask, np.ones((15, 15), np.uint8)) > 0
    outer = cv2.dilate(mask, np.ones((15, 15), np.uint8)) == 0
    if outer.sum() < 0.05 * area_img or inner.sum() == 0:
        return None
    if edges[outer].mean() > 0.5 * edges[inner].mean():
        return None
    if _border_support(closed, quad) < 0.6:  # the hull of a text block on plain paper is not a document edge
        return None
    return quad / scale


def _border_support(edges: np.ndarray, quad: np.ndarray, samples: int = 40) -> float:
    """Share of points along the quadrilateral's sides that lie on (dilated) edges."""
    h, w = edges.shape
    hits = total = 0
    for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        for t in np.linspace(0.1, 0.9, samples):
            x, y = (a + t * (b - a)).round().astype(int)
            total += 1
            hits += bool(0 <= x < w and 0 <= y < h and edges[y, x])
    return hits / max(total, 1)


def _overlaps(a: tuple, b: tuple) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def localise(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The flattened document (long side :data:`WORK_SIDE`) and whether an outline was found."""
    quad = find_outline(image)
    if quad is None:
        h, w = image.shape[:2]
        scale = min(1.0, WORK_SIDE / max(h, w)) if max(h, w) > WORK_SIDE * 1.5 else 1.0
        if scale < 1:
            image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        return image, False
    tl, tr, br, bl = quad
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    scale = WORK_SIDE / max(width, height)
    out_w, out_h = max(32, round(width * scale)), max(32, round(height * scale))
    dst = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]])
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE), True


def rotate(image: np.ndarray, clockwise: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(image, k=-(clockwise // 90) % 4))


def confident_chars(lines: list[TextLine]) -> float:
    """Characters read with confidence; halved when the lines run vertically (the recogniser reads
    tall crops turned, so a sideways page can score well but its layout is still sideways)."""
    n = sum(len(ln.text.strip()) for ln in lines if ln.confidence >= CONFIDENT)
    return n / 2 if _vertical(lines) else float(n)


def _vertical(lines: list[TextLine]) -> bool:
    long = [ln for ln in lines if len(ln.text.strip()) >= 3] or lines
    tall = sum(1 for ln in long if ln.height > 1.3 * (max(p[0] for p in ln.box) - min(p[0] for p in ln.box)))
    return bool(long) and tall > len(long) / 2


def orient(engine: Engine, image: np.ndarray) -> tuple[np.ndarray, int, list[TextLine]]:
    """``(upright image, clockwise degrees applied, its lines)``; up to four reads, usually one."""
    lines = engine.read(image)
    n = sum(len(ln.text.strip()) for ln in lines)
    if not lines or (not _vertical(lines) and confident_chars(lines) >= 0.8 * n):
        return image, 0, lines
    if _vertical(lines):
        # the recogniser turns tall crops a quarter anticlockwise: when those read well, the page needs
        # the same quarter turn (270° clockwise); when they read badly, the opposite one
        upright_crops = sum(len(ln.text.strip()) for ln in lines if ln.confidence >= CONFIDENT) >= 0.8 * n
        order = (270, 90, 180) if upright_crops else (90, 270, 180)
    else:
        order = (180, 90, 270)
    best = (confident_chars(lines), 0, image, lines)
    for angle in order:
        turned = rotate(image, angle)
        got = engine.read(turned)
        score = confident_chars(got)
        if score > best[0]:
            best = (score, angle, turned, got)
        if score >= 0.8 * max(1, sum(len(ln.text.strip()) for ln in got)) and not _vertical(got):
            break
    return best[2], best[1], best[3]


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian at a fixed width of 856 px (an ID-1 card at 10 px/mm)."""
    h, w = image.shape[:2]
    gray = cv2.cvtColor(cv2.resize(image, (856, max(1, round(h * 856 / w)))), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def glare_fraction(image: np.ndarray) -> float:
    """Share of pixels that are near-white and well above the paper's median brightness (so white
    paper itself does not count; glare on white paper cannot be told apart this way)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    level = max(240.0, float(np.median(gray)) + 20)
    return float(((gray >= level) & (hsv[..., 1] < 40)).mean())


def warnings_for(sharp: float, glare: float, localised: bool, min_sharpness: float, max_glare: float) -> list[str]:
    out = []
    if sharp < min_sharpness:
        out.append(f"blurry: sharpness {sharp:.0f} below {min_sharpness:.0f}; fields may be misread")
    if glare > max_glare:
        out.append(f"glare: {glare:.1%} of the document is washed out by a highlight")
    if not localised:
        out.append("document outline not found: read as captured (place it on a plain, contrasting background)")
    return out
