"""Invoice parsing: pages per second, cost against pdfplumber's own text extraction of the
same pages, and field accuracy on the generated evaluation set (tests/invoice_corpus.py:
five languages, four layouts, each country's number and date formats).

Floor: pdfplumber's plain `extract_text()` of every page of the same PDFs.
"""
from __future__ import annotations

import argparse
import io
import time
from collections import Counter
from decimal import Decimal

from bench.common import metric

FIELDS = ("invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban", "currency",
          "subtotal", "tax_total", "total")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench parse")
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--first-seed", type=int, default=1000, help="seeds the tests do not use")
    args = parser.parse_args(argv)

    import pdfplumber

    from tests.invoice_corpus import corpus
    from vrm_dashboard.parsing import sandbox

    # The reader's worker starts while the corpus is built, as it does at app start-up.
    sandbox.start()
    from vrm_dashboard.parsing import parse_document

    samples = corpus(args.count, args.first_seed)
    started = time.perf_counter()
    results = [parse_document(sample.pdf).as_json() for sample in samples]
    parse_seconds = time.perf_counter() - started
    pages = sum(r["pages"] for r in results)

    started = time.perf_counter()
    for sample in samples:
        with pdfplumber.open(io.BytesIO(sample.pdf)) as pdf:
            for page in pdf.pages:
                page.extract_text()
    floor = time.perf_counter() - started

    metric("invoices", len(samples), "files")
    metric("pages_per_second", pages / parse_seconds, "pages/s")
    metric("floor_pdfplumber_extract_text_pages_per_second", pages / floor, "pages/s")
    metric("cost_ratio_to_pdfplumber_text", parse_seconds / floor, "x")

    right, wrong = Counter(), []
    counted = Counter()
    for sample, result in zip(samples, results):
        for field in FIELDS:
            expected = sample.truth.get(field)
            counted[field] += 1
            if result.get(field) == expected:
                right[field] += 1
            else:
                wrong.append((sample.name, field, expected, result.get(field)))
    for field in FIELDS:
        metric(f"accuracy_{field}", 100.0 * right[field] / counted[field], "%")
    metric("accuracy_all_fields", 100.0 * sum(right.values()) / sum(counted.values()), "%")
    lines_right = sum(
        [(line["description"], line["amount"]) for line in result["lines"]]
        == [(line["description"], f"{Decimal(line['amount']):.2f}") for line in sample.lines]
        for sample, result in zip(samples, results))
    metric("accuracy_lines_whole_invoice", 100.0 * lines_right / len(samples), "%")
    for name, field, expected, got in wrong[:10]:
        print(f"  miss {name} {field}: expected {expected!r}, read {got!r}")
    learning_from_corrections()
    return 0


def learning_from_corrections(later: int = 4) -> None:
    """A vendor prints its invoice number by a label the reader does not know: after a person
    corrects its first invoice once, its next invoices (set a little lower on the page each
    time) are read right; another vendor's invoices of the same layout are read as before.
    Through the app's own intake and edit, on a fresh database."""
    from bench.common import fresh_sqlite

    fresh_sqlite("parse_learning")
    from sqlmodel import Session

    from tests.unusual_invoice import KIESEL, MOERTEL, Sender, unusual_invoice
    from vrm_dashboard.db import engine as engine_module
    from vrm_dashboard.db.models import Invoice
    from vrm_dashboard.domain.vendor_rules import VendorInput
    from vrm_dashboard.services.intake import invoice_files
    from vrm_dashboard.services.invoices import records as invoices
    from vrm_dashboard.services.platform.actors import Actor
    from vrm_dashboard.services.vendors import records as vendors

    system = Actor.system("bench")
    with Session(engine_module.engine()) as session:
        for code, sender in (("KIESEL", KIESEL), ("MOERTEL", MOERTEL)):
            vendors.create_vendor(session, system, VendorInput(
                vendor_code=code, name=sender.name, email=f"ap@{code.lower()}.example", country="DE",
                currency="EUR", payment_method="sepa", iban=sender.iban, vat_id=sender.vat_id))

        def number_read(number: str, sender: Sender, shift: float = 0.0) -> str | None:
            outcome = invoice_files.receive_invoice(session, system, unusual_invoice(number, sender, shift),
                                                    f"{number.replace('/', '-')}.pdf")
            invoice = session.get(Invoice, outcome.invoice_id)
            assert invoice is not None
            return invoice.vendor_invoice_number

        before = number_read("KB/25/0001", KIESEL) == "KB/25/0001"
        first = session.get(Invoice, invoice_files.receive_invoice(
            session, system, unusual_invoice("KB/25/0002", KIESEL), "first.pdf").invoice_id)
        assert first is not None and first.id is not None
        edit = invoices.edit_input_of(first)
        edit.vendor_invoice_number = "KB/25/0002"
        invoices.edit_invoice(session, system, first.id, edit)
        right = sum(number_read(f"KB/25/{n:04d}", KIESEL, 2.0 * n) == f"KB/25/{n:04d}" for n in range(3, 3 + later))
        others = sum(number_read(f"MH/25/{n:04d}", MOERTEL) is None for n in range(1, 1 + later))
        session.rollback()
    print(f"read_right_before_correction={int(before)}/1", flush=True)
    print(f"learned_after_one_correction={right}/{later}", flush=True)
    print(f"other_vendor_unaffected={others}/{later}", flush=True)
