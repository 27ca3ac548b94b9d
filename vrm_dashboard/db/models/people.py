"""Users, roles, permissions (as data), login sessions, API keys, and the throttles on sign-in and
sign-up."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id", index=True)
    is_active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None)
    last_login_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class Role(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    description: str = Field(default="", max_length=200)


class Permission(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(max_length=60, unique=True)
    description: str = Field(default="", max_length=200)


class RolePermission(SQLModel, table=True):
    __tablename__ = "role_permission"

    role_id: int = Field(foreign_key="role.id", primary_key=True)
    permission_id: int = Field(foreign_key="permission.id", primary_key=True)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    role_id: int = Field(foreign_key="role.id", primary_key=True, index=True)


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Only the token's hash is stored."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)


class ApiKey(SQLModel, table=True):
    """A per-user API key; the secret is shown once and stored only as a hash."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)


class ThrottleEvent(SQLModel, table=True):
    """One counted attempt (a failed sign-in, a sign-up) for one key: a client's address, an
    account's e-mail or an e-mail domain, kept only as a digest. A throttle counts a key's
    events in its sliding window; the database holds them so every web worker sees the same."""

    __tablename__ = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_key", "scope", "key_digest", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=24)
    key_digest: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
