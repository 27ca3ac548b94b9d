"""The mail servers (outgoing SMTP, the invoice mailbox, the bounce mailbox) as a platform
admin sets them on the Settings screen; where nothing is saved, the VRM_SMTP_* / VRM_IMAP_* /
VRM_BOUNCE_IMAP_* environment applies. They serve the whole installation, so an organization's
admin neither sees nor changes them. Passwords are kept encrypted with a key derived from the
secret key, shown to nobody, and never written to the audit log."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from vrm_dashboard.config import ImapSettings, SmtpSettings, settings
from vrm_dashboard.db.models import AppSetting, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit, secret_box
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

SMTP, IMAP, BOUNCE_IMAP = "mail.smtp", "mail.imap", "mail.bounce_imap"
SERVERS = (SMTP, IMAP, BOUNCE_IMAP)
# The passwords saved before the shared secret box were sealed under this purpose.
SECRET_PURPOSE = "mail-settings"


def _stored(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(AppSetting, key)
    if row is None:
        return None
    values = json.loads(row.value)
    secret = values.pop("password_encrypted", None)
    # None when the secret key changed since: the password must be entered again.
    values["password"] = secret_box.unseal(SECRET_PURPOSE, secret) if secret else None
    return values


def smtp(session: Session) -> SmtpSettings:
    stored = _stored(session, SMTP)
    return SmtpSettings(**stored) if stored else settings().smtp


def imap(session: Session) -> ImapSettings | None:
    stored = _stored(session, IMAP)
    return ImapSettings(**stored) if stored else settings().imap


def bounce_imap(session: Session) -> ImapSettings | None:
    stored = _stored(session, BOUNCE_IMAP)
    return ImapSettings(**stored) if stored else settings().bounce_imap


@dataclass
class ServerForm:
    """A mail server as typed on the screen; an empty password keeps the one saved."""

    host: str = ""
    port: str = ""
    username: str = ""
    password: str = ""
    use_tls: bool = True
    sender: str = ""
    rate_per_second: str = "10"
    folder: str = "INBOX"


def _whole(value: str, low: int, high: int, key: str, label: str, errors: dict[str, str]) -> int:
    text = value.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[key] = f"{label} is a whole number from {low} to {high}"
        return low
    return int(text)


def _clean(key: str, form: ServerForm, previous_password: str | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    host = form.host.strip()
    if not host or any(c.isspace() for c in host):
        errors["host"] = "Give the server's host name, e.g. smtp.example.com"
    port = _whole(form.port, 1, 65535, "port", "The port", errors)
    password = form.password or previous_password
    values: dict[str, Any] = {"host": host, "port": port, "username": form.username.strip() or None,
                              "password": password}
    if key == SMTP:
        try:
            sender = validate_email(form.sender.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["sender"] = f"The sender address is not valid: {exc}"
            sender = ""
        values.update(sender=sender, use_tls=bool(form.use_tls),
                      rate_per_second=_whole(form.rate_per_second, 0, 1000, "rate_per_second",
                                             "Messages per second", errors))
    else:
        folder = form.folder.strip() or "INBOX"
        values.update(folder=folder, ssl=bool(form.use_tls))
    if errors:
        raise FieldErrors(errors)
    return values


def _public(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v for k, v in values.items() if k != "password"} | {"password_set": bool(values.get("password"))}


def save(session: Session, actor: Actor, key: str, form: ServerForm) -> None:
    """Check and keep the server's settings; they apply from the next message or mailbox run."""
    require(actor, Action.PLATFORM_MANAGE)
    if key not in SERVERS:
        raise FieldErrors({"server": "Unknown mail server"})
    before = _stored(session, key)
    values = _clean(key, form, (before or {}).get("password"))
    kept = {k: v for k, v in values.items() if k != "password"}
    if values["password"]:
        kept["password_encrypted"] = secret_box.seal(SECRET_PURPOSE, values["password"])
    row = session.get(AppSetting, key) or AppSetting(key=key, value="")
    row.value, row.updated_at, row.updated_by_id = json.dumps(kept, sort_keys=True), utcnow(), actor.user_id
    session.add(row)
    audit.record(session, actor, "setting.mail", "setting", key, before=_public(before), after=_public(values))


def use_environment(session: Session, actor: Actor, key: str) -> None:
    """Forget what was saved: the environment's settings apply again."""
    require(actor, Action.PLATFORM_MANAGE)
    row = session.get(AppSetting, key)
    if row is not None:
        audit.record(session, actor, "setting.mail", "setting", key, before=_public(_stored(session, key)),
                     after={"source": "environment"})
        session.delete(row)


@dataclass
class ServerView:
    key: str
    source: str
    values: dict[str, Any]


def current(session: Session, actor: Actor) -> list[ServerView]:
    """What applies now to each server and where it comes from; never a password."""
    require(actor, Action.SETTINGS_VIEW)
    require(actor, Action.PLATFORM_MANAGE)
    found = []
    for key, read in ((SMTP, smtp), (IMAP, imap), (BOUNCE_IMAP, bounce_imap)):
        server = read(session)
        values = asdict(server) if server is not None else {}
        found.append(ServerView(key, "Saved here" if session.get(AppSetting, key) else "Environment",
                                _public(values) or {}))
    return found
