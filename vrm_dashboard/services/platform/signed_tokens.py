"""Tokens that carry a few fields, an expiry and an HMAC signature with the secret key: links
that work without storing anything (invitations, password resets, embedded widgets)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import utcnow


class BadToken(ValueError):
    """A token that was altered, is malformed, or was made for something else."""


class ExpiredToken(ValueError):
    """A genuine token past its expiry."""


# Longer than any token we make: anything longer is refused before any work is done on it.
MAX_TOKEN_LENGTH = 1000


def _signature(payload: str) -> str:
    return hmac.new(settings().secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def make(purpose: str, fields: list[str], lifetime: timedelta, now: datetime | None = None) -> str:
    expires = int(((now or utcnow()) + lifetime).timestamp())
    payload = ".".join([purpose, str(expires), *fields])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + "." + _signature(payload)


def read(token: str, purposes: set[str], now: datetime | None = None) -> tuple[str, datetime, list[str]]:
    """(purpose, expiry, fields) of a genuine, unexpired token for one of `purposes`.

    Whatever a client sends (any length, any characters) ends in BadToken or ExpiredToken:
    the signature is compared as bytes (compare_digest raises on non-ASCII text) and checked
    before any field is parsed."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or "." not in token:
        raise BadToken("malformed")
    encoded, signature = token.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeError):
        raise BadToken("malformed") from None
    if not hmac.compare_digest(signature.encode("utf-8", "replace"), _signature(payload).encode()):
        raise BadToken("not ours")
    try:
        purpose, expires, *fields = payload.split(".")
        expiry = datetime.fromtimestamp(int(expires), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BadToken("malformed") from None
    if purpose not in purposes:
        raise BadToken("not ours")
    if expiry < (now or utcnow()):
        raise ExpiredToken("expired")
    return purpose, expiry, fields
