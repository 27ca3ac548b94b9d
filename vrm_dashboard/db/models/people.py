"""Users, roles, permissions (as data), login sessions and API keys."""
from __future__ import annotations

from datetime import datetime

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
