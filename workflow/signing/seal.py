"""Certificates, e-seals and the local timestamp authority, all over SM2 keys held by the keystore.

A certificate here is a signed JSON record (subject, public key PEM, issuer, serial, validity) issued by the
installation's CA key ``veriserve-ca``; it is not X.509 — a production deployment takes certificates from a
licensed third-party CA (seed 8.5 infrastructure) and keeps this interface. The timestamp authority signs
(SM3 digest, time, serial) with ``veriserve-tsa``. An e-seal is a seal image plus an SM2 signature over the
document digest and the image digest, with the signer's certificate.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets

from workflow.errors import InvalidInput
from workflow.signing import sm
from workflow.signing.keystore import Keystore

CA_KEY = "veriserve-ca"
TSA_KEY = "veriserve-tsa"
FONT = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0)


def canonical(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_authorities(store: Keystore) -> None:
    """Create the installation's CA and TSA keys on first use."""
    for name in (CA_KEY, TSA_KEY):
        if not store.exists(name):
            store.create(name, purpose="ca" if name == CA_KEY else "tsa")


def issue_certificate(store: Keystore, key_name: str, subject: str, *, days: int = 825) -> dict:
    """A certificate for the keystore key ``key_name`` signed by the CA key."""
    ensure_authorities(store)
    now = _now()
    body = {"subject": subject, "key": key_name, "public_key_pem": store.public_key(key_name).pem(),
            "issuer": "Veriserve local CA", "serial": secrets.token_hex(8),
            "not_before": now.isoformat(timespec="seconds"),
            "not_after": (now + dt.timedelta(days=days)).isoformat(timespec="seconds"), "algorithm": "SM2-with-SM3"}
    return {**body, "signature": base64.b64encode(store.sign(CA_KEY, canonical(body))).decode()}


def check_certificate(cert: dict, ca_key: sm.PublicKey, at: dt.datetime | None = None) -> str:
    """'' when the certificate is genuine and valid at ``at``, else the reason."""
    body = {k: v for k, v in cert.items() if k != "signature"}
    try:
        sm.verify(ca_key, canonical(body), base64.b64decode(cert["signature"]))
    except (sm.SignatureError, KeyError, ValueError):
        return "the signer's certificate was not issued by this CA (or was altered)"
    at = at or _now()
    if not (dt.datetime.fromisoformat(cert["not_before"]) <= at <= dt.datetime.fromisoformat(cert["not_after"])):
        return f"the signer's certificate was not valid at {at.isoformat(timespec='seconds')}"
    return ""


def timestamp(store: Keystore, digest: bytes) -> dict:
    """A timestamp token: the TSA's SM2 signature over (SM3 digest, UTC time, serial)."""
    ensure_authorities(store)
    body = {"digest_sm3": digest.hex(), "time": _now().isoformat(timespec="microseconds"),
            "serial": secrets.token_hex(8), "tsa": TSA_KEY}
    return {**body, "signature": base64.b64encode(store.sign(TSA_KEY, canonical(body))).decode()}


def check_timestamp(token: dict, digest: bytes, tsa_key: sm.PublicKey) -> str:
    body = {k: v for k, v in token.items() if k != "signature"}
    try:
        sm.verify(tsa_key, canonical(body), base64.b64decode(token["signature"]))
    except (sm.SignatureError, KeyError, ValueError):
        return "the timestamp token's signature is not valid"
    if token["digest_sm3"] != digest.hex():
        return "the timestamp covers another document"
    return ""


def seal_image(organisation: str, purpose: str = "电子签章", size: int = 300) -> bytes:
    """A red round seal (PNG) with the organisation's name around a star, as Chinese company seals look."""
    import math

    from PIL import Image, ImageDraw, ImageFont

    if not organisation.strip():
        raise InvalidInput("seal: organisation name is empty")
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (200, 16, 16, 255)
    c, r = size / 2, size / 2 - 6
    draw.ellipse([c - r, c - r, c + r, c + r], outline=red, width=max(4, size // 40))
    star = [(c + (0.22 if i % 2 == 0 else 0.09) * size * math.cos(math.radians(-90 + 36 * i)),
             c + (0.22 if i % 2 == 0 else 0.09) * size * math.sin(math.radians(-90 + 36 * i))) for i in range(10)]
    draw.polygon(star, fill=red)
    font = ImageFont.truetype(FONT[0], size // 9, index=FONT[1])
    chars = list(organisation)
    span = min(250.0, 22.0 * len(chars))
    for i, ch in enumerate(chars):
        angle = -90 - span / 2 + span * (i + 0.5) / len(chars)
        x = c + (r - size * 0.1) * math.cos(math.radians(angle))
        y = c + (r - size * 0.1) * math.sin(math.radians(angle))
        glyph = Image.new("RGBA", (size // 8, size // 8), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size // 16, size // 16), ch, font=font, fill=red, anchor="mm")
        glyph = glyph.rotate(-(angle + 90), resample=Image.BICUBIC)
        img.alpha_composite(glyph, (int(x - size // 16), int(y - size // 16)))
    small = ImageFont.truetype(FONT[0], size // 12, index=FONT[1])
    draw.text((c, c + size * 0.3), purpose, font=small, fill=red, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
