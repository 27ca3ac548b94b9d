"""The append-only audit log: every change, with who, when, what, before and after. What it
keeps passes through the one redaction list (services/platform/redaction): no passwords or
tokens, bank details and taxpayer numbers masked, URLs without their credentials."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, overload

from sqlalchemy import String, cast, func, insert, literal, select as core_select
from sqlmodel import Session, SQLModel, col, select

from vrm_dashboard.db.models import (
    ActivitySource,
    ApiKey,
    AuditEntry,
    BankStatement,
    EmailDelivery,
    Intake,
    Invoice,
    Organization,
    PaymentTransaction,
    Payout,
    User,
    Vendor,
    table_of,
    utcnow,
)
from vrm_dashboard.db.tenancy import scope_of
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


# Whose entry it is, by the kind of record it is about: an entry belongs to the organization
# that owns the record, so each organization's audit log shows what happened to its records,
# whoever did it (a user, a job). A person's account (and an API key, which acts as its person)
# belongs to the person's organization: a vendor's login to its vendor's payer, an account in no
# organization to the root's. The installation's own records (the one role catalogue, the mail
# servers, installation-wide settings and the installation's value of a business setting, the
# connection checks) have entries of no organization, which only platform admins read (the
# first wall shows a scoped session only its organizations' entries). An entry about another
# record without an owner belongs to the organization of whoever acted; the system's own, to none.
_OWNED_TYPES: dict[str, Any] = {
    "vendor": Vendor, "invoice": Invoice, "intake": Intake, "activity_source": ActivitySource,
    "bank_statement": BankStatement, "email_delivery": EmailDelivery,
}
_VENDOR_CHILDREN: dict[str, Any] = {"payout": Payout, "payment_transaction": PaymentTransaction}
_ACCOUNT_TYPES = ("user", "api_key")
_INSTALLATION_TYPES = ("role", "settings")


def _owner_column(object_type: str, id_column: Any) -> Any:
    """The owner of the record `id_column` identifies, as a column expression of its row."""
    if object_type in _VENDOR_CHILDREN:
        child = _VENDOR_CHILDREN[object_type]
        return core_select(col(Vendor.owner_id)).where(col(Vendor.id) == child.vendor_id).scalar_subquery()
    if object_type in _OWNED_TYPES:
        return _OWNED_TYPES[object_type].owner_id
    if object_type == "organization":
        return func.coalesce(col(Organization.parent_id), col(Organization.id))
    return None


def _owners(session: Session, object_type: str, object_ids: list[Any]) -> dict[str, int | None]:
    """The owning organization of each record, by its id as the log keeps it."""
    if object_type in _ACCOUNT_TYPES:
        return {str(i): _account_owner(session, object_type, i) for i in object_ids}
    model = _OWNED_TYPES.get(object_type) or _VENDOR_CHILDREN.get(object_type) or (
        Organization if object_type == "organization" else None)
    if model is None or not object_ids:
        return {}
    key = col(model.id)
    owner = _owner_column(object_type, key)
    found: dict[str, int | None] = {}
    ids = [int(i) for i in object_ids if str(i).isdigit()]
    for start in range(0, len(ids), 500):
        rows = session.execute(core_select(key, owner).where(key.in_(ids[start:start + 500]))).all()
        found.update({str(object_id): owner_id for object_id, owner_id in rows})
    return found


def _account_owner(session: Session, object_type: str, object_id: Any) -> int | None:
    """The organization of the person (or the person's key) an entry is about. None when the
    session may not write that organization's entries (a sign-out, a lock by wrong passwords:
    nobody signed in acts): the installation's entry then, never the actor's organization's."""
    if not str(object_id).isdigit():
        return None
    user_id: int | None = int(object_id)
    if object_type == "api_key":
        user_id = session.execute(core_select(col(ApiKey.user_id)).where(col(ApiKey.id) == user_id)).scalar()
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return None
    if user.vendor_id is not None:
        # Read in the session's scope: a vendor it does not see has a payer it may not write for.
        owner = session.execute(core_select(col(Vendor.owner_id)).where(col(Vendor.id) == user.vendor_id)).scalar()
    elif user.organization_id is not None:
        owner = user.organization_id
    else:
        # The root organization, if there is one yet (recording makes none: the first account
        # of an installation comes before any organization).
        owner = session.execute(core_select(func.min(col(Organization.id)))
                                .where(col(Organization.parent_id).is_(None))).scalar()
    scope = scope_of(session)
    return owner if owner is not None and (scope is None or scope.includes(owner)) else None


def _acting_organization(session: Session) -> int | None:
    scope = scope_of(session)
    return scope.home if scope is not None else None


def _unfound_owner(session: Session, object_type: str, *records: SQLModel | dict | None) -> int | None:
    """Whose entry it is when the record names no owner: the installation's for its own records
    (a setting is an organization's only when put says so), else the acting organization's."""
    if object_type in _ACCOUNT_TYPES or object_type in _INSTALLATION_TYPES:
        return None
    if object_type == "setting":
        for_organization = any(isinstance(one, dict) and one.get("for") == "organization" for one in records)
        return _acting_organization(session) if for_organization else None
    return _acting_organization(session)


def _owner_of(session: Session, object_type: str, object_id: Any,
              *records: SQLModel | dict | None) -> int | None:
    for one in records:
        owner = one.get("owner_id") if isinstance(one, dict) else getattr(one, "owner_id", None)
        if isinstance(owner, int):
            return owner
    found = _owners(session, object_type, [object_id]).get(str(object_id))
    return found if found is not None else _unfound_owner(session, object_type, *records)


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
        owner_id=_owner_of(session, object_type, object_id, after, before),
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
    owners = _owners(session, object_type, [object_id for object_id, _, _ in changes])
    session.execute(insert(AuditEntry), [
        {"at": now, "owner_id": _found_or(owners.get(str(object_id)), session, object_type, before, after), "actor_user_id": actor.user_id, "actor_label": actor.label, "action": action,
         "object_type": object_type, "object_id": str(object_id), "before": _logged(before), "after": _logged(after)}
        for object_id, before, after in changes
    ])


def _found_or(found: int | None, session: Session, object_type: str, *records: dict | None) -> int | None:
    return found if found is not None else _unfound_owner(session, object_type, *records)


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
    owner = _owner_column(object_type, id_column)
    if owner is None:
        owner = literal(_unfound_owner(session, object_type, before, after), type_=columns.owner_id.type)
    # SQLAlchemy's select: SQLModel's types at most four columns.
    session.connection().execute(insert(AuditEntry).from_select(
        ["at", "owner_id", "actor_user_id", "actor_label", "action", "object_type", "object_id", "before", "after"],
        core_select(literal(utcnow(), type_=columns.at.type), owner, literal(actor.user_id),
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
