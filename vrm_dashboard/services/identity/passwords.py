"""Password hashing with argon2 through passlib (the maintained libpass distribution)."""
from __future__ import annotations

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2"], deprecated="auto")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "Password must not start or end with spaces"
    return None


# A hash to verify against when the e-mail is unknown, so a wrong e-mail takes as long as a
# wrong password and response times do not reveal which accounts exist.
DUMMY_HASH = _context.hash("not-a-real-password")
