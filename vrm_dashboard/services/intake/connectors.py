"""Connector syncs: activity pulled incrementally from a drop folder of CSV files, a tracking
system's HTTP JSON endpoint, or an ERP's database, each source remembering its cursor.

A batch is imported whole or refused whole (then the cursor stays, and the next run tries
again once the source is fixed), so a sync never half-applies and never skips rows."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generator

import pandas as pd
from sqlalchemy import create_engine, make_url, select, text
from sqlmodel import Session, col

from vrm_dashboard.db.models import ActivitySource, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import activity_import
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.platform.job_runs import JobResult
from vrm_dashboard.services.platform.tabular_files import read_table

KINDS = ("drop_folder", "http_json", "sql")
HTTP_TIMEOUT_SECONDS = 30
MAX_PAGES_PER_SYNC = 50
# (rows, cursor after them, label) per batch; a generator, so a caller may stop it early.
_Batches = Generator[tuple[pd.DataFrame, str, str], None, None]


@dataclass
class SyncReport:
    source: str
    rows: int = 0
    new_rows: int = 0
    batches: int = 0
    error: str = ""
    seconds: float = 0.0


def configure_source(session: Session, actor: Actor, name: str, kind: str, config: dict[str, Any],
                     mapping: dict[str, str] | None = None, enabled: bool = True) -> ActivitySource:
    require(actor, Action.INTAKE_IMPORT)
    errors = {}
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    needed = {"drop_folder": ("path",), "http_json": ("url",), "sql": ("url", "query", "cursor_field")}.get(kind, ())
    for key in needed:
        if not config.get(key):
            errors[key] = "is required"
    if errors:
        raise FieldErrors(errors)
    source = activity_import.source_named(session, name, kind=kind)
    before = audit.snapshot(source)
    source.kind, source.config, source.enabled = kind, json.dumps(config, sort_keys=True), enabled
    if mapping is not None:
        source.column_mapping = json.dumps(mapping, sort_keys=True)
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    audit.record(session, actor, "activity_source.configure", "activity_source", source.id,
                 before=_redacted(before), after=_redacted(audit.snapshot(source)))
    return source


def _redacted(snapshot: dict | None) -> dict | None:
    """A source as the audit log keeps it: no database password, no HTTP header values."""
    if snapshot is None:
        return None
    config = json.loads(snapshot.get("config") or "{}")
    if config.get("url") and "://" in config["url"]:
        try:
            config["url"] = make_url(config["url"]).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - an http URL is not a database URL; it has no password to hide
            pass
    if isinstance(config.get("headers"), dict):
        config["headers"] = {name: "***" for name in config["headers"]}
    return {**snapshot, "config": json.dumps(config, sort_keys=True)}


def sync_all(session: Session) -> JobResult:
    """The scheduler job: every enabled connector source, each committed on its own."""
    actor = Actor.system("sync_activity")
    sources = session.execute(select(ActivitySource).where(col(ActivitySource.enabled).is_(True),
                                                           col(ActivitySource.kind).in_(KINDS))).scalars().all()
    reports = [sync_source(session, actor, source) for source in sources]
    return JobResult(rows=sum(r.new_rows for r in reports), errors=sum(1 for r in reports if r.error),
                     detail=json.dumps([asdict(r) for r in reports]))


def sync_source(session: Session, actor: Actor, source: ActivitySource) -> SyncReport:
    report = SyncReport(source.name)
    started = time.perf_counter()
    config = json.loads(source.config or "{}")
    try:
        for frame, cursor, label in _batches(source.kind, config, source.cursor):
            report.batches += 1
            if not frame.empty:
                result = activity_import.import_activity_rows(session, actor, frame, source, "connector", label)
                if result.refused:
                    session.commit()  # keep the failed intake; the cursor stays
                    report.error = f"{label}: {result.message}"
                    break
                report.rows += result.rows_total
                report.new_rows += result.rows_new
            source.cursor = cursor
            source.updated_at = utcnow()
            session.add(source)
            session.commit()
    except Exception as error:  # noqa: BLE001 - a source that cannot be reached is reported, not fatal
        session.rollback()
        report.error = f"{type(error).__name__}: {error}"
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _batches(kind: str, config: dict[str, Any], cursor: str | None) -> _Batches:
    """(rows, cursor after them, label) for each batch past the cursor."""
    if kind == "drop_folder":
        yield from _drop_folder(config, cursor)
    elif kind == "http_json":
        yield from _http_json(config, cursor)
    elif kind == "sql":
        yield from _sql(config, cursor)


def _drop_folder(config: dict[str, Any], cursor: str | None) -> _Batches:
    folder = Path(config["path"])
    pattern = config.get("pattern", "*.csv")
    for path in sorted(folder.glob(pattern)):
        # Files are taken in name order; a file still being written is left for the next run.
        if cursor and path.name <= cursor:
            continue
        if time.time() - path.stat().st_mtime < float(config.get("settle_seconds", 0)):
            break
        yield read_table(path.read_bytes(), path.name), path.name, path.name


def _http_json(config: dict[str, Any], cursor: str | None) -> _Batches:
    """GET url?<cursor_param>=<cursor> until an empty page; the response's next_cursor (or the
    largest cursor_field in the page) moves the cursor."""
    items_key = config.get("items_key", "items")
    cursor_param = config.get("cursor_param", "since")
    cursor_field = config.get("cursor_field", "id")
    headers = {"Accept": "application/json", **config.get("headers", {})}
    for _ in range(MAX_PAGES_PER_SYNC):
        query = urllib.parse.urlencode({cursor_param: cursor or ""})
        url = config["url"] + ("&" if "?" in config["url"] else "?") + query
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=HTTP_TIMEOUT_SECONDS) as reply:
            body = json.load(reply)
        items = body.get(items_key, []) if isinstance(body, dict) else body
        if not items:
            return
        frame = pd.DataFrame(items).astype(str)
        next_cursor = body.get("next_cursor") if isinstance(body, dict) else None
        cursor = str(next_cursor or max(items, key=lambda item: _ordered(item.get(cursor_field)))[cursor_field])
        yield frame, cursor, f"{config['url']} to {cursor}"


def _sql(config: dict[str, Any], cursor: str | None) -> _Batches:
    """The configured query with :cursor bound to the last cursor_field value read."""
    engine = create_engine(config["url"])
    try:
        with engine.connect() as conn:
            frame = pd.read_sql_query(text(config["query"]), conn, params={"cursor": cursor or config.get("start", 0)})
    finally:
        engine.dispose()
    if frame.empty:
        return
    field = config["cursor_field"]
    new_cursor = str(frame[field].max())
    yield frame.astype(str), new_cursor, f"query to {field}={new_cursor}"


def _ordered(value: Any) -> Any:
    # Decimal, not float: row ids above 2**53 must still compare exactly.
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return (1, str(value))
    return (0, number) if number.is_finite() else (1, str(value))
