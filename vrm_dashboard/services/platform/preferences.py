"""Per-user preferences, such as the columns a person chose to see."""
from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from vrm_dashboard.db.models import UserPreference
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotAuthenticated


def get(session: Session, actor: Actor, key: str, default: Any) -> Any:
    if actor.user_id is None:
        return default
    row = session.get(UserPreference, (actor.user_id, key))
    return json.loads(row.value) if row is not None else default


def put(session: Session, actor: Actor, key: str, value: Any) -> None:
    """A person's own preference; it touches no one else's data, so it needs no permission."""
    if actor.user_id is None:
        raise NotAuthenticated("Preferences belong to a signed-in person")
    row = session.get(UserPreference, (actor.user_id, key)) or UserPreference(user_id=actor.user_id, key=key, value="")
    row.value = json.dumps(value)
    session.add(row)
