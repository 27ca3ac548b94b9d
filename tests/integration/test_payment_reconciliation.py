"""Bank statements reconcile payment runs: confirmed transfers, a returned one, unmatched
and duplicate lines as exceptions, and customer payments settling receivables; in camt.053,
MT940 and CSV."""
from datetime import date

import pytest
from sqlmodel import select

from tests.helpers import DUE_DAY
from tests.payout_book import approved_book, provider_of, use_payout_environment
from vrm_dashboard.db.models import Invoice, Organization, PaymentTransaction, Payout, StatementLine
from vrm_dashboard.services.payouts import (
    bank_statements,
    execution as payout_execution,
)
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, PermissionDenied

PAY_DAY = DUE_DAY


def _camt(entries: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr>
<Stmt><Id>1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>{entries}</Stmt>
</BkToCstmrStmt></Document>""".encode()


def _entry(amount: str, currency: str, direction: str, reference: str, day: str = "2026-12-02",
           return_code: str = "", name: str = "Vendor") -> str:
    ret = f"<RtrInf><Rsn><Cd>{return_code}</Cd></Rsn></RtrInf>" if return_code else ""
    party = "Cdtr" if direction == "DBIT" else "Dbtr"
    return (f"<Ntry><Amt Ccy=\"{currency}\">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{day}</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs>"
            f"<RltdPties><{party}><Nm>{name}</Nm></{party}></RltdPties>{ret}</TxDtls></NtryDtls></Ntry>")


def _major(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


@pytest.fixture
def sent(monkeypatch, session, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    book = approved_book(session)
    payout_execution.execute_payouts(session, today=PAY_DAY, provider=provider_of(tmp_path))
    session.commit()
    transfers = {t.rail: t for t in session.exec(select(PaymentTransaction)).all()}
    return book, transfers


def test_a_camt053_statement_confirms_a_batch_and_reports_a_returned_transfer(session, sent):
    book, t = sent
    sepa, ach, manual = t["sepa"], t["ach"], t["manual"]
    statement = _camt(
        _entry(_major(sepa.target_amount_minor), "EUR", "DBIT", sepa.reference)
        + _entry(_major(ach.target_amount_minor), "USD", "DBIT", ach.reference)
        + _entry(_major(manual.target_amount_minor), "EUR", "DBIT", "NOTPROVIDED")  # matched by amount
        + _entry("99.00", "EUR", "DBIT", "SOMETHING-ELSE")
        + _entry(_major(ach.target_amount_minor), "USD", "CRDT", ach.reference, "2026-12-04", "AC04"))
    with pytest.raises(PermissionDenied):
        bank_statements.import_statement(session, book.approver, "camt.xml", statement)
    report = bank_statements.import_statement(session, book.finance, "camt.xml", statement)
    session.commit()
    assert report.format == "camt.053"
    assert report.outcomes == {"matched": 3, "unmatched": 1, "returned": 1}
    assert report.exceptions == 2
    session.expire_all()
    assert session.get(PaymentTransaction, sepa.id).status == "paid"
    assert session.get(PaymentTransaction, manual.id).status == "paid"
    returned = session.get(PaymentTransaction, ach.id)
    assert returned.status == "failed" and "AC04" in returned.failure_reason
    assert {p.status for p in session.exec(select(Payout).where(Payout.transaction_id == ach.id)).all()} == {"failed"}
    assert {session.get(Invoice, i.id).status for i in book.invoices["ach"]} == {"failed"}
    assert {session.get(Invoice, i.id).status for i in book.invoices["sepa"]} == {"paid"}
    listed = bank_statements.exceptions(session, book.finance)
    assert sorted(e.outcome for e in listed) == ["returned", "unmatched"]
    with pytest.raises(Conflict, match="already imported"):
        bank_statements.import_statement(session, book.finance, "again.xml", statement)


def test_a_booking_seen_in_two_statements_is_a_duplicate_not_a_second_payment(session, sent):
    book, t = sent
    line = _entry(_major(t["sepa"].target_amount_minor), "EUR", "DBIT", t["sepa"].reference)
    bank_statements.import_statement(session, book.finance, "day1.xml", _camt(line))
    overlapping = bank_statements.import_statement(
        session, book.finance, "day1-2.xml", _camt(line + _entry("5.00", "EUR", "DBIT", "FEE")))
    assert overlapping.outcomes == {"duplicate": 1, "unmatched": 1}


def test_an_mt940_statement_is_read_and_matched(session, sent):
    book, t = sent
    sepa = t["sepa"]
    mt940 = (":20:STMT\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261201EUR1000,00\n"
             f":61:2612021202D{_major(sepa.target_amount_minor).replace('.', ',')}NTRF{sepa.reference}//B1\n"
             f":86:SEPA Credit Transfer {sepa.reference}\n:62F:C261202EUR900,00\n")
    report = bank_statements.import_statement(session, book.finance, "stmt.sta", mt940.encode())
    assert report.format == "mt940" and report.outcomes == {"matched": 1}


def test_a_customer_payment_in_a_csv_statement_settles_the_receivable(session, sent):
    book, _t = sent
    org = Organization(name="Customer AG", tier="enterprise", country="DE")
    session.add(org)
    session.flush()
    receivable = Invoice(number="AR-2026-0042", kind="parsed", organization_id=org.id, currency="EUR",
                         subtotal_minor=150_000, tax_minor=0, total_minor=150_000, issue_date=date(2026, 11, 1),
                         due_date=date(2026, 12, 1), status="approved")
    session.add(receivable)
    session.commit()
    csv_text = ("booking date,amount,currency,reference,counterparty,description\n"
                "2026-12-03,1500.00,EUR,,Customer AG,Payment AR-2026-0042 thanks\n"
                "2026-12-03,12.50,EUR,,Someone,unknown credit\n")
    report = bank_statements.import_statement(session, book.finance, "bank.csv", csv_text.encode())
    assert report.outcomes == {"pay_in": 1, "unmatched": 1}
    session.expire_all()
    assert session.get(Invoice, receivable.id).status == "paid"
    assert session.get(Invoice, receivable.id).payment_method == "wire"


def test_a_file_that_is_no_statement_changes_nothing(session, sent):
    book, _t = sent
    with pytest.raises(FieldErrors, match="needs columns"):
        bank_statements.import_statement(session, book.finance, "notes.csv", b"hello,world\n1,2\n")
    assert session.exec(select(StatementLine)).all() == []
