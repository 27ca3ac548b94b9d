"""Reading the audit log: searched by who, what, which object and when; paged; exported."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, BinaryIO, Iterator

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import AuditEntry
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.invoices.export import neutralize, streamed_sheet
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

MAX_PAGE_SIZE = 200
EXPORT_HEADERS = ["When (UTC)", "Who", "Action", "Object", "Object ID", "Before", "After"]


@dataclass
class AuditQuery:
    user: str = ""  # part of the e-mail (or "system:" for the scheduler's jobs)
    action: str = ""  # e.g. "invoice." for every invoice action
    object_type: str = ""
    object_id: str = ""
    since: str = ""  # YYYY-MM-DD, inclusive
    until: str = ""  # YYYY-MM-DD, inclusive
    page: int = 1
    page_size: int = 50


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    total_rows: int
    page: int
    page_count: int


def _day(value: str, name: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise FieldErrors({name: "A date is written YYYY-MM-DD"}) from None


def _conditions(query: AuditQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.user.strip():
        conditions.append(func.lower(AuditEntry.actor_label).contains(query.user.strip().lower(), autoescape=True))
    if query.action.strip():
        conditions.append(col(AuditEntry.action).startswith(query.action.strip(), autoescape=True))
    if query.object_type.strip():
        conditions.append(AuditEntry.object_type == query.object_type.strip())
    if query.object_id.strip():
        conditions.append(AuditEntry.object_id == query.object_id.strip())
    since, until = _day(query.since, "since"), _day(query.until, "until")
    if since:
        conditions.append(AuditEntry.at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    if until:
        conditions.append(AuditEntry.at < datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.utc))
    return conditions


def search(session: Session, actor: Actor, query: AuditQuery) -> AuditPage:
    """The newest entries first."""
    require(actor, Action.AUDIT_VIEW)
    size = max(1, min(MAX_PAGE_SIZE, int(query.page_size)))
    conditions = _conditions(query)
    total = int(session.execute(select(func.count()).select_from(AuditEntry).where(*conditions)).scalar_one())
    page_count = max(1, -(-total // size))
    page = max(1, min(int(query.page), page_count))
    rows = list(session.execute(select(AuditEntry).where(*conditions).order_by(col(AuditEntry.id).desc())
                                .offset((page - 1) * size).limit(size)).scalars())
    # Entries written before today's redaction list are masked on the way out as well.
    return AuditPage([audit.as_seen_by(entry, actor) for entry in rows], total, page, page_count)


def _all(session: Session, query: AuditQuery, chunk: int = 5000) -> Iterator[AuditEntry]:
    conditions = _conditions(query)
    last = None
    while True:
        statement = select(AuditEntry).where(*conditions)
        if last is not None:
            statement = statement.where(AuditEntry.id < last)
        rows = list(session.execute(statement.order_by(col(AuditEntry.id).desc()).limit(chunk)).scalars())
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1].id


def export_xlsx(session: Session, actor: Actor, query: AuditQuery, out: BinaryIO) -> int:
    """Every entry of the search (not just a page), newest first."""
    require(actor, Action.AUDIT_VIEW)
    book = Workbook(write_only=True)
    sheet = streamed_sheet(book, "Audit log", EXPORT_HEADERS)
    written = 0
    for stored in _all(session, query):
        entry = audit.as_seen_by(stored, actor)
        sheet.append([entry.at.astimezone(timezone.utc).replace(tzinfo=None), neutralize(entry.actor_label),
                      entry.action, entry.object_type, neutralize(entry.object_id),
                      neutralize(entry.before or ""), neutralize(entry.after or "")])
        written += 1
    book.save(out)
    return written
