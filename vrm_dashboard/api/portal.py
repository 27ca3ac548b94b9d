"""The vendor's own invoices and profile, and the reviewers' side of onboarding. Ownership is
decided in services.vendors.own_invoices and services.vendors.onboarding, never here."""
from __future__ import annotations

from datetime import date, datetime
from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.models import stored_id
from vrm_dashboard.domain.invoice_status import VENDOR_PAYMENT_LABELS, vendor_payment_status
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.vendors import onboarding as vendor_onboarding, own_invoices as vendor_invoices
from vrm_dashboard.web.downloads import file_response, page_policy

router = APIRouter(tags=["vendor portal"])


class PortalInvoice(BaseModel):
    id: int
    number: str
    vendor_invoice_number: str | None
    issue_date: date
    due_date: date | None
    currency: str
    total_minor: int
    payment_status: str
    payment_status_label: str


class PortalInvoiceList(BaseModel):
    items: list[PortalInvoice]
    total: int
    page: int


@router.get("/portal/invoices", response_model=PortalInvoiceList)
def own_invoices(number: str = "", issued_from: date | None = None, issued_to: date | None = None,
                 payment_status: str = "", page: int = 1, page_size: int = 25,
                 actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> PortalInvoiceList:
    found = vendor_invoices.own_invoices(session, actor, vendor_invoices.VendorInvoiceQuery(
        number, issued_from, issued_to, payment_status, page, page_size))
    items = []
    for i in found.rows:
        group = vendor_payment_status(i.status)
        items.append(PortalInvoice(id=stored_id(i), number=i.number, vendor_invoice_number=i.vendor_invoice_number,
                                   issue_date=i.issue_date, due_date=i.due_date, currency=i.currency,
                                   total_minor=i.total_minor, payment_status=group.value,
                                   payment_status_label=VENDOR_PAYMENT_LABELS[group]))
    return PortalInvoiceList(items=items, total=found.total, page=found.page)


@router.get("/portal/invoices/{invoice_id}/file")
def own_invoice_file(invoice_id: int, download: bool = False, actor: Actor = Depends(current_actor),
                     session: Session = Depends(db_session)) -> Response:
    """View (inline) or download (attachment) one of the vendor's invoices."""
    found = vendor_invoices.own_invoice_file(session, actor, invoice_id)
    return file_response(found.content, found.filename, found.content_type, inline=not download)


# A sandboxed file (anything but a PDF) refuses to print from its frame: then the page prints.
_PRINT_SCRIPT = ("const f=document.getElementById('invoice');"
                 "f.addEventListener('load',()=>{try{f.contentWindow.focus();f.contentWindow.print()}"
                 "catch(e){window.print()}});")


@router.get("/portal/invoices/{invoice_id}/print", include_in_schema=False)
def print_invoice(invoice_id: int, actor: Actor = Depends(current_actor),
                  session: Session = Depends(db_session)) -> HTMLResponse:
    """A page that shows the invoice and opens the browser's print dialog."""
    found = vendor_invoices.own_invoice_file(session, actor, invoice_id)
    source = f"/api/v1/portal/invoices/{invoice_id}/file"
    # The file itself is framed sandboxed (web.downloads); this page runs its one script only.
    return HTMLResponse(
        f"<!doctype html><title>Print {escape(found.filename)}</title>"
        "<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style>"
        f'<iframe id="invoice" src="{source}"></iframe>'
        f"<script>{_PRINT_SCRIPT}</script>", headers={"Content-Security-Policy": page_policy(_PRINT_SCRIPT)})


class DocumentOut(BaseModel):
    id: int
    kind: str
    filename: str
    uploaded_at: datetime


class OnboardingOut(BaseModel):
    vendor_id: int
    vendor_code: str
    name: str
    activity_status: str
    source: str
    state: str
    review_note: str | None
    tax_form: str | None
    contacts: list[str]
    documents: list[DocumentOut]
    missing: list[str]


def _onboarding_out(view: vendor_onboarding.OnboardingView) -> OnboardingOut:
    return OnboardingOut(
        vendor_id=stored_id(view.vendor), vendor_code=view.vendor.vendor_code, name=view.vendor.name,
        activity_status=view.vendor.activity_status, source=view.onboarding.source, state=view.onboarding.state,
        review_note=view.onboarding.review_note, tax_form=view.tax_form.form if view.tax_form else None,
        contacts=[c.email for c in view.contacts],
        documents=[DocumentOut(id=d.id, kind=d.kind, filename=d.filename, uploaded_at=d.uploaded_at)
                   for d in view.documents],
        missing=[m.what for m in view.missing])


@router.get("/portal/profile", response_model=OnboardingOut)
def own_profile(actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> OnboardingOut:
    return _onboarding_out(vendor_onboarding.own_profile(session, actor))


@router.get("/vendors/{vendor_id}/onboarding", response_model=OnboardingOut)
def onboarding_for_review(vendor_id: int, actor: Actor = Depends(current_actor),
                          session: Session = Depends(db_session)) -> OnboardingOut:
    return _onboarding_out(vendor_onboarding.profile_for_review(session, actor, vendor_id))


class VendorInviteIn(BaseModel):
    name: str
    email: str
    country: str
    currency: str
    contact_name: str


class VendorInviteOut(BaseModel):
    vendor_id: int
    vendor_code: str
    user_id: int
    link: str


@router.post("/vendors/invitations", response_model=VendorInviteOut, status_code=201)
def invite_vendor(body: VendorInviteIn, actor: Actor = Depends(current_actor),
                  session: Session = Depends(db_session)) -> VendorInviteOut:
    """A new vendor in Onboarding; its contact gets the signed link (7 days) by e-mail."""
    sent = vendor_onboarding.invite_vendor(session, actor, body.name, body.email, body.country, body.currency,
                                           body.contact_name)
    return VendorInviteOut(vendor_id=stored_id(sent.vendor), vendor_code=sent.vendor.vendor_code,
                           user_id=stored_id(sent.user), link=sent.link)


class ReviewNote(BaseModel):
    note: str


@router.post("/vendors/{vendor_id}/onboarding/approve", response_model=OnboardingOut)
def approve(vendor_id: int, actor: Actor = Depends(current_actor),
            session: Session = Depends(db_session)) -> OnboardingOut:
    vendor_onboarding.approve(session, actor, vendor_id)
    return _onboarding_out(vendor_onboarding.profile_for_review(session, actor, vendor_id))


@router.post("/vendors/{vendor_id}/onboarding/request-changes", response_model=OnboardingOut)
def request_changes(vendor_id: int, body: ReviewNote, actor: Actor = Depends(current_actor),
                    session: Session = Depends(db_session)) -> OnboardingOut:
    vendor_onboarding.request_changes(session, actor, vendor_id, body.note)
    return _onboarding_out(vendor_onboarding.profile_for_review(session, actor, vendor_id))


@router.get("/vendor-documents/{document_id}")
def vendor_document(document_id: int, actor: Actor = Depends(current_actor),
                    session: Session = Depends(db_session)) -> Response:
    """A vendor's registration, bank letter and the like: for the vendor itself or a reviewer."""
    stored = vendor_onboarding.document_file(session, actor, document_id)
    return file_response(stored.content, stored.filename, stored.content_type, inline=True)
