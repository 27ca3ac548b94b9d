"""Connector syncs: activity pulled incrementally from a drop folder of CSV files, a tracking
system's HTTP JSON endpoint, or an ERP's database, each source remembering its cursor.

A batch is imported whole or refused whole, so a sync never half-applies. An HTTP or SQL batch
that is refused holds the cursor (the next run tries again once the source is fixed). A dropped
file is its own transaction: one that is refused, or cannot be read, is recorded as a failed
intake with its reason and moved into the folder's rejected/ subfolder beside a .reason.txt,
and the next file goes on; put back fixed under the same name, it is taken again. Each file
is read before its transaction begins, so a slow spreadsheet holds no lock while it is read.

A source's URL and headers (database passwords, API tokens) are kept sealed in the secret box
and are shown, logged and audited only redacted."""
from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generator

import pandas as pd
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import ActivitySource, Intake, utcnow
from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import mask
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.intake import activity_import
from vrm_dashboard.services.platform import audit, secret_box
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.platform.job_runs import JobResult
from vrm_dashboard.services.platform.redaction import REDACTED, redact_text, redact_url

KINDS = ("drop_folder", "http_json", "sql")
# What a config may hold that opens the source: sealed in the row, redacted wherever shown.
SECRET_KEYS = ("url", "headers")
SECRET_PURPOSE = "connector-config"
SEALED = "sealed"
REJECTED_FOLDER = "rejected"
REASON_SUFFIX = ".reason.txt"
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
    # "file: reason" for each dropped file set aside in this run.
    rejected: list[str] = field(default_factory=list)
    # The source's organization: the run's log shows each organization only its own reports.
    owner: int | None = None


class SecretLost(Exception):
    """A sealed config that cannot be opened: the secret key changed since it was saved."""


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
    before = _audited(source)
    source.kind, source.config, source.enabled = kind, _sealed(config), enabled
    if mapping is not None:
        source.column_mapping = json.dumps(mapping, sort_keys=True)
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    audit.record(session, actor, "activity_source.configure", "activity_source", source.id,
                 before=before, after=_audited(source))
    return source


def _sealed(config: dict[str, Any]) -> str:
    """The config as its row keeps it: the secret keys sealed together, the rest readable."""
    secrets = {key: config[key] for key in SECRET_KEYS if key in config}
    kept = {key: value for key, value in config.items() if key not in SECRET_KEYS}
    if secrets:
        kept[SEALED] = secret_box.seal(SECRET_PURPOSE, json.dumps(secrets, sort_keys=True))
    return json.dumps(kept, sort_keys=True)


def _opened(config: dict[str, Any]) -> dict[str, Any]:
    """A config as read from its row, sealed (or plain, as saved before sealing) alike."""
    if SEALED not in config:
        return config
    opened = secret_box.unseal(SECRET_PURPOSE, config[SEALED])
    if opened is None:
        raise SecretLost("The source's URL and headers cannot be read: the secret key changed since they "
                         "were saved. Configure the source again.")
    return {**{k: v for k, v in config.items() if k != SEALED}, **json.loads(opened)}


def config_of(source: ActivitySource) -> dict[str, Any]:
    """The source's whole config, secrets included: for talking to the source, never for showing."""
    return _opened(json.loads(source.config or "{}"))


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """A config fit to show and to audit: no password or token in its URL, header values masked."""
    shown = dict(config)
    if isinstance(shown.get("url"), str):
        shown["url"] = redact_url(shown["url"])
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = {name: _hint(str(value)) for name, value in shown["headers"].items()}
    return shown


def _hint(secret: str) -> str:
    # The last four characters tell two long tokens apart; of a short secret they would give
    # away too much of it.
    return mask(secret) if len(secret) >= 16 else REDACTED


def _audited(source: ActivitySource) -> dict[str, Any]:
    """A source as the audit log keeps it: its config masked."""
    try:
        config = masked_config(config_of(source))
    except SecretLost:
        config = {"secrets": "unreadable (the secret key changed)"}
    return {**audit.snapshot(source), "config": json.dumps(config, sort_keys=True)}


@dataclass
class SourceView:
    """A connector as the Intake screen and the API show it: its config masked."""

    name: str
    kind: str
    enabled: bool
    cursor: str
    config: dict[str, Any]
    updated_at: str


def sources(session: Session, actor: Actor) -> list[SourceView]:
    """Every connector, its URL without credentials and its header values masked."""
    require(actor, Action.INTAKE_IMPORT)
    found = []
    for source in session.execute(select(ActivitySource).where(col(ActivitySource.kind).in_(KINDS))
                                  .order_by(col(ActivitySource.name))).scalars():
        try:
            config = masked_config(config_of(source))
        except SecretLost as lost:
            config = {"error": str(lost)}
        found.append(SourceView(source.name, source.kind, source.enabled, source.cursor or "", config,
                                source.updated_at.isoformat()))
    return found


def sync_all(session: Session) -> JobResult:
    """The scheduler job: every enabled connector source, each committed on its own."""
    actor = Actor.system("sync_activity")
    sources = session.execute(select(ActivitySource).where(col(ActivitySource.enabled).is_(True),
                                                           col(ActivitySource.kind).in_(KINDS))).scalars().all()
    reports = []
    for source in sources:
        # A source is its organization's: its rows name that organization's vendors.
        with tenancy.acting_for(session, tenancy.owner(source)):
            reports.append(sync_source(session, actor, source))
    return JobResult(rows=sum(r.new_rows for r in reports),
                     errors=sum(bool(r.error) + len(r.rejected) for r in reports),
                     detail=json.dumps([asdict(r) for r in reports]))


def sync_source(session: Session, actor: Actor, source: ActivitySource) -> SyncReport:
    report = SyncReport(source.name, owner=source.owner_id)
    started = time.perf_counter()
    try:
        config = config_of(source)
        if source.kind == "drop_folder":
            _sync_drop_folder(session, actor, source, config, report)
        else:
            _sync_batches(session, actor, source, config, report)
    except Exception as error:  # noqa: BLE001 - a source that cannot be reached is reported, not fatal
        session.rollback()
        report.error = redact_text(f"{type(error).__name__}: {error}")
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _sync_batches(session: Session, actor: Actor, source: ActivitySource, config: dict[str, Any],
                  report: SyncReport) -> None:
    # Each batch is fetched (network, up to HTTP_TIMEOUT_SECONDS a page) with no unit of work
    # open: on SQLite one holds the write lock from its first statement.
    session.commit()
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
        _move_cursor(session, source, cursor)


def _move_cursor(session: Session, source: ActivitySource, cursor: str) -> None:
    source.cursor = cursor
    source.updated_at = utcnow()
    if any(key in json.loads(source.config or "{}") for key in SECRET_KEYS):
        # A config saved before secrets were sealed is sealed now, with the run's commit.
        source.config = _sealed(config_of(source))
    session.add(source)
    session.commit()


def _batches(kind: str, config: dict[str, Any], cursor: str | None) -> _Batches:
    """(rows, cursor after them, label) for each HTTP or SQL batch past the cursor."""
    config = _opened(config)
    if kind == "http_json":
        yield from _http_json(config, cursor)
    elif kind == "sql":
        yield from _sql(config, cursor)


def _sync_drop_folder(session: Session, actor: Actor, source: ActivitySource, config: dict[str, Any],
                      report: SyncReport) -> None:
    """Each new file in its own transaction; one that fails is set aside and the next goes on."""
    folder = Path(config["path"])
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder {folder}")
    for path in _waiting_files(folder, config, source.cursor):
        report.batches += 1
        reason = _import_dropped(session, actor, source, path, report)
        # The file's intake (taken or failed) commits with the cursor past it.
        _move_cursor(session, source, max(source.cursor or "", _storable(path.name)))
        if reason:
            report.rejected.append(f"{_storable(path.name)}: {_set_aside(folder, path, reason)}"[:1000])
        else:
            _forget_rejection(folder, path.name)


def _waiting_files(folder: Path, config: dict[str, Any], cursor: str | None) -> Generator[Path, None, None]:
    """The files to take, in name order: those past the cursor, and those put back after being
    set aside. A file still being written is left, with the ones after it, for the next run."""
    rejected = folder / REJECTED_FOLDER
    for path in sorted(folder.glob(config.get("pattern", "*.csv"))):
        if not path.is_file() or rejected in path.parents or path.name.endswith(REASON_SUFFIX):
            continue
        if cursor and path.name <= cursor and not (rejected / path.name).is_file():
            continue
        if time.time() - path.stat().st_mtime < float(config.get("settle_seconds", 0)):
            break
        yield path


def _import_dropped(session: Session, actor: Actor, source: ActivitySource, path: Path,
                    report: SyncReport) -> str:
    """Import one dropped file, uncommitted; why it was refused, or "" when it was taken.

    The file is read with no transaction open: what the run did before is committed (each file
    before it, and each source before this one, ended with a commit), and reading a spreadsheet
    may keep its worker busy up to its deadline, while on SQLite an open unit of work holds the
    write lock. Only then is it taken, in the session."""
    content = b""
    if _storable(path.name) != path.name:
        reason = "The file's name is not UTF-8 text: rename it and put it back"
        _record_failed(session, actor, source, path.name, content, reason)
        return reason
    source_name = source.name
    session.commit()
    try:
        content = path.read_bytes()
        received = activity_import.read_activity_file(content, path.name)
        result = activity_import.take_activity_file(session, actor, received, source_name, "connector")
        session.flush()
    except ReadersUnavailable:
        # No fault of the file: the run stops here with the cursor before it, and the file stays
        # in the folder for the next sync instead of being set aside as refused.
        session.rollback()
        raise
    except Exception as error:  # noqa: BLE001 - whatever one file raises must not stop the others
        session.rollback()
        reason = redact_text(f"The file could not be imported: {type(error).__name__}: {error}")
        _record_failed(session, actor, source, path.name, content, reason)
        return reason
    if result.refused:
        return result.message
    report.rows += result.rows_total
    report.new_rows += result.rows_new
    return ""


def _storable(name: str) -> str:
    """A file name as text the database takes: bytes that are not UTF-8 (kept by the file system
    as surrogate escapes) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _record_failed(session: Session, actor: Actor, source: ActivitySource, filename: str, content: bytes,
                   reason: str) -> None:
    """The intake log's line for a file that failed before the import could record it."""
    # A name that is not UTF-8 (surrogate-escaped by the file system) or holds control characters
    # would make the database refuse the very line that records the failure.
    filename = printable(_storable(filename)) or "unnamed file"
    intake = Intake(channel="connector", kind="activity", filename=filename[:255],
                    sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content), status="failed",
                    reason=reason, source_id=source.id, created_by_id=actor.user_id)
    session.add(intake)
    session.flush()
    audit.record(session, actor, "activity.import_refused", "intake", intake.id,
                 after={"filename": filename, "reason": reason})


def _set_aside(folder: Path, path: Path, reason: str) -> str:
    """Move a refused file into rejected/ with its reason beside it; the reason, and where the
    file went or why it could not be moved."""
    rejected = folder / REJECTED_FOLDER
    try:
        rejected.mkdir(exist_ok=True)
        (rejected / (path.name + REASON_SUFFIX)).write_text(reason + "\n", encoding="utf-8")
        path.replace(rejected / path.name)
    except OSError as error:
        return f"{reason} (it stays in the folder: {type(error).__name__}: {error})"
    return f"{reason} (set aside in {REJECTED_FOLDER}/)"


def _forget_rejection(folder: Path, name: str) -> None:
    """A file put back fixed and taken: its old copy in rejected/ is settled."""
    for leftover in (folder / REJECTED_FOLDER / name, folder / REJECTED_FOLDER / (name + REASON_SUFFIX)):
        leftover.unlink(missing_ok=True)


def _http_json(config: dict[str, Any], cursor: str | None) -> _Batches:
    """GET url?<cursor_param>=<cursor> until an empty page; the response's next_cursor (or the
    largest cursor_field in the page) moves the cursor."""
    items_key = config.get("items_key", "items")
    cursor_param = config.get("cursor_param", "since")
    cursor_field = config.get("cursor_field", "id")
    base, headers = _signed_in(config["url"], {"Accept": "application/json", **config.get("headers", {})})
    for _ in range(MAX_PAGES_PER_SYNC):
        query = urllib.parse.urlencode({cursor_param: cursor or ""})
        url = base + ("&" if "?" in base else "?") + query
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=HTTP_TIMEOUT_SECONDS) as reply:
            body = json.load(reply)
        items = body.get(items_key, []) if isinstance(body, dict) else body
        if not items:
            return
        frame = pd.DataFrame(items).astype(str)
        next_cursor = body.get("next_cursor") if isinstance(body, dict) else None
        cursor = str(next_cursor or max(items, key=lambda item: _ordered(item.get(cursor_field)))[cursor_field])
        yield frame, cursor, f"{redact_url(config['url'])} to {cursor}"


def _signed_in(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The URL without its `user:pass@`, which becomes HTTP Basic authentication (urllib would
    take it for part of the host name)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, headers
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    credentials = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    if not any(name.lower() == "authorization" for name in headers):
        headers = {**headers, "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), headers


def _sql(config: dict[str, Any], cursor: str | None) -> _Batches:
    """The configured query with :cursor bound to the last cursor_field value read."""
    try:
        engine = create_engine(config["url"])
    except ArgumentError:
        # SQLAlchemy's message repeats the whole URL, password included.
        raise ValueError(f"Not a database URL: {redact_url(config['url'])}") from None
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
