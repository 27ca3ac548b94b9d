"""The append-only audit log: every change, with who, when, what, before and after."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, overload

from sqlalchemy import String, cast, insert, literal, select as core_select
from sqlmodel import Session, SQLModel, col, select

from vrm_dashboard.db.models import AuditEntry, table_of, utcnow
from vrm_dashboard.services.platform.actors import Actor

SECRET_FIELDS = frozenset({"password_hash", "key_hash", "token_hash", "content"})


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


@overload
def snapshot(record: SQLModel | dict[str, Any]) -> dict[str, Any]: ...
@overload
def snapshot(record: None) -> None: ...
@overload
def snapshot(record: SQLModel | dict[str, Any] | None) -> dict[str, Any] | None: ...


def snapshot(record: SQLModel | dict[str, Any] | None) -> dict[str, Any] | None:
    """The record's fields as JSON-ready values, without secrets."""
    if record is None:
        return None
    data = record if isinstance(record, dict) else record.model_dump()
    return {k: _plain(v) for k, v in data.items() if k not in SECRET_FIELDS}


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    before: SQLModel | dict | None = None,
    after: SQLModel | dict | None = None,
) -> AuditEntry:
    """Add an entry in the caller's transaction: it commits, or vanishes, with the change."""
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=json.dumps(snapshot(before), sort_keys=True) if before is not None else None,
        after=json.dumps(snapshot(after), sort_keys=True) if after is not None else None,
    )
    session.add(entry)
    return entry


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    changes: list[tuple[Any, dict | None, dict | None]],
) -> None:
    """One entry per (object id, before, after), written in one statement: for changes made
    to thousands of records at once."""
    if not changes:
        return
    now = utcnow()
    dump = lambda value: json.dumps(snapshot(value), sort_keys=True) if value is not None else None  # noqa: E731
    session.execute(insert(AuditEntry), [
        {"at": now, "actor_user_id": actor.user_id, "actor_label": actor.label, "action": action,
         "object_type": object_type, "object_id": str(object_id), "before": dump(before), "after": dump(after)}
        for object_id, before, after in changes
    ])


def record_where(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    id_column: Any,
    condition: Any,
    before: dict | None,
    after: dict | None,
) -> None:
    """One entry per row matching `condition` (its id from `id_column`), written by the
    database in one INSERT ... SELECT: for set-based changes to thousands of rows."""
    dump = lambda value: json.dumps(value, sort_keys=True) if value is not None else None  # noqa: E731
    columns = table_of(AuditEntry).c
    # SQLAlchemy's select: SQLModel's types at most four columns.
    session.connection().execute(insert(AuditEntry).from_select(
        ["at", "actor_user_id", "actor_label", "action", "object_type", "object_id", "before", "after"],
        core_select(literal(utcnow(), type_=columns.at.type), literal(actor.user_id),
                    literal(actor.label), literal(action), literal(object_type), cast(id_column, String),
                    literal(dump(before), type_=columns.before.type),
                    literal(dump(after), type_=columns.after.type))
        .where(condition),
    ))


def history(session: Session, object_type: str, object_id: Any, limit: int = 50) -> list[AuditEntry]:
    """An object's entries, newest first."""
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(col(AuditEntry.id).desc())
            .limit(limit)
        ).all()
    )


def changed_fields(entry: AuditEntry) -> dict[str, tuple[Any, Any]]:
    """Field -> (before, after) for the fields an entry changed."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
