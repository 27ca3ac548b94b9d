"""'Test connection' for what the product talks to: the outgoing mail server, the watched
invoice mailbox, the bounce mailbox and each activity connector. A check signs in and reads
nothing (a connector's source is asked once, its rows are not imported)."""
from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.config import ImapSettings, SmtpSettings
from vrm_dashboard.db.models import ActivitySource
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import connectors, mailbox
from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform import audit, redaction
from vrm_dashboard.services.platform.actors import Actor, require

TIMEOUT_SECONDS = 10


@dataclass
class Check:
    name: str
    target: str
    ok: bool
    message: str


def _smtp(smtp: SmtpSettings) -> tuple[bool, str]:
    if not smtp.host:
        return False, "Not configured (VRM_SMTP_HOST)"
    import aiosmtplib

    async def attempt() -> str:
        client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, timeout=TIMEOUT_SECONDS,
                                 start_tls=smtp.use_tls, use_tls=False)
        await client.connect()
        try:
            if smtp.username:
                await client.login(smtp.username, smtp.password or "")
            code, _message = await client.noop()
            return f"Connected and answered {code}"
        finally:
            await client.quit()

    try:
        return True, _run(attempt())
    except (aiosmtplib.SMTPException, OSError, smtplib.SMTPException, asyncio.TimeoutError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _imap(imap: ImapSettings | None, variable: str) -> tuple[bool, str]:
    if imap is None or not imap.host:
        return False, f"Not configured ({variable})"
    try:
        with mailbox._open(imap) as box:
            return True, f"Signed in; {imap.folder} holds {len(box.numbers())} messages"
    except Exception as exc:  # noqa: BLE001 - imap-tools raises many kinds; each is a failed check
        return False, redaction.redact_text(f"{type(exc).__name__}: {exc}")


def _connector(source: ActivitySource) -> tuple[bool, str]:
    try:
        config = connectors.config_of(source)
        if source.kind == "drop_folder":
            folder = Path(config["path"])
            if not folder.is_dir():
                return False, f"No folder {folder}"
            return True, f"{len(list(folder.glob(config.get('pattern', '*.csv'))))} files waiting"
        batches = connectors._batches(source.kind, config, source.cursor)
        first = next(batches, None)
        batches.close()
        return True, "Answered: no new rows" if first is None else f"Answered: {len(first[0])} new rows in the first batch"
    except Exception as exc:  # noqa: BLE001 - whatever the source raises is what the admin must see
        # ...but not the credentials a URL in the message may carry.
        return False, redaction.redact_text(f"{type(exc).__name__}: {exc}")


def check_all(session: Session, actor: Actor) -> list[Check]:
    """Every connection, tried now; the outcome is audited. The mail servers are the
    installation's: their addresses are for platform admins only."""
    require(actor, Action.ROLE_MANAGE)
    require(actor, Action.PLATFORM_MANAGE)
    smtp = mail_settings.smtp(session)
    smtp_target = f"{smtp.host}:{smtp.port}" if smtp.host else "—"
    results = [Check("Outgoing mail (SMTP)", smtp_target, *_smtp(smtp))]
    for name, imap, variable in (("Invoice mailbox (IMAP)", mail_settings.imap(session), "VRM_IMAP_HOST"),
                                 ("Bounce mailbox (IMAP)", mail_settings.bounce_imap(session), "VRM_BOUNCE_IMAP_HOST")):
        target = f"{imap.username}@{imap.host}:{imap.port}/{imap.folder}" if imap and imap.host else "—"
        results.append(Check(name, target, *_imap(imap, variable)))
    for source in session.execute(select(ActivitySource).where(col(ActivitySource.kind) != "upload")
                                  .order_by(ActivitySource.name)).scalars():
        results.append(Check(f"Connector {source.name}", source.kind, *_connector(source)))
    audit.record(session, actor, "settings.test_connections", "settings", "connections",
                 after={c.name: ("ok" if c.ok else c.message) for c in results})
    return results


_T = TypeVar("_T")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to its end, on a thread of its own when this one already runs a loop
    (a Reflex handler)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
