"""Settings: the mail servers (outgoing SMTP, invoice mailbox, bounce mailbox), saved here or
taken from the environment. Passwords are write-only."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.services.mail import settings as mail_settings
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.ui.states.session import SessionState, page_load

LABELS = {mail_settings.SMTP: "Outgoing mail (SMTP)", mail_settings.IMAP: "Invoice mailbox (IMAP)",
          mail_settings.BOUNCE_IMAP: "Bounce mailbox (IMAP)"}
FIELDS = ("host", "port", "username", "password", "sender", "rate_per_second", "folder")


class MailServersState(SessionState):
    forms: dict[str, dict[str, str]] = {k: {f: "" for f in FIELDS} for k in LABELS}
    secure: dict[str, bool] = {k: True for k in LABELS}
    sources: dict[str, str] = {k: "" for k in LABELS}
    password_set: dict[str, bool] = {k: False for k in LABELS}
    mail_message: str = ""

    @rx.event
    @page_load
    def load(self, _actor: Actor) -> None:
        self.mail_message = ""
        self._refresh()

    def _refresh(self) -> None:
        views, _refused = self._outcome_of(mail_settings.current, read_only=True)
        for view in views or []:
            v = view.values
            self.forms[view.key] = {
                "host": v.get("host") or "", "port": str(v.get("port") or ""), "username": v.get("username") or "",
                "password": "", "sender": v.get("sender") or "", "rate_per_second": str(v.get("rate_per_second", "")),
                "folder": v.get("folder") or ""}
            self.secure[view.key] = bool(v.get("use_tls", v.get("ssl", True)))
            self.sources[view.key] = view.source
            self.password_set[view.key] = bool(v.get("password_set"))

    @rx.event
    def set_mail_field(self, key: str, name: str, value: str) -> None:
        if key in self.forms and name in FIELDS:
            self.forms[key][name] = value

    @rx.event
    def set_secure(self, key: str, value: bool) -> None:
        if key in self.secure:
            self.secure[key] = bool(value)

    @rx.event
    def save_server(self, key: str) -> None:
        f = self.forms.get(key, {})
        form = mail_settings.ServerForm(
            host=f.get("host", ""), port=f.get("port", ""), username=f.get("username", ""),
            password=f.get("password", ""), use_tls=self.secure.get(key, True), sender=f.get("sender", ""),
            rate_per_second=f.get("rate_per_second", "") or "10", folder=f.get("folder", ""))
        _done, refused = self._outcome_of(lambda session, actor: mail_settings.save(session, actor, key, form))
        self.mail_message = refused or f"{LABELS.get(key, key)} saved; it applies from the next message or run."
        if not refused:
            self._refresh()

    @rx.event
    def use_environment(self, key: str) -> None:
        _done, refused = self._outcome_of(lambda session, actor: mail_settings.use_environment(session, actor, key))
        self.mail_message = refused or f"{LABELS.get(key, key)} comes from the environment again."
        self._refresh()
