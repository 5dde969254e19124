"""HTTP client of the Veriserve model endpoints (API.md) for the workflow: transient failures (no answer,
5xx) raise :class:`Transient` so the engine retries with backoff; 4xx answers come back as outputs with
their ``error`` so a step can fail cleanly and go to review."""

from __future__ import annotations

import httpx

from workflow.errors import WorkflowError


class Transient(WorkflowError):
    """Worth retrying: the service did not answer or failed on its side."""

    code = "upstream_unavailable"


class ModelClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def post(self, path: str, *, files: list[tuple[str, tuple[str, bytes]]] | None = None,
             data: dict | None = None, json: dict | None = None) -> dict:
        try:
            resp = self.http.post(path, files=files, data=data, json=json)
        except httpx.HTTPError as exc:
            raise Transient(f"{self.base_url}{path}: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code >= 500:
            raise Transient(f"{self.base_url}{path}: HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            return {"error": {"code": "not_json", "message": resp.text[:200]}, "status": resp.status_code}
        if resp.status_code >= 400:
            return {"error": body.get("error", body), "status": resp.status_code}
        return body

    def get_bytes(self, path: str) -> bytes:
        try:
            resp = self.http.get(path)
        except httpx.HTTPError as exc:
            raise Transient(f"{self.base_url}{path}: {exc}") from exc
        if resp.status_code >= 500:
            raise Transient(f"{self.base_url}{path}: HTTP {resp.status_code}")
        resp.raise_for_status()
        return resp.content
