"""One way to move an invoice or a payout: every path obeys its status machine, is audited, and
money follows the invoice.

Each test here failed before the movers (services/invoices/moves.py, services/payouts/moves.py)
existed: bulk paths wrote statuses directly, unaudited and past the table.
"""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.helpers import DUE_DAY
from tests.payout_book import approved_book, provider_of, use_payout_environment
from vrm_dashboard.db.models import AuditEntry, Invoice, InvoiceFlag, PaymentTransaction, Payout
from vrm_dashboard.domain.invoice_status import ALLOWED_TRANSITIONS, InvoiceStatus
from vrm_dashboard.domain.payout_rules import PAYOUT_TRANSITIONS, TRANSFER_TRANSITIONS
from vrm_dashboard.rails.base import ProviderTimeout
from vrm_dashboard.services.invoices import records as invoices
from vrm_dashboard.services.payouts import execution as payout_execution, records as payouts, settlement

TODAY = DUE_DAY


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    return tmp_path


def _moves(session, object_type: str) -> dict[int, list[tuple[str, str]]]:
    """Each object's audited status moves, oldest first."""
    found: dict[int, list[tuple[str, str]]] = {}
    for entry in session.exec(select(AuditEntry).where(AuditEntry.object_type == object_type)
                              .order_by(AuditEntry.id)).all():
        before, after = json.loads(entry.before or "{}"), json.loads(entry.after or "{}")
        if "status" in before and "status" in after and before["status"] != after["status"]:
            found.setdefault(int(entry.object_id), []).append((before["status"], after["status"]))
    return found


def test_every_status_change_of_a_payout_run_is_an_allowed_and_audited_move(session, env):
    book = approved_book(session)
    # Provider payments fail; the rest are paid by file and by hand.
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env, failure=100))
    session.expire_all()
    failed = [p.id for p in session.exec(select(Payout).where(Payout.status == "failed")).all()]
    assert failed
    payouts.retry(session, book.finance, failed)
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    open_transfers = session.exec(select(PaymentTransaction).where(PaymentTransaction.status == "processing")).all()
    settlement.settle_paid(session, book.finance, [t.id for t in open_transfers], confirmation="BANK-1")
    session.commit()
    session.expire_all()
    invoice_moves, payout_moves = _moves(session, "invoice"), _moves(session, "payout")
    for invoice in session.exec(select(Invoice)).all():
        moves = invoice_moves[invoice.id]
        assert all(InvoiceStatus(a) in ALLOWED_TRANSITIONS[InvoiceStatus(b)] for b, a in moves), moves
        # The audit tells the whole story: its last move ends where the invoice stands.
        assert moves[-1][1] == invoice.status == "paid", moves
    for payout in session.exec(select(Payout)).all():
        moves = payout_moves[payout.id]
        assert all(a in PAYOUT_TRANSITIONS[b] for b, a in moves), moves
        assert moves[-1][1] == payout.status == "paid", moves
    # Transfers too, from their claim to the rail's answer, and the provider's failed ones.
    transfer_moves = _moves(session, "payment_transaction")
    transfers = session.exec(select(PaymentTransaction)).all()
    assert {t.status for t in transfers} == {"paid", "failed"}
    for transfer in transfers:
        moves = transfer_moves[transfer.id]
        assert moves[0] == ("new", "processing"), moves
        assert all(a in TRANSFER_TRANSITIONS[b] for b, a in moves), moves
        assert moves[-1][1] == transfer.status, moves


def test_an_archived_invoice_with_a_failed_payout_is_never_paid(session, env):
    book = approved_book(session)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env, failure=100))
    session.expire_all()
    invoice = book.invoices["provider"][0]
    payout = session.exec(select(Payout).where(Payout.invoice_id == invoice.id)).one()
    assert (session.get(Invoice, invoice.id).status, payout.status) == ("failed", "failed")
    invoices.archive_invoice(session, book.finance, invoice.id)
    session.commit()
    # Retried with the others, or run again: the archived invoice's payout is voided and stays so.
    assert payouts.retry(session, book.finance, [payout.id]) == 0
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    assert session.get(Payout, payout.id).status == "voided"
    assert session.get(Invoice, invoice.id).status == "archived"
    # The provider paid nothing: the other provider invoice's payout was not retried either.
    assert [p for p in provider_of(env).payments() if p.status == "paid"] == []


def test_a_payout_waiting_for_a_run_is_not_paid_once_its_invoice_is_no_longer_approved(session, env):
    book = approved_book(session)
    invoice = book.invoices["sepa"][0]
    # Behind the services' back (a crafted change, an old bug): the invoice is archived, its
    # payout still waits. The run checks the invoice again.
    session.get(Invoice, invoice.id).status = "archived"
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    assert session.exec(select(Payout).where(Payout.invoice_id == invoice.id)).one().status == "awaiting_payout"
    assert session.get(Invoice, invoice.id).status == "archived"


def test_settlement_moves_only_what_the_status_machine_allows(session, env):
    book = approved_book(session)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env, settle=3600))
    session.expire_all()
    transfer = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "sepa")).first()
    paid_invoice = session.exec(select(Payout).where(Payout.transaction_id == transfer.id)).first().invoice_id
    # Its invoice was sent back to Approved behind the services' back: a confirmation of the
    # transfer does not jump it to Paid (Approved -> Paid is not a move a payable makes).
    session.get(Invoice, paid_invoice).status = "approved"
    session.commit()
    settlement.settle_paid(session, book.finance, [transfer.id], confirmation="BANK-2")
    session.commit()
    session.expire_all()
    assert session.get(Invoice, paid_invoice).status == "approved"
    assert not session.exec(select(InvoiceFlag).where(InvoiceFlag.flag == "paid_twice")).all()


def _change_bank_details(session, book, rail: str, **details) -> None:
    from vrm_dashboard.db.models import Vendor
    from vrm_dashboard.services.vendors import records as vendor_service

    vendor = session.get(Vendor, book.vendors[rail].id)
    data = vendor_service.vendor_input_of(vendor)
    for name, value in details.items():
        setattr(data, name, value)
    vendor_service.update_vendor(session, book.finance, vendor.id, data)
    session.commit()


def test_a_transfer_is_paid_only_to_the_account_it_was_cleared_for(session, env):
    book = approved_book(session)
    # The run clears and batches the payouts; the SEPA vendor's IBAN changes before its file is made.
    payout_execution.batch_cleared_payouts(session, TODAY, payout_execution.RunReport())
    _change_bank_details(session, book, "sepa", iban="FR1420041010050500013M02606")
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    sepa = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "sepa")).one()
    assert sepa.status == "failed" and "bank details changed after this payment was cleared" in sepa.failure_reason
    assert {p.status for p in session.exec(select(Payout).where(Payout.transaction_id == sepa.id)).all()} == {"failed"}
    # No payment file carries the new account (nor the old one: nothing was sent).
    outbox = env / "outbox"
    assert not outbox.exists() or not any("FR1420041010050500013M02606" in f.read_text(errors="ignore")
                                          for f in outbox.iterdir())


def _provider_transfer_left_unanswered(session, env) -> PaymentTransaction:
    """A payout run whose provider never answers: it may have taken the payments, under their
    keys; the transfer waits to be tried again."""
    silent = provider_of(env)

    def no_answer(transfers):  # type: ignore[no-untyped-def]
        raise ProviderTimeout("no answer")

    silent.submit = no_answer  # type: ignore[method-assign]
    payout_execution.execute_payouts(session, today=TODAY, provider=silent)
    session.expire_all()
    return session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).one()


def test_a_provider_retry_after_a_bank_details_change_goes_to_a_person(session, env):
    book = approved_book(session)
    waiting = _provider_transfer_left_unanswered(session, env)
    assert waiting.status == "new" and waiting.attempts == 1
    _change_bank_details(session, book, "provider", paypal_email="someone-else@pay.example")
    waiting = session.get(PaymentTransaction, waiting.id)
    waiting.next_attempt_at = None
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    held = session.get(PaymentTransaction, waiting.id)
    assert held.status == "in_review" and "check with the provider" in held.failure_reason
    assert [p.status for p in session.exec(select(Payout).where(Payout.transaction_id == held.id)).all()] == [
        "in_review", "in_review"]
    # The new account was never sent to the provider.
    assert "someone-else@pay.example" not in repr(provider_of(env).payments())


def test_a_transfer_waiting_for_its_retry_is_not_paid_once_its_vendor_is_deactivated(session, env):
    from vrm_dashboard.services.vendors import records as vendor_service

    book = approved_book(session)
    waiting = _provider_transfer_left_unanswered(session, env)
    assert waiting.status == "new"
    vendor_service.deactivate_vendor(session, book.finance, book.vendors["provider"].id)
    session.get(PaymentTransaction, waiting.id).next_attempt_at = None
    session.commit()
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    # It waits, unclaimed: nothing reached the provider.
    assert session.get(PaymentTransaction, waiting.id).status == "new"
    assert provider_of(env).payments() == []


def test_a_wire_recorded_after_a_bank_details_change_goes_to_review_first(session, env):
    book = approved_book(session)
    payout_execution.execute_payouts(session, today=TODAY, provider=provider_of(env))
    session.expire_all()
    wire = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "manual")).one()
    assert wire.status == "processing"  # handed to people, with the account it was cleared for
    _change_bank_details(session, book, "manual", iban="DE89370400440532013000")
    payouts.mark_paid(session, book.finance, wire.id, "BANK-REF-1")
    session.commit()
    session.expire_all()
    held = session.get(PaymentTransaction, wire.id)
    assert held.status == "in_review" and "check which account was paid" in held.failure_reason
    # Once someone checked with the vendor, it is recorded from review.
    payouts.mark_paid(session, book.finance, wire.id, "BANK-REF-1")
    session.commit()
    session.expire_all()
    assert session.get(PaymentTransaction, wire.id).status == "paid"
