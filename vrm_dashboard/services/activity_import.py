"""Activity data in: a file (or rows from a connector) checked as a whole, stored once per row
identity, then billed. A file with any bad row is refused with every row's reason, and only
the failed intake is recorded."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from vrm_dashboard.db.bulk import insert_rows
from vrm_dashboard.db.models import ActivityRecord, ActivitySource, Intake, RateCard, RateRule, Vendor, utcnow
from vrm_dashboard.domain.activity_rules import (
    FIELD_SYNONYMS,
    MAX_REPORTED_PROBLEMS,
    ImportRefused,
    RowProblem,
    check_mapping,
    guess_mapping,
)
from vrm_dashboard.domain.money import MoneyError, check_currency, exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import audit, self_billing
from vrm_dashboard.services.actors import Actor, require
from vrm_dashboard.services.errors import FieldErrors
from vrm_dashboard.services.tabular_files import read_table


@dataclass
class ImportResult:
    intake_id: int
    rows_total: int
    rows_new: int
    invoices: list[int] = field(default_factory=list)
    refused: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    total_problems: int = 0

    @property
    def message(self) -> str:
        if self.refused:
            return str(ImportRefused(self.problems, self.total_problems))
        repeated = self.rows_total - self.rows_new
        return (f"Imported {self.rows_new:,} new rows" + (f" ({repeated:,} already imported)" if repeated else "")
                + f"; {len(self.invoices):,} self-generated invoices created or updated")


def source_named(session: Session, name: str, kind: str = "upload") -> ActivitySource:
    source = session.execute(select(ActivitySource).where(ActivitySource.name == name)).scalar_one_or_none()
    if source is None:
        source = ActivitySource(name=name, kind=kind)
        session.add(source)
        session.flush()
    return source


def save_mapping(session: Session, actor: Actor, source_name: str, mapping: dict[str, str]) -> ActivitySource:
    """Keep a source's column mapping so its next files import without asking."""
    require(actor, Action.INTAKE_IMPORT)
    unknown = sorted(set(mapping) - set(FIELD_SYNONYMS))
    if unknown:
        raise FieldErrors({name: "is not an activity field" for name in unknown})
    source = source_named(session, source_name)
    before = audit.snapshot(source)
    mapping = {ours: theirs.strip() for ours, theirs in mapping.items() if theirs and theirs.strip()}
    source.column_mapping = json.dumps(mapping, sort_keys=True)
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    audit.record(session, actor, "activity_source.mapping", "activity_source", source.id, before=before, after=source)
    return source


def mapping_of(session: Session, actor: Actor, source_name: str) -> dict[str, str]:
    """The column mapping saved for a source ({} when none is)."""
    require(actor, Action.INTAKE_IMPORT)
    source = session.execute(select(ActivitySource).where(ActivitySource.name == source_name)).scalar_one_or_none()
    return json.loads(source.column_mapping) if source else {}


def import_activity_file(session: Session, actor: Actor, content: bytes, filename: str,
                         source_name: str = "upload", channel: str = "upload") -> ImportResult:
    require(actor, Action.INTAKE_IMPORT)
    source = source_named(session, source_name)
    digest = hashlib.sha256(content).hexdigest()
    try:
        frame = read_table(content, filename)
    except ImportRefused as refused:
        return _refused(session, actor, source, channel, filename, digest, len(content), 0, refused)
    return import_activity_rows(session, actor, frame, source, channel, filename, digest, len(content))


def import_activity_rows(session: Session, actor: Actor, frame: pd.DataFrame, source: ActivitySource,
                         channel: str, filename: str, digest: str = "", size: int = 0) -> ImportResult:
    """Import a table of text cells (as a file or connector delivers it) in one transaction."""
    require(actor, Action.INTAKE_IMPORT)
    mapping = guess_mapping(list(frame.columns), json.loads(source.column_mapping or "{}"))
    try:
        rows = _checked_rows(session, frame, mapping)
    except ImportRefused as refused:
        return _refused(session, actor, source, channel, filename, digest, size, len(frame), refused)
    intake = Intake(channel=channel, kind="activity", filename=filename[:255], sha256=digest, size_bytes=size,
                    status="accepted", rows_total=len(rows), source_id=source.id, created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    rows["intake_id"] = intake.id
    rows["source_id"] = source.id
    columns = ["source_id", "row_key", "intake_id", "vendor_id", "activity_type", "occurred_on", "period",
               "quantity", "revenue_minor", "currency"]
    conn = session.connection()
    insert_rows(conn, "activity_record", columns, rows[columns].itertuples(index=False, name=None),
                convert=False, on_conflict_ignore=True)
    intake.rows_new = int(session.execute(
        select(func.count()).select_from(ActivityRecord).where(ActivityRecord.intake_id == intake.id)
    ).scalar_one())
    vendor_ids = sorted(set(int(v) for v in rows["vendor_id"].unique())) if intake.rows_new else []
    invoices = self_billing.bill_unbilled(session, actor, vendor_ids) if vendor_ids else []
    intake.reason = None if intake.rows_new else "Every row was already imported"
    session.add(intake)
    audit.record(session, actor, "activity.import", "intake", intake.id, after={
        "filename": filename, "source": source.name, "rows": len(rows), "new_rows": intake.rows_new,
        "invoices": len(invoices)})
    return ImportResult(intake.id, len(rows), intake.rows_new, invoices)


def _refused(session: Session, actor: Actor, source: ActivitySource, channel: str, filename: str, digest: str,
             size: int, rows: int, refused: ImportRefused) -> ImportResult:
    intake = Intake(channel=channel, kind="activity", filename=filename[:255], sha256=digest, size_bytes=size,
                    status="failed", reason=str(refused), rows_total=rows, source_id=source.id,
                    created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    audit.record(session, actor, "activity.import_refused", "intake", intake.id, after={
        "filename": filename, "reason": str(refused)})
    return ImportResult(intake.id, rows, 0, refused=True, problems=refused.problems[:MAX_REPORTED_PROBLEMS],
                        total_problems=refused.total_problems)


def _checked_rows(session: Session, frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """The rows as stored, or ImportRefused listing every bad row. Column-wise, so a million
    rows are checked in seconds."""
    problems = check_mapping(mapping)
    if problems:
        raise ImportRefused(problems, len(problems))
    if frame.empty:
        raise ImportRefused([RowProblem(0, "The file has no data rows")], 1)
    column = lambda name: frame[mapping[name]] if name in mapping else pd.Series("", index=frame.index)  # noqa: E731
    reasons = pd.Series("", index=frame.index, dtype=object)

    def flag(mask: pd.Series, reason) -> None:  # type: ignore[no-untyped-def]
        fresh = mask & (reasons == "")
        if fresh.any():
            reasons[fresh] = reason if isinstance(reason, str) else reason[fresh]

    codes = column("vendor")
    vendors = dict(session.execute(select(Vendor.vendor_code, Vendor.id)).all())
    vendor_ids = codes.map(vendors)
    flag(codes == "", "vendor is empty")
    flag(vendor_ids.isna(), "unknown vendor " + codes)
    kinds = column("activity_type").str.lower()
    flag(kinds == "", "activity type is empty")
    dates = pd.to_datetime(column("date"), errors="coerce", format="ISO8601")
    retry = dates.isna() & (column("date") != "")
    if retry.any():
        dates[retry] = pd.to_datetime(column("date")[retry], errors="coerce", dayfirst=True, format="mixed")
    flag(dates.isna(), "date " + column("date") + " is not a date (use YYYY-MM-DD)")
    quantity_text = column("quantity").replace("", "0")
    quantity = pd.to_numeric(quantity_text, errors="coerce")
    flag(quantity.isna(), "quantity " + quantity_text + " is not a number")
    flag(quantity < 0, "quantity " + quantity_text + " is negative")
    cards = dict(session.execute(select(RateCard.vendor_id, RateCard.currency)).all())
    currency = column("currency").str.upper()
    currency = currency.where(currency != "", vendor_ids.map(cards).fillna(""))
    known = {}
    for code in currency.unique():
        try:
            known[code] = exponent(check_currency(code))
        except MoneyError:
            pass
    flag(~currency.isin(list(known)), "unknown currency " + currency.replace("", "(none)"))
    revenue_minor = _minor_units(column("revenue").replace("", "0"), currency.map(known).fillna(2).astype(int))
    flag(revenue_minor.isna(), "revenue " + column("revenue") + " is not an amount")
    flag(revenue_minor < 0, "revenue " + column("revenue") + " is negative")
    rules = {(v, t) for v, t in session.execute(select(RateRule.vendor_id, RateRule.activity_type)).all()}
    has_rule = pd.Series([(v, t) in rules for v, t in zip(vendor_ids.fillna(-1).astype(int), kinds)], index=frame.index)
    flag(~has_rule, "vendor " + codes + " has no rate rule for activity '" + kinds + "'")
    card_currency = vendor_ids.map(cards)
    flag(card_currency.notna() & (currency != card_currency),
         "currency " + currency + " differs from the vendor's rate card (" + card_currency.fillna("") + ")")
    bad = reasons[reasons != ""]
    if len(bad):
        shown = [RowProblem(int(i) + 2, str(r)) for i, r in bad.head(MAX_REPORTED_PROBLEMS).items()]
        raise ImportRefused(shown, len(bad))
    rows = pd.DataFrame({
        "vendor_id": vendor_ids.astype(int), "activity_type": kinds, "occurred_on": dates.dt.strftime("%Y-%m-%d"),
        "period": dates.dt.strftime("%Y-%m"), "quantity": quantity_text.map(lambda q: str(q)),
        "revenue_minor": revenue_minor.astype("int64"), "currency": currency,
    })
    rows["row_key"] = _row_keys(rows, column("row_id") if "row_id" in mapping else None)
    return rows


def _minor_units(text: pd.Series, places: pd.Series) -> pd.Series:
    """Exact minor units from decimal text ("1234.5" -> 123450 at two places); NaN where the
    text is not a plain amount or has more decimals than the currency allows."""
    clean = text.str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    parts = clean.str.extract(r"^(?P<sign>-?)(?P<whole>\d+)(?:\.(?P<frac>\d*))?$")
    frac = parts["frac"].fillna("")
    ok = parts["whole"].notna() & (frac.str.len() <= places)
    padded = [f + "0" * (p - len(f)) if good else "0" for f, p, good in zip(frac, places, ok)]
    whole = pd.to_numeric(parts["whole"].where(ok, "0")).astype("int64")
    value = whole * (10 ** places.astype("int64")) + pd.to_numeric(pd.Series(padded, index=text.index).replace("", "0")).astype("int64")
    value = value.where(parts["sign"] != "-", -value)
    return value.where(ok)


def _row_keys(rows: pd.DataFrame, row_ids: pd.Series | None) -> pd.Series:
    """A row's identity: its id in the source when the file has one, otherwise a hash of its
    content and how many identical rows came before it (so two equal sales both count)."""
    if row_ids is not None and (row_ids != "").all():
        base = "id:" + row_ids
    else:
        base = (rows["vendor_id"].astype(str) + "|" + rows["activity_type"] + "|" + rows["occurred_on"] + "|"
                + rows["quantity"] + "|" + rows["revenue_minor"].astype(str) + "|" + rows["currency"])
        base = base + "#" + base.groupby(base).cumcount().astype(str)
    return base.map(lambda text: hashlib.sha256(text.encode()).hexdigest())
