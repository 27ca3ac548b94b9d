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
from vrm_dashboard.domain.payout_rules import PAYOUT_TRANSITIONS
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
