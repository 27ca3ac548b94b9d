"""Organizations as tenants: every business record has an owning organization, and a session
that acts for someone sees and writes only the records of the organizations in its scope.

The scope is structural, not a filter each query repeats:

- **Reads.** Every ORM statement a scoped session runs (select, update, delete, `session.get`)
  gets one criterion per tenant-owned model, through SQLAlchemy's `with_loader_criteria` from a
  `do_orm_execute` hook. Top-level records carry `owner_id`; their children are scoped through
  their parent (a vendor's contacts through the vendor, an invoice's lines through the invoice).
  A record outside the scope is simply not there: a by-id read answers as for a missing id.
- **Writes.** A new record without an owner is stamped with the scope's home organization at
  flush, never from input; one given an owner outside the scope is refused.
- **Core statements** (bulk inserts from a select, statements on a raw connection) do not pass
  the hook: they take `owned(Model, session)` into their WHERE, and copy `owner_id` from the
  rows they derive from.

A plain `Session` has no scope: it is the system's, for jobs that truly span organizations, the
seeder and the benchmarks. `session_scope()` (db/engine.py) starts every unit of work of the
app and the API scoped to nobody, and the code that learns who is acting narrows it to them
(`scope_to`). So a path that forgets to say who acts sees nothing, rather than everything.

On PostgreSQL a second wall mirrors the first: row-level security policies on the same tables
(see migrations), fed per transaction with the scope.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Collection, Iterator

from sqlalchemy import ColumnElement, event, false, func, insert, literal_column, select, true
from sqlalchemy.orm import ORMExecuteState, Session, aliased, with_loader_criteria
from sqlmodel import SQLModel, col

from vrm_dashboard.db.models import (
    ActivityRecord,
    ActivitySource,
    AuditEntry,
    BankStatement,
    CollectionAttempt,
    EmailDelivery,
    Intake,
    Invoice,
    InvoiceApproval,
    InvoiceDispute,
    InvoiceExtraction,
    InvoiceFlag,
    InvoiceLine,
    InvoiceRollup,
    Notification,
    Organization,
    OrganizationSetting,
    PaymentFile,
    PaymentReminder,
    PaymentTermsChange,
    PaymentTransaction,
    Payout,
    PayoutApproval,
    RateCard,
    RateRule,
    StatementLine,
    Vendor,
    VendorBalance,
    VendorContact,
    VendorDocument,
    VendorOnboarding,
    VendorReadingHint,
    VendorTaxForm,
    VendorWidgetLink,
    utcnow,
)

_SCOPE = "vrm_tenancy_scope"
# An execution option for the stamping's own reads of a parent (a write outside the scope is
# refused after the owner is known, so the read must not be filtered first).
_PAST_SCOPE = "vrm_tenancy_past_scope"
_ROOT = "vrm_root_organization"
# An execution option for a statement that finds its invoices (or their rollup rows) through an
# index of its own (a search by number or vendor): the scope then only filters the rows found. SQLite, knowing
# nothing of how many invoices an organization owns, otherwise takes the owner index for each
# branch of a search's OR and reads the organization's every invoice.
SCOPE_FILTERS_ONLY = "vrm_tenancy_scope_filters_only"


@dataclass(frozen=True)
class Scope:
    """Whose records a session may read and write.

    `organizations` None: every organization's (the system, a platform admin). `home`: the
    organization new records belong to (None: this scope may create nothing)."""

    organizations: frozenset[int] | None
    home: int | None

    @classmethod
    def everything(cls, home: int | None = None) -> "Scope":
        return cls(None, home)

    @classmethod
    def of(cls, organization_id: int) -> "Scope":
        return cls(frozenset({organization_id}), organization_id)

    def includes(self, organization_id: int | None) -> bool:
        return self.organizations is None or organization_id in self.organizations


NOBODY = Scope(frozenset(), None)


def owner(record: Any) -> int:
    """The owning organization of a stored record (stamped at its first flush)."""
    owner_id = getattr(record, "owner_id", None)
    if owner_id is None:
        raise ValueError(f"{type(record).__name__} has no owner: it was never flushed")
    return int(owner_id)


# Records with an owner of their own.
OWNED: tuple[type[SQLModel], ...] = (Vendor, Invoice, ActivitySource, Intake, BankStatement, PaymentFile,
                                     Notification, EmailDelivery, InvoiceRollup, OrganizationSetting)
# The first wall's switch, for the test that shows the second (PostgreSQL's row-level security)
# holds alone. Never turned off outside that test.
FIRST_WALL = True


def scope_of(session: Session) -> Scope | None:
    """The session's scope; None for an unscoped (system) session."""
    scope = session.info.get(_SCOPE)
    return scope if isinstance(scope, Scope) else None


def scope_to(session: Session, scope: Scope) -> None:
    """From now on, the session reads and writes only within `scope`."""
    session.info[_SCOPE] = scope
    for listener in _scope_listeners:
        listener(session, scope)


def unscope(session: Session) -> None:
    """The session acts for the system from now on (a job that truly spans organizations)."""
    session.info.pop(_SCOPE, None)
    for listener in _scope_listeners:
        listener(session, None)


@contextmanager
def acting_for(session: Session, organization_id: int) -> Iterator[None]:
    """Within the block, the session acts for one organization (a job working through each
    organization's records in turn); its scope before is restored after."""
    before = session.info.get(_SCOPE)
    scope_to(session, Scope.of(organization_id))
    try:
        yield
    finally:
        if isinstance(before, Scope):
            scope_to(session, before)
        else:
            unscope(session)


@contextmanager
def looking_past_scope(session: Session) -> Iterator[None]:
    """For the few reads that must see past the scope, each with its own condition: the record
    a link token names (which then decides the scope), a number that must be free in every
    organization, the invoices another organization bills us (the incoming view). Whoever
    uses this says why at the call."""
    before = session.info.get(_SCOPE)
    unscope(session)
    try:
        yield
    finally:
        if isinstance(before, Scope):
            scope_to(session, before)


_scope_listeners: list[Any] = []


def on_scope_change(listener: Any) -> None:
    """Call `listener(session, scope)` whenever a session's scope is set (the PostgreSQL wall)."""
    _scope_listeners.append(listener)


def root_organization_id(session: Session) -> int:
    """The installation's own organization (the first without a parent), made when there is
    none yet: records of the system and of accounts in no organization belong to it."""
    cached = session.info.get(_ROOT)
    if isinstance(cached, int):
        return cached
    with session.no_autoflush:
        root = session.execute(select(func.min(Organization.id)).where(col(Organization.parent_id).is_(None))).scalar()
        if root is None:
            # Written directly: this may run while the session flushes (stamping a first record).
            now = utcnow()
            root = session.connection().execute(insert(Organization).values(
                name="Our organization", tier="distributor", country="DE", is_active=True, wants_einvoice=False,
                consolidates_monthly=False, reminders_stopped=False, created_at=now, updated_at=now,
            ).returning(col(Organization.id))).scalar_one()
    assert root is not None
    session.info[_ROOT] = int(root)
    return int(root)


# --- the first wall: reads ------------------------------------------------------------------

def _vendor_ids(ids: Collection[int]) -> Any:
    # Never correlated: the statement it filters may read vendors of its own.
    return select(col(Vendor.id)).where(col(Vendor.owner_id).in_(ids)).correlate(None)


def _invoice_visible(invoice: Any, ids: Collection[int], filters_only: bool = False) -> ColumnElement[bool]:
    # The owner's alone, so an organization's newest invoices are one index range (owner, issue
    # date). The customer a receivable bills reads it in the one view made for that (receivables,
    # incoming), which names its own condition.
    if filters_only:
        # An expression rather than the column: no database takes an index for it.
        return (invoice.owner_id + 0).in_(ids)
    return invoice.owner_id.in_(ids)


# The invoice a child row hangs from, under a name of its own: the statement it filters may
# read invoices itself, which must not be taken for this one.
_PARENT_INVOICE = aliased(Invoice, name="scope_invoice")


def _invoice_exists(invoice_id: Any, ids: Collection[int]) -> ColumnElement[bool]:
    parent = col(_PARENT_INVOICE.id)
    return (select(parent).where(parent == invoice_id, _invoice_visible(_PARENT_INVOICE, ids))
            .correlate_except(_PARENT_INVOICE).exists())


def _criteria(organizations: frozenset[int], invoices_found_elsewhere: bool) -> list[Any]:
    ids = tuple(sorted(organizations))

    def by_vendor(model: type[SQLModel]) -> Any:
        return with_loader_criteria(model, lambda cls: cls.vendor_id.in_(_vendor_ids(ids)), include_aliases=True)

    def by_invoice(model: type[SQLModel]) -> Any:
        return with_loader_criteria(model, lambda cls: _invoice_exists(cls.invoice_id, ids), include_aliases=True)

    # Two lambdas, not one taking the flag: SQLAlchemy caches a criterion's SQL by its lambda's code.
    invoices = ((lambda cls: _invoice_visible(cls, ids, filters_only=True)) if invoices_found_elsewhere
                else (lambda cls: _invoice_visible(cls, ids)))
    # The rollup's rows of a search are found by their vendors, as the invoices are.
    rollup = ((lambda cls: (cls.owner_id + 0).in_(ids)) if invoices_found_elsewhere
              else (lambda cls: cls.owner_id.in_(ids)))
    owned = [with_loader_criteria(model, lambda cls: cls.owner_id.in_(ids), include_aliases=True)
             for model in OWNED if model not in (Invoice, InvoiceRollup)]
    return [
        *owned,
        with_loader_criteria(InvoiceRollup, rollup, include_aliases=True),
        with_loader_criteria(Invoice, invoices, include_aliases=True),
        with_loader_criteria(AuditEntry, lambda cls: cls.owner_id.in_(ids), include_aliases=True),
        *(by_vendor(model) for model in (VendorContact, VendorBalance, VendorOnboarding, VendorTaxForm,
                                         VendorDocument, VendorWidgetLink, RateCard, RateRule, ActivityRecord,
                                         Payout, PaymentTransaction, VendorReadingHint)),
        *(by_invoice(model) for model in (InvoiceLine, InvoiceApproval, InvoiceFlag, InvoiceExtraction,
                                          InvoiceDispute, CollectionAttempt, PaymentReminder)),
        with_loader_criteria(PayoutApproval, lambda cls: cls.payout_id.in_(
            select(col(Payout.id)).where(col(Payout.vendor_id).in_(_vendor_ids(ids))).correlate(None)),
            include_aliases=True),
        # A customer's terms are set by the organization above it, which issues its invoices
        # (receivables/organizations.managed); a root organization's own are its own.
        with_loader_criteria(PaymentTermsChange, lambda cls: cls.organization_id.in_(
            select(col(Organization.id)).where(func.coalesce(col(Organization.parent_id), col(Organization.id))
                                               .in_(ids)).correlate(None)),
            include_aliases=True),
        with_loader_criteria(StatementLine, lambda cls: cls.statement_id.in_(
            select(col(BankStatement.id)).where(col(BankStatement.owner_id).in_(ids)).correlate(None)),
            include_aliases=True),
    ]


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    scope = scope_of(state.session)
    if scope is None or scope.organizations is None or not FIRST_WALL:
        return
    if state.is_column_load or state.is_relationship_load or state.execution_options.get(_PAST_SCOPE):
        return
    if state.is_select or state.is_update or state.is_delete:
        found_elsewhere = bool(state.execution_options.get(SCOPE_FILTERS_ONLY))
        state.statement = state.statement.options(*_criteria(scope.organizations, found_elsewhere))


def among(column: Any, organizations: Collection[int]) -> ColumnElement[bool]:
    """`column IN (ids)` with the ids written into the SQL: unlike a bound list, it also serves
    statements run once per row (executemany), which cannot take an expanding parameter."""
    return column.in_([literal_column(str(int(i))) for i in sorted(organizations)])


def owned(model: type[SQLModel], session: Session) -> ColumnElement[bool]:
    """The scope as a WHERE condition, for Core statements the hook does not see: true for an
    unscoped session, false for a scope of nobody."""
    scope = scope_of(session)
    if scope is None or scope.organizations is None:
        return true()
    ids = scope.organizations
    if not ids:
        return false()
    if model is Invoice:
        return among(col(Invoice.owner_id), ids)
    if hasattr(model, "owner_id"):
        return among(col(getattr(model, "owner_id")), ids)
    if hasattr(model, "vendor_id"):
        return col(getattr(model, "vendor_id")).in_(
            select(col(Vendor.id)).where(among(col(Vendor.owner_id), ids)).correlate(None))
    if hasattr(model, "invoice_id"):
        parent = col(_PARENT_INVOICE.id)
        return (select(parent).where(parent == getattr(model, "invoice_id"), among(_PARENT_INVOICE.owner_id, ids))
                .correlate_except(_PARENT_INVOICE).exists())
    raise TypeError(f"{model.__name__} is not scoped by organization")


# --- the first wall: writes -----------------------------------------------------------------

class OutsideScope(PermissionError):
    """A write of a record into an organization the session does not act for."""


def _parents_owner(session: Session, record: Any) -> int | None:
    """The owner a new record inherits from the record it belongs to: a vendor's invoice or
    notice is its payer's, an invoice's e-mail the invoice owner's."""
    with session.no_autoflush:
        vendor_id = getattr(record, "vendor_id", None) if isinstance(record, (Invoice, Notification)) else None
        if vendor_id is not None:
            return session.execute(select(col(Vendor.owner_id)).where(col(Vendor.id) == vendor_id)
                                   .execution_options(**{_PAST_SCOPE: True})).scalar()
        invoice_id = getattr(record, "invoice_id", None) if isinstance(record, (EmailDelivery, Notification)) else None
        if invoice_id is not None:
            return session.execute(select(col(Invoice.owner_id)).where(col(Invoice.id) == invoice_id)
                                   .execution_options(**{_PAST_SCOPE: True})).scalar()
    return None


@event.listens_for(Session, "before_flush")
def _stamp_owners(session: Session, _context: Any, _instances: Any) -> None:
    scope = scope_of(session)
    for record in session.new:
        if not isinstance(record, (*OWNED, AuditEntry)):
            continue
        owner = getattr(record, "owner_id", None)
        if owner is None:
            if isinstance(record, AuditEntry):
                continue  # stamped by audit.record; none for the installation's own entries
            owner = _parents_owner(session, record)
            if owner is not None:
                setattr(record, "owner_id", owner)
                if scope is not None and not scope.includes(owner):
                    raise OutsideScope("This record belongs to another organization")
                continue
            if scope is None or (scope.home is None and scope.organizations is None):
                home: int | None = root_organization_id(session)
            else:
                home = scope.home
            if home is None:
                raise OutsideScope("Nobody is acting here: there is no organization to own this record")
            setattr(record, "owner_id", home)
        elif scope is not None and not scope.includes(owner):
            raise OutsideScope("This record belongs to another organization")
    if scope is None or scope.organizations is None:
        return
    for record in session.dirty:
        if isinstance(record, OWNED) and not scope.includes(getattr(record, "owner_id", None)):
            raise OutsideScope("This record belongs to another organization")
