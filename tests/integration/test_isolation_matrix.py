"""The isolation matrix of issue 17, generated from the registries rather than hand-listed.

Every route of the API (from `build_api()`) and every Reflex event handler that takes an id (by
an argument named like one, or through a state var or URL parameter that holds one) is called by
each role of one organization, B, with the ids of another, A. Each must answer exactly as it
answers for an id that exists nowhere (for the API: 403 or 404), show nothing of A, and leave
A's rows as they were.

How to call each is declared in the tables below (ROUTES, RECIPES, NOT_ID). A route or handler
the tables do not classify fails `test_every_route_and_handler_is_declared` until it is
declared, so a new one cannot slip past the matrix. Everything of A carries MARKER in its
names, numbers and texts, and nothing of B does: the marker in an answer is a leak.
"""
from __future__ import annotations

import importlib.util
import inspect
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from reflex.istate.data import RouterData
from reflex_base.event import resolve_upload_handler_param
from reflex_base.utils.exceptions import UploadTypeError, UploadValueError
from sqlalchemy import Engine, String as SqlString, and_, cast, func, literal, or_, select, true, union_all
from sqlmodel import Session, SQLModel

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import SYSTEM, call_handler, make_invoice, ui_state, vendor_input
from tests.unit.einvoice_samples import INVOICE
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    ActivitySource,
    EmailDelivery,
    Intake,
    InvoiceDispute,
    Notification,
    Organization,
    PaymentTransaction,
    Payout,
    utcnow,
)
from vrm_dashboard.domain.permissions import RoleName
from vrm_dashboard.rails.sandbox_provider import SIGNATURE_HEADER
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.invoices import queries as invoice_queries, rollup as invoice_rollup
from vrm_dashboard.services.payouts import bank_statements
from vrm_dashboard.services.platform import audit, documents, export_files
from vrm_dashboard.services.platform.actors import load_actor
from vrm_dashboard.services.receivables import records as receivables
from vrm_dashboard.services.vendors import onboarding, rate_rules, records as vendor_service, widget as vendor_widget
from vrm_dashboard.ui.states.overview import OverviewState
from vrm_dashboard.ui.states.session import SessionState

MARKER = "victim"
PASSWORD = "correct-horse-battery"
# Every role an organization's people can have; the platform admin reaches every organization by design.
ROLES = tuple(r.value for r in RoleName if r is not RoleName.PLATFORM_ADMIN)
# Ids that exist nowhere (within a 32-bit integer column).
NOWHERE = 1_999_999_000


# --- how a call names A's records ------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    """A's record of this kind (or, in the twin call, one of the same kind that exists nowhere)."""

    kind: str


class _Refs:
    def __getattr__(self, kind: str) -> Ref:
        return Ref(kind)


A = _Refs()
# The attacker's own records, for calls that mix one of B's ids with one of A's.
B = A


@dataclass(frozen=True)
class Text:
    """A text naming records, filled in by kind: "{vendor_code}"."""

    template: str


@dataclass(frozen=True)
class Upload:
    """A file given to an upload handler, its content a Text naming records."""

    name: str
    content: Text | bytes


_NONCE = itertools.count(1)


def _filled(text: Text, ids: dict[str, Any]) -> str:
    # Each text new ({nonce}, {nonce_day}): a file or row seen before is refused as a duplicate,
    # whatever it names, and the call with A's records must meet the same as its twin.
    n = next(_NONCE)
    return text.template.format_map({**ids, "nonce": n, "nonce_day": (date(2026, 12, 3) + timedelta(days=n)).isoformat()})


class _Uploaded:
    """A file as Reflex hands it to an upload handler."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name = self.filename = name
        self.content_type = "application/octet-stream"
        self._content = content

    async def read(self, size: int = -1) -> bytes:
        return self._content

    def __repr__(self) -> str:
        return f"<file {self.name}>"


def resolve(value: Any, ids: dict[str, Any], text: bool = False) -> Any:
    """`value` with every Ref and Text replaced from `ids` (Reflex handlers take ids as text)."""
    if isinstance(value, Upload):
        content = value.content
        return _Uploaded(value.name, _filled(content, ids).encode() if isinstance(content, Text) else content)
    if isinstance(value, Ref):
        found = ids[value.kind]
        return str(found) if text else found
    if isinstance(value, Text):
        return _filled(value, ids)
    if isinstance(value, dict):
        return {k: resolve(v, ids, text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, ids, text) for v in value)
    return value


def names_records(value: Any) -> bool:
    if isinstance(value, Upload):
        return isinstance(value.content, Text)
    if isinstance(value, (Ref, Text)):
        return True
    if isinstance(value, dict):
        return any(names_records(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(names_records(v) for v in value)
    return False


# --- the API ---------------------------------------------------------------------------------

# What a route must answer for B with A's ids, besides showing nothing of A and changing nothing:
REFUSED = "refused"      # 403 or 404, exactly as for an id that exists nowhere
AS_MISSING = "as missing"  # exactly as for ids that exist nowhere (bulk and import routes answer 2xx/422)
NO_IDS = "no ids"        # no id to give (lists, creations): any answer but a server error
CAPABILITY = "capability"  # the link's token is the credential, not an organization's session: a forged one is refused


@dataclass(frozen=True)
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    # (field, filename, content): content may be a Text.
    files: tuple[tuple[str, str, Any], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    expect: str = REFUSED


def _activity_csv() -> Text:
    return Text("vendor,activity_type,date,quantity\n{vendor_code},clicks,2026-11-01,{nonce}\n")


def _cii_of_victims_vendor() -> bytes:
    """A vendor invoice whose seller is A's vendor by VAT ID and IBAN (not by name)."""
    import facturx

    return facturx.generate_cii_xml({**INVOICE, "BT-1": "BRAVO-IN-1"}, level="en16931", check_schematron=False)


# Every route of the API, by "METHOD path". Path parameters must be named exactly as the route names them.
ROUTES: dict[str, tuple[Call, ...]] = {
    "POST /api/v1/activity": (Call(json={"source": A.source_api, "rows": [
        {"vendor": A.vendor_code, "activity_type": "clicks", "date": "2026-11-01", "quantity": Text("{nonce}")}]},
        expect=AS_MISSING),),
    "POST /api/v1/activity/imports": (Call(query={"source": A.source_import}, files=(("file", "a.csv", _activity_csv()),),
                                           expect=AS_MISSING),),
    "GET /api/v1/distribution/dispute/{token}": (Call(path={"token": "forged-token-0000000000"}, expect=CAPABILITY),),
    "POST /api/v1/distribution/dispute/{token}": (Call(path={"token": "forged-token-0000000000"}, form={"reason": "x"},
                                                       expect=CAPABILITY),),
    "GET /api/v1/distribution/invoices/{invoice_id}/pdf": (Call(path={"invoice_id": A.sent_invoice}),),
    "GET /api/v1/distribution/report": (Call(query={"period": "day"}, expect=NO_IDS),),
    "GET /api/v1/distribution/report.xlsx": (Call(query={"period": "month"}, expect=NO_IDS),),
    "GET /api/v1/distribution/view/{token}": (Call(path={"token": "forged-token-0000000000"}, expect=CAPABILITY),),
    "GET /api/v1/exports/{name}": (Call(path={"name": A.export_name}),),
    "GET /api/v1/intakes": (Call(expect=NO_IDS),),
    # B's own intake, of an invoice whose seller is A's vendor: it must not become A's vendor's.
    "POST /api/v1/invoices/intake": (Call(files=(("files", "in.xml", _cii_of_victims_vendor()),), expect=NO_IDS),),
    "GET /api/v1/invoices/{invoice_id}/original": (
        Call(path={"invoice_id": A.pending_invoice}),
        # B's own invoice, whose file A received first: A's name for that file is A's.
        Call(path={"invoice_id": B.b_shared_invoice}, expect=NO_IDS)),
    "PATCH /api/v1/invoices/{invoice_id}/posting-date": (Call(path={"invoice_id": A.receivable},
                                                              json={"posting_date": "2026-11-20"}),),
    "GET /api/v1/organizations": (Call(query={"search": "Zanzibar"}, expect=NO_IDS),),
    "PUT /api/v1/organizations/payment-terms": (Call(json={"organization_ids": [A.customer], "payment_terms_days": 5}),),
    "PUT /api/v1/organizations/{organization_id}/billing": (
        Call(path={"organization_id": A.customer}, json={"billing_email": "evil@bravo.example"}),
        Call(path={"organization_id": A.organization}, json={"billing_email": "evil@bravo.example"})),
    "POST /api/v1/organizations/{organization_id}/consolidate": (Call(path={"organization_id": A.customer},
                                                                      query={"period": "2026-10"}),),
    "GET /api/v1/overview": (Call(expect=NO_IDS),),
    "GET /api/v1/payouts": (Call(query={"vendor": A.vendor_code}, expect=NO_IDS), Call(expect=NO_IDS)),
    "POST /api/v1/payouts/approve": (Call(json={"payout_ids": [A.payout]}, expect=AS_MISSING),),
    # Unauthenticated but signed: an unsigned callback naming A's transfer changes nothing.
    "POST /api/v1/payouts/provider-callbacks": (Call(json={"idempotency_key": A.transaction_key, "status": "paid",
                                                           "payment_id": "forged"},
                                                     headers={SIGNATURE_HEADER: "forged"}, expect=CAPABILITY),),
    "GET /api/v1/payouts/transactions/{transaction_id}/remittance": (Call(path={"transaction_id": A.transaction}),),
    "GET /api/v1/portal/invoices": (Call(expect=NO_IDS),),
    "GET /api/v1/portal/invoices/{invoice_id}/file": (Call(path={"invoice_id": A.pending_invoice}),),
    "GET /api/v1/portal/invoices/{invoice_id}/print": (Call(path={"invoice_id": A.pending_invoice}),),
    "GET /api/v1/portal/profile": (Call(expect=NO_IDS),),
    "GET /api/v1/receivables": (Call(expect=NO_IDS), Call(query={"direction": "incoming"}, expect=NO_IDS)),
    "POST /api/v1/receivables": (Call(json={"organization_id": A.customer, "currency": "EUR", "issue_date": "2026-11-01",
                                            "lines": [{"description": "Bravo's charge", "unit_price_minor": 100}]}),),
    "GET /api/v1/receivables/aging": (Call(expect=NO_IDS),),
    "GET /api/v1/receivables/aging.xlsx": (Call(expect=NO_IDS),),
    # Collects the caller's own customers: A's due receivable must not be charged.
    "POST /api/v1/receivables/collect": (Call(json={"by": "due_date", "on": "2027-06-30"}, expect=NO_IDS),),
    # Answers an empty list for any id it does not know, A's included.
    "GET /api/v1/receivables/{invoice_id}/collection-attempts": (Call(path={"invoice_id": A.receivable},
                                                                      expect=AS_MISSING),),
    "GET /api/v1/vendor-documents/{document_id}": (Call(path={"document_id": A.document}),),
    "GET /api/v1/vendors": (Call(query={"search": "Zanzibar"}, expect=NO_IDS), Call(expect=NO_IDS)),
    # A's vendor code is A's: B may use it or be refused, but never learn whose it is.
    "POST /api/v1/vendors": (Call(json={"vendor_code": A.spare_code_api, "name": "Bravo Copycat", "email": "ap@copycat.example",
                                        "country": "DE", "currency": "EUR", "iban": "DE89370400440532013000"},
                                  expect=NO_IDS),),
    "POST /api/v1/vendors/invitations": (Call(json={"name": "Bravo Invitee", "email": "owner@invitee.example",
                                                    "country": "DE", "currency": "EUR", "contact_name": "In Vitee"},
                                              expect=NO_IDS),),
    "GET /api/v1/vendors/{vendor_id}": (Call(path={"vendor_id": A.vendor}),),
    "PATCH /api/v1/vendors/{vendor_id}": (Call(path={"vendor_id": A.vendor}, json={"name": "Hijacked"}),),
    "GET /api/v1/vendors/{vendor_id}/onboarding": (Call(path={"vendor_id": A.onboarding_vendor}),),
    "POST /api/v1/vendors/{vendor_id}/onboarding/approve": (Call(path={"vendor_id": A.onboarding_vendor}),),
    "POST /api/v1/vendors/{vendor_id}/onboarding/request-changes": (Call(path={"vendor_id": A.onboarding_vendor},
                                                                         json={"note": "Bravo says no"}),),
    "POST /api/v1/vendors/{vendor_id}/widget-link": (Call(path={"vendor_id": A.vendor}, json={"hours": 24}),),
    "GET /api/v1/vendors/{vendor_id}/widget-links": (Call(path={"vendor_id": A.vendor}),),
    "POST /api/v1/vendors/{vendor_id}/widget-links/{link_id}/revoke": (
        Call(path={"vendor_id": A.vendor, "link_id": A.link}),
        Call(path={"vendor_id": B.b_vendor, "link_id": A.link})),
    "GET /api/v1/widget/{token}": (Call(path={"token": "forged-token-0000000000"}, expect=CAPABILITY),),
    "GET /api/v1/widget/{token}.json": (Call(path={"token": "forged-token-0000000000"}, expect=CAPABILITY),),
}


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    # FastAPI keeps an included router as one entry (`original_router`) under its prefix.
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)


def api_routes() -> dict[str, APIRoute]:
    """Every route of the app, by "METHOD path"."""
    found = {f"{method} {path}": route for path, route in _walk(build_api().routes)
             for method in sorted(route.methods or ())}
    assert found, "no routes found: has FastAPI changed how it keeps included routers?"
    return found


# --- Reflex ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """Handler calls on one page state, in order, as a crafted client would send them; `url`
    is the page's query string (a client chooses it too)."""

    state: str
    steps: tuple[tuple[Any, ...], ...]
    url: dict[str, Any] = field(default_factory=dict)
    # The vars compared with the same calls for records that exist nowhere (all when empty):
    # a page that lists what every call added (an intake log) differs by that alone.
    compare: tuple[str, ...] = ()
    # Who runs it. A recipe that makes B a record under a name of A's runs once: a second run
    # would meet B's own record (refused as taken), where its twin makes a new one.
    roles: tuple[str, ...] = ROLES


def page(state: str, *steps: tuple[Any, ...], compare: tuple[str, ...] = (), roles: tuple[str, ...] = ROLES,
         **url: Any) -> Recipe:
    return Recipe(state, steps, url, compare, roles)


LOAD = ("load",)
_ONCE = ("finance_manager",)
_INTAKE_OUTCOME = ("results", "mapping_message", "error")

RECIPES: tuple[Recipe, ...] = (
    page("AuditLogState", LOAD),
    page("AuditLogState", ("export",)),
    page("AuditLogState", ("set_filter", "object_type", "vendor"), ("set_filter", "object_id", A.vendor)),
    page("BrandingState", LOAD),
    page("ControlsState", LOAD),
    page("DistributionState", LOAD),
    page("DistributionState", ("set_address", A.delivery, "evil@bravo.example"), ("send_again", A.delivery)),
    page("DistributionState", ("set_answer", A.dispute, "Bravo's answer"), ("dismiss", A.dispute)),
    page("DistributionState", ("open_reissue", A.dispute), ("reissue",)),
    page("DistributionState", ("toggle_row", A.delivery), ("toggle_page", False), ("go_to_page", 1)),
    page("IntakeState", LOAD),
    # Names are ids too where they are unique: A's connector source, A's vendor code.
    page("IntakeState", ("set_source_name", A.source_mapping), ("set_mapping", "vendor", "Publisher"), ("save_mapping",),
         compare=_INTAKE_OUTCOME),
    page("IntakeState", ("set_source_name", A.source_upload), ("upload_activity", [Upload("a.csv", _activity_csv())]),
         compare=_INTAKE_OUTCOME),
    page("IntakeState", ("upload_vendors", [Upload("v.csv", Text(
        "vendor_code,name,email,country,currency,payment_method,iban\n"
        "{spare_code_import},Bravo Copycat,ap@copycat.example,DE,EUR,sepa,DE89370400440532013000\n"))]),
         compare=_INTAKE_OUTCOME, roles=_ONCE),
    # B's own invoice, whose seller is A's vendor by VAT ID and IBAN.
    page("IntakeState", ("upload_invoices", [Upload("in.xml", _cii_of_victims_vendor())])),
    page("InvoiceDetailState", LOAD, id=A.pending_invoice),
    page("InvoiceDetailState", LOAD, id=B.b_shared_invoice),
    page("InvoiceDetailState", LOAD, ("approve",), id=A.pending_invoice),
    page("InvoiceDetailState", LOAD, ("open_reject",), ("set_reject_reason", "Bravo says no"), ("reject",),
         id=A.pending_invoice),
    page("InvoiceDetailState", LOAD, ("start_edit",), *(("set_field", k, v) for k, v in {
        "number": "HIJACKED-1", "issue_date": "2026-11-01", "due_date": "2026-12-01", "currency": "EUR",
        "subtotal": "1.00", "tax": "0.00", "total": "1.00"}.items()), ("save_edit",), id=A.draft_invoice),
    page("InvoiceDetailState", LOAD, ("submit",), id=A.draft_invoice),
    page("InvoiceDetailState", LOAD, ("archive",), id=A.draft_invoice),
    page("InvoiceDetailState", LOAD, ("delete_draft",), id=A.draft_invoice),
    page("InvoiceDetailState", LOAD, ("use_vendor", B.b_vendor), id=A.draft_invoice),
    # B's own draft, given A's vendor.
    page("InvoiceDetailState", LOAD, ("use_vendor", A.vendor), id=B.b_draft_invoice),
    page("InvoiceDetailState", LOAD, ("open_new_vendor",), *(("set_vendor_field", k, v) for k, v in {
        "vendor_code": "BR-NEW", "name": "Bravo New", "email": "ap@bravo-new.example", "country": "DE",
        "currency": "EUR", "payment_method": "sepa", "iban": "DE89370400440532013000"}.items()),
         ("set_new_vendor_open", True), ("save_new_vendor",), id=A.draft_invoice),
    page("InvoicesState", LOAD, vendor=A.vendor_code),
    page("InvoicesState", ("toggle_row", A.pending_invoice), ("approve", "selected")),
    page("InvoicesState", ("toggle_row", A.pending_invoice), ("open_reject", "selected"),
         ("set_reject_reason", "Bravo says no"), ("reject",)),
    page("MailServersState", LOAD),
    page("OnboardingQueueState", LOAD),
    page("OverviewState", LOAD),
    page("PayoutsState", LOAD, vendor=A.vendor_code),
    page("PayoutsState", ("toggle_row", A.payout), ("approve_selected",)),
    page("PayoutsState", ("toggle_row", A.failed_payout), ("retry_selected",)),
    page("PayoutsState", ("set_bank_reference", A.manual_transaction, "BRAVO-REF"), ("mark_paid", A.manual_transaction)),
    page("PortalState", LOAD),
    page("PortalState", ("revoke_widget", A.link)),
    page("PortalState", ("upload_invoices", [Upload("in.xml", _cii_of_victims_vendor())])),
    page("PortalState", ("open_dispute", A.sent_invoice, "n/a"), ("set_dispute_reason", "Bravo disputes"),
         ("set_dispute_open", True), ("submit_dispute",)),
    page("ReceivablesState", LOAD),
    page("ReceivablesState", LOAD, ("toggle_reminders", A.receivable)),
    page("ReceivablesState", ("toggle_row", A.receivable), ("set_collect_on", "2027-06-30"), ("collect",)),
    page("ReconciliationState", LOAD),
    # A statement naming A's receivable (a pay-in) and A's transfer (a debit): neither is B's to settle.
    page("ReconciliationState", ("upload_statements", [Upload("bank.csv", Text(
        "booking date,amount,currency,reference,counterparty,description\n"
        "{nonce_day},500.00,EUR,,Customer,Payment {receivable_number} thanks\n"
        "{nonce_day},-100.06,EUR,{transfer_reference},Vendor,Transfer {transfer_reference}\n"))]),
         compare=("messages",)),
    page("SettingsState", LOAD),
    page("SettingsState", LOAD, ("toggle_active", A.user)),
    page("SettingsState", ("reset_password", A.user)),
    page("SettingsState", ("set_role", A.user, "viewer")),
    page("SettingsState", ("set_user_organization", A.user, B.b_organization)),
    # One of B's own people, moved into A.
    page("SettingsState", ("set_user_organization", B.b_user, A.organization)),
    page("TermsState", LOAD),
    page("TermsState", ("export", "all")),
    page("TermsState", LOAD, ("set_draft", A.customer, "5"), ("save_terms", A.customer)),
    page("TermsState", LOAD, ("set_draft", A.customer, "5"), ("key_in_terms", A.customer, "Enter")),
    page("TermsState", ("show_history", A.customer, "n/a"), ("set_billing_field", "billing_email", "evil@bravo.example"),
         ("save_billing",)),
    page("TermsState", LOAD, ("toggle_reminders", A.customer)),
    page("TermsState", ("toggle_row", A.customer), ("set_bulk_value", "5"), ("apply_bulk", False)),
    page("TermsState", ("toggle_row", A.customer), ("apply_bulk", True)),
    page("VendorCardState", LOAD, id=A.vendor),
    page("VendorCardState", LOAD, ("set_rate_card_field", "flat_fee", "9"), ("save_rate_card",), id=A.vendor),
    page("VendorCardState", LOAD, ("set_new_rule_field", "activity_type", "clicks"),
         ("set_new_rule_field", "per_unit_rate", "9"), ("save_rule",), id=A.vendor),
    page("VendorProfileState", LOAD),
    page("VendorProfileState", ("remove_contact", A.contact)),
    page("VendorProfileState", ("remove_document", A.document)),
    page("VendorReviewState", LOAD, id=A.onboarding_vendor),
    page("VendorReviewState", LOAD, ("approve",), id=A.onboarding_vendor),
    page("VendorReviewState", LOAD, ("set_change_note", "Bravo says no"), ("request_changes",), id=A.onboarding_vendor),
    page("VendorsState", LOAD),
    page("VendorsState", ("set_search", "Zanzibar")),
    page("VendorsState", ("open_new",), *(("set_field", k, v) for k, v in {
        "vendor_code": A.spare_code_form, "name": "Bravo Copycat", "email": "ap@copycat.example", "country": "DE",
        "currency": "EUR", "iban": "DE89370400440532013000"}.items()), ("save_vendor", None), roles=_ONCE,
         compare=("form_errors", "form_open", "message")),
    page("VendorsState", ("open_edit", A.vendor), ("set_field", "name", "Hijacked"), ("save_vendor", None)),
    page("VendorsState", ("ask_deactivate", A.vendor, "n/a"), ("deactivate", A.vendor)),
)

# Handlers the enumeration finds (an id argument, an id-holding var, files) through which no
# record of another organization can be named, and why.
NOT_ID: dict[str, str] = {
    "BrandingState.save": "a logo: the file names no record",
    "ReconciliationState.upload_rates": "exchange rates are the installation's, not an organization's",
    "VendorProfileState.upload_documents": "the signed-in vendor's own documents: the file names no record",
}

_ID_NAME = re.compile(r"(^|_)ids?$")
_ID_VAR = re.compile(r"(^|_)ids?$|^selected$")
# Vars that hold an id without saying so in their name.
_ALSO_HOLD_IDS = {"PortalState": {"dispute_invoice"}, "DistributionState": {"reissue_dispute"},
                  "VendorCardState": {"vendor"}}
_URL_ID = re.compile(r"params\.get\(\s*[\"']id[\"']")


def page_states() -> dict[str, type[SessionState]]:
    """Every state of a signed-in page."""
    found, pending = {}, [SessionState]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        found[cls.__name__] = cls
    return found


def _sources(cls: type) -> dict[str, str]:
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            function = getattr(member, "fn", member)
            function = getattr(function, "fget", function)
            if callable(function) and hasattr(function, "__code__"):
                try:
                    out[name] = inspect.getsource(function)
                except (OSError, TypeError):
                    continue
    return out


def _read(source: str, var: str) -> bool:
    """Whether the code reads `self.var` (being assigned does not count)."""
    for line in source.splitlines():
        targets, equals, rest = line.partition("=")
        if equals and not rest.startswith("=") and not targets.rstrip().endswith(("!", "<", ">", "=")) \
                and re.fullmatch(r"\s*(self\.\w+\s*,\s*)*self\.\w+\s*", targets):
            line = rest
        if re.search(rf"self\.{var}\b", line):
            return True
    return False


def id_handlers() -> dict[str, str]:
    """"State.handler" -> why it takes an id: an argument named like one, or it reads (itself or
    through the state's own methods) a var holding one or the page URL's id."""
    found = {}
    for name, cls in page_states().items():
        sources = _sources(cls)
        held = {v for v in cls.base_vars if _ID_VAR.search(v)} | _ALSO_HOLD_IDS.get(name, set())

        def reads(method: str, seen: set[str]) -> set[str]:
            if method in seen or method not in sources:
                return set()
            seen.add(method)
            source = sources[method]
            hits = {v for v in held if _read(source, v)}
            if _URL_ID.search(source):
                hits.add("the URL's id")
            for callee in re.findall(r"self\.(\w+)\(", source):
                hits |= reads(callee, seen)
            return hits

        for handler, spec in cls.event_handlers.items():
            if handler in ("setvar", "load"):
                continue
            params = [p for p in list(inspect.signature(spec.fn).parameters)[1:] if _ID_NAME.search(p)]
            held_read = reads(handler, set())
            if params or held_read:
                found[f"{name}.{handler}"] = ", ".join([*(f"argument {p}" for p in params), *sorted(held_read)])
    return found


def upload_handlers() -> set[str]:
    """Every handler that receives files: a file can name records (numbers, codes, references)."""
    found = set()
    for name, cls in page_states().items():
        for handler, spec in cls.event_handlers.items():
            try:
                resolve_upload_handler_param(spec)
            except (UploadTypeError, UploadValueError):
                continue
            found.add(f"{name}.{handler}")
    return found


def pages_with_load() -> dict[str, bool]:
    """State name -> whether its page reads an id from its URL."""
    return {name: bool(_URL_ID.search(inspect.getsource(cls))) for name, cls in page_states().items()
            if "load" in vars(cls)}


# --- the declarations are complete -----------------------------------------------------------

def test_every_route_and_handler_is_declared():
    problems = []
    routes = api_routes()
    for key in sorted(routes):
        if key not in ROUTES:
            problems.append(f"route {key} is not classified: declare it in ROUTES")
            continue
        wanted = set(re.findall(r"{(\w+)(?::\w+)?}", key.split(" ", 1)[1]))
        for call in ROUTES[key]:
            if set(call.path) != wanted:
                problems.append(f"route {key}: ROUTES gives path parameters {sorted(call.path)}, it takes {sorted(wanted)}")
    problems += [f"ROUTES declares {key}, which the app no longer has" for key in sorted(set(ROUTES) - set(routes))]
    states = page_states()
    called = {f"{r.state}.{step[0]}" for r in RECIPES for step in r.steps}
    for handler, why in sorted(id_handlers().items()):
        if handler not in called and handler not in NOT_ID:
            problems.append(f"handler {handler} takes an id ({why}) but is not classified: declare it in RECIPES "
                            "(or NOT_ID, saying why no id reaches the server through it)")
    for handler in sorted(upload_handlers()):
        if handler not in called and handler not in NOT_ID:
            problems.append(f"upload handler {handler} is not classified: declare it in RECIPES with a file naming "
                            "A's records (or NOT_ID, saying why a file names none)")
    for state, reads_url_id in sorted(pages_with_load().items()):
        loads = [r for r in RECIPES if r.state == state and r.steps[:1] == (LOAD,)]
        if not loads:
            problems.append(f"page {state}.load is not classified: declare it in RECIPES")
        elif reads_url_id and not any("id" in r.url for r in loads):
            problems.append(f"page {state} reads an id from its URL: declare a RECIPES load with id=...")
    for recipe in RECIPES:
        cls = states.get(recipe.state)
        if cls is None:
            problems.append(f"RECIPES names {recipe.state}, which is not a page state")
            continue
        problems += [f"RECIPES calls {recipe.state}.{step[0]}, which it does not have"
                     for step in recipe.steps if step[0] not in cls.event_handlers]
    problems += [f"NOT_ID names {h}, which takes no id or file (any more)"
                 for h in sorted(set(NOT_ID) - set(id_handlers()) - upload_handlers())]
    assert not problems, "\n".join(problems)
    # The enumeration itself still sees what it is meant to (a change in Reflex could blind it).
    assert {"VendorsState.deactivate", "PayoutsState.mark_paid", "InvoicesState.approve", "InvoiceDetailState.approve",
            "VendorReviewState.approve", "PortalState.submit_dispute"} <= set(id_handlers())
    assert "ReconciliationState.upload_statements" in upload_handlers() and len(routes) >= 40


# --- the two organizations -------------------------------------------------------------------

_SOURCE_USES = ("api", "import", "mapping", "upload")
_SPARE_CODE_USES = ("api", "import", "form")

@dataclass
class World:
    ids: dict[str, Any]       # A's records by kind, and B's (b_...)
    nowhere: Callable[[], dict[str, Any]]  # the same kinds, naming records that exist nowhere
    victim: int               # A's organization
    tokens: dict[str, str]    # B's session tokens by role
    keys: dict[str, dict[str, str]]  # B's API key headers by role
    exports: Path = Path()    # the export folder
    statement: Any = None     # reads A's rows (victims_rows)


def _nowhere_like(ids: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """Ids of the same kinds as `ids` naming nothing: numbers no row has, and texts in the
    shape of A's (an answer that echoes one normalizes alike), new at every call, since a
    twin call may create what it names (B may take a vendor code A does not use)."""
    serial = iter(range(9000, 10_000))

    def nowhere() -> dict[str, Any]:
        n = next(serial)
        texts = {"vendor_code": f"ZQ-{n}", "transaction_key": f"nowhere-transfer-{n}",
                 **{f"source_{use}": f"feed-{n}" for use in _SOURCE_USES},
                 **{f"spare_code_{use}": f"ZQ-{n}" for use in _SPARE_CODE_USES},
                 "receivable_number": f"ZQAR-{n}", "transfer_reference": f"VRM{n}",
                 "export_name": f"{NOWHERE}-ZQexportfile000000000000.csv"}
        return {kind: value if kind.startswith("b_") else NOWHERE + i if isinstance(value, int) else texts[kind]
                for i, (kind, value) in enumerate(sorted(ids.items()))}

    return nowhere


def build_world(db: Engine, export_dir: Path) -> World:
    """A, the victim: vendors, invoices in several states, payouts, transfers, a delivery, a
    dispute, a widget link, a customer with a receivable, a vendor in onboarding with contacts
    and documents, intake, a connector source, an export file, audit entries. B: one person
    per role, and a vendor of its own."""
    with Session(db, expire_on_commit=False) as s:
        a = Organization(name="VICTIM Distribution", tier="distributor", country="DE")
        s.add(a)
        s.flush()
        customer = Organization(name="VICTIM Customer Zanzibar", tier="direct_customer", country="FR",
                                parent_id=a.id, billing_email="billing@victim-customer.example",
                                collection_method="credit_card")
        b = Organization(name="Bravo Holdings", tier="distributor", country="NL")
        s.add_all([customer, b])
        s.flush()
        # The system builds A's records; A is their owner.
        tenancy.scope_to(s, tenancy.Scope.everything(a.id))
        a_user = add_user(s, SYSTEM, "finance@victim.example", "VICTIM Finance", PASSWORD,
                          [RoleName.FINANCE_MANAGER.value], organization_id=a.id)
        vendor = vendor_service.create_vendor(s, SYSTEM, vendor_input(
            vendor_code="ZQ-7001", name="VICTIM Zanzibar Media", legal_name="VICTIM Zanzibar Media GmbH",
            email="ap@victim-zanzibar.example", vat_id="DE136695976"))
        rate_rules.set_rate_card(s, SYSTEM, vendor.id, "EUR")
        rate_rules.set_rate_rule(s, SYSTEM, vendor.id, "clicks", per_unit_rate="0.01")
        # The very file B sends in as its own invoice later: B's intake must not find it A's.
        original = documents.store(s, _cii_of_victims_vendor(), "victim-original.xml", "application/xml")
        draft = make_invoice(s, vendor.id, "VICTIM-7001", 10_001, status="draft")
        pending = make_invoice(s, vendor.id, "VICTIM-7002", 10_002, status="pending")
        pending.document_id = original.id
        approved = make_invoice(s, vendor.id, "VICTIM-7003", 10_003, status="approved")
        failed = make_invoice(s, vendor.id, "VICTIM-7004", 10_004, status="failed")
        paid = make_invoice(s, vendor.id, "VICTIM-7005", 10_005, status="paid")
        processing = make_invoice(s, vendor.id, "VICTIM-7006", 10_006, status="processing")
        for invoice in (draft, pending, approved, failed, paid, processing):
            invoice.vendor_invoice_number = f"{invoice.number}-V"
            invoice.created_by_id = a_user.id
        now = utcnow()
        paid_transfer = PaymentTransaction(vendor_id=vendor.id, rail="sepa", status="paid",
                                           idempotency_key="zq-transfer-paid", source_currency="EUR",
                                           source_amount_minor=10_005, target_currency="EUR",
                                           target_amount_minor=10_005, reference="VRM70051", paid_at=now)
        manual_transfer = PaymentTransaction(vendor_id=vendor.id, rail="manual", status="processing",
                                             idempotency_key="victim-transfer-manual", source_currency="EUR",
                                             source_amount_minor=10_006, target_currency="EUR",
                                             target_amount_minor=10_006, reference="VRM70061", submitted_at=now)
        s.add_all([paid_transfer, manual_transfer])
        s.flush()
        payouts = {}
        for invoice, status, transfer in ((approved, "payout_approval", None), (failed, "failed", None),
                                          (paid, "paid", paid_transfer), (processing, "processing", manual_transfer)):
            payouts[status] = Payout(invoice_id=invoice.id, vendor_id=vendor.id, amount_minor=invoice.total_minor,
                                     currency="EUR", status=status, rail=transfer.rail if transfer else "sepa",
                                     pay_date=date(2026, 12, 1), idempotency_key=f"victim-payout-{invoice.id}",
                                     transaction_id=transfer.id if transfer else None,
                                     failure_reason="VICTIM bank refused" if status == "failed" else None)
            s.add(payouts[status])
        pdf = documents.store(s, b"%PDF-1.4\n% VICTIM invoice as sent\n%%EOF\n", "victim-sent.pdf", "application/pdf")
        delivery = EmailDelivery(invoice_id=paid.id, document_id=pdf.id, recipient="ap@victim-zanzibar.example",
                                 subject="Your VICTIM invoice VICTIM-7005", status="bounced",
                                 token="victimdeliverytoken0000000001", attempts=1, sent_at=now,
                                 last_error="VICTIM mailbox full")
        s.add(delivery)
        s.flush()
        dispute = InvoiceDispute(invoice_id=paid.id, raised_by_email="ap@victim-zanzibar.example",
                                 reason="VICTIM: the banner ran for half a month")
        s.add(dispute)
        link = vendor_widget.make_link(s, SYSTEM, vendor.id, 24)
        receivable = receivables.bill(s, SYSTEM, customer.id, "EUR",
                                      [receivables.ChargeLine("VICTIM consulting", Decimal(1), 50_000)],
                                      date(2026, 10, 1), number="ZQAR-7001")
        invited = onboarding.invite_vendor(s, SYSTEM, "VICTIM Quokka Studio", "owner@victim-quokka.example", "DE",
                                           "EUR", "VICTIM Quokka Owner")
        invited_actor = load_actor(s, invited.user.id)
        assert invited_actor is not None
        contact = onboarding.add_contact(s, invited_actor, onboarding.ContactInput(
            name="VICTIM Contact", email="contact@victim-quokka.example"))
        passport = onboarding.add_document(s, invited_actor, b"%PDF-1.4\n% VICTIM passport\n%%EOF\n",
                                           "victim-passport.pdf", "application/pdf", "identity")
        # A's names that B might choose too (unique names), one per probe: after a probe B may own the name as well.
        sources = {use: ActivitySource(name=f"feed-{7001 + i}", kind="api", column_mapping='{"vendor": "VICTIM publisher"}')
                   for i, use in enumerate(_SOURCE_USES)}
        spares = {use: vendor_service.create_vendor(s, SYSTEM, vendor_input(
            vendor_code=f"ZQ-{7002 + i}", name=f"VICTIM Spare {i}", email=f"ap{i}@victim-spare.example")).vendor_code
            for i, use in enumerate(_SPARE_CODE_USES)}
        intake = Intake(channel="upload", kind="invoice", filename="victim-intake.pdf", sha256="0" * 64,
                        status="accepted", reason="VICTIM intake", invoice_id=pending.id, document_id=original.id,
                        created_by_id=a_user.id)
        s.add_all([*sources.values(), intake])
        s.flush()
        s.add(Notification(vendor_id=vendor.id, invoice_id=paid.id, subject="VICTIM notice",
                           body="VICTIM: your invoice was paid"))
        bank_statements.import_statement(s, SYSTEM, "victim-bank.csv", (
            "booking date,amount,currency,reference,counterparty,description\n"
            "2026-12-03,12.34,EUR,,VICTIM Payer,VICTIM unknown credit\n").encode())
        audit.record(s, SYSTEM, "vendor.note", "vendor", vendor.id, after={"note": "VICTIM audit entry"})
        invoice_rollup.refresh(s)
        export_name = f"{a_user.id}-ZQexportfile000000000000.csv"
        (export_dir / export_name).write_text("number\nVICTIM-7002\n")

        # B: its vendor and one person per role.
        tenancy.scope_to(s, tenancy.Scope.everything(b.id))
        b_vendor = vendor_service.create_vendor(s, SYSTEM, vendor_input(
            vendor_code="BR-1", name="Bravo Media", email="ap@bravo.example", iban="NL91ABNA0417164300"))
        b_draft = make_invoice(s, b_vendor.id, "BRAVO-1", 20_001, status="draft")
        # B's own invoice of the same file as A's: files are kept once, by their content.
        b_shared = make_invoice(s, b_vendor.id, "BRAVO-2", 20_002, status="pending")
        b_shared.document_id = documents.store(s, _cii_of_victims_vendor(), "bravo-invoice.xml",
                                               "application/xml").id
        people = {role: add_user(s, SYSTEM, f"{role}@bravo.example", f"Bravo {role}", PASSWORD, [role],
                                 vendor_id=b_vendor.id if role == RoleName.VENDOR.value else None,
                                 organization_id=None if role == RoleName.VENDOR.value else b.id)
                  for role in ROLES}
        tenancy.unscope(s)
        s.commit()
        keys = {role: {"Authorization": f"Bearer {create_api_key(s, SYSTEM, 'matrix', user_id=user.id)}"}
                for role, user in people.items()}
        s.commit()
        tokens = {role: auth.sign_in(s, f"{role}@bravo.example", PASSWORD).token for role in ROLES}
        s.commit()
        ids: dict[str, Any] = {
            "organization": a.id, "customer": customer.id, "user": a_user.id, "vendor": vendor.id,
            "vendor_code": vendor.vendor_code, "onboarding_vendor": invited.vendor.id, "contact": contact.id,
            "document": passport.id, "draft_invoice": draft.id, "pending_invoice": pending.id,
            "sent_invoice": paid.id, "receivable": receivable.id, "payout": payouts["payout_approval"].id,
            "failed_payout": payouts["failed"].id, "transaction": paid_transfer.id,
            "manual_transaction": manual_transfer.id, "transaction_key": "zq-transfer-paid",
            "delivery": delivery.id, "dispute": dispute.id, "link": link.id,
            **{f"source_{use}": source.name for use, source in sources.items()},
            **{f"spare_code_{use}": code for use, code in spares.items()},
            "export_name": export_name,
            "b_organization": b.id, "b_vendor": b_vendor.id, "b_draft_invoice": b_draft.id,
            "b_shared_invoice": b_shared.id,
            "b_user": people[RoleName.VIEWER.value].id, "receivable_number": receivable.number,
            "transfer_reference": manual_transfer.reference,
        }
    return World(ids, _nowhere_like(ids), a.id, tokens, keys, export_dir)


# --- A's rows, before and after --------------------------------------------------------------

def _victims_rows_statement(world: World) -> Any:
    """One statement reading every row of A as (table, the row as text): A's own records, its
    vendors' and invoices' children, its customer's, its people's, the audit entries about
    any of them. One statement, so that reading it after every call stays cheap."""
    t = SQLModel.metadata.tables
    victim = world.victim
    orgs = [world.ids["organization"], world.ids["customer"]]
    vendor, invoice, user = t["vendor"].c, t["invoice"].c, t["user"].c
    vendors = select(vendor.id).where(vendor.owner_id == victim)
    invoices = select(invoice.id).where(or_(invoice.owner_id == victim, invoice.organization_id.in_(orgs),
                                            invoice.vendor_id.in_(vendors)))
    people = select(user.id).where(or_(user.organization_id.in_(orgs), user.vendor_id.in_(vendors)))
    payouts = select(t["payout"].c.id).where(t["payout"].c.vendor_id.in_(vendors))
    statements = select(t["bank_statement"].c.id).where(t["bank_statement"].c.owner_id == victim)
    about = {"vendor": vendors, "invoice": invoices, "user": people, "payout": payouts,
             "organization": select(t["organization"].c.id).where(t["organization"].c.id.in_(orgs))}
    parts = []
    for table in SQLModel.metadata.sorted_tables:
        c = table.c
        if table.name == "organization":
            where: Any = or_(c.id.in_(orgs), c.parent_id.in_(orgs))
        elif table.name == "user":
            where = c.id.in_(people)
        elif table.name == "invoice":
            where = c.id.in_(invoices)
        elif table.name == "audit_log":
            where = or_(c.owner_id == victim, *(and_(c.object_type == kind, c.object_id.in_(
                found.with_only_columns(cast(found.selected_columns[0], SqlString)))) for kind, found in about.items()))
        elif "owner_id" in c:
            where = c.owner_id == victim
        elif "vendor_id" in c:
            where = c.vendor_id.in_(vendors)
        elif "invoice_id" in c:
            where = c.invoice_id.in_(invoices)
        elif "payout_id" in c:
            where = c.payout_id.in_(payouts)
        elif "statement_id" in c:
            where = c.statement_id.in_(statements)
        elif "user_id" in c:
            where = c.user_id.in_(people)
        elif "organization_id" in c:
            where = c.organization_id.in_(orgs)
        else:
            continue  # the installation's own: catalogue, settings, rates, job runs, stored files
        row = literal("")
        for column in c:
            row = row + literal(f"|{column.name}=") + func.coalesce(cast(column, SqlString), "-")
        parts.append(select(literal(table.name).label("name"), row.label("row")).where(where))
    return union_all(*parts)


def victims_rows(db: Engine, world: World) -> dict[str, list[str]]:
    """Every row of A by table (read as the system)."""
    if world.statement is None:
        world.statement = _victims_rows_statement(world)
    rows: dict[str, list[str]] = {}
    with db.connect() as conn:
        for name, row in conn.execute(world.statement):
            rows.setdefault(name, []).append(row)
    return {name: sorted(found) for name, found in rows.items()}


def _changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> str:
    lines = []
    for table in sorted(set(before) | set(after)):
        gone = sorted(set(before.get(table, [])) - set(after.get(table, [])))
        new = sorted(set(after.get(table, [])) - set(before.get(table, [])))
        lines += [f"    {table}: - {r[:200]}" for r in gone] + [f"    {table}: + {r[:200]}" for r in new]
    return "\n".join(lines)


# --- the walls -------------------------------------------------------------------------------

@pytest.fixture(params=["orm", "rls-only"])
def wall(request, db: Engine, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """What stands between B and A: both walls, or on PostgreSQL row-level security alone.
    Returns the switch the test throws once A's rows are built."""
    if request.param == "rls-only":
        if db.dialect.name != "postgresql":
            pytest.skip("row-level security is PostgreSQL's")
        if importlib.util.find_spec("vrm_dashboard.db.row_security") is None:
            pytest.skip("vrm_dashboard.db.row_security does not exist yet: no second wall to test alone")

    def attack() -> None:
        if request.param == "rls-only":
            # The hook, and the conditions Core statements take from the scope: the database alone decides.
            monkeypatch.setattr(tenancy, "FIRST_WALL", False)
            monkeypatch.setattr(tenancy, "owned", lambda _model, _session: true())
            monkeypatch.setattr(invoice_queries, "owned_invoices", lambda _session: true())

    return attack


@pytest.fixture
def world(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setattr(export_files, "EXPORT_DIR", exports)
    return build_world(db, exports)


# --- answers ---------------------------------------------------------------------------------

def _shown(content: bytes) -> str:
    """What a person would read in an answer: text, or the text inside a zipped (xlsx) file."""
    if content.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        except zipfile.BadZipFile:
            pass
    return content.decode("utf-8", "replace")


def _answer_text(answer: Any) -> str:
    return _shown(answer.content) + " " + answer.headers.get("content-disposition", "")


def _alike(text: str) -> str:
    """An answer with its numbers (ids, times, counts) blotted out, to compare two answers."""
    return re.sub(r"\d+", "#", text)


def _marked(text: str) -> list[str]:
    return [text[max(0, m.start() - 60):m.end() + 60].replace("\n", " ")
            for m in re.finditer(MARKER, text, flags=re.IGNORECASE)][:3]


def _request(client: TestClient, key: str, call: Call, ids: dict[str, Any], headers: dict[str, str]) -> Any:
    method, path = key.split(" ", 1)
    url = path.format(**{k: resolve(v, ids, text=True) for k, v in call.path.items()})
    files = [(name, (filename, (_filled(content, ids).encode() if isinstance(content, Text) else content)))
             for name, filename, content in call.files] or None
    return client.request(method, url, params=resolve(call.query, ids) or None,
                          json=resolve(call.json, ids), data=call.form, files=files,
                          headers={**headers, **call.headers})


def test_the_api_refuses_another_organizations_records(db, world, wall):
    """Every route, for every role of B, with A's ids: refused as a missing id, nothing of A in
    the answer, A's rows as they were."""
    client = TestClient(build_api(), raise_server_exceptions=False)
    wall()
    baseline = victims_rows(db, world)
    assert {"vendor", "invoice", "payout"} <= set(baseline), "A's rows are not readable as the system"
    leaks: list[str] = []
    for role in ROLES:
        for key, calls in ROUTES.items():
            for call in calls:
                where = f"{key} as B's {role}" + (f" {json.dumps(resolve(call.json, world.ids))[:80]}"
                                                   if call.json is not None else "")
                answer = _request(client, key, call, world.ids, world.keys[role])
                text = _answer_text(answer)
                if answer.status_code >= 500:
                    leaks.append(f"{where}: server error {answer.status_code} {text[:300]}")
                leaked = _marked(text)
                if leaked:
                    leaks.append(f"{where}: answered {answer.status_code} showing A's {leaked}")
                if call.expect == CAPABILITY and answer.status_code < 400:
                    leaks.append(f"{where}: a forged link or signature was taken ({answer.status_code})")
                if call.expect in (REFUSED, AS_MISSING) and names_records((call.path, call.query, call.json, call.files)):
                    twin = _request(client, key, call, world.nowhere(), world.keys[role])
                    if call.expect == REFUSED and answer.status_code not in (403, 404):
                        leaks.append(f"{where}: answered {answer.status_code}, not 403/404: {text[:300]}")
                    if (answer.status_code, _alike(text)) != (twin.status_code, _alike(_answer_text(twin))):
                        leaks.append(f"{where}: answered {answer.status_code} {text[:200]!r}, but for ids that "
                                     f"exist nowhere {twin.status_code} {_answer_text(twin)[:200]!r}")
                now = victims_rows(db, world)
                if now != baseline:
                    leaks.append(f"{where}: changed A's rows\n{_changes(baseline, now)}")
                    baseline = now
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks)


# --- the pages -------------------------------------------------------------------------------

def _state_text(state: Any, names: tuple[str, ...] = ()) -> str:
    return repr({name: getattr(state, name) for name in sorted(names or state.base_vars) if name != "token"})


def _perform(recipe: Recipe, token: str, ids: dict[str, Any]) -> tuple[str, str]:
    """Run the recipe on a fresh page of B's signed-in browser: what the page then shows, and
    what each handler returned or raised; and the same for the vars the recipe compares."""
    cls = page_states()[recipe.state]
    state = ui_state(cls, token)
    if recipe.url:
        object.__setattr__(state, "router", RouterData.from_router_data(
            {"pathname": "/", "query": {k: resolve(v, ids, text=True) for k, v in recipe.url.items()}}))
    outcome = []
    for name, *args in recipe.steps:
        try:
            returned = call_handler(cls, state, name, *resolve(tuple(args), ids, text=True))
        except Exception as exc:  # noqa: BLE001 - a refusal may be an exception; it is compared, not hidden
            outcome.append(f"{name} raised {type(exc).__name__}: {exc}")
            break
        if returned is not None:
            outcome.append(f"{name} returned {returned!r}")
    told = "\n" + "\n".join(outcome)
    return _state_text(state) + told, _state_text(state, recipe.compare) + told


def _describe(recipe: Recipe, ids: dict[str, Any]) -> str:
    steps = " > ".join(f"{s[0]}({', '.join(repr(a) for a in resolve(tuple(s[1:]), ids, text=True))})"
                       for s in recipe.steps)
    url = f" at ?{'&'.join(f'{k}={resolve(v, ids, text=True)}' for k, v in recipe.url.items())}" if recipe.url else ""
    return f"{recipe.state}: {steps}{url}"


def test_the_pages_refuse_another_organizations_records(db, world, wall):
    """Every page and id-taking handler, for every role of B, with A's ids (arguments, URL,
    files): as for records that exist nowhere, nothing of A on the page, A's rows as they were."""
    wall()
    baseline = victims_rows(db, world)
    assert {"vendor", "invoice", "payout"} <= set(baseline), "A's rows are not readable as the system"
    leaks: list[str] = []
    for role in ROLES:
        token = world.tokens[role]
        for recipe in (r for r in RECIPES if role in r.roles):
            where = f"{_describe(recipe, world.ids)} as B's {role}"
            shown, compared = _perform(recipe, token, world.ids)
            leaked = _marked(shown)
            if leaked:
                leaks.append(f"{where}: shows A's {leaked}")
            if names_records((recipe.steps, recipe.url)):
                _shown_twin, twin = _perform(recipe, token, world.nowhere())
                if _alike(compared) != _alike(twin):
                    ours, theirs = _difference(_alike(compared), _alike(twin))
                    leaks.append(f"{where}: answers otherwise than for ids that exist nowhere: {ours!r} / {theirs!r}")
            now = victims_rows(db, world)
            if now != baseline:
                leaks.append(f"{where}: changed A's rows\n{_changes(baseline, now)}")
                baseline = now
        # What B exported (Excel files in the export folder) holds nothing of A either.
        for path in sorted(p for p in world.exports.iterdir() if p.name != world.ids["export_name"]):
            leaked = _marked(_shown(path.read_bytes()))
            if leaked:
                leaks.append(f"export {path.name} as B's {role}: holds A's {leaked}")
            path.unlink()
        # The overview's figures come from a live hub per scope (no handler computes them).
        overview = ui_state(OverviewState, token)
        scope = overview._viewers_scope()
        if scope.organizations is None or world.victim in scope.organizations:
            leaks.append(f"OverviewState as B's {role}: its live figures are computed for {scope}, which includes A")
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks)


def _difference(ours: str, theirs: str) -> tuple[str, str]:
    start = next((i for i, (x, y) in enumerate(zip(ours, theirs)) if x != y), min(len(ours), len(theirs)))
    return ours[max(0, start - 80):start + 160], theirs[max(0, start - 80):start + 160]
