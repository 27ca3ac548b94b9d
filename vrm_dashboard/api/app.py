"""The REST API under /api/v1, mounted into the Reflex app through api_transformer."""
from __future__ import annotations

from types import TracebackType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from vrm_dashboard.api import (
    distribution,
    files,
    intake,
    overview,
    payouts,
    portal,
    receivables,
    vendors,
    widget,
)
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.platform.errors import (
    Conflict,
    FieldErrors,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from vrm_dashboard.services.platform.throttles import TooManyAttempts

API_PREFIX = "/api/v1"

_STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404, Conflict: 409, TooManyAttempts: 429}


class Refusal(BaseModel):
    """Why a request was refused, fit to show a person."""

    detail: str


class InputProblem(BaseModel):
    """One value FastAPI could not read, by where it was in the request."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidInput(BaseModel):
    """422: the problems FastAPI found by location, or, from the services, "Invalid input" and a
    message per field."""

    detail: str | list[InputProblem]
    errors: dict[str, str] = {}


# Every route may answer these, so the OpenAPI document says so once for all of them.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "Refused"},
    401: {"model": Refusal, "description": "No valid API key or session"},
    403: {"model": Refusal, "description": "The role does not allow this"},
    404: {"model": Refusal, "description": "No such record, or not one this caller may see"},
    409: {"model": Refusal, "description": "Not possible in the record's present state"},
    413: {"model": Refusal, "description": "The request body is larger than this route accepts"},
    422: {"model": InvalidInput, "description": "Invalid input"},
    429: {"model": Refusal, "description": "Too many attempts; try again later"},
}

# PostgreSQL's SQLSTATE numeric_value_out_of_range.
_OUT_OF_RANGE = "22003"


def _raised_by_the_database(trace: TracebackType | None) -> bool:
    # The innermost frame is SQLAlchemy's call into the driver. An OverflowError raised in our
    # own code (date or Decimal arithmetic) is a bug to fix where it happens, not a 404.
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    return trace is not None and str(trace.tb_frame.f_globals.get("__name__", "")).startswith("sqlalchemy.")


def beyond_stored_numbers(exc: BaseException) -> bool:
    """A number wider than the database's 64-bit integers, refused by its driver: SQLite raises
    OverflowError from the statement, PostgreSQL numeric_value_out_of_range. No stored id or
    amount is that large, so whatever it named does not exist."""
    if isinstance(exc, OverflowError):
        return _raised_by_the_database(exc.__traceback__)
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == _OUT_OF_RANGE


def build_api() -> FastAPI:
    api = FastAPI(
        title="VRM Dashboard API",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    # Before vendors: /vendors/invitations is not a vendor id.
    api.include_router(portal.router, prefix=API_PREFIX)
    api.include_router(vendors.router, prefix=API_PREFIX)
    api.include_router(files.router, prefix=API_PREFIX)
    api.include_router(intake.router, prefix=API_PREFIX)
    api.include_router(payouts.router, prefix=API_PREFIX)
    api.include_router(distribution.router, prefix=API_PREFIX)
    api.include_router(receivables.router, prefix=API_PREFIX)
    api.include_router(overview.router, prefix=API_PREFIX)
    api.include_router(widget.router, prefix=API_PREFIX)

    @api.exception_handler(FieldErrors)
    async def field_errors(_: Request, exc: FieldErrors) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": "Invalid input", "errors": exc.errors})

    @api.exception_handler(ServiceError)
    async def service_error(_: Request, exc: ServiceError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @api.exception_handler(ReadersUnavailable)
    async def readers_unavailable(_: Request, exc: ReadersUnavailable) -> JSONResponse:
        # No fault of the caller's file: the same request works once the readers are back.
        return JSONResponse(status_code=503, headers={"Retry-After": "30"},
                            content={"detail": "Documents cannot be read just now: please try again shortly"})

    # Ids are 64-bit in the database but unbounded in a request: one answer for every route and
    # every id, in the path or the body, rather than a bound on each parameter.
    @api.exception_handler(OverflowError)
    @api.exception_handler(DBAPIError)
    async def number_out_of_range(_: Request, exc: Exception) -> JSONResponse:
        if not beyond_stored_numbers(exc):
            raise exc
        return JSONResponse(status_code=404, content={"detail": "No such record: the number is out of range"})

    return api
