"""Self-generated invoices: what each vendor is owed per period from its activity and rate
rules, one invoice per vendor and period, each line saying how its amount was computed.

Activity not yet billed is billed by the next run. A period whose invoice is still a draft
is recomputed with the new rows; once that invoice has moved on, late rows go on a
supplementary invoice for the same period. Below the vendor's minimum payout nothing is
invoiced and the activity carries over to the next period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from vrm_dashboard.db.models import (
    ActivityRecord,
    Invoice,
    InvoiceFlag,
    InvoiceKind,
    InvoiceLine,
    RateCard,
    RateRule,
    Vendor,
    utcnow,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import exponent, format_money
from vrm_dashboard.services import audit, invoice_rollup, reconciliation
from vrm_dashboard.services.actors import Actor

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
    scale = Decimal(10) ** exponent(currency)
    money = lambda minor: format_money(minor, currency)  # noqa: E731
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


def bill_unbilled(session: Session, actor: Actor, vendor_ids: list[int], today: date | None = None) -> list[int]:
    """Create or update the self-generated invoices of these vendors' unbilled activity; the
    ids of the invoices written."""
    today = today or date.today()
    _reopen_drafts(session, vendor_ids)
    usage_rows = session.execute(
        select(ActivityRecord.vendor_id, ActivityRecord.period, ActivityRecord.activity_type,
               func.sum(ActivityRecord.quantity), func.sum(ActivityRecord.revenue_minor), func.count())
        .where(ActivityRecord.vendor_id.in_(vendor_ids), ActivityRecord.invoice_id.is_(None))
        .group_by(ActivityRecord.vendor_id, ActivityRecord.period, ActivityRecord.activity_type)
        .order_by(ActivityRecord.vendor_id, ActivityRecord.period)
    ).all()
    cards = {c.vendor_id: c for c in session.execute(select(RateCard).where(RateCard.vendor_id.in_(vendor_ids))).scalars()}
    rules: dict[int, dict[str, RateRule]] = {}
    for rule in session.execute(select(RateRule).where(RateRule.vendor_id.in_(vendor_ids))).scalars():
        rules.setdefault(rule.vendor_id, {})[rule.activity_type] = rule
    codes = dict(session.execute(select(Vendor.id, Vendor.vendor_code).where(Vendor.id.in_(vendor_ids))).all())
    by_vendor: dict[int, dict[str, list[Usage]]] = {}
    for vendor_id, period, kind, quantity, revenue, count in usage_rows:
        by_vendor.setdefault(vendor_id, {}).setdefault(period, []).append(
            Usage(kind, Decimal(str(quantity or 0)), int(revenue or 0), int(count)))
    written: list[int] = []
    for vendor_id, periods in by_vendor.items():
        card = cards.get(vendor_id)
        if card is None:
            continue
        carried: list[str] = []
        for period in sorted(periods):
            carried.append(period)
            usage = _merge([u for p in carried for u in periods[p]])
            lines = compute_lines(usage, rules.get(vendor_id, {}), card)
            total = sum(line.amount_minor for line in lines)
            if total < card.minimum_payout_minor or not lines:
                continue  # below the minimum payout: carried over to the next period
            invoice = _write_invoice(session, actor, vendor_id, codes[vendor_id], period, card.currency, lines, today)
            session.execute(
                update(ActivityRecord)
                .where(ActivityRecord.vendor_id == vendor_id, ActivityRecord.invoice_id.is_(None),
                       ActivityRecord.period.in_(carried))
                .values(invoice_id=invoice.id)
            )
            written.append(invoice.id)
            carried = []
    _drop_emptied_drafts(session, vendor_ids)
    invoice_rollup.refresh(session, vendor_ids)
    if written:
        reconciliation.reconcile(session, written)
    return written


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
    drafts = select(Invoice.id).where(Invoice.vendor_id.in_(vendor_ids), Invoice.kind == InvoiceKind.SELF_GENERATED.value,
                                      Invoice.status.in_(DRAFTS))
    session.execute(update(ActivityRecord).where(ActivityRecord.invoice_id.in_(drafts)).values(invoice_id=None))


def _drop_emptied_drafts(session: Session, vendor_ids: list[int]) -> None:
    """A draft whose activity all went elsewhere (or below the minimum) bills nothing now."""
    billed = select(ActivityRecord.invoice_id).where(ActivityRecord.invoice_id.is_not(None),
                                                      ActivityRecord.vendor_id.in_(vendor_ids))
    empty = select(Invoice.id).where(Invoice.vendor_id.in_(vendor_ids), Invoice.kind == InvoiceKind.SELF_GENERATED.value,
                                     Invoice.status.in_(DRAFTS), Invoice.id.not_in(billed))
    ids = [row[0] for row in session.execute(empty).all()]
    if ids:
        session.execute(delete(InvoiceFlag).where(InvoiceFlag.invoice_id.in_(ids)))
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids)))
        session.execute(delete(Invoice).where(Invoice.id.in_(ids)))


def _write_invoice(session: Session, actor: Actor, vendor_id: int, code: str, period: str, currency: str,
                   lines: list[ComputedLine], today: date) -> Invoice:
    total = sum(line.amount_minor for line in lines)
    invoice = session.execute(
        select(Invoice).where(Invoice.vendor_id == vendor_id, Invoice.billing_period == period,
                              Invoice.kind == InvoiceKind.SELF_GENERATED.value, Invoice.status.in_(DRAFTS))
    ).scalars().first()
    before = audit.snapshot(invoice)
    if invoice is None:
        invoice = Invoice(number=_free_number(session, f"SG-{code}-{period}"), kind=InvoiceKind.SELF_GENERATED.value,
                          vendor_id=vendor_id, billing_period=period, currency=currency, subtotal_minor=0,
                          tax_minor=0, total_minor=0, issue_date=today, due_date=today + timedelta(days=DEFAULT_TERMS_DAYS),
                          payment_terms_days=DEFAULT_TERMS_DAYS, status=InvoiceStatus.DRAFT_VALID.value,
                          source_kind="activity", created_by_id=actor.user_id)
    else:
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        invoice.updated_by_id = actor.user_id
    # Tax on self-billed commissions is settled by the vendor's own tax status; none is added here.
    invoice.subtotal_minor = invoice.total_minor = invoice.source_amount_minor = total
    invoice.tax_minor = 0
    invoice.updated_at = utcnow()
    session.add(invoice)
    session.flush()
    for position, line in enumerate(lines, start=1):
        session.add(InvoiceLine(invoice_id=invoice.id, position=position, description=line.description[:255],
                                quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                                amount_minor=line.amount_minor))
    audit.record(session, actor, "invoice.generate" if before is None else "invoice.regenerate", "invoice",
                 invoice.id, before=before, after=invoice)
    return invoice


def _free_number(session: Session, base: str) -> str:
    taken = set(session.execute(select(Invoice.number).where(Invoice.number.like(f"{base}%"))).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
