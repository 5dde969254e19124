"""Police verification (公安校验, seed 8.4d): is the name, ID number, bank card and phone one person, and is
the photo theirs. :class:`PoliceVerifier` is the interface the workflow uses; :class:`HttpPoliceClient`
talks to an authority service over HTTP (the local simulator, :mod:`workflow.police_sim`, speaks the same
protocol). Numbers are masked in every log line."""

from __future__ import annotations

import base64
import logging
from typing import Protocol

import httpx

from workflow.errors import WorkflowError
from workflow.masking import mask_number

log = logging.getLogger(__name__)


class PoliceUnavailable(WorkflowError):
    """The authority service did not answer (retryable)."""

    code = "police_unavailable"


class PoliceVerifier(Protocol):
    def verify(self, *, name: str, id_number: str, bank_card: str | None = None, phone: str | None = None,
               photo: bytes | None = None) -> dict:
        """``{"elements": n, "consistent": bool, "checks": {...}, "reference": str}``."""


class HttpPoliceClient:
    def __init__(self, base_url: str, api_key: str = "", timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def verify(self, *, name: str, id_number: str, bank_card: str | None = None, phone: str | None = None,
               photo: bytes | None = None) -> dict:
        body = {"name": name, "id_number": id_number, "bank_card": bank_card, "phone": phone,
                "photo_b64": base64.b64encode(photo).decode() if photo else None}
        try:
            resp = httpx.post(f"{self.base_url}/v1/verify", json=body, headers={"X-Api-Key": self.api_key},
                              timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise PoliceUnavailable(f"authority service at {self.base_url} unreachable: {exc}") from exc
        if resp.status_code >= 500:
            raise PoliceUnavailable(f"authority service error {resp.status_code}")
        if resp.status_code >= 400:
            raise WorkflowError(f"authority service refused the request ({resp.status_code}): {resp.text[:200]}",
                                 code="police_refused")
        result = resp.json()
        log.info("police verification %s: %d elements, consistent=%s", mask_number(id_number),
                 result.get("elements", 0), result.get("consistent"))
        return result
