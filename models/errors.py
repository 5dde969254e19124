"""Specific exceptions raised by models and input handling.

Each carries a stable machine ``code`` (see API.md). The HTTP status for each class is decided in one
place, :mod:`serving.errors`, so this module stays free of web concerns.
"""

from __future__ import annotations


class VeriserveError(Exception):
    """Base class for every error Veriserve raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self):  # keep code and message across Ray/pickle boundaries
        return (_rebuild, (type(self), self.message, self.code))


def _rebuild(cls: type[VeriserveError], message: str, code: str) -> VeriserveError:
    return cls(message, code=code)


class InvalidInput(VeriserveError):
    """The caller sent something the model cannot use (wrong field, bad value)."""

    code = "invalid_input"


class InvalidImage(InvalidInput):
    """Bytes that are not a decodable image, or an image outside the accepted limits."""

    code = "invalid_image"


class PayloadTooLarge(InvalidInput):
    """A request body, file or image larger than the configured limit."""

    code = "payload_too_large"


class NoFace(InvalidInput):
    """No face was found where one is required."""

    code = "no_face"


class MultipleFaces(InvalidInput):
    """More than one face where exactly one is required (e.g. an ID photo)."""

    code = "multiple_faces"


class ModelNotFound(VeriserveError):
    """An unknown model name, or no registered version / alias for it."""

    code = "unknown_model"


class ModelLoadError(VeriserveError):
    """Weights are missing, corrupt, or do not match the digests in the model card."""

    code = "model_load_error"
