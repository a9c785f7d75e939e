"""Errors the toolkit raises on bad input: each names the problem and the fix."""
from __future__ import annotations


class PaddleEdgeError(Exception):
    """Base error; `fix` says what the user should do next."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}\n  fix: {fix}" if fix else problem)


class BundleError(PaddleEdgeError):
    """A bundle or one of its files is missing, corrupt or of an unknown schema."""


class InputError(PaddleEdgeError):
    """An input batch or image does not fit the model."""


class BackendError(PaddleEdgeError):
    """The requested backend or precision cannot run here."""
