"""Activity data in: a file (or rows from a connector) checked as a whole, stored once per row
identity, then billed. A file with any bad row is refused with every row's reason, and only
the failed intake is recorded.

Reading a file (read_activity_file) touches no database, and importing what was read
(take_activity_file) is the unit of work: where files arrive, each is read before its unit of
work begins, so a spreadsheet that keeps its worker busy holds no lock meanwhile."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.bulk import insert_rows
from vrm_dashboard.db.models import (
    ActivityRecord,
    ActivitySource,
    Intake,
    RateCard,
    RateRule,
    Vendor,
    stored_id,
    table_of,
    utcnow,
)
from vrm_dashboard.domain.activity_rules import (
    FIELD_SYNONYMS,
    MAX_REPORTED_PROBLEMS,
    ImportRefused,
    RowProblem,
    check_mapping,
    guess_mapping,
)
from vrm_dashboard.domain.intake_rules import MAX_QUANTITY, printable
from vrm_dashboard.domain.money import MAX_MINOR_UNITS, MoneyError, check_currency, exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import self_billing
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.platform.tabular_files import ReceivedTable, receive_table


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
    """The session's source of this name, made when there is none. Names are unique within an
    organization: a session acting for several (the system) must act for one to name one."""
    found = session.execute(select(ActivitySource).where(col(ActivitySource.name) == name).limit(2)).scalars().all()
    if len(found) > 1:
        raise FieldErrors({"source": f"Source {name} is used in more than one organization: act for one of them"})
    source = found[0] if found else None
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
    # Only what changed: the source's config holds a connector's secrets (kept sealed, never logged).
    before = {"name": source.name, "column_mapping": source.column_mapping}
    mapping = {ours: theirs.strip() for ours, theirs in mapping.items() if theirs and theirs.strip()}
    source.column_mapping = json.dumps(mapping, sort_keys=True)
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    audit.record(session, actor, "activity_source.mapping", "activity_source", source.id, before=before,
                 after={"name": source.name, "column_mapping": source.column_mapping})
    return source


def mapping_of(session: Session, actor: Actor, source_name: str) -> dict[str, str]:
    """The column mapping saved for a source ({} when none is)."""
    require(actor, Action.INTAKE_IMPORT)
    source = session.execute(
        select(ActivitySource).where(col(ActivitySource.name) == source_name)).scalar_one_or_none()
    return json.loads(source.column_mapping) if source else {}


def read_activity_file(content: bytes, filename: str) -> ReceivedTable:
    """Read an activity file into a table, or the reason it is refused, touching no database.
    Reading an XLSX may take its worker's whole deadline, so callers read with no unit of work
    open (on SQLite one holds the write lock from its first statement, and every other writer
    would wait on this file), then import the result with take_activity_file in a short one.
    ReadersUnavailable when no worker can be started."""
    return receive_table(content, filename)


def take_activity_file(session: Session, actor: Actor, received: ReceivedTable, source_name: str = "upload",
                       channel: str = "upload") -> ImportResult:
    """Import a file read by read_activity_file, all or nothing; a refused file is recorded as a
    failed intake with its reason."""
    require(actor, Action.INTAKE_IMPORT)
    source = source_named(session, source_name)
    if received.frame is None:
        refused = received.refusal or ImportRefused([RowProblem(0, "The file could not be read")], 1)
        return _refused(session, actor, source, channel, received.filename, received.sha256, received.size_bytes,
                        0, refused)
    return import_activity_rows(session, actor, received.frame, source, channel, received.filename,
                                received.sha256, received.size_bytes)


def import_activity_file(session: Session, actor: Actor, content: bytes, filename: str,
                         source_name: str = "upload", channel: str = "upload") -> ImportResult:
    """read_activity_file, then take_activity_file. The file is read before the session runs a
    statement: given a session with no transaction open, nothing is locked while it is read.
    Whoever may not import is refused before the file is read."""
    require(actor, Action.INTAKE_IMPORT)
    return take_activity_file(session, actor, read_activity_file(content, filename), source_name, channel)


def import_activity_rows(session: Session, actor: Actor, frame: pd.DataFrame, source: ActivitySource,
                         channel: str, filename: str, digest: str = "", size: int = 0) -> ImportResult:
    """Import a table of text cells (as a file or connector delivers it) in one transaction."""
    require(actor, Action.INTAKE_IMPORT)
    mapping = guess_mapping(list(frame.columns), json.loads(source.column_mapping or "{}"))
    try:
        rows = _checked_rows(session, frame, mapping, source)
    except ImportRefused as refused:
        return _refused(session, actor, source, channel, filename, digest, size, len(frame), refused)
    intake = Intake(channel=channel, kind="activity", filename=printable(filename)[:255], sha256=digest, size_bytes=size,
                    status="accepted", rows_total=len(rows), source_id=source.id, created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    rows["intake_id"] = intake.id
    rows["source_id"] = source.id
    # The rows land in a scratch table first: those already stored are dropped there, and the
    # rest are billed and stored once, each already carrying its invoice. These Core statements
    # pass no scoping hook; they need none: every row's vendor was resolved through the session
    # (only its organizations' vendors), the source is the session's own, and billing narrows
    # to the session's vendors again (self_billing).
    conn = session.connection()
    arriving = self_billing.arrival_table()
    # A failure rolls the creation back with everything else (PostgreSQL drops it at commit).
    arriving.create(conn)
    insert_rows(conn, "activity_arrival", list(self_billing.ARRIVAL_COLUMNS),
                rows[list(self_billing.ARRIVAL_COLUMNS)].itertuples(index=False, name=None), convert=False)
    record = table_of(ActivityRecord)
    conn.execute(delete(arriving).where(select(record.c.id).where(
        record.c.source_id == arriving.c.source_id, record.c.row_key == arriving.c.row_key).exists()))
    vendor_ids = sorted(v for (v,) in conn.execute(select(arriving.c.vendor_id).distinct()).all())
    intake.rows_new = int(conn.execute(select(func.count()).select_from(arriving)).scalar_one())
    invoices = self_billing.bill_unbilled(session, actor, vendor_ids, arriving=arriving) if vendor_ids else []
    arriving.drop(conn)
    intake.reason = None if intake.rows_new else "Every row was already imported"
    session.add(intake)
    audit.record(session, actor, "activity.import", "intake", intake.id, after={
        "filename": filename, "source": source.name, "rows": len(rows), "new_rows": intake.rows_new,
        "invoices": len(invoices)})
    return ImportResult(stored_id(intake), len(rows), intake.rows_new, invoices)


def _refused(session: Session, actor: Actor, source: ActivitySource, channel: str, filename: str, digest: str,
             size: int, rows: int, refused: ImportRefused) -> ImportResult:
    intake = Intake(channel=channel, kind="activity", filename=printable(filename)[:255], sha256=digest, size_bytes=size,
                    status="failed", reason=str(refused), rows_total=rows, source_id=source.id,
                    created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    audit.record(session, actor, "activity.import_refused", "intake", intake.id, after={
        "filename": filename, "reason": str(refused)})
    return ImportResult(stored_id(intake), rows, 0, refused=True, problems=refused.problems[:MAX_REPORTED_PROBLEMS],
                        total_problems=refused.total_problems)


def _checked_rows(session: Session, frame: pd.DataFrame, mapping: dict[str, str],
                  source: ActivitySource) -> pd.DataFrame:
    """The rows as stored, or ImportRefused listing every bad row. Column-wise, so a million
    rows are checked in seconds. A row names a vendor of the source's organization (vendor IDs
    are unique within one), whoever imports."""
    problems = check_mapping(mapping)
    if problems:
        raise ImportRefused(problems, len(problems))
    if frame.empty:
        raise ImportRefused([RowProblem(0, "The file has no data rows")], 1)
    column = lambda name: frame[mapping[name]] if name in mapping else pd.Series("", index=frame.index)  # noqa: E731
    reasons = pd.Series("", index=frame.index, dtype=object)

    def flag(mask: pd.Series, reason: str | Callable[[pd.Series], pd.Series]) -> None:
        """Give each row its first problem. `reason` is text, or builds the texts for just the
        failing rows (a message per row for a million good rows would cost more than the checks)."""
        fresh = mask & (reasons == "")
        if fresh.any():
            reasons[fresh] = reason if isinstance(reason, str) else reason(fresh)

    codes = column("vendor")
    vendors: dict[str, int] = dict(session.execute(select(col(Vendor.vendor_code), col(Vendor.id))
                                                   .where(col(Vendor.owner_id) == tenancy.owner(source))).all())
    vendor_ids = codes.map(vendors)
    flag(codes == "", "vendor is empty")
    flag(vendor_ids.isna(), lambda at: "unknown vendor " + codes[at])
    kinds = column("activity_type").str.lower()
    flag(kinds == "", "activity type is empty")
    date_text = column("date")
    occurred_on = date_text.map(_iso_dates(date_text.unique()))
    flag(occurred_on.isna(), lambda at: "date " + date_text[at] + " is not a date (use YYYY-MM-DD)")
    quantity_text = column("quantity").replace("", "0")
    quantity = pd.to_numeric(quantity_text, errors="coerce")
    flag(quantity.isna() | np.isinf(quantity), lambda at: "quantity " + quantity_text[at] + " is not a number")
    flag(quantity < 0, lambda at: "quantity " + quantity_text[at] + " is negative")
    flag(quantity >= MAX_QUANTITY, lambda at: "quantity " + quantity_text[at] + " is too large")
    cards: dict[int, str] = dict(session.execute(select(col(RateCard.vendor_id), col(RateCard.currency))).all())
    currency = column("currency").str.upper()
    # A vendor without a rate card maps to NaN: as text, so the fill stays a string column.
    currency = currency.where(currency != "", vendor_ids.map(cards).astype(object).fillna(""))
    known = {}
    for code in currency.unique():
        try:
            known[code] = exponent(check_currency(code))
        except MoneyError:
            pass
    flag(~currency.isin(list(known)), lambda at: "unknown currency " + currency[at].replace("", "(none)"))
    revenue_text = column("revenue")
    revenue_minor = _minor_units(revenue_text, currency, known)
    flag((revenue_minor == _TOO_LARGE).fillna(False), lambda at: "revenue " + revenue_text[at] + " is too large to be an amount")
    flag(revenue_minor.isna(), lambda at: "revenue " + revenue_text[at] + " is not an amount")
    flag((revenue_minor < 0).fillna(False), lambda at: "revenue " + revenue_text[at] + " is negative")
    rule_keys: Sequence[tuple[int, str]] = session.execute(
        select(col(RateRule.vendor_id), col(RateRule.activity_type))).all()
    rules = pd.MultiIndex.from_tuples(rule_keys or [(-1, "")])
    has_rule = pd.Series(pd.MultiIndex.from_arrays([vendor_ids.fillna(-1).astype("int64"), kinds]).isin(rules),
                         index=frame.index)
    flag(~has_rule, lambda at: "vendor " + codes[at] + " has no rate rule for activity '" + kinds[at] + "'")
    if "row_id" in mapping:
        row_ids = column("row_id")
        repeated = (row_ids != "") & row_ids.duplicated(keep="first")
        flag(repeated, lambda at: "row id " + row_ids[at] + " appears more than once in the file")
    card_currency = vendor_ids.map(cards)
    flag(card_currency.notna() & (currency != card_currency),
         lambda at: "currency " + currency[at] + " differs from the vendor's rate card (" + card_currency[at] + ")")
    bad = reasons[reasons != ""]
    if len(bad):
        shown = [RowProblem(int(i) + 2, str(r)) for i, r in bad.head(MAX_REPORTED_PROBLEMS).items()]
        raise ImportRefused(shown, len(bad))
    rows = pd.DataFrame({
        "vendor_id": vendor_ids.astype("int64"), "activity_type": kinds,
        "occurred_on": occurred_on, "period": occurred_on.str[:7],
        "quantity": quantity_text, "revenue_minor": revenue_minor.astype("int64"), "currency": currency,
    })
    rows["row_key"] = _row_keys(rows, column("row_id") if "row_id" in mapping else None)
    return rows


def _iso_dates(texts: np.ndarray) -> dict[str, str]:
    """Each distinct date text as YYYY-MM-DD (ISO first, then day-first forms); unparseable
    texts are left out."""
    texts = pd.Series(texts, dtype=object)
    parsed = pd.to_datetime(texts, errors="coerce", format="ISO8601")
    retry = parsed.isna() & (texts != "")
    if retry.any():
        parsed[retry] = pd.to_datetime(texts[retry], errors="coerce", dayfirst=True, format="mixed")
    good = parsed.notna()
    return dict(zip(texts[good], parsed[good].dt.strftime("%Y-%m-%d")))


# Marks a revenue past MAX_MINOR_UNITS among the converted amounts (no real amount is this).
_TOO_LARGE = -(2**62)


def _minor_units(text: pd.Series, currency: pd.Series, exponents: dict[str, int]) -> pd.Series:
    """Exact minor units (integers, never floats) from decimal text ("1,234.5" -> 123450 in
    EUR); missing where the text is not a plain amount (NaN, Infinity, exponents) or has more
    decimals than the currency allows, and _TOO_LARGE past what an amount may be. Each distinct
    (amount, currency) is converted once: a million rows repeat far fewer values."""
    def convert(value: str, code: str) -> int | None:
        cleaned = value.replace(",", "").replace(" ", "") or "0"
        places = exponents.get(code, 2)
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            return None
        if not amount.is_finite() or "e" in cleaned.lower():
            return None  # NaN, Infinity, and exponents (1E+999999) are not how amounts are written
        scaled = amount.scaleb(places)
        if scaled != scaled.to_integral_value():
            return None
        return int(scaled) if abs(scaled) < MAX_MINOR_UNITS else _TOO_LARGE

    pairs = pd.MultiIndex.from_arrays([text, currency])
    distinct = pairs.unique()
    table = pd.Series(pd.array([convert(v, c) for v, c in distinct], dtype="Int64"), index=distinct)
    return pd.Series(table.reindex(pairs).to_numpy(), index=text.index, dtype="Int64")


def _row_keys(rows: pd.DataFrame, row_ids: pd.Series | None) -> pd.Series:
    """A row's identity: its id in the source when the file has one, otherwise a 128-bit hash
    of its content plus how many identical rows came before it (two equal sales both count)."""
    if row_ids is not None and (row_ids != "").all():
        short = row_ids.str.len() <= 60
        keys = "id:" + row_ids
        if not short.all():
            keys[~short] = row_ids[~short].map(lambda text: "idh:" + hashlib.sha256(text.encode()).hexdigest()[:48])
        return keys
    content = rows[["vendor_id", "activity_type", "occurred_on", "quantity", "revenue_minor", "currency"]]
    # Two independent 64-bit hashes: a collision would silently drop a row, so 128 bits.
    first = pd.util.hash_pandas_object(content, index=False, hash_key="vrm-activity-k01")
    second = pd.util.hash_pandas_object(content, index=False, hash_key="vrm-activity-k02")
    occurrence = pd.DataFrame({"a": first, "b": second}).groupby(["a", "b"], sort=False).cumcount().to_numpy()
    keys = pd.Series(_hex128(first.to_numpy(), second.to_numpy()), index=rows.index, dtype=object)
    repeated = occurrence > 0
    if repeated.any():
        keys[repeated] = keys[repeated] + "#" + pd.Series(occurrence[repeated], index=keys.index[repeated]).astype(str)
    return keys


def _hex128(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two uint64 columns as 32 lower-case hex digits per row, without a Python loop."""
    pair = np.empty((len(first), 2), dtype=">u8")
    pair[:, 0], pair[:, 1] = first, second
    raw = pair.view(np.uint8).reshape(len(first), 16)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    out = np.empty((len(first), 32), dtype=np.uint8)
    out[:, 0::2], out[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    return out.view("S32").ravel().astype(str).astype(object)
