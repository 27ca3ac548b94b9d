"""Per-user API keys: shown once, stored as a hash, acting with the user's role."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlmodel import Session, select

from vrm_dashboard.db.models import ApiKey, User, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity import user_admin
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

KEY_PREFIX = "vrm_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, actor: Actor, name: str, user_id: int | None = None) -> str:
    """Create a key for the actor (or, for a user manager, another user); return it once."""
    require(actor, Action.API_KEY_MANAGE)
    owner = user_id if user_id is not None else actor.user_id
    if owner is None:
        raise FieldErrors({"user": "An API key belongs to a user"})
    if owner != actor.user_id:
        require(actor, Action.USER_MANAGE)
        # A key for someone else only within the organizations the actor administers, and never
        # for a platform admin's account: the key would be that account.
        user_admin.administered(session, actor, owner)
    if owner is None:
        raise FieldErrors({"user": "An API key belongs to a user"})
    if not name.strip() or len(name) > 80:
        raise FieldErrors({"name": "Give the key a name of at most 80 characters"})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(user_id=owner, name=name.strip(), prefix=prefix, key_hash=_digest(secret))
    session.add(key)
    session.flush()
    audit.record(session, actor, "api_key.create", "api_key", key.id, after=key)
    return f"{KEY_PREFIX}{prefix}_{secret}"


def actor_for_api_key(session: Session, presented: str | None) -> Actor | None:
    """The key owner's actor, with their current permissions, or None for a bad or revoked key."""
    if not presented or not presented.startswith(KEY_PREFIX):
        return None
    try:
        prefix, secret = presented[len(KEY_PREFIX):].split("_", 1)
    except ValueError:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, _digest(secret)):
        return None
    key.last_used_at = utcnow()
    session.add(key)
    actor = load_actor(session, key.user_id)
    # The session that found who is calling serves them: scoped to their organization from here.
    return act_as(session, actor) if actor is not None else None


def well_formed(presented: str) -> bool:
    """Whether `presented` has the shape create_api_key gives every key (its prefix, 12 hex
    digits, 43 URL-safe characters): what has not cannot be a key, and is not looked up."""
    return re.fullmatch(rf"{KEY_PREFIX}[0-9a-f]{{12}}_[A-Za-z0-9_-]{{43}}", presented) is not None


def is_live(session: Session, presented: str) -> bool:
    """Whether `presented` is a key actor_for_api_key would take (not revoked, its owner active),
    found by reading alone: it writes nothing, not even when the key was last used."""
    if not well_formed(presented):
        return False
    prefix, secret = presented[len(KEY_PREFIX):].split("_", 1)
    key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, _digest(secret)):
        return False
    owner = session.get(User, key.user_id)
    return owner is not None and owner.is_active
