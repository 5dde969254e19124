"""Errors of the workflow, signing and cost layer. Same shape as the model errors (a stable ``code`` and a
``message``) but defined here: the workflow never imports :mod:`models` (DESIGN.md layering)."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base class for every error the workflow raises on purpose."""

    code = "workflow_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(WorkflowError):
    """Bad input from the caller (HTTP 400)."""

    code = "invalid_input"
