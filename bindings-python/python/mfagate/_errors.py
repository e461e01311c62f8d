"""Exception classes. The native module raises these with the core's fields."""

from __future__ import annotations

from typing import Optional

from ._mfagate import ERRORS_DOC


class MfagateError(Exception):
    """Base of every mfagate error: misuse and bad configuration only.

    A refused request is never an error: it is a :class:`mfagate.Decision`.
    """

    code: str
    message: str
    hint: str
    line: Optional[int]
    doc_url: str

    def __init__(
        self,
        message: str,
        *,
        code: str = "mfagate_error",
        hint: str = "",
        line: Optional[int] = None,
        doc_url: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        self.line = line
        self.doc_url = doc_url if doc_url is not None else f"{ERRORS_DOC}#{code}"

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.line is not None:
            text += f" (line {self.line})"
        if self.hint:
            text += f". Hint: {self.hint}"
        return f"{text} See {self.doc_url}"


class PolicyError(MfagateError):
    """The policy spec or file is invalid (family ``policy``)."""


class JwksError(MfagateError):
    """The JWK Set is invalid or unusable, or a JWKS fetch failed (family ``key``)."""


class UsageError(MfagateError):
    """The library was called wrongly (family ``usage``)."""
