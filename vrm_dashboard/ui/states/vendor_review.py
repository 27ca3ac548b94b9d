"""Onboarding for reviewers: invite a vendor, the queue of vendors still onboarding, and on a
vendor's card what it has supplied, what is missing, approve or ask for changes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.domain.onboarding_rules import DOCUMENT_LABELS, REVIEW_LABELS, STEP_LABELS, ReviewState
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.tax_forms import TAX_FORM_LABELS
from vrm_dashboard.domain.vendor_rules import mask
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.vendors import onboarding
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.rows import DocumentRow, FieldValue, MissingItem
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.states.vendor_card import VendorCardState

INVITE_FIELDS = ("name", "email", "country", "currency", "contact_name")
_SOURCE_LABELS = {"invite": "Invited", "signup": "Signed up"}


@dataclass
class QueueRow:
    """A vendor still onboarding, in the reviewers' queue."""

    id: str = ""
    vendor_code: str = ""
    name: str = ""
    country: str = ""
    source: str = ""
    # The review state's label (a Var has its own `state`, hence the name).
    review: str = ""
    submitted: str = ""


class OnboardingQueueState(SessionState):
    """On the Vendors screen."""

    queue: list[QueueRow] = []
    can_review: bool = False
    can_invite: bool = False
    invite_open: bool = False
    invite_form: dict[str, str] = {k: "" for k in INVITE_FIELDS}
    invite_message: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_review, self.can_invite = actor.can(Action.VENDOR_REVIEW), actor.can(Action.VENDOR_CREATE)
        # A dialog left open does not open again over the page when the person comes back.
        self.invite_open, self.invite_message = False, ""
        self._refresh()

    def _refresh(self) -> None:
        if not self.can_review:
            self.queue = []
            return
        rows, _refused = self._outcome_of(onboarding.review_queue, read_only=True)
        self.queue = [QueueRow(id=str(r.vendor_id), vendor_code=r.vendor_code, name=r.name, country=r.country,
                               source=_SOURCE_LABELS.get(r.source, "Added by staff"),
                               review=REVIEW_LABELS[ReviewState(r.state)], submitted=fmt.day(r.submitted_at))
                      for r in rows or []]

    @rx.event
    def set_invite_open(self, value: bool) -> None:
        self.invite_open, self.invite_message = value, ""

    @rx.event
    def set_invite_field(self, name: str, value: str) -> None:
        if name in self.invite_form:
            self.invite_form[name] = value

    @rx.event
    def invite(self) -> None:
        f = self.invite_form
        sent, refused = self._outcome_of(lambda s, a: onboarding.invite_vendor(
            s, a, f["name"], f["email"], f["country"], f["currency"], f["contact_name"]))
        if sent is None:
            self.invite_message = refused
            return
        self.invite_message = (f"Invited {sent.vendor.name} ({sent.vendor.vendor_code}): the link went to "
                               f"{sent.user.email} (valid 7 days). You may also pass it on: {sent.link}")
        self.invite_form = {k: "" for k in INVITE_FIELDS}
        self._refresh()


class VendorReviewState(SessionState):
    """On a vendor's card."""

    shown: bool = False
    state_label: str = ""
    source: str = ""
    note: str = ""
    missing: list[MissingItem] = []
    tax: list[FieldValue] = []
    documents: list[DocumentRow] = []
    approved: bool = False
    message: str = ""
    change_note: str = ""

    def _vendor_id(self) -> int:
        try:
            return int(self.router.page.params.get("id", "0"))
        except ValueError:
            return 0

    @rx.event
    @page_load
    def load(self, actor: Actor) -> None:
        self.message, self.change_note = "", ""
        if not actor.can(Action.VENDOR_REVIEW):
            self.shown = False
            return
        self._refresh()

    def _refresh(self) -> None:
        vendor_id = self._vendor_id()
        view, refused = self._outcome_of(lambda s, a: onboarding.profile_for_review(s, a, vendor_id), read_only=True)
        if view is None:
            self.shown, self.message = False, refused
            return
        o, t = view.onboarding, view.tax_form
        self.shown = True
        self.approved = o.state == ReviewState.APPROVED.value
        self.state_label = REVIEW_LABELS[ReviewState(o.state)]
        self.source = _SOURCE_LABELS.get(o.source, "Added by staff")
        self.note = o.review_note or ""
        self.missing = [MissingItem(step=STEP_LABELS[m.step], what=m.what) for m in view.missing]
        facts = [] if t is None else [
            ("Form", TAX_FORM_LABELS.get(t.form, t.form)), ("Name", t.name), ("Classification", t.classification),
            ("Country", t.country), ("US TIN", mask(t.tin)), ("Foreign TIN", mask(t.foreign_tin)),
            ("FATCA status", t.chapter4_status or ""), ("GIIN", t.giin or ""), ("Treaty country", t.treaty_country or ""),
            ("Signed", f"{t.signer_name}, {fmt.day(t.signed_at)}"), ("VAT ID", view.vendor.vat_id or ""),
            ("Address", view.vendor.address or "")]
        self.tax = [FieldValue(field=k, value=v) for k, v in facts if v]
        self.documents = [DocumentRow(id=str(d.id), kind=DOCUMENT_LABELS.get(d.kind, d.kind), filename=d.filename,
                                      uploaded=fmt.day(d.uploaded_at)) for d in view.documents]

    @rx.event
    def set_change_note(self, value: str) -> None:
        self.change_note = value

    @rx.event
    def approve(self):  # type: ignore[no-untyped-def]
        vendor_id = self._vendor_id()
        done, refused = self._outcome_of(lambda s, a: onboarding.approve(s, a, vendor_id))
        self.message = refused if refused else f"{done.name} is approved and active."
        self._refresh()
        # The card shows the vendor's status too.
        return None if refused else VendorCardState.load

    @rx.event
    def request_changes(self) -> None:
        vendor_id, note = self._vendor_id(), self.change_note
        _done, refused = self._outcome_of(lambda s, a: onboarding.request_changes(s, a, vendor_id, note))
        if refused:
            self.message = refused
        else:
            self.message, self.change_note = "The vendor was asked for changes.", ""
        self._refresh()
