"""Self-generated invoices: what each vendor is owed per period from its activity and rate
rules, one invoice per vendor and period, each line saying how its amount was computed.

Activity not yet billed is billed by the next run. A period whose invoice is still a draft
is recomputed with the new rows; once that invoice has moved on, late rows go on a
supplementary invoice for the same period. Below the vendor's minimum payout nothing is
invoiced and the activity carries over to the next period.

Only the session's organizations' vendors are billed: the vendors asked for are narrowed to
them first, and every statement after that (Core statements among them, which the session's
scoping hook does not see) is keyed by the narrowed vendors, or by the invoices written for
them. An invoice belongs to the organization that pays its vendor."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    ActivityRecord,
    Invoice,
    InvoiceFlag,
    InvoiceKind,
    InvoiceLine,
    RateCard,
    RateRule,
    Vendor,
    table_of,
    utcnow,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import exponent
from vrm_dashboard.services.invoices import flags as invoice_flags, rollup as invoice_rollup
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor

DRAFTS = (InvoiceStatus.DRAFT.value, InvoiceStatus.DRAFT_VALID.value)
DEFAULT_TERMS_DAYS = 30


@dataclass(frozen=True)
class Usage:
    activity_type: str
    quantity: Decimal
    revenue_minor: int
    rows: int


@dataclass(frozen=True)
class ComputedLine:
    description: str
    quantity: Decimal
    unit_price_minor: int
    amount_minor: int


def _minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_lines(usage: list[Usage], rules: dict[str, RateRule], card: RateCard) -> list[ComputedLine]:
    """The invoice lines for a vendor's usage under its rules, rounded half-up per line."""
    currency = card.currency
    places = exponent(currency)
    scale = Decimal(10) ** places
    # Plain "EUR 1,234.56": babel's locale formatting costs more than the whole computation.
    money = lambda minor: f"{currency} {Decimal(minor).scaleb(-places):,.{places}f}"  # noqa: E731
    lines: list[ComputedLine] = []
    for item in sorted(usage, key=lambda u: u.activity_type):
        rule = rules[item.activity_type]
        label = item.activity_type.replace("_", " ").capitalize()
        if rule.per_unit_rate is not None and item.quantity:
            rate = Decimal(rule.per_unit_rate)
            amount = _minor(item.quantity * rate * scale)
            lines.append(ComputedLine(
                f"{label}: {item.quantity.normalize():,f} × {currency} {rate.normalize():f} = {money(amount)}",
                item.quantity, _minor(rate * scale), amount))
        if rule.revenue_share_percent is not None and item.revenue_minor:
            share = Decimal(rule.revenue_share_percent)
            amount = _minor(Decimal(item.revenue_minor) * share / 100)
            lines.append(ComputedLine(
                f"{label} revenue share: {share.normalize():f}% of {money(item.revenue_minor)} = {money(amount)}",
                Decimal(1), amount, amount))
    if card.flat_fee_minor:
        lines.append(ComputedLine(f"Flat fee: {money(card.flat_fee_minor)}", Decimal(1), card.flat_fee_minor,
                                  card.flat_fee_minor))
    return lines


def bill_unbilled(session: Session, actor: Actor, vendor_ids: list[int], today: date | None = None,
                  arriving: Table | None = None) -> list[int]:
    """Create or update the self-generated invoices of these vendors' unbilled activity; the
    ids of the invoices written. Set-based: a handful of statements however many vendors.

    `arriving` is a scratch table of rows not stored yet (see `arrival_table`): they are billed
    with the stored ones, then stored already carrying their invoice, so a million new rows
    are written once rather than written and then updated."""
    today = today or date.today()
    vendor_ids = _in_scope(session, vendor_ids)
    _reopen_drafts(session, vendor_ids)
    cards, rules, codes = _terms(session, vendor_ids)
    plans: list[_Plan] = []
    for vendor_id, periods in _unbilled_usage(session, vendor_ids, arriving).items():
        card = cards.get(vendor_id)
        if card is None:
            continue
        carried: list[Usage] = []
        for period in sorted(periods):
            carried.extend(periods[period])
            lines = compute_lines(_merge(carried), rules.get(vendor_id, {}), card)
            total = sum(line.amount_minor for line in lines)
            if lines and total >= card.minimum_payout_minor:
                plans.append(_Plan(vendor_id, codes[vendor_id], period, card.currency, lines, total))
                carried = []
            # Below the minimum payout the activity carries over to the next period.
    if plans:
        _write_invoices(session, actor, plans, today)
        # Earlier periods first, so each invoice takes exactly the rows carried into it.
        record = table_of(ActivityRecord)
        session.execute(
            update(record)
            .where(record.c.vendor_id == bindparam("v"),
                   record.c.invoice_id.is_(None),
                   record.c.period <= bindparam("p"))
            .values(invoice_id=bindparam("i")),
            [{"v": plan.vendor_id, "p": plan.period, "i": plan.invoice_id}
             for plan in sorted(plans, key=lambda plan: plan.period)],
        )
    if arriving is not None:
        _store_arriving(session, arriving, plans)
    _drop_emptied_drafts(session, vendor_ids)
    invoice_rollup.refresh(session, vendor_ids)
    written = [plan.invoice_id for plan in plans]
    if written:
        invoice_flags.reconcile(session, written)
    return written


def _in_scope(session: Session, vendor_ids: list[int]) -> list[int]:
    """These vendors, narrowed to the session's organizations' (the system's: all of them)."""
    scope = tenancy.scope_of(session)
    if scope is None or scope.organizations is None:
        return vendor_ids
    return sorted(session.execute(select(col(Vendor.id)).where(col(Vendor.id).in_(vendor_ids))).scalars())


ARRIVAL_COLUMNS = ("source_id", "row_key", "intake_id", "vendor_id", "activity_type", "occurred_on", "period",
                   "quantity", "revenue_minor", "currency")


def arrival_table() -> Table:
    """A per-transaction scratch table shaped like activity_record, without its indexes."""
    record = table_of(ActivityRecord).c
    return Table("activity_arrival", MetaData(),
                 *[Column(name, record[name].type) for name in ARRIVAL_COLUMNS],
                 prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def _store_arriving(session: Session, arriving: Table, plans: list[_Plan]) -> None:
    """Store the arriving rows in one statement, each with the invoice of the first planned
    period at or after its own (none: it carries over)."""
    conn = session.connection()
    names = list(ARRIVAL_COLUMNS)
    invoice: ColumnElement[int | None] = literal(None, Integer)
    plan = None
    if plans:
        plan = Table("billing_plan", MetaData(), Column("vendor_id", Integer, primary_key=True),
                     Column("period", String(7), primary_key=True), Column("invoice_id", Integer),
                     prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
        plan.create(conn)
        conn.execute(insert(plan), [{"vendor_id": p.vendor_id, "period": p.period, "invoice_id": p.invoice_id}
                                    for p in plans])
        invoice = (select(plan.c.invoice_id)
                   .where(plan.c.vendor_id == arriving.c.vendor_id, plan.c.period >= arriving.c.period)
                   .order_by(plan.c.period).limit(1).scalar_subquery())
    # A Core INSERT ... SELECT, past the scoping hook: the scope is stated (nothing to state
    # for a session that reaches every organization: a million rows need no vendor check).
    scope = tenancy.scope_of(session)
    in_scope = true() if scope is None or scope.organizations is None else arriving.c.vendor_id.in_(
        select(col(Vendor.id)).where(tenancy.owned(Vendor, session)))
    conn.execute(insert(table_of(ActivityRecord)).from_select(
        [*names, "invoice_id"], select(*[arriving.c[n] for n in names], invoice).where(in_scope)))
    if plan is not None:
        plan.drop(conn)


@dataclass
class _Plan:
    vendor_id: int
    code: str
    period: str
    currency: str
    lines: list[ComputedLine]
    total: int
    invoice_id: int = 0


_QUANTITY_PLACES = Decimal("0.000001")  # the column's scale


def _grouped_usage(table: Table, *conditions: ColumnElement[bool]
                   ) -> Select[int, str, str, Decimal | float | None, int | None, int]:
    c = table.c
    return (select(c.vendor_id, c.period, c.activity_type, func.sum(c.quantity), func.sum(c.revenue_minor),
                   func.count())
            .where(*conditions).group_by(c.vendor_id, c.period, c.activity_type))


def _unbilled_usage(session: Session, vendor_ids: list[int],
                    arriving: Table | None) -> dict[int, dict[str, list[Usage]]]:
    record = table_of(ActivityRecord)
    rows = list(session.execute(_grouped_usage(record, record.c.vendor_id.in_(vendor_ids),
                                               record.c.invoice_id.is_(None))).all())
    if arriving is not None:
        rows += session.execute(_grouped_usage(arriving)).all()
    usage: dict[int, dict[str, list[Usage]]] = {}
    for vendor_id, period, kind, quantity, revenue, count in rows:
        # SQLite sums NUMERIC as a float: back to the column's six places, exactly.
        exact = Decimal(str(quantity or 0)).quantize(_QUANTITY_PLACES)
        usage.setdefault(vendor_id, {}).setdefault(period, []).append(Usage(kind, exact, int(revenue or 0), int(count)))
    return usage


def _terms(session: Session, vendor_ids: list[int]
           ) -> tuple[dict[int, RateCard], dict[int, dict[str, RateRule]], dict[int, str]]:
    cards = {c.vendor_id: c for c in
             session.execute(select(RateCard).where(col(RateCard.vendor_id).in_(vendor_ids))).scalars()}
    rules: dict[int, dict[str, RateRule]] = {}
    for rule in session.execute(select(RateRule).where(col(RateRule.vendor_id).in_(vendor_ids))).scalars():
        rules.setdefault(rule.vendor_id, {})[rule.activity_type] = rule
    codes: dict[int, str] = dict(session.execute(
        select(col(Vendor.id), col(Vendor.vendor_code)).where(col(Vendor.id).in_(vendor_ids))).all())
    return cards, rules, codes


def _merge(usage: list[Usage]) -> list[Usage]:
    merged: dict[str, Usage] = {}
    for item in usage:
        seen = merged.get(item.activity_type)
        merged[item.activity_type] = item if seen is None else Usage(
            item.activity_type, seen.quantity + item.quantity, seen.revenue_minor + item.revenue_minor,
            seen.rows + item.rows)
    return list(merged.values())


def _reopen_drafts(session: Session, vendor_ids: list[int]) -> None:
    """Release the activity of these vendors' draft self-generated invoices, to be billed again
    together with what just arrived."""
    drafts = select(col(Invoice.id)).where(col(Invoice.vendor_id).in_(vendor_ids),
                                           col(Invoice.kind) == InvoiceKind.SELF_GENERATED.value,
                                           col(Invoice.status).in_(DRAFTS))
    session.execute(update(ActivityRecord).where(col(ActivityRecord.vendor_id).in_(vendor_ids),
                                                 col(ActivityRecord.invoice_id).in_(drafts)).values(invoice_id=None))


def _drop_emptied_drafts(session: Session, vendor_ids: list[int]) -> None:
    """A draft whose activity all went elsewhere (or below the minimum) bills nothing now."""
    billed = select(col(ActivityRecord.invoice_id)).where(col(ActivityRecord.invoice_id).is_not(None),
                                                           col(ActivityRecord.vendor_id).in_(vendor_ids))
    empty = select(col(Invoice.id)).where(col(Invoice.vendor_id).in_(vendor_ids),
                                          col(Invoice.kind) == InvoiceKind.SELF_GENERATED.value,
                                          col(Invoice.status).in_(DRAFTS), col(Invoice.id).not_in(billed))
    ids = [row[0] for row in session.execute(empty).all()]
    if ids:
        session.execute(delete(InvoiceFlag).where(col(InvoiceFlag.invoice_id).in_(ids)))
        session.execute(delete(InvoiceLine).where(col(InvoiceLine.invoice_id).in_(ids)))
        session.execute(delete(Invoice).where(col(Invoice.id).in_(ids)))


def _write_invoices(session: Session, actor: Actor, plans: list[_Plan], today: date) -> None:
    """Insert the new invoices and refresh the reused drafts, their lines and audit entries."""
    table = table_of(Invoice)
    drafts = {(vendor_id, period): row for vendor_id, period, *row in session.execute(
        select(col(Invoice.vendor_id), col(Invoice.billing_period), col(Invoice.id), col(Invoice.total_minor),
               col(Invoice.number))
        .where(col(Invoice.vendor_id).in_({p.vendor_id for p in plans}),
               col(Invoice.kind) == InvoiceKind.SELF_GENERATED.value, col(Invoice.status).in_(DRAFTS))
    ).all()}
    now = utcnow()
    fresh = [p for p in plans if (p.vendor_id, p.period) not in drafts]
    numbers = _free_numbers(session, [f"SG-{p.code}-{p.period}" for p in fresh])
    # A vendor's invoices belong to whoever pays the vendor.
    owners = dict(session.execute(select(col(Vendor.id), col(Vendor.owner_id))
                                  .where(col(Vendor.id).in_({p.vendor_id for p in fresh}))).all())
    if fresh:
        inserted = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), [
            {"number": number, "kind": InvoiceKind.SELF_GENERATED.value, "vendor_id": p.vendor_id,
             "owner_id": owners[p.vendor_id],
             "billing_period": p.period, "currency": p.currency, "subtotal_minor": p.total, "tax_minor": 0,
             "total_minor": p.total, "source_amount_minor": p.total, "source_kind": "activity",
             "issue_date": today, "due_date": today + timedelta(days=DEFAULT_TERMS_DAYS),
             "payment_terms_days": DEFAULT_TERMS_DAYS, "payment_method": "unknown",
             "status": InvoiceStatus.DRAFT_VALID.value, "created_by_id": actor.user_id, "created_at": now,
             "updated_at": now}
            for p, number in zip(fresh, numbers)
        ]).scalars().all()
        for plan, invoice_id in zip(fresh, inserted):
            plan.invoice_id = invoice_id
    reused = [p for p in plans if (p.vendor_id, p.period) in drafts]
    for plan in reused:
        plan.invoice_id = drafts[(plan.vendor_id, plan.period)][0]
    if reused:
        # Tax on self-billed commissions is settled by the vendor's own tax status; none is added here.
        session.execute(
            update(table).where(table.c.id == bindparam("i")).values(
                subtotal_minor=bindparam("t"), total_minor=bindparam("t"), source_amount_minor=bindparam("t"),
                tax_minor=0, updated_by_id=actor.user_id, updated_at=now),
            [{"i": p.invoice_id, "t": p.total} for p in reused],
        )
        session.execute(delete(InvoiceLine).where(col(InvoiceLine.invoice_id).in_([p.invoice_id for p in reused])))
    session.execute(insert(table_of(InvoiceLine)), [
        {"invoice_id": p.invoice_id, "position": position, "description": line.description[:255],
         "quantity": line.quantity, "unit_price_minor": line.unit_price_minor, "amount_minor": line.amount_minor}
        for p in plans for position, line in enumerate(p.lines, start=1)
    ])
    summary = lambda p, number: {"number": number, "vendor_id": p.vendor_id, "billing_period": p.period,  # noqa: E731
                                 "currency": p.currency, "total_minor": p.total, "status": InvoiceStatus.DRAFT_VALID.value}
    audit.record_many(session, actor, "invoice.generate", "invoice",
                      [(p.invoice_id, None, summary(p, n)) for p, n in zip(fresh, numbers)])
    audit.record_many(session, actor, "invoice.regenerate", "invoice", [
        (p.invoice_id, {"total_minor": drafts[(p.vendor_id, p.period)][1]}, summary(p, drafts[(p.vendor_id, p.period)][2]))
        for p in reused])
    session.expire_all()  # the ORM's view of these rows is stale now


def _free_numbers(session: Session, bases: list[str]) -> list[str]:
    """Each base number, or base-2, base-3... where a later invoice for the period exists."""
    taken: set[str] = set()
    for start in range(0, len(bases), 500):
        chunk = bases[start:start + 500]
        # Invoice numbers are the installation's: a free one is free in every organization.
        with tenancy.looking_past_scope(session):
            taken.update(session.execute(select(col(Invoice.number)).where(col(Invoice.number).in_(chunk))).scalars())
    out = []
    for base in bases:
        if base not in taken:
            out.append(base)
            continue
        with tenancy.looking_past_scope(session):  # as above: free in every organization
            siblings = set(session.execute(select(col(Invoice.number)).where(
                col(Invoice.number).like(f"{base}-%"))).scalars())
        n = 2
        while f"{base}-{n}" in siblings:
            n += 1
        out.append(f"{base}-{n}")
    return out
