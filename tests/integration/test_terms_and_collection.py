"""Payment terms in the organization hierarchy, customer invoices, collection, reminders,
aging and consolidation, on both databases."""
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.helpers import SYSTEM, free_port
from tests.smtp_server import pdf_of, smtp_server
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import (
    AuditEntry,
    CollectionAttempt,
    EmailDelivery,
    Invoice,
    Organization,
    PaymentReminder,
    PaymentTermsChange,
)
from vrm_dashboard.db.tenancy import unscope
from vrm_dashboard.rails.base import Charge
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, act_as, load_actor
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound
from vrm_dashboard.services.receivables import (
    aging,
    collection,
    consolidation,
    organizations,
    queries as receivable_queries,
    records as receivables,
    reminders,
)

TODAY = date(2026, 11, 20)


@dataclass
class Hierarchy:
    distributor: Organization
    customer: Organization  # the distributor's direct customer, pays by card
    seller: Organization  # the distributor's indirect seller, pays by wire
    end_customer: Organization  # the seller's end customer
    distributor_admin: Actor
    seller_admin: Actor


def _admin(session: Session, email: str, org: Organization) -> Actor:
    user = add_user(session, SYSTEM, email, email, "correct-horse-battery", ["finance_manager"], organization_id=org.id)
    session.commit()
    return load_actor(session, user.id)


def hierarchy(session: Session) -> Hierarchy:
    distributor = organizations.create_organization(session, SYSTEM, "Northwind", "distributor", "DE", erp_id="ERP-1")
    customer = organizations.create_organization(session, SYSTEM, "Contoso", "direct_customer", "DE", distributor.id,
                                                 "ERP-2", "ap@contoso.example")
    seller = organizations.create_organization(session, SYSTEM, "Fabrikam", "seller", "US", distributor.id, "ERP-3",
                                               "ap@fabrikam.example")
    end_customer = organizations.create_organization(session, SYSTEM, "Tailspin", "end_customer", "US", seller.id,
                                                     "ERP-4", "ap@tailspin.example")
    customer.collection_method = "credit_card"
    end_customer.collection_method = "ach"
    session.add_all([customer, end_customer])
    session.commit()
    return Hierarchy(distributor, customer, seller, end_customer,
                     _admin(session, "dist@northwind.example", distributor),
                     _admin(session, "admin@fabrikam.example", seller))


def bill(session: Session, actor: Actor, org: Organization, cents: int, issued: date) -> Invoice:
    return receivables.bill(session, actor, org.id, "EUR", [receivables.ChargeLine("Licences", Decimal(1), cents)], issued)


def test_each_admin_sees_and_changes_only_the_organizations_directly_below_their_own(session):
    h = hierarchy(session)
    names = lambda actor: sorted(r.name for r in organizations.list_organizations(session, actor).rows)  # noqa: E731
    assert names(h.distributor_admin) == ["Contoso", "Fabrikam"]
    assert names(h.seller_admin) == ["Tailspin"]
    # Another organization's customer answers as one that does not exist, and is never named.
    with pytest.raises(NotFound) as refused:
        organizations.set_terms(session, h.seller_admin, [h.customer.id], 60, today=TODAY)
    assert "Contoso" not in str(refused.value)
    with pytest.raises(NotFound):
        organizations.set_terms(session, h.distributor_admin, [h.customer.id, h.end_customer.id], 60, today=TODAY)
    session.rollback()
    assert session.get(Organization, h.customer.id).payment_terms_days is None
    assert organizations.set_terms(session, h.seller_admin, [h.end_customer.id], 60, today=TODAY).changed == 1


@pytest.mark.parametrize("bad", ["-1", "30.5", "net 30", "", "99999"])
def test_terms_that_are_not_whole_days_are_refused_and_change_nothing(session, bad):
    h = hierarchy(session)
    with pytest.raises(FieldErrors) as refused:
        organizations.set_terms(session, h.distributor_admin, [h.customer.id], bad, today=TODAY)
    assert "days" in refused.value.errors["payment_terms_days"]
    assert session.exec(select(PaymentTermsChange)).all() == []


def test_bulk_terms_are_kept_as_history_audited_and_back_to_default_on_request(session):
    h = hierarchy(session)
    ids = [h.customer.id, h.seller.id]
    assert organizations.set_terms(session, h.distributor_admin, ids, "45", today=TODAY).changed == 2
    session.commit()
    rows = {r.name: r for r in organizations.list_organizations(session, h.distributor_admin, today=TODAY).rows}
    assert rows["Contoso"].payment_terms_days == 45 and not rows["Contoso"].uses_default
    assert rows["Contoso"].pending_from == date(2026, 12, 1)
    assert rows["Contoso"].updated_by == "dist@northwind.example"
    assert organizations.set_terms(session, h.distributor_admin, ids, "45", today=TODAY).changed == 0
    organizations.set_terms(session, h.distributor_admin, [h.customer.id], "default", today=TODAY)
    session.commit()
    history = organizations.terms_history(session, h.distributor_admin, h.customer.id)
    assert [(c.previous_days, c.days) for c in history] == [("45 days", "Default"), ("Default", "45 days")]
    page = organizations.list_organizations(session, h.distributor_admin, organizations.OrganizationQuery(uses_default="yes"))
    assert [r.name for r in page.rows] == ["Contoso"] and page.rows[0].payment_terms_days == 30
    audited = session.exec(select(AuditEntry).where(AuditEntry.action == "organization.terms")).all()
    assert len(audited) == 3


def test_a_terms_change_applies_to_invoices_generated_from_the_next_month_only(session):
    h = hierarchy(session)
    before = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 11, 3))
    organizations.set_terms(session, h.distributor_admin, [h.customer.id], 45, today=date(2026, 11, 10))
    late_november = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 11, 30))
    december = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 12, 1))
    session.commit()
    assert (before.payment_terms_days, before.due_date) == (30, date(2026, 12, 3))
    assert (late_november.payment_terms_days, late_november.due_date) == (30, date(2026, 12, 30))
    assert (december.payment_terms_days, december.due_date) == (45, date(2027, 1, 15))
    assert session.get(Invoice, before.id).payment_terms_days == 30


def test_the_posting_date_moves_the_due_date_by_the_invoices_own_terms(session):
    h = hierarchy(session)
    invoice = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 11, 3))
    organizations.set_terms(session, h.distributor_admin, [h.customer.id], 90, today=date(2026, 11, 4))
    receivables.set_posting_date(session, h.distributor_admin, invoice.id, date(2026, 11, 10))
    assert invoice.due_date == date(2026, 12, 10)
    with pytest.raises(FieldErrors):
        receivables.set_posting_date(session, h.distributor_admin, invoice.id, date(2026, 11, 1))
    with pytest.raises(NotFound):
        receivables.set_posting_date(session, h.seller_admin, invoice.id, date(2026, 11, 12))


def test_the_api_patches_the_posting_date(db):
    with Session(db, expire_on_commit=False) as session:
        h = hierarchy(session)
        invoice = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 11, 3))
        key = create_api_key(session, SYSTEM, "erp", user_id=h.distributor_admin.user_id)
        seller_key = create_api_key(session, SYSTEM, "erp", user_id=h.seller_admin.user_id)
        session.commit()
    client = TestClient(build_api())
    url = f"/api/v1/invoices/{invoice.id}/posting-date"
    ok = client.patch(url, json={"posting_date": "2026-11-05"}, headers={"Authorization": f"Bearer {key}"})
    assert ok.status_code == 200 and ok.json()["due_date"] == "2026-12-05"
    # Another organization's invoice answers as a missing one.
    assert client.patch(url, json={"posting_date": "2026-11-05"},
                        headers={"Authorization": f"Bearer {seller_key}"}).status_code == 404
    assert client.patch(url, json={"posting_date": "soon"}, headers={"Authorization": f"Bearer {key}"}).status_code == 422


def test_collection_acting_as_the_distributor_charges_its_own_receivables_only(session):
    """As the app runs it: the session scoped to the acting organization (the per-row updates
    carry the scope written into their SQL, which a statement run once per row needs)."""
    h = hierarchy(session)
    card = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 9, 1))
    theirs = bill(session, h.seller_admin, h.end_customer, 40_000, date(2026, 9, 1))
    session.commit()
    act_as(session, h.distributor_admin)
    summary = collection.collect(session, h.distributor_admin, collection.Selection("due_date", TODAY), today=TODAY)
    session.commit()
    assert (summary.collected, summary.failed) == (1, 0)
    unscope(session)
    session.expire_all()
    assert session.get(Invoice, card.id).status == "paid"
    assert session.get(Invoice, theirs.id).status == "approved"


def test_collection_charges_what_is_due_sets_method_and_status_and_records_each_attempt(session):
    h = hierarchy(session)
    card = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 9, 1))
    declined = bill(session, h.distributor_admin, h.customer, 10_051, date(2026, 9, 2))
    wire = bill(session, h.distributor_admin, h.seller, 20_000, date(2026, 9, 3))
    not_due = bill(session, h.distributor_admin, h.customer, 30_000, TODAY)
    theirs = bill(session, h.seller_admin, h.end_customer, 40_000, date(2026, 9, 1))
    session.commit()
    summary = collection.collect(session, h.distributor_admin, collection.Selection("due_date", TODAY), today=TODAY)
    assert (summary.collected, summary.failed) == (1, 2)
    assert summary.collected_amounts == {"EUR": 10_000}
    assert summary.reasons == {"Declined: insufficient funds": 1,
                               "No card or direct-debit mandate on file: the customer pays by transfer": 1}
    session.expire_all()
    states = {i.number: (i.status, i.payment_method) for i in session.exec(select(Invoice)).all()}
    assert states[card.number] == ("paid", "credit_card")
    assert states[declined.number] == ("failed", "credit_card")
    assert states[wire.number] == ("failed", "wire")
    assert states[not_due.number] == ("approved", "unknown")
    assert states[theirs.number] == ("approved", "unknown")
    attempts = session.exec(select(CollectionAttempt).order_by(CollectionAttempt.id)).all()
    assert [(a.outcome, a.idempotency_key) for a in attempts][0] == ("collected", f"collect-{card.id}-1")
    assert attempts[0].reference.startswith("COL-")
    # A person may try the failed ones again at once; the paid one is never charged again.
    again = collection.collect(session, h.distributor_admin, collection.Selection("due_date", TODAY), today=TODAY)
    assert (again.collected, again.failed) == (0, 2)
    # The scheduler collects for every organization, and waits before trying a failure again.
    job = collection.collect_overdue(session)
    assert (job.rows, job.errors) == (1, 0)
    session.expire_all()
    assert session.get(Invoice, theirs.id).status == "paid"
    assert len(session.exec(select(CollectionAttempt).where(CollectionAttempt.invoice_id == wire.id)).all()) == 2
    history = collection.attempts_of(session, h.distributor_admin, declined.id)
    assert [(a.outcome, a.failure_reason) for a in history] == [("failed", "Declined: insufficient funds")] * 2
    with pytest.raises(NotFound):
        collection.attempts_of(session, h.seller_admin, declined.id)


def test_collecting_by_invoice_date_takes_invoices_issued_up_to_that_day(session):
    h = hierarchy(session)
    early = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 11, 1))
    later = bill(session, h.distributor_admin, h.customer, 12_000, date(2026, 11, 15))
    session.commit()
    summary = collection.collect(session, h.distributor_admin, collection.Selection("invoice_date", date(2026, 11, 5)))
    assert summary.collected == 1
    session.expire_all()
    assert session.get(Invoice, early.id).status == "paid" and session.get(Invoice, later.id).status == "approved"


def test_a_run_that_died_after_claiming_is_finished_with_the_same_keys(session):
    h = hierarchy(session)
    invoice = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 9, 1))
    session.commit()
    # The claim is committed before any charge; the process dies there.
    conditions = collection._collectable(collection.JOB, collection.Selection("due_date", TODAY), TODAY)
    collection._claim(session, collection.JOB, conditions, 10)
    session.expire_all()
    assert session.get(Invoice, invoice.id).status == "processing"
    summary = collection.collect_overdue(session)
    assert summary.rows == 1
    session.expire_all()
    attempts = session.exec(select(CollectionAttempt)).all()
    assert [(a.idempotency_key, a.outcome) for a in attempts] == [(f"collect-{invoice.id}-1", "collected")]
    assert session.get(Invoice, invoice.id).status == "paid"


class _Killed(BaseException):
    """The run's process dies (kill -9) while the collector is charging."""


class _FakeCollector:
    """A collector that is not the sandbox (rails.base.Collector): one charge per idempotency
    key, a repeat answered with the first; `die_in` calls charge and the run dies unanswered."""

    def __init__(self, die_in: int = 0) -> None:
        self.charges: dict[str, Charge] = {}
        self.asked: list[str] = []
        self.die_in = die_in

    def charge(self, idempotency_key: str, method: str, amount_minor: int, currency: str) -> Charge:
        self.asked.append(idempotency_key)
        answer = self.charges.setdefault(idempotency_key, Charge(True, reference=f"FAKE-{len(self.charges) + 1}"))
        if self.die_in:
            self.die_in -= 1
            raise _Killed
        return answer


def test_a_collector_passed_to_the_run_charges_once_across_a_run_that_died_mid_charge(session):
    h = hierarchy(session)
    invoice = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 9, 1))
    session.commit()
    fake = _FakeCollector(die_in=1)
    due = collection.Selection("due_date", TODAY)
    with pytest.raises(_Killed):
        collection.collect(session, collection.JOB, due, today=TODAY, collector=fake)
    session.rollback()
    session.expire_all()
    assert session.get(Invoice, invoice.id).status == "processing"
    summary = collection.collect(session, collection.JOB, due, today=TODAY, collector=fake)
    assert (summary.collected, summary.failed) == (1, 0)
    key = f"collect-{invoice.id}-1"
    assert fake.asked == [key, key] and list(fake.charges) == [key]  # asked again, charged once
    session.expire_all()
    attempts = session.exec(select(CollectionAttempt)).all()
    assert [(a.idempotency_key, a.outcome, a.reference) for a in attempts] == [(key, "collected", "FAKE-1")]
    assert session.get(Invoice, invoice.id).status == "paid"


def test_reminders_follow_the_schedule_once_per_stage_and_stop_on_request(session):
    h = hierarchy(session)
    due_soon = bill(session, h.distributor_admin, h.customer, 10_000, TODAY - timedelta(days=25))  # due in 5 days
    overdue = bill(session, h.distributor_admin, h.customer, 20_000, TODAY - timedelta(days=38))  # 8 days late
    stopped = bill(session, h.distributor_admin, h.customer, 30_000, TODAY - timedelta(days=38))
    quiet_org = bill(session, h.distributor_admin, h.seller, 40_000, TODAY - timedelta(days=38))
    receivables.set_reminders_stopped(session, h.distributor_admin, [stopped.id], True)
    organizations.set_reminders_stopped(session, h.distributor_admin, h.seller.id, True)
    session.commit()
    assert reminders.queue_reminders(session, TODAY).rows == 2
    session.commit()
    assert reminders.queue_reminders(session, TODAY).rows == 0
    stages = {session.get(Invoice, r.invoice_id).number: r.stage for r in session.exec(select(PaymentReminder)).all()}
    assert stages == {due_soon.number: -7, overdue.number: 7}
    assert quiet_org.number not in stages and stopped.number not in stages
    with smtp_server(free_port()) as inbox:
        outgoing_mail.send_queued(session, parallel=False)
    messages = inbox.to("ap@contoso.example")
    assert sorted(m["Subject"].split(":")[0] for m in messages) == ["Payment reminder", "Upcoming payment"]
    overdue_mail = next(m for m in messages if overdue.number in m["Subject"])
    assert pdf_of(overdue_mail).startswith(b"%PDF")
    assert session.exec(select(EmailDelivery).where(EmailDelivery.status == "sent")).all()


def test_the_aging_report_buckets_open_invoices_per_organization_and_exports(session):
    h = hierarchy(session)
    bill(session, h.distributor_admin, h.customer, 10_000, TODAY - timedelta(days=10))  # current
    bill(session, h.distributor_admin, h.customer, 20_000, TODAY - timedelta(days=45))  # 15 days late
    bill(session, h.distributor_admin, h.seller, 30_000, TODAY - timedelta(days=160))  # 130 days late
    paid = bill(session, h.distributor_admin, h.seller, 50_000, TODAY - timedelta(days=160))
    paid.status = "paid"
    session.add(paid)
    session.commit()
    report = aging.aging_report(session, h.distributor_admin, TODAY)
    rows = {r.organization: r.buckets for r in report.rows}
    assert rows["Contoso"]["current"] == 10_000 and rows["Contoso"]["d1_30"] == 20_000
    assert rows["Fabrikam"]["over_90"] == 30_000
    assert report.totals[0].total == 60_000
    assert aging.aging_report(session, h.seller_admin, TODAY).rows == []
    out = io.BytesIO()
    aging.aging_xlsx(report, out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["AR aging"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=4)]
    assert values[0][:3] == ["Organization", "Currency", "Current"]
    assert values[3][0] == "Total" and values[3][7] == 600


def test_consolidation_gathers_a_months_invoices_into_one_with_the_terms_of_its_day(session):
    h = hierarchy(session)
    first = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 10, 3))
    second = bill(session, h.distributor_admin, h.customer, 20_000, date(2026, 10, 28))
    bill(session, h.distributor_admin, h.customer, 5_000, date(2026, 11, 2))
    organizations.set_terms(session, h.distributor_admin, [h.customer.id], 15, today=date(2026, 10, 20))
    session.commit()
    made, = consolidation.consolidate(session, h.distributor_admin, h.customer.id, "2026-10")
    session.commit()
    assert made.gathered == 2 and made.invoice.total_minor == 30_000
    assert (made.invoice.issue_date, made.invoice.payment_terms_days) == (date(2026, 11, 1), 15)
    assert made.invoice.due_date == date(2026, 11, 16)
    session.expire_all()
    assert {session.get(Invoice, i.id).consolidated_into_id for i in (first, second)} == {made.invoice.id}
    with pytest.raises(Conflict):
        consolidation.consolidate(session, h.distributor_admin, h.customer.id, "2026-10")
    session.rollback()
    open_total = aging.aging_report(session, h.distributor_admin, TODAY).totals[0].total
    assert open_total == 35_000  # the consolidated invoice and November's, never both copies
    page = receivable_queries.list_receivables(session, h.distributor_admin, receivable_queries.ReceivableQuery(
        search="contoso", sort="amount"))
    assert page.total_rows == 4 and page.open_amounts == {"EUR": 35_000}
    query = receivable_queries.ReceivableQuery(terms="15", sort="terms", descending=True)
    assert [r.number for r in receivable_queries.list_receivables(session, h.distributor_admin, query).rows] == [
        made.invoice.number]
    query = receivable_queries.ReceivableQuery(posted_from="2026-10-01", posted_to="2026-10-31", sort="posting_date")
    assert [r.id for r in receivable_queries.list_receivables(session, h.distributor_admin, query).rows] == [
        first.id, second.id]
    with pytest.raises(FieldErrors):
        receivable_queries.list_receivables(session, h.distributor_admin, receivable_queries.ReceivableQuery(terms="x"))


def test_a_seller_acting_in_its_own_scope_reads_what_it_is_billed_only_in_its_incoming_view(session):
    """An invoice the distributor bills the seller is the distributor's record: the seller's scope
    does not reach it, but its incoming view reads it (and nothing else of the distributor's)."""
    h = hierarchy(session)
    billed = bill(session, h.distributor_admin, h.seller, 10_000, TODAY)
    bill(session, h.distributor_admin, h.customer, 30_000, TODAY)
    session.commit()
    act_as(session, h.seller_admin)
    incoming = receivable_queries.list_receivables(session, h.seller_admin, receivable_queries.ReceivableQuery("incoming"))
    assert [r.number for r in incoming.rows] == [billed.number] and incoming.open_amounts == {"EUR": 10_000}
    # Not the seller's record: the scope does not reach it.
    assert session.exec(select(Invoice.id).where(Invoice.id == billed.id)).first() is None
    outgoing = receivable_queries.list_receivables(session, h.seller_admin, receivable_queries.ReceivableQuery("outgoing"))
    assert outgoing.rows == []


def test_incoming_invoices_are_those_billed_to_ones_own_organization(session):
    h = hierarchy(session)
    bill(session, h.distributor_admin, h.seller, 10_000, TODAY)
    bill(session, h.seller_admin, h.end_customer, 20_000, TODAY)
    session.commit()
    incoming = receivable_queries.list_receivables(session, h.seller_admin, receivable_queries.ReceivableQuery("incoming"))
    outgoing = receivable_queries.list_receivables(session, h.seller_admin, receivable_queries.ReceivableQuery("outgoing"))
    assert [r.organization for r in incoming.rows] == ["Fabrikam"]
    assert [r.organization for r in outgoing.rows] == ["Tailspin"]
    late = bill(session, h.seller_admin, h.end_customer, 5_000, date(2026, 9, 1))
    session.commit()
    rows = receivable_queries.list_receivables(session, h.seller_admin, receivable_queries.ReceivableQuery(
        "outgoing"), today=TODAY).rows
    overdue = {r.number: r.overdue for r in rows}
    assert overdue.pop(late.number) is True and list(overdue.values()) == [False]


def test_reminder_schedule_and_collector_failures_are_settings_checked_before_saving(session):
    with pytest.raises(FieldErrors):
        app_settings.check(app_settings.REMINDER_DAYS, [1, 1])
    with pytest.raises(FieldErrors):
        app_settings.check(app_settings.COLLECTOR_FAILURE_PERCENT, 101)
    app_settings.check(app_settings.REMINDER_DAYS, [-3, 5])


def _signed_in(session: Session, email: str) -> str:
    from vrm_dashboard.services.identity import auth

    token = auth.sign_in(session, email, "correct-horse-battery").token
    session.commit()
    return token


def test_crafted_events_cannot_reach_beyond_the_users_organizations(db):
    import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
    from tests.helpers import call_handler as _call, ui_state as _state
    from vrm_dashboard.ui.states.receivables import ReceivablesState
    from vrm_dashboard.ui.states.terms import TermsState

    with Session(db, expire_on_commit=False) as session:
        h = hierarchy(session)
        invoice = bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 9, 1))
        session.commit()
        token = _signed_in(session, "admin@fabrikam.example")
    terms = _state(TermsState, token)
    _call(TermsState, terms, "load")
    assert [r.name for r in terms.rows] == ["Tailspin"]
    # The distributor's direct customer, ticked and changed by hand-made events.
    _call(TermsState, terms, "toggle_row", str(h.customer.id))
    _call(TermsState, terms, "set_bulk_value", "5")
    _call(TermsState, terms, "apply_bulk", False)
    assert "among those you manage" in terms.error and "Contoso" not in terms.error
    _call(TermsState, terms, "show_history", str(h.customer.id), "Contoso")
    assert "among those you manage" in terms.error and terms.history == []
    _call(TermsState, terms, "toggle_column", "erp_id")
    assert "erp_id" not in terms.visible_columns
    _call(TermsState, terms, "sort_by", "not-a-column")
    assert terms.sort == "name"
    customers = _state(ReceivablesState, token)
    _call(ReceivablesState, customers, "load")
    _call(ReceivablesState, customers, "collect")
    with Session(db) as session:
        assert session.get(Organization, h.customer.id).payment_terms_days is None
        assert session.get(Invoice, invoice.id).status == "approved"
        assert session.exec(select(CollectionAttempt)).all() == []


def test_billing_settings_are_checked_scoped_and_audited(session):
    h = hierarchy(session)
    with pytest.raises(FieldErrors) as refused:
        organizations.update_billing(session, h.distributor_admin, h.seller.id, organizations.BillingSettings(
            billing_email="not an address", collection_method="cheque"))
    assert set(refused.value.errors) == {"billing_email", "collection_method"}
    with pytest.raises(NotFound):
        organizations.update_billing(session, h.seller_admin, h.seller.id, organizations.BillingSettings())
    organizations.update_billing(session, h.distributor_admin, h.seller.id, organizations.BillingSettings(
        billing_email="AP@Fabrikam.example", collection_method="ach", consolidates_monthly=True))
    session.commit()
    settings_now = organizations.billing_settings(session, h.distributor_admin, h.seller.id)
    assert (settings_now.collection_method, settings_now.consolidates_monthly) == ("ach", True)
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "organization.billing")).one()
    # The monthly job consolidates it, and only it.
    bill(session, h.distributor_admin, h.seller, 10_000, date(2026, 10, 5))
    bill(session, h.distributor_admin, h.customer, 10_000, date(2026, 10, 5))
    session.commit()
    assert consolidation.consolidate_last_month(session, today=date(2026, 11, 1)).rows == 1
    session.commit()
    assert consolidation.consolidate_last_month(session, today=date(2026, 11, 1)).rows == 0
