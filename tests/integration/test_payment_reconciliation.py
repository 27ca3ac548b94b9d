"""Bank statements reconcile payment runs: confirmed transfers, a returned one, unmatched
and duplicate lines as exceptions, and customer payments settling receivables; in camt.053,
MT940 and CSV."""
from datetime import date

import pytest
from sqlmodel import Session, select

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


def test_exchange_rates_beyond_what_the_column_keeps_are_refused_by_row(session):
    import re
    from decimal import Decimal

    from tests.helpers import make_user
    from vrm_dashboard.db.models import ExchangeRate
    from vrm_dashboard.services.payouts import fx_rates

    finance = make_user(session, "finance_manager")
    session.commit()
    # 1E+20 overflows Numeric(18, 8); 1E-12 would be stored as 0 and divide by zero later.
    for rate, row in (("1E+20", 3), ("1E-12", 3), ("10000000000", 2), ("9999999999.999999999", 2),
                      ("0.0000009", 2)):
        good = "2026-11-30,USD,1.25"
        lines = [good, f"2026-11-30,JPY,{rate}"] if row == 3 else [f"2026-11-30,JPY,{rate}", good]
        with pytest.raises(FieldErrors, match=re.escape(f"row {row}: rate '{rate}' is out of range")) as refused:
            fx_rates.import_rates(session, finance, ("date,currency,rate\n" + "\n".join(lines) + "\n").encode(),
                                  "rates.csv")
        assert "0.000001" in str(refused.value.errors) and "10000000000" in str(refused.value.errors)
        session.rollback()
        assert session.exec(select(ExchangeRate)).all() == []
    # The largest and smallest rates taken fit the column (PostgreSQL would refuse one that did not).
    # (Each is a jump from the ECB rate a person confirms.)
    content = b"date,currency,rate\n2026-11-30,JPY,9999999999.99999999\n2026-11-30,USD,0.000001\n"
    assert fx_rates.import_rates(session, finance, content, "bounds.csv", confirm_jump=True) == 2
    session.commit()
    # Rates near the bounds are kept as given, and convert.
    content = b"date,currency,rate\n2026-12-01,JPY,9999999999.5\n2026-12-01,USD,0.0000015\n"
    assert fx_rates.import_rates(session, finance, content, "near.csv", confirm_jump=True) == 2
    session.commit()
    session.expire_all()
    stored = {r.currency: Decimal(r.per_euro) for r in session.exec(select(ExchangeRate)
                                                                     .where(ExchangeRate.rate_date == date(2026, 12, 1)))}
    assert stored == {"JPY": Decimal("9999999999.5"), "USD": Decimal("0.0000015")}
    assert fx_rates.convert(session, 150, "USD", "EUR", date(2026, 12, 1)).target_minor == 100_000_000


class _Upload:
    def __init__(self, name: str, content: bytes) -> None:
        self.name = self.filename = name
        self.content = content

    async def read(self, size: int = -1) -> bytes:
        return self.content


def test_a_rate_file_that_breaks_its_import_is_reported_and_the_next_file_is_still_stored(db, monkeypatch,
                                                                                         caplog):
    import asyncio

    from tests.helpers import call_handler, signed_in_token, ui_state
    from vrm_dashboard.db.models import ExchangeRate
    from vrm_dashboard.services.payouts import fx_rates
    from vrm_dashboard.ui.states.reconciliation import ReconciliationState

    real_import = fx_rates.import_rates

    def import_or_crash(session, actor, content, filename, confirm_jump=False):
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # parsed off the event loop, which keeps serving others
        if filename == "crash.csv":
            raise OverflowError("Python int too large to convert to C int")
        return real_import(session, actor, content, filename, confirm_jump=confirm_jump)

    monkeypatch.setattr(fx_rates, "import_rates", import_or_crash)
    state = ui_state(ReconciliationState, signed_in_token(db, "finance_manager"))
    files = [_Upload("crash.csv", b"date,currency,rate\n2026-11-30,USD,1.1\n"),
             _Upload("huge.csv", b"date,currency,rate\n2026-11-30,USD,1E+20\n"),
             _Upload("good.csv", b"date,currency,rate\n2026-11-30,USD,1.25\n")]
    call_handler(ReconciliationState, state, "upload_rates", files)
    crashed, huge, good = state.messages
    assert crashed.startswith("crash.csv: failed") and "could not be read" in crashed and "Overflow" not in crashed
    assert huge.startswith("huge.csv: refused, row 2: rate '1E+20' is out of range")
    assert good == "good.csv: 1 exchange rates stored"
    assert "crash.csv" in caplog.text and "OverflowError" in caplog.text
    with Session(db) as session:
        rates = session.exec(select(ExchangeRate)).all()
    assert [(r.currency, r.source) for r in rates] == [("USD", "Imported (good.csv)")]


# --- money in is never a payment: returns re-open their payouts (issue 19) -------------------

def _camt_coded(amount: str, currency: str, direction: str, reference: str, code: str = "", day: str = "2026-12-04",
                reversal: bool = False) -> str:
    """A camt.053 entry with the bank's transaction code (DOMAIN/FAMILY/SUBFAMILY) and no return reason."""
    domain, family, sub = (code.split("/") + ["", "", ""])[:3] if code else ("", "", "")
    coded = (f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn>"
             "</BkTxCd>") if code else ""
    return (f"<Ntry><Amt Ccy=\"{currency}\">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>"
            f"{'<RvslInd>true</RvslInd>' if reversal else ''}<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
            f"{coded}<NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>")


def _payouts_of(session, transfer_id: int) -> set[str]:
    return {p.status for p in session.exec(select(Payout).where(Payout.transaction_id == transfer_id)).all()}


def _retry(session, book, transfer_id: int) -> int:
    from vrm_dashboard.services.payouts import records as payouts

    ids = [p.id for p in session.exec(select(Payout).where(Payout.transaction_id == transfer_id)).all()]
    return payouts.retry(session, book.finance, ids)


def test_a_credit_naming_our_transfer_is_a_return_never_a_payment_confirmation(session, sent):
    from vrm_dashboard.db.models import Notification

    book, t = sent
    sepa, ach = t["sepa"], t["ach"]
    # Money in carrying our reference and no return reason, for the transfer's amount: it came back.
    # A credit naming a transfer at another amount is a person's to classify; neither is Paid.
    statement = _camt(_camt_coded(_major(sepa.target_amount_minor), "EUR", "CRDT", sepa.reference)
                      + _camt_coded("10.00", "USD", "CRDT", ach.reference, "PMNT/RCDT/ESCT"))
    report = bank_statements.import_statement(session, book.finance, "credits.xml", statement)
    session.commit()
    assert report.outcomes == {"returned": 1, "review": 1}
    session.expire_all()
    assert session.get(PaymentTransaction, sepa.id).status == "failed"
    assert session.get(PaymentTransaction, ach.id).status == "processing"
    assert _payouts_of(session, sepa.id) == {"failed"}
    assert {session.get(Invoice, i.id).status for i in book.invoices["sepa"]} == {"failed"}
    # The payout team hears of it, and a person can pay the vendor again.
    alerts = session.exec(select(Notification).where(Notification.subject == f"Transfer {sepa.reference} returned")).all()
    assert [a.user_id for a in alerts] == [book.finance.user_id]
    assert _retry(session, book, sepa.id) == len(book.invoices["sepa"])
    session.commit()
    session.expire_all()
    assert {session.get(Invoice, i.id).status for i in book.invoices["sepa"]} == {"approved"}
    listed = {e.outcome: e.note for e in bank_statements.exceptions(session, book.finance)}
    assert "without a return code" in listed["review"] and ach.reference in listed["review"]


def test_a_return_of_a_paid_transfer_reopens_it_and_a_second_return_is_listed(session, sent):
    book, t = sent
    sepa = t["sepa"]
    amount = _major(sepa.target_amount_minor)
    bank_statements.import_statement(session, book.finance, "paid.xml",
                                     _camt(_entry(amount, "EUR", "DBIT", sepa.reference)))
    session.commit()
    session.expire_all()
    assert session.get(PaymentTransaction, sepa.id).status == "paid"
    # The bank books the return by its code only (PMNT/ICDT/RRTN), with no reason element.
    report = bank_statements.import_statement(session, book.finance, "returned.xml", _camt(
        _camt_coded(amount, "EUR", "CRDT", sepa.reference, "PMNT/ICDT/RRTN", day="2026-12-05")))
    session.commit()
    assert report.outcomes == {"returned": 1}
    session.expire_all()
    returned = session.get(PaymentTransaction, sepa.id)
    assert returned.status == "failed" and "RRTN" in returned.failure_reason
    assert _payouts_of(session, sepa.id) == {"failed"}
    assert {session.get(Invoice, i.id).status for i in book.invoices["sepa"]} == {"failed"}
    # A return of a transfer already failed changes nothing and is listed, not dropped.
    again = bank_statements.import_statement(session, book.finance, "again.xml", _camt(
        _camt_coded(amount, "EUR", "CRDT", sepa.reference, "PMNT/ICDT/RRTN", day="2026-12-06")))
    assert again.outcomes == {"review": 1}
    note = bank_statements.exceptions(session, book.finance)[0].note
    assert sepa.reference in note and "failed" in note


def test_mt940_lines_are_told_apart_by_their_mark_and_type_code(session, sent):
    book, t = sent
    sepa, ach, manual = t["sepa"], t["ach"], t["manual"]

    def line(mark: str, transfer, code: str, text: str) -> str:
        return (f":61:2612041204{mark}{_major(transfer.target_amount_minor).replace('.', ',')}{code}"
                f"{transfer.reference}//B1\n:86:{text}\n")

    mt940 = (":20:STMT\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261201EUR1000,00\n"
             + line("C", sepa, "NRTI", f"SEPA {sepa.reference}")   # a returned item: money back
             + line("RC", manual, "NTRF", f"{manual.reference}")   # a credit reversed: money out
             + line("RD", ach, "NTRF", f"{ach.reference}")         # a debit reversed: money back
             + ":62F:C261204EUR900,00\n")
    report = bank_statements.import_statement(session, book.finance, "stmt.sta", mt940.encode())
    session.commit()
    assert report.outcomes == {"returned": 2, "review": 1}
    session.expire_all()
    assert session.get(PaymentTransaction, sepa.id).status == "failed"
    assert session.get(PaymentTransaction, ach.id).status == "failed"
    assert session.get(PaymentTransaction, manual.id).status == "processing"
    lines = {line.transaction_id: line for line in session.exec(select(StatementLine)).all()}
    assert lines[manual.id].amount_minor == -manual.target_amount_minor
    assert "takes back an earlier credit" in lines[manual.id].note


def test_lines_naming_what_was_settled_before_are_listed_with_the_reason(session, sent):
    book, t = sent
    sepa = t["sepa"]
    org = Organization(name="Customer AG", tier="enterprise", country="DE")
    session.add(org)
    session.flush()
    receivable = Invoice(number="AR-2026-0077", kind="parsed", organization_id=org.id, currency="EUR",
                         subtotal_minor=150_000, tax_minor=0, total_minor=150_000, issue_date=date(2026, 11, 1),
                         due_date=date(2026, 12, 1), status="paid", payment_method="card")
    session.add(receivable)
    session.commit()
    amount = _major(sepa.target_amount_minor)
    bank_statements.import_statement(session, book.finance, "paid.xml",
                                     _camt(_entry(amount, "EUR", "DBIT", sepa.reference)))
    csv_text = ("booking date,amount,currency,reference,counterparty,description\n"
                "2026-12-05,1500.00,EUR,,Customer AG,Payment AR-2026-0077\n"
                f"2026-12-05,-{amount},EUR,{sepa.reference},Sepa Media,second debit\n"
                "2026-12-05,0.00,EUR,,Bank,statement note\n"
                "2026-12-05,80.00,EUR,,Someone,AC04 returned\n")
    report = bank_statements.import_statement(session, book.finance, "bank.csv", csv_text.encode())
    session.commit()
    assert report.outcomes == {"settled_before": 2, "unmatched": 2}
    session.expire_all()
    assert session.get(Invoice, receivable.id).status == "paid"
    notes = sorted(e.note for e in bank_statements.exceptions(session, book.finance))
    assert notes == ["Customer invoice AR-2026-0077 is already paid (card): a second payment, to refund or allocate",
                     "No open transfer or customer invoice matches this credit",
                     "The line moves no money",
                     f"Transfer {sepa.reference} was already confirmed paid (paid.xml line 1): "
                     "a second debit may be a second payment"]


def test_a_rate_that_jumps_from_the_previous_one_is_stored_only_when_a_person_confirms_it(session):
    from decimal import Decimal

    from tests.helpers import SYSTEM, make_user
    from vrm_dashboard.db.models import AuditEntry, ExchangeRate
    from vrm_dashboard.services.payouts import fx_rates

    finance = make_user(session, "finance_manager")
    session.commit()

    def rates(*rows: str) -> bytes:
        return ("date,currency,rate\n" + "\n".join(rows) + "\n").encode()

    # Within 20% of the ECB history's last USD rate (1.1172) and of each other: stored.
    assert fx_rates.import_rates(session, finance, rates("2026-11-27,USD,1.10", "2026-11-30,USD,1.25"), "a.csv") == 2
    session.commit()
    # 1.60 moves 28% from the 1.25 stored the day before; 0.0000012 (a slip of the decimal point)
    # and a jump from an earlier row of the same file are refused alike, and nothing is stored.
    for content, told in ((rates("2026-12-01,USD,1.60"),
                           "row 2: USD 1.60000000 on 2026-12-01 moves +28.0% from 1.25000000 "
                           "(Imported (a.csv) 2026-11-30), more than the 20% allowed"),
                          (rates("2026-12-01,USD,0.0000012"), "moves -100.0% from 1.25000000"),
                          (rates("2026-12-01,USD,1.20", "2026-12-02,USD,2.40"),
                           "row 3: USD 2.40000000 on 2026-12-02 moves +100.0% from 1.20000000 (this file 2026-12-01)"),
                          # Steps each within the bound, together past it from the rate known before.
                          (rates("2026-12-01,USD,1.45", "2026-12-02,USD,1.70"),
                           "row 3: USD 1.70000000 on 2026-12-02 moves +36.0% from 1.25000000")):
        with pytest.raises(FieldErrors) as refused:
            fx_rates.import_rates(session, finance, content, "jump.csv")
        message = refused.value.errors["file"]
        assert told in message and "Confirm rate jumps" in message and "Nothing was stored" in message
        session.rollback()
        assert session.exec(select(ExchangeRate).where(ExchangeRate.rate_date >= date(2026, 12, 1))).all() == []
    # Only a person confirms a jump; when one does, it is stored and audited with the rates.
    with pytest.raises(PermissionDenied):
        fx_rates.import_rates(session, SYSTEM, rates("2026-12-01,USD,1.60"), "jump.csv", confirm_jump=True)
    session.rollback()
    assert fx_rates.import_rates(session, finance, rates("2026-12-01,USD,1.60"), "jump.csv", confirm_jump=True) == 1
    session.commit()
    assert fx_rates.per_euro(session, "USD", date(2026, 12, 1))[0] == Decimal("1.6")
    confirmed = session.exec(select(AuditEntry).where(AuditEntry.action == "exchange_rates.jump_confirmed")).one()
    assert '"previous": "1.25000000"' in confirmed.after and '"rate": "1.60000000"' in confirmed.after
    assert confirmed.actor_label == finance.label


def test_the_audit_of_a_rate_import_holds_the_rates(session):
    import json

    from tests.helpers import make_user
    from vrm_dashboard.db.models import AuditEntry
    from vrm_dashboard.services.payouts import fx_rates

    finance = make_user(session, "finance_manager")
    session.commit()
    content = b"Date,USD,JPY\n2026-11-30,1.12,176.5\n2026-11-27,1.11,175.9\n"
    assert fx_rates.import_rates(session, finance, content, "ecb.csv") == 4
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "exchange_rates.import")).one()
    after = json.loads(entry.after)
    assert after["source"] == "Imported (ecb.csv)" and after["count"] == 4
    assert after["rates"] == {"EUR/JPY": {"2026-11-27": "175.90000000", "2026-11-30": "176.50000000"},
                              "EUR/USD": {"2026-11-27": "1.11000000", "2026-11-30": "1.12000000"}}
