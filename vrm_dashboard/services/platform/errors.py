"""The errors services raise; callers (UI, API, CLI) turn them into messages."""
from __future__ import annotations

from vrm_dashboard.domain.vendor_rules import FieldErrors


class ServiceError(Exception):
    """A request that was refused; the message is fit to show a person."""


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class NotAuthenticated(ServiceError):
    pass


class Conflict(ServiceError):
    pass


__all__ = ["Conflict", "FieldErrors", "NotAuthenticated", "NotFound", "PermissionDenied", "ServiceError"]
