"""The REST API under /api/v1, mounted into the Reflex app through api_transformer."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
from vrm_dashboard.services.platform.errors import (
    Conflict,
    FieldErrors,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
)

API_PREFIX = "/api/v1"

_STATUS = {NotAuthenticated: 401, PermissionDenied: 403, NotFound: 404, Conflict: 409}


def build_api() -> FastAPI:
    api = FastAPI(
        title="VRM Dashboard API",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
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

    return api
