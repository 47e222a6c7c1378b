"""Errors of the web service and the one JSON error body every endpoint answers with.

ApiError                 a request cannot be answered; carries status, code, message and details
 +-- NotFoundError       the thing asked for does not exist (404)
 +-- InvalidRequestError a parameter is invalid (422, or 400 for a bad cursor); details name the field
 +-- UnauthorizedError   no key, an unknown key or a revoked key (401)
 +-- ForbiddenError      a valid key whose role or platform does not allow the request (403)
 +-- CrossSiteError      a page's form posted from another site's page (403)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class ProblemDetail:
    """One thing wrong with a request: the parameter and the reason, in words a client can show."""

    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class ApiError(Exception):
    """A request that cannot be answered; turned into `{"error": {code, message, details}}`."""

    status: int
    code: str
    message: str
    details: list[ProblemDetail] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class NotFoundError(ApiError):
    """The record (or route) asked for does not exist."""

    def __init__(self, message: str, *, details: list[ProblemDetail] | None = None) -> None:
        super().__init__(404, "not_found", message, details or [])


class InvalidRequestError(ApiError):
    """One or more request parameters are invalid."""

    def __init__(
        self, message: str, *, details: list[ProblemDetail], status: int = 422, code: str = "validation_error"
    ) -> None:
        super().__init__(status, code, message, details)


def error_body(*, code: str, message: str, details: list[ProblemDetail] | None = None) -> dict[str, Any]:
    """The error body shared by every endpoint."""
    return {"error": {"code": code, "message": message, "details": [d.to_dict() for d in details or []]}}


def error_response(error: ApiError, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response for an ApiError."""
    body = error_body(code=error.code, message=error.message, details=error.details)
    return JSONResponse(body, status_code=error.status, headers=headers)


class UnauthorizedError(ApiError):
    """No valid `Authorization: Bearer <key>` came with a request that needs one."""

    def __init__(self, message: str = "a valid API key is required (Authorization: Bearer <key>)") -> None:
        super().__init__(401, "unauthorized", message, [])


class ForbiddenError(ApiError):
    """The key is valid but its role or platform does not cover this request."""

    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message, [])


class CrossSiteError(ApiError):
    """A form of the admin or operator pages posted from a page of another site (Origin or Referer)."""

    def __init__(self) -> None:
        message = "this form was posted from another site; use the form on this service's own page"
        super().__init__(403, "cross_site", message, [])
