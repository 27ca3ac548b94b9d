"""The append-only audit log: every change, with who, when, what, before and after. What it
keeps passes through the one redaction list (services/platform/redaction): no passwords or
tokens, bank details and taxpayer numbers masked, URLs without their credentials."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, overload

from sqlalchemy import String, cast, insert, literal, select as core_select
from sqlmodel import Session, SQLModel, col, select

from vrm_dashboard.db.models import AuditEntry, table_of, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import redaction
from vrm_dashboard.services.platform.actors import Actor


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
    """The record's fields as JSON-ready values, without passwords and tokens. Bank details
    stay whole here, so a caller can compare two snapshots; the log masks them when it writes."""
    if record is None:
        return None
    data = record if isinstance(record, dict) else record.model_dump()
    return {k: _plain(v) for k, v in data.items() if k not in redaction.HIDDEN_FIELDS}


def _logged(value: SQLModel | dict | None) -> str | None:
    """A before or after as the log keeps it."""
    return json.dumps(redaction.redact(snapshot(value)), sort_keys=True) if value is not None else None


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
        before=_logged(before),
        after=_logged(after),
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
    session.execute(insert(AuditEntry), [
        {"at": now, "actor_user_id": actor.user_id, "actor_label": actor.label, "action": action,
         "object_type": object_type, "object_id": str(object_id), "before": _logged(before), "after": _logged(after)}
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
    columns = table_of(AuditEntry).c
    # SQLAlchemy's select: SQLModel's types at most four columns.
    session.connection().execute(insert(AuditEntry).from_select(
        ["at", "actor_user_id", "actor_label", "action", "object_type", "object_id", "before", "after"],
        core_select(literal(utcnow(), type_=columns.at.type), literal(actor.user_id),
                    literal(actor.label), literal(action), literal(object_type), cast(id_column, String),
                    literal(_logged(before), type_=columns.before.type),
                    literal(_logged(after), type_=columns.after.type))
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


def as_seen_by(entry: AuditEntry, actor: Actor) -> AuditEntry:
    """The entry as this actor may read it, also when it was written before the redaction list
    (or with a field it did not know yet): taxpayer numbers masked and secrets left out for
    everyone, bank details masked unless the actor may see them. A copy, never added to the
    session, so the stored entry is untouched."""
    if actor.can(Action.VENDOR_VIEW_BANK_DETAILS):
        rules: dict[str, frozenset[str]] = {"keep": redaction.BANK_DETAILS}
    else:
        rules = {"also_mask": redaction.BANK_FIELDS}

    def shown(text: str | None) -> str | None:
        return json.dumps(redaction.redact(json.loads(text), **rules), sort_keys=True) if text else text

    return AuditEntry(**{**entry.model_dump(), "before": shown(entry.before), "after": shown(entry.after)})


def changed_fields(entry: AuditEntry) -> dict[str, tuple[Any, Any]]:
    """Field -> (before, after) for the fields an entry changed."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
