"""Settings: the approval controls (segregation of duties, two-approver and payout-approval
thresholds, paying at once, the cooling-off after a bank change). Admins change them; the
services read them on every approval."""
from __future__ import annotations

from typing import Any

import reflex as rx

from vrm_dashboard.domain.approval_rules import parse_thresholds, thresholds_text
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import settings as s
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.ui.states.session import SessionState, page_load

SWITCHES = {"sod_invoice": s.SOD_INVOICE_APPROVAL, "sod_payout": s.SOD_PAYOUT_APPROVAL,
            "payout_approval": s.PAYOUT_APPROVAL_ENABLED, "pay_immediately": s.PAY_IMMEDIATELY}
TEXTS = {"two_approver": s.TWO_APPROVER_THRESHOLDS, "payout_thresholds": s.PAYOUT_APPROVAL_THRESHOLDS,
         "cooling_off_hours": s.COOLING_OFF_HOURS}


class ControlsState(SessionState):
    switches: dict[str, bool] = {k: False for k in SWITCHES}
    texts: dict[str, str] = {k: "" for k in TEXTS}
    can_edit: bool = False
    controls_message: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_edit = actor.can(Action.ROLE_MANAGE)
        self.controls_message = ""
        with self._acting(read_only=True) as (session, _actor):
            self.switches = {k: bool(s.get(session, key)) for k, key in SWITCHES.items()}
            self.texts = {"two_approver": thresholds_text(s.get(session, s.TWO_APPROVER_THRESHOLDS)),
                          "payout_thresholds": thresholds_text(s.get(session, s.PAYOUT_APPROVAL_THRESHOLDS)),
                          "cooling_off_hours": str(s.get(session, s.COOLING_OFF_HOURS))}

    @rx.event
    def set_switch(self, name: str, value: bool) -> None:
        if name in self.switches:
            self.switches[name] = bool(value)

    @rx.event
    def set_text(self, name: str, value: str) -> None:
        if name in self.texts:
            self.texts[name] = value

    @rx.event
    def save(self) -> None:
        try:
            values = {SWITCHES[k]: v for k, v in self.switches.items()}
            values[s.TWO_APPROVER_THRESHOLDS] = parse_thresholds(self.texts["two_approver"])
            values[s.PAYOUT_APPROVAL_THRESHOLDS] = parse_thresholds(self.texts["payout_thresholds"])
            hours = self.texts["cooling_off_hours"].strip()
            values[s.COOLING_OFF_HOURS] = int(hours) if hours.isdigit() else hours
        except ValueError as exc:
            self.controls_message = str(exc)
            return
        changed, refused = self._outcome_of(lambda session, actor: s.put_many(session, actor, values))
        if changed is None:
            self.controls_message = refused
        else:
            self.controls_message = f"Saved {len(changed)} change(s)." if changed else "Nothing changed."
