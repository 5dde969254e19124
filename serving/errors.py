"""The one place where exceptions become HTTP statuses and JSON error bodies (API.md)."""

from __future__ import annotations

import logging

from models.errors import (
    InvalidInput,
    ModelLoadError,
    ModelNotFound,
    MultipleFaces,
    NoFace,
    PayloadTooLarge,
    VeriserveError,
)
from models.liveness.challenges import ChallengeExpired, ChallengeUsed, UnknownChallenge
from models.speech.sessions import UnknownSession

log = logging.getLogger(__name__)

# First match wins: more specific classes come before their bases.
HTTP_STATUS: list[tuple[type[VeriserveError], int]] = [
    (UnknownChallenge, 404),
    (UnknownSession, 404),
    (ChallengeUsed, 409),
    (ChallengeExpired, 410),
    (PayloadTooLarge, 413),
    (NoFace, 422),
    (MultipleFaces, 422),
    (InvalidInput, 400),
    (ModelNotFound, 404),
    (ModelLoadError, 503),
    (VeriserveError, 500),
]


def unwrap(exc: BaseException) -> BaseException:
    """The original exception behind a Ray task/actor error, if any."""
    seen = 0
    while seen < 5 and getattr(exc, "cause", None) is not None and exc.__class__.__module__.startswith("ray"):
        exc = exc.cause
        seen += 1
    return exc


def status_for(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, error code, message) for any exception; unexpected ones hide their details."""
    exc = unwrap(exc)
    if isinstance(exc, VeriserveError):
        for cls, status in HTTP_STATUS:
            if isinstance(exc, cls):
                return status, exc.code, exc.message
    return 500, "internal_error", "internal error; see the server log with this request_id"


def error_body(code: str, message: str, request_id: str) -> dict:
    return {"error": {"code": code, "message": message, "request_id": request_id}}
