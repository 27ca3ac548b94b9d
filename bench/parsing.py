"""Invoice parsing: pages per second, cost against pdfplumber's own text extraction of the
same pages, and field accuracy on the generated evaluation set (tests/invoice_corpus.py:
five languages, four layouts, each country's number and date formats).

Floor: pdfplumber's plain `extract_text()` of every page of the same PDFs.

Beside the generated set: the real e-invoices of ../shared/invoices (einvoice/, XML embedded;
einvoice-noxml/, printed text only), scored by the matching rules of that folder's score.py
(imported from there; skipped when the folder is missing), and a scanned set: generated
invoices rendered to 200 dpi images in a PDF with no text layer, read by OCR (pages/s, accuracy).
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Callable

from bench.common import metric

FIELDS = ("invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban", "currency",
          "subtotal", "tax_total", "total")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench parse")
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--first-seed", type=int, default=1000, help="seeds the tests do not use")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the folder of real invoices and score.py")
    parser.add_argument("--scanned", type=int, default=12, help="generated invoices read as scans (0: none)")
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
    _shared(args.shared)
    if args.scanned:
        _scanned(corpus(args.scanned, args.first_seed + args.count))
    learning_from_corrections()
    return 0


SHARED = Path(__file__).resolve().parents[2] / "shared" / "invoices"


def _scorer(folder: Path) -> ModuleType | None:
    """The folder's score.py as a module (its `match` and `FIELDS`), None when it is missing."""
    path = folder / "score.py"
    spec = importlib.util.spec_from_file_location("shared_invoice_score", path) if path.is_file() else None
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shared(folder: Path) -> None:
    """Accuracy on the real invoices of each set, scored as score.py scores `vrm parse`."""
    from vrm_dashboard.parsing import UnreadableDocument, parse_document
    from vrm_dashboard.parsing.reader import OCR

    score = _scorer(folder)
    if score is None:
        print(f"shared invoices: {folder} (or its score.py) not found; skipped")
        return
    match: Callable[[str, object, object], bool] = score.match
    for name in ("einvoice", "einvoice-noxml"):
        pdfs = sorted((folder / name).glob("*.pdf"))
        if not pdfs:
            print(f"shared invoices: {folder / name} has no PDFs; skipped")
            continue
        hits, tried, missed, documents, pages = Counter(), Counter(), [], 0, 0
        started = time.perf_counter()
        for pdf in pdfs:
            truth_path = pdf.with_suffix(".truth.json")
            if not truth_path.is_file():
                continue
            documents += 1
            try:
                got = parse_document(pdf.read_bytes(), pdf.name, ocr=OCR).as_json()
                pages += got["pages"]
            except UnreadableDocument as error:
                got = {}
                print(f"  unread {name}/{pdf.name}: {error}")
            for field, want in json.loads(truth_path.read_text()).items():
                if field not in score.FIELDS:
                    continue
                tried[field] += 1
                if match(field, want, got.get(field)):
                    hits[field] += 1
                else:
                    missed.append(f"  miss {name}/{pdf.name} {field}: expected {want!r}, read {got.get(field)!r}")
        seconds = time.perf_counter() - started
        key = name.replace("-", "_")
        metric(f"shared_{key}_documents", documents, "files")
        metric(f"shared_{key}_pages_per_second", pages / seconds if seconds else 0.0, "pages/s")
        for field in score.FIELDS:
            if tried[field]:
                metric(f"shared_{key}_accuracy_{field}", hits[field] / tried[field], "")
        metric(f"shared_{key}_overall_field_accuracy", sum(hits.values()) / max(sum(tried.values()), 1), "")
        for line in missed[:10]:
            print(line)


def _scanned(samples: list) -> None:
    """Generated invoices as scans (200 dpi images, no text layer), read by OCR."""
    import shutil

    from tests.invoice_corpus import scanned
    from vrm_dashboard.parsing import UnreadableDocument, parse_document
    from vrm_dashboard.parsing.reader import OCR

    if shutil.which("tesseract") is None:
        print("scanned set: tesseract is not installed (make test-deps); skipped")
        return
    scans = [scanned(sample.pdf) for sample in samples]
    started = time.perf_counter()
    results = []
    for scan in scans:
        try:
            results.append(parse_document(scan, "scan.pdf", ocr=OCR).as_json())
        except UnreadableDocument as error:
            results.append({"pages": 0, "warnings": [str(error)]})
    seconds = time.perf_counter() - started
    pages = sum(r["pages"] for r in results)
    right = sum(r.get(field) == sample.truth.get(field) for sample, r in zip(samples, results) for field in FIELDS)
    metric("scanned_invoices", len(samples), "files")
    metric("scanned_ocr_pages_per_second", pages / seconds, "pages/s")
    metric("scanned_accuracy_all_fields", 100.0 * right / (len(samples) * len(FIELDS)), "%")
    for field in ("invoice_number", "issue_date", "total"):
        metric(f"scanned_accuracy_{field}",
               100.0 * sum(r.get(field) == s.truth.get(field) for s, r in zip(samples, results)) / len(samples), "%")
    for sample, r in zip(samples, results):
        for field in FIELDS:
            if r.get(field) != sample.truth.get(field):
                print(f"  miss scanned {sample.name} {field}: expected {sample.truth.get(field)!r}, read {r.get(field)!r}")


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
