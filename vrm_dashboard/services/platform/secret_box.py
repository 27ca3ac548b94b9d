"""Secrets we must keep but never show (mail-server passwords, connector URLs and headers):
sealed with Fernet (cryptography) under a key derived from VRM_SECRET_KEY, one key per purpose,
so a value sealed for one use cannot be opened as another."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from vrm_dashboard.config import settings


def _fernet(purpose: str) -> Fernet:
    # The secret key is 32+ random characters, so one SHA-256 over purpose and key is a sound
    # key derivation; it is also how the mail passwords were sealed before this module, which
    # keeps them readable.
    key = hashlib.sha256(f"{purpose}:{settings().secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(purpose: str, plain: str) -> str:
    """The text encrypted and authenticated, as ASCII fit for a JSON or text column."""
    return _fernet(purpose).encrypt(plain.encode()).decode()


def unseal(purpose: str, sealed: str) -> str | None:
    """The text sealed for `purpose`; None when it cannot be opened (the secret key changed
    since, or it was altered): the secret must then be entered again."""
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
