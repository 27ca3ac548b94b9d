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
    return 0
