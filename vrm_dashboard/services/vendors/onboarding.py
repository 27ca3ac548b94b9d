"""Vendors joining on their own: by invitation or by signing up, then completing their profile
(company, contacts, payout method, tax form, documents) until a reviewer approves them.

A vendor works only on its own record: every function for vendors takes the vendor from the
signed-in account, never from the request. Reviewers need vendor.review."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select as core_select
from sqlmodel import Session, col, select
from stdnum.us import ein as us_ein

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    Notification,
    StoredDocument,
    User,
    Vendor,
    VendorContact,
    VendorDocument,
    VendorOnboarding,
    VendorTaxForm,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.onboarding_rules import (
    DocumentKind,
    Missing,
    OnboardingFacts,
    ReviewState,
    missing_items,
)
from vrm_dashboard.domain.permissions import Action, RoleName
from vrm_dashboard.domain.tax_forms import TaxInput, validate_tax_form
from vrm_dashboard.domain.vendor_rules import (
    NAME_MAX,
    ActivityStatus,
    FieldErrors,
    PaymentMethod,
    VendorInput,
    mask,
    validate_vendor,
)
from vrm_dashboard.services.identity import user_admin, users
from vrm_dashboard.services.mail import account_mail
from vrm_dashboard.services.platform import audit, documents, throttles
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import records as vendors

INVITE, SIGNUP = "invite", "signup"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
MAX_CONTACTS = 20
# What one vendor may keep on file: anyone may sign up, so uploads are bounded per vendor,
# not only per file.
MAX_DOCUMENTS = 20
MAX_DOCUMENTS_BYTES = 50 * 1024 * 1024
SIGNUP_ACTOR = Actor(user_id=None, email="self-service:signup", full_name="Vendor sign-up")


# --- joining ----------------------------------------------------------------------------

# A sign-up creates a vendor and sends an e-mail to whatever address it names, with the
# company's name in it: counted per client address, per e-mail domain and per mailbox.
SIGN_UP_PER_CLIENT = throttles.Limit("sign_up_client", 5, timedelta(hours=1))
SIGN_UP_PER_DOMAIN = throttles.Limit("sign_up_domain", 20, timedelta(hours=1))
# Many clients (a botnet, a cloud's addresses) could each sign up one Gmail address a few times
# an hour and fill its inbox: the mailbox's own window stops that, shared provider or not.
SIGN_UP_PER_ADDRESS = throttles.Limit("sign_up_address", 3, timedelta(days=1))
# Mail providers that millions share: their domains get no window of their own. The domain
# window keeps a flood of sign-ups away from one company's mailboxes; on a shared provider it
# would be a switch anyone could flip with 20 requests an hour to shut out every vendor who
# signs up with, say, a Gmail address. The per-client window still applies to them.
SHARED_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "proton.me", "protonmail.com",
})
TOO_MANY_SIGN_UPS = ("Too many sign-ups from your network or for this e-mail address or its domain: "
                     "please try again later")
CONTACT_NAME_MAX = 120
EMAIL_MAX = 254
# Vendor IDs are drawn at random: four digits, then eight once a name's four-digit IDs run out.
CODE_CANDIDATES = ((4, 4), (4, 8))


def _vendor_code(session: Session, name: str) -> str:
    """A readable, unused vendor ID from the name: ACME-MEDIA-4821. The candidates are checked
    in one query, and a name whose every candidate is taken is refused: the caller holds the
    write lock, so trying until one is free could hold it for ever."""
    stem = "-".join(re.findall(r"[A-Z0-9]+", name.upper()))[:20].strip("-") or "VENDOR"
    candidates = [f"{stem}-{secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1)}"
                  for count, digits in CODE_CANDIDATES for _ in range(count)]
    taken = set(session.exec(select(Vendor.vendor_code).where(col(Vendor.vendor_code).in_(candidates))).all())
    free = next((code for code in candidates if code not in taken), None)
    if free is None:
        raise Conflict("No vendor ID is free for this company name just now: please try again")
    return free


def _new_vendor(session: Session, actor: Actor, data: VendorInput) -> Vendor:
    vendor = Vendor(**vendors.vendor_columns(validate_vendor(data)))
    session.add(vendor)
    session.flush()
    audit.record(session, actor, "vendor.create", "vendor", vendor.id, after=vendor)
    return vendor


def _existing_login(session: Session, email: str) -> User | None:
    try:
        return users.find_by_email(session, users.normalize_email(email))
    except Exception:  # noqa: BLE001 - the vendor's own validation names the bad address
        return None


def _unreasonable(name: str, email: str, country: str, currency: str, contact_name: str) -> dict[str, str]:
    """Fields longer than any valid value, or holding control characters: refused before any
    other check runs on them."""
    errors = {}
    if len(name) > NAME_MAX:
        errors["name"] = f"The company name is at most {NAME_MAX} characters"
    if len(contact_name) > CONTACT_NAME_MAX:
        errors["contact_name"] = f"The contact's name is at most {CONTACT_NAME_MAX} characters"
    if len(email) > EMAIL_MAX:
        errors["email"] = f"An e-mail address is at most {EMAIL_MAX} characters"
    if len(country) > 2:
        errors["country"] = "A country is its two-letter code, such as DE"
    if len(currency) > 3:
        errors["currency"] = "A currency is its three-letter code, such as EUR"
    for key, value, what in (("name", name, "The company name"), ("contact_name", contact_name, "The contact's name"),
                             ("email", email, "An e-mail address")):
        if key not in errors and any(unicodedata.category(c) == "Cc" for c in value):
            errors[key] = f"{what} may not hold control characters"
    return errors


def _new_vendor_input(name: str, email: str, country: str, currency: str, contact_name: str) -> VendorInput:
    """The new vendor's record (its vendor ID still to draw), checked with its contact's name:
    every bad field at once."""
    name, email, country, currency, contact_name = (
        v.strip() for v in (name, email, country, currency, contact_name))
    errors = _unreasonable(name, email, country, currency, contact_name)
    data = VendorInput(vendor_code="NEW", name="" if "name" in errors else name,
                       email="" if "email" in errors else email, country="" if "country" in errors else country,
                       currency="" if "currency" in errors else currency, payment_method=PaymentMethod.MANUAL.value,
                       activity_status=ActivityStatus.ONBOARDING.value)
    if not contact_name and "contact_name" not in errors:
        errors["contact_name"] = "The contact's name is required"
    try:
        validate_vendor(data)
    except FieldErrors as exc:
        errors.update({k: v for k, v in exc.errors.items() if k not in errors})
    if errors:
        raise FieldErrors(errors)
    return data


@dataclass
class VendorInvitation:
    vendor: Vendor
    user: User
    link: str


def invite_vendor(session: Session, actor: Actor, name: str, email: str, country: str, currency: str,
                  contact_name: str) -> VendorInvitation:
    """A new vendor in Onboarding and its login; the signed link (7 days) is e-mailed to it."""
    require(actor, Action.VENDOR_CREATE)
    data = _new_vendor_input(name, email, country, currency, contact_name)
    if _existing_login(session, email) is not None:
        raise FieldErrors({"email": "This e-mail address already has an account"})
    data.vendor_code = _vendor_code(session, data.name)
    vendor = _new_vendor(session, actor, data)
    session.add(VendorOnboarding(vendor_id=stored_id(vendor), source=INVITE, state=ReviewState.IN_PROGRESS.value,
                                 invited_by_id=actor.user_id))
    user = users.create_account(session, actor, email, contact_name, secrets.token_urlsafe(32),
                                [RoleName.VENDOR.value], vendor_id=vendor.id)
    invitation = user_admin.invitation_for(session, actor, user)
    return VendorInvitation(vendor, user, invitation.link)


def sign_up(session: Session, company_name: str, contact_name: str, email: str, country: str,
            currency: str, client: str = "") -> Vendor | None:
    """Anyone may ask to become a vendor: the link to choose a password goes to the address
    given, which proves it is theirs; the vendor stays in Onboarding until it is approved.
    An address that has an account already is told so by e-mail, not on the screen, so the
    form does not reveal who has an account.

    `client` is the caller's network address ("" when there is none). Each sign-up that gets
    past the field checks counts for that client, for the e-mail's mailbox and for its domain
    (but for shared mail providers', SHARED_MAIL_DOMAINS), whether or not the address has an
    account, so the throttle reveals no more than the form."""
    data = _new_vendor_input(company_name, email, country, currency, contact_name)
    company_name, contact_name = data.name, " ".join(contact_name.split())
    # The public sign-up page is the installation's own: a vendor who signs up joins the root
    # organization's vendors, for its finance team to review.
    tenancy.scope_to(session, tenancy.Scope.of(tenancy.root_organization_id(session)))
    address = users.normalize_email(data.email)
    domain = address.rsplit("@", 1)[1]
    windows = [(SIGN_UP_PER_CLIENT, throttles.client_key(client))] if client else []
    windows.append((SIGN_UP_PER_ADDRESS, _mailbox(address)))
    if domain not in SHARED_MAIL_DOMAINS:
        windows.append((SIGN_UP_PER_DOMAIN, domain))
    _count_sign_up(session, windows)
    existing = _existing_login(session, data.email)
    if existing is not None:
        account_mail.queue(session, existing.email, "You already have a VRM Dashboard account",
                           f"Hello {existing.full_name},\n\nsomeone (perhaps you) asked to sign up {company_name!s} "
                           "with this address, which has an account already. Sign in, or ask for a new password "
                           "if you have forgotten it. If it was not you, you need do nothing.\n")
        return None
    data.vendor_code = _vendor_code(session, data.name)
    vendor = _new_vendor(session, SIGNUP_ACTOR, data)
    session.add(VendorOnboarding(vendor_id=stored_id(vendor), source=SIGNUP, state=ReviewState.IN_PROGRESS.value))
    user = users.create_account(session, SIGNUP_ACTOR, data.email, contact_name, secrets.token_urlsafe(32),
                                [RoleName.VENDOR.value], vendor_id=vendor.id)
    user_admin.invitation_for(session, SIGNUP_ACTOR, user, self_service=True)
    return vendor


def _mailbox(address: str) -> str:
    """The mailbox a (normalized) address reaches, as the per-address window counts it:
    without a +tag, which most providers deliver to the same inbox, and for Gmail without the
    dots it ignores, so frida+1@ (or on Gmail f.rida@) is not a fresh inbox to fill."""
    local, domain = address.rsplit("@", 1)
    local = local.split("+", 1)[0] or local
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", "") or local, "gmail.com"
    return f"{local}@{domain}"


def _count_sign_up(session: Session, windows: list[tuple[throttles.Limit, str]]) -> None:
    """Count the sign-up in each of its windows, or refuse it (counting nothing) when any is
    full. Each count is taken with the check, so parallel sign-ups cannot all pass a window
    before any is counted."""
    taken: list[throttles.Slot] = []
    for limit, key in windows:
        slot = throttles.take(session, limit, key)
        if slot is None:
            for earlier in taken:
                throttles.give_back(session, earlier)
            raise throttles.TooManyAttempts(TOO_MANY_SIGN_UPS)
        taken.append(slot)


# --- the vendor's own profile -----------------------------------------------------------

def _own(session: Session, actor: Actor) -> Vendor:
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    vendor = session.get(Vendor, actor.vendor_id)
    if vendor is None:
        raise NotFound("Your vendor record is gone")
    return vendor


def _onboarding(session: Session, vendor_id: int) -> VendorOnboarding:
    """The vendor's onboarding record. Vendors added by staff or imported have none until a
    change needs one (session.add by the caller); reading never writes."""
    row = session.exec(select(VendorOnboarding).where(VendorOnboarding.vendor_id == vendor_id)).first()
    if row is None:
        vendor = session.get(Vendor, vendor_id)
        approved = vendor is not None and vendor.activity_status != ActivityStatus.ONBOARDING.value
        row = VendorOnboarding(vendor_id=vendor_id, source="admin",
                               state=(ReviewState.APPROVED if approved else ReviewState.IN_PROGRESS).value)
    return row


@dataclass
class ProfileInput:
    name: str = ""
    legal_name: str = ""
    country: str = ""
    currency: str = ""
    email: str = ""
    address: str = ""
    website: str = ""
    phone: str = ""


def save_profile(session: Session, actor: Actor, data: ProfileInput) -> Vendor:
    vendor = _own_changeable(session, actor)
    errors: dict[str, str] = {}
    if not data.address.strip():
        errors["address"] = "The registered address is required"
    elif len(data.address) > 600:
        errors["address"] = "The address is at most 600 characters"
    website = data.website.strip()
    if website and not re.fullmatch(r"https?://[^\s]{3,190}", website):
        errors["website"] = "A web address starts with https://"
    phone = data.phone.strip()
    if phone and not re.fullmatch(r"\+?[0-9 ()./-]{5,32}", phone):
        errors["phone"] = "A phone number holds digits, spaces and + ( ) - . / only"
    values = vendors.vendor_input_of(vendor)
    values.name, values.legal_name, values.country = data.name, data.legal_name, data.country
    values.currency, values.email = data.currency, data.email
    try:
        validate_vendor(values)
    except FieldErrors as exc:
        errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    return vendors.save_vendor(session, actor, vendor, values,
                               also={"address": data.address.strip(), "website": website or None,
                                     "phone": phone or None})


@dataclass
class ContactInput:
    name: str = ""
    email: str = ""
    role: str = ""
    phone: str = ""


def add_contact(session: Session, actor: Actor, data: ContactInput) -> VendorContact:
    vendor = _own_changeable(session, actor)
    errors = {}
    name = " ".join(data.name.split())
    if not name:
        errors["name"] = "The contact's name is required"
    try:
        email = users.normalize_email(data.email)
    except Exception as exc:  # noqa: BLE001 - email_validator explains what is wrong
        errors["email"] = f"E-mail is not valid: {exc}"
    if len(data.role) > 60:
        errors["role"] = "The role is at most 60 characters"
    if errors:
        raise FieldErrors(errors)
    count = session.exec(select(func.count()).select_from(VendorContact)
                         .where(VendorContact.vendor_id == vendor.id)).one()
    if count >= MAX_CONTACTS:
        raise Conflict(f"A vendor has at most {MAX_CONTACTS} contacts: remove one first")
    contact = VendorContact(vendor_id=stored_id(vendor), name=name[:120], email=email, role=data.role.strip(),
                            phone=data.phone.strip()[:32])
    session.add(contact)
    session.flush()
    audit.record(session, actor, "vendor.contact_add", "vendor", vendor.id, after=contact)
    return contact


def remove_contact(session: Session, actor: Actor, contact_id: int) -> None:
    vendor = _own_changeable(session, actor)
    contact = session.get(VendorContact, contact_id)
    if contact is None or contact.vendor_id != vendor.id:
        raise NotFound("No such contact of yours")
    audit.record(session, actor, "vendor.contact_remove", "vendor", vendor.id, before=contact)
    session.delete(contact)


@dataclass
class PayoutInput:
    payment_method: str = ""
    iban: str = ""
    bic: str = ""
    account_number: str = ""
    routing_number: str = ""
    paypal_email: str = ""


def save_payout_method(session: Session, actor: Actor, data: PayoutInput) -> Vendor:
    """IBAN and BIC, ABA routing and account numbers, PayPal e-mail or wire details, checked
    before anything is kept. After approval a change holds payouts for the cooling-off."""
    vendor = _own_changeable(session, actor)
    if data.payment_method == PaymentMethod.MANUAL.value:
        raise FieldErrors({"payment_method": "Choose how you want to be paid"})
    values = vendors.vendor_input_of(vendor)
    values.payment_method = data.payment_method
    values.iban, values.bic, values.account_number = data.iban, data.bic, data.account_number
    values.routing_number, values.paypal_email = data.routing_number, data.paypal_email
    return vendors.save_vendor(session, actor, vendor, values)


def save_tax_form(session: Session, actor: Actor, data: TaxInput, vat_id: str, today: date | None = None) -> VendorTaxForm:
    """Sign the W-9, W-8BEN or W-8BEN-E; it replaces the one signed before. The VAT ID is
    checked by the rules of its country."""
    vendor = _own_changeable(session, actor)
    errors: dict[str, str] = {}
    clean = None
    try:
        clean = validate_tax_form(data, today or utcnow().date())
    except FieldErrors as exc:
        errors.update(exc.errors)
    values = vendors.vendor_input_of(vendor)
    values.vat_id = vat_id
    if clean is not None:
        # The vendor record keeps the tax number payment files and reports use: a US
        # vendor's EIN (never a person's SSN), or the foreign one.
        if vendor.country == "US":
            values.tax_id = clean.tin if clean.tin and us_ein.is_valid(clean.tin) else ""
        else:
            values.tax_id = clean.foreign_tin or ""
    try:
        validate_vendor(values)
    except FieldErrors as exc:
        errors.update({k: v for k, v in exc.errors.items() if k in ("vat_id", "tax_id")})
    if errors:
        raise FieldErrors(errors)
    form = session.exec(select(VendorTaxForm).where(VendorTaxForm.vendor_id == vendor.id)).first()
    before = _tax_summary(form)
    form = form or VendorTaxForm(vendor_id=stored_id(vendor), form="", name="", classification="", country="",
                                 address="", signer_name="")
    for key, value in vars(clean).items():
        setattr(form, key, value.value if key == "form" else value)
    form.signed_at, form.signed_by_id = utcnow(), actor.user_id
    session.add(form)
    vendors.save_vendor(session, actor, vendor, values)
    session.flush()
    audit.record(session, actor, "vendor.tax_form", "vendor", vendor.id, before=before, after=_tax_summary(form))
    return form


def _tax_summary(form: VendorTaxForm | None) -> dict | None:
    """What the audit log keeps of a tax form: never the full taxpayer number."""
    if form is None:
        return None
    return {"form": form.form, "name": form.name, "classification": form.classification, "country": form.country,
            "tin": mask(form.tin), "foreign_tin": mask(form.foreign_tin), "signer_name": form.signer_name}


def add_document(session: Session, actor: Actor, content: bytes, filename: str, content_type: str,
                 kind: str) -> VendorDocument:
    vendor = _own_changeable(session, actor)
    try:
        kind = DocumentKind(kind).value
    except ValueError:
        raise FieldErrors({"kind": "Say what the document is"}) from None
    if content_type not in DOCUMENT_TYPES:
        raise FieldErrors({"file": f"{filename}: send a PDF, PNG or JPEG"})
    if not content:
        raise FieldErrors({"file": f"{filename} is empty"})
    if len(content) > MAX_DOCUMENT_BYTES:
        raise FieldErrors({"file": f"{filename} is larger than 10 MB"})
    _room_for(session, vendor, filename, len(content))
    stored = documents.store(session, content, filename, content_type)
    row = VendorDocument(vendor_id=stored_id(vendor), document_id=stored_id(stored), kind=kind,
                         uploaded_by_id=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "vendor.document_add", "vendor", vendor.id,
                 after={"document": filename, "kind": kind})
    return row


def _room_for(session: Session, vendor: Vendor, filename: str, size: int) -> None:
    """Refuse a document that would take the vendor past MAX_DOCUMENTS or MAX_DOCUMENTS_BYTES.
    The vendor's row is locked first (PostgreSQL), so parallel uploads are counted one after
    the other instead of all fitting in the room one of them had; SQLite's single writer does
    that already."""
    session.execute(core_select(col(Vendor.id)).where(col(Vendor.id) == vendor.id).with_for_update())
    count, total = session.execute(
        core_select(func.count(), func.coalesce(func.sum(StoredDocument.size_bytes), 0))
        .select_from(VendorDocument)
        .join(StoredDocument, col(StoredDocument.id) == VendorDocument.document_id)
        .where(col(VendorDocument.vendor_id) == vendor.id)).one()
    if count + 1 > MAX_DOCUMENTS or total + size > MAX_DOCUMENTS_BYTES:
        limit = f"A vendor keeps at most {MAX_DOCUMENTS} documents, {MAX_DOCUMENTS_BYTES // (1024 * 1024)} MB in all"
        approved = _onboarding(session, stored_id(vendor)).state == ReviewState.APPROVED.value
        raise Conflict(f"{filename} was not added. {limit}: "
                       + ("please ask our team to make room" if approved else "remove one you no longer need first"))


def remove_document(session: Session, actor: Actor, vendor_document_id: int) -> None:
    """Take a document off the profile before approval. Its stored file goes too unless
    something else holds the same bytes (stored files are shared by content: another vendor's
    document, an invoice's original)."""
    vendor = _own_changeable(session, actor)
    row = session.get(VendorDocument, vendor_document_id)
    if row is None or row.vendor_id != vendor.id:
        raise NotFound("No such document of yours")
    if _onboarding(session, stored_id(vendor)).state == ReviewState.APPROVED.value:
        raise Conflict("Documents of an approved profile stay on file: send a newer one instead")
    audit.record(session, actor, "vendor.document_remove", "vendor", vendor.id, before={"kind": row.kind})
    document_id = row.document_id
    session.delete(row)
    session.flush()
    documents.discard_if_unused(session, document_id)


def submit(session: Session, actor: Actor) -> VendorOnboarding:
    """Hand the profile to the reviewers; refused while anything is missing."""
    vendor = _own_changeable(session, actor)
    onboarding = _onboarding(session, stored_id(vendor))
    if onboarding.state == ReviewState.APPROVED.value:
        raise Conflict("Your profile is approved already")
    missing = missing_items(_facts(session, vendor))
    if missing:
        raise Conflict("Still missing: " + "; ".join(m.what for m in missing))
    before = onboarding.state
    onboarding.state, onboarding.submitted_at = ReviewState.SUBMITTED.value, utcnow()
    session.add(onboarding)
    audit.record(session, actor, "vendor.onboarding_submit", "vendor", vendor.id,
                 before={"state": before}, after={"state": onboarding.state})
    return onboarding


# --- what is there and what is missing ---------------------------------------------------

def _facts(session: Session, vendor: Vendor) -> OnboardingFacts:
    form = session.exec(select(VendorTaxForm.form).where(VendorTaxForm.vendor_id == vendor.id)).first()
    emails = session.exec(select(VendorContact.email).where(VendorContact.vendor_id == vendor.id)).all()
    kinds = session.exec(select(VendorDocument.kind).where(VendorDocument.vendor_id == vendor.id)).all()
    return OnboardingFacts(legal_name=vendor.legal_name, address=vendor.address or "", country=vendor.country,
                           currency=vendor.currency, contact_emails=tuple(e for e in emails if e),
                           payment_method=vendor.payment_method, tax_form=form, vat_id=vendor.vat_id,
                           document_kinds=frozenset(kinds))


@dataclass
class DocumentRow:
    id: int
    kind: str
    filename: str
    size_bytes: int
    uploaded_at: datetime


@dataclass
class OnboardingView:
    vendor: Vendor
    onboarding: VendorOnboarding
    contacts: list[VendorContact]
    tax_form: VendorTaxForm | None
    documents: list[DocumentRow]
    missing: list[Missing] = field(default_factory=list)


def _view(session: Session, vendor: Vendor) -> OnboardingView:
    # SQLAlchemy's select: SQLModel's is typed for at most four columns.
    docs = session.execute(
        core_select(col(VendorDocument.id), col(VendorDocument.kind), col(StoredDocument.filename),
                    col(StoredDocument.size_bytes), col(VendorDocument.uploaded_at))
        .join(StoredDocument, col(StoredDocument.id) == VendorDocument.document_id)
        .where(col(VendorDocument.vendor_id) == vendor.id).order_by(col(VendorDocument.id))).all()
    return OnboardingView(
        vendor=vendor, onboarding=_onboarding(session, stored_id(vendor)),
        contacts=list(session.exec(select(VendorContact).where(VendorContact.vendor_id == vendor.id)
                                   .order_by(col(VendorContact.id))).all()),
        tax_form=session.exec(select(VendorTaxForm).where(VendorTaxForm.vendor_id == vendor.id)).first(),
        documents=[DocumentRow(*d) for d in docs],
        missing=missing_items(_facts(session, vendor)),
    )


def own_profile(session: Session, actor: Actor) -> OnboardingView:
    return _view(session, _own(session, actor))


def profile_for_review(session: Session, actor: Actor, vendor_id: int) -> OnboardingView:
    require(actor, Action.VENDOR_REVIEW)
    return _view(session, vendors.get_vendor(session, vendor_id))


def document_file(session: Session, actor: Actor, vendor_document_id: int) -> StoredDocument:
    """A vendor's document, for the vendor itself or a reviewer."""
    row = session.get(VendorDocument, vendor_document_id)
    own = row is not None and actor.can(Action.PORTAL_USE) and actor.vendor_id == row.vendor_id
    if row is None or not (own or actor.can(Action.VENDOR_REVIEW)):
        raise NotFound("No such document")
    document = session.get(StoredDocument, row.document_id)
    assert document is not None, "vendor_document.document_id is a foreign key"
    return document


# --- review ------------------------------------------------------------------------------

@dataclass
class ReviewRow:
    vendor_id: int
    vendor_code: str
    name: str
    country: str
    source: str
    state: str
    submitted_at: datetime | None
    created_at: datetime


def review_queue(session: Session, actor: Actor, limit: int = 100) -> list[ReviewRow]:
    """Vendors still onboarding (whether they joined themselves or were added as such), those
    waiting for review first, oldest first."""
    require(actor, Action.VENDOR_REVIEW)
    state = func.coalesce(VendorOnboarding.state, ReviewState.IN_PROGRESS.value)
    # SQLAlchemy's select: SQLModel's is typed for at most four columns.
    rows = session.execute(
        core_select(col(Vendor.id), col(Vendor.vendor_code), col(Vendor.name), col(Vendor.country),
                    func.coalesce(VendorOnboarding.source, "admin"), state, col(VendorOnboarding.submitted_at),
                    func.coalesce(VendorOnboarding.created_at, Vendor.created_at))
        .outerjoin(VendorOnboarding, col(VendorOnboarding.vendor_id) == Vendor.id)
        .where(col(Vendor.activity_status) == ActivityStatus.ONBOARDING.value)
        .order_by(state != ReviewState.SUBMITTED.value, col(VendorOnboarding.submitted_at), col(Vendor.created_at),
                  col(Vendor.id))
        .limit(limit)).all()
    return [ReviewRow(*r) for r in rows]


def _tell_vendor(session: Session, vendor: Vendor, subject: str, body: str) -> None:
    session.add(Notification(vendor_id=vendor.id, subject=subject, body=body))
    account_mail.queue(session, vendor.email, subject, f"Hello {vendor.name},\n\n{body}\n")


def approve(session: Session, actor: Actor, vendor_id: int) -> Vendor:
    """The vendor becomes Active: only once nothing is missing."""
    require(actor, Action.VENDOR_REVIEW)
    vendor = vendors.get_vendor(session, vendor_id)
    onboarding = _onboarding(session, stored_id(vendor))
    if onboarding.state == ReviewState.APPROVED.value:
        raise Conflict(f"{vendor.name} is approved already")
    missing = missing_items(_facts(session, vendor))
    if missing:
        raise Conflict(f"{vendor.name} cannot be approved yet; missing: " + "; ".join(m.what for m in missing))
    before = {"state": onboarding.state, "activity_status": vendor.activity_status}
    onboarding.state, onboarding.reviewed_at, onboarding.reviewed_by_id = (
        ReviewState.APPROVED.value, utcnow(), actor.user_id)
    onboarding.review_note = None
    vendor.activity_status, vendor.updated_at = ActivityStatus.ACTIVE.value, utcnow()
    session.add_all([onboarding, vendor])
    _tell_vendor(session, vendor, "Your vendor profile is approved",
                 "your profile is approved: you can now send us invoices and be paid.")
    audit.record(session, actor, "vendor.onboarding_approve", "vendor", vendor.id, before=before,
                 after={"state": onboarding.state, "activity_status": vendor.activity_status})
    return vendor


def request_changes(session: Session, actor: Actor, vendor_id: int, note: str) -> VendorOnboarding:
    """Send the profile back to the vendor with what to change."""
    require(actor, Action.VENDOR_REVIEW)
    note = note.strip()
    if not note:
        raise FieldErrors({"note": "Tell the vendor what to change"})
    vendor = vendors.get_vendor(session, vendor_id)
    onboarding = _onboarding(session, stored_id(vendor))
    if onboarding.state == ReviewState.APPROVED.value:
        raise Conflict(f"{vendor.name} is approved already")
    before = onboarding.state
    onboarding.state, onboarding.review_note = ReviewState.CHANGES_REQUESTED.value, note[:1000]
    onboarding.reviewed_at, onboarding.reviewed_by_id = utcnow(), actor.user_id
    session.add(onboarding)
    _tell_vendor(session, vendor, "Please update your vendor profile", f"our team asks you to: {note}")
    audit.record(session, actor, "vendor.onboarding_changes_requested", "vendor", vendor.id,
                 before={"state": before}, after={"state": onboarding.state, "note": note})
    return onboarding


# Why a vendor that is not active may not do business through the portal.
_NOT_ACTIVE = {
    ActivityStatus.ONBOARDING.value: "Your vendor profile is not approved yet: complete it under My Profile",
    ActivityStatus.ON_HOLD.value: ("Your vendor account is on hold: you cannot send invoices or share your "
                                   "figures until our team lifts the hold"),
    ActivityStatus.INACTIVE.value: ("Your vendor account is inactive: ask our team to reactivate it before "
                                    "you send invoices or share your figures"),
}


def own_vendor(session: Session, actor: Actor) -> Vendor:
    """The signed-in vendor's own record, whatever its status: for reading it, and for what
    a vendor may always do (take back a widget link it made)."""
    return _own(session, actor)


def require_approved(session: Session, actor: Actor) -> Vendor:
    """What a vendor may do only once approved and while we work with it (send invoices,
    embed its figures): refused while it is onboarding, on hold or inactive."""
    vendor = _own(session, actor)
    if vendor.activity_status != ActivityStatus.ACTIVE.value:
        raise PermissionDenied(_NOT_ACTIVE.get(vendor.activity_status, "Your vendor account is not active"))
    return vendor


def _own_changeable(session: Session, actor: Actor) -> Vendor:
    """The vendor's own record, to change: refused once the vendor is inactive (we no longer
    work with it, so its profile and payout account stay as they were until our team
    reactivates it). A vendor on hold may still correct its profile: that is often what
    lifts the hold, and a new payout account is held for the cooling-off and told to admins."""
    vendor = _own(session, actor)
    if vendor.activity_status == ActivityStatus.INACTIVE.value:
        raise PermissionDenied("Your vendor account is inactive: ask our team to reactivate it before "
                               "you change your profile")
    return vendor

