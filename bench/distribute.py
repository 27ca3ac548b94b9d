"""Invoice distribution at scale: 10,000 paid self-billing invoices queued by the distribution
job, rendered (PDF, stored once) and e-mailed by the sender over one SMTP connection to an
aiosmtpd server in its own process on 127.0.0.1. The floor is sending the very same messages,
already built, over one connection: the ratio says what rendering and bookkeeping add."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from datetime import date, datetime, timedelta, timezone

from bench.common import fresh_sqlite, metric


def _smtp_server(port: int, ready, counter) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _seed(engine, invoices: int, vendors: int) -> None:  # type: ignore[no-untyped-def]
    from vrm_dashboard.db.bulk import bulk_load, insert_rows
    from vrm_dashboard.db.models import utcnow

    now = utcnow()
    issued = date.today() - timedelta(days=3)
    lines = (("Sponsored post", 2, 10_000), ("Banner campaign", 1, 5_000), ("Affiliate commission", 3, 1_250))
    subtotal = sum(q * p for _d, q, p in lines)
    from sqlmodel import Session

    from vrm_dashboard.db import tenancy

    with Session(engine) as session:  # the paying organization (the installation's own)
        payer = tenancy.root_organization_id(session)
        session.commit()
    with bulk_load(engine) as conn:
        insert_rows(conn, "vendor", ["id", "vendor_code", "name", "legal_name", "email", "country", "currency",
                                     "payment_method", "payment_source", "iban", "vat_id", "activity_status",
                                     "owner_id", "created_at", "updated_at"],
                    ((i + 1, f"DV{i:06d}", f"Publisher {i}", f"Publisher {i} GmbH", f"ap{i}@bench.example", "DE",
                      "EUR", "sepa", "Main account", "DE89370400440532013000", "DE136695976", "active", payer, now, now)
                     for i in range(vendors)))
        insert_rows(conn, "invoice", ["id", "number", "kind", "vendor_id", "owner_id", "currency", "subtotal_minor",
                                      "tax_minor", "total_minor", "issue_date", "due_date", "payment_terms_days",
                                      "payment_method", "status", "billing_period", "created_at", "updated_at"],
                    ((i + 1, f"SB-{i:07d}", "self_generated", i % vendors + 1, payer, "EUR", subtotal, subtotal * 19 // 100,
                      subtotal + subtotal * 19 // 100, issued, issued + timedelta(days=30), 30, "sepa", "paid",
                      "2026-10", now, now) for i in range(invoices)))
        insert_rows(conn, "invoice_line", ["invoice_id", "position", "description", "quantity", "unit_price_minor",
                                           "amount_minor"],
                    ((i + 1, n, d, q, p, q * p) for i in range(invoices) for n, (d, q, p) in enumerate(lines, 1)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench distribute")
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--vendors", type=int, default=1_000)
    args = parser.parse_args(argv)

    from sqlalchemy import func, select
    from sqlmodel import Session

    from tests.helpers import free_port
    from vrm_dashboard import config
    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.db.models import EmailDelivery
    from vrm_dashboard.services.distribution import dispatch as distribution
    from vrm_dashboard.services.mail import outgoing as outgoing_mail

    port = free_port()
    ready, counter = multiprocessing.Event(), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_smtp_server, args=(port, ready, counter), daemon=True)
    server.start()
    ready.wait(30)
    os.environ.update(VRM_SMTP_HOST="127.0.0.1", VRM_SMTP_PORT=str(port), VRM_SMTP_TLS="false", VRM_SMTP_RATE="0")
    config.settings.cache_clear()
    try:
        fresh_sqlite("distribute")
        _seed(engine(), args.invoices, args.vendors)
        with Session(engine()) as session:
            # Everything seeded counts as new: all of it is due for distribution.
            distribution.record_distribution_start(session, datetime(2000, 1, 1, tzinfo=timezone.utc))
            session.commit()
        started = time.perf_counter()
        with Session(engine()) as session:
            queued = distribution.distribute(session)
            session.commit()
        queue_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with Session(engine()) as session:
            sent = outgoing_mail.send_queued(session, limit=args.invoices)
        send_seconds = time.perf_counter() - started
        with Session(engine()) as session:
            delivered = session.execute(select(func.count()).select_from(EmailDelivery)
                                        .where(EmailDelivery.status == "sent")).scalar_one()
            messages = _rebuilt_messages(session)
        received = counter.value
        floor_seconds = _floor(messages, port)
        total = queue_seconds + send_seconds
        metric("invoices", args.invoices, "invoices")
        metric("queue_seconds", queue_seconds, "s (distribution job: triggers, checks, queue)")
        metric("render_and_send_seconds", send_seconds, "s (render, store, e-mail)")
        metric("distribute_total_seconds", total, "s (target < 60)")
        metric("floor_send_prebuilt_seconds", floor_seconds, "s (the same messages, already built)")
        metric("ratio_to_floor", total / floor_seconds if floor_seconds else 0, "x")
        render_ms, build_ms = _per_message_costs(session_factory=lambda: Session(engine()))
        metric("render_pdf_ms", render_ms, "ms per invoice (one core)")
        metric("build_message_ms", build_ms, "ms per message (one core)")
        metric("floor_ms_per_message", 1000 * floor_seconds / max(len(messages), 1), "ms (the SMTP server's share)")
        metric("delivered", delivered, "deliveries sent")
        metric("server_received", received, "messages")
        print(f"# jobs: {queued.detail}; {sent.detail}")
    finally:
        server.terminate()
    return 0


def _rebuilt_messages(session) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The messages as sent, rebuilt from the stored PDFs (no rendering), as bytes."""
    from sqlalchemy import select

    from vrm_dashboard.db.models import EmailDelivery, Invoice, StoredDocument
    from vrm_dashboard.services.distribution import invoice_documents, invoice_mail
    from vrm_dashboard.services.mail import settings as mail_settings

    rows = session.execute(select(EmailDelivery, Invoice, StoredDocument)
                           .join(Invoice, Invoice.id == EmailDelivery.invoice_id)
                           .join(StoredDocument, StoredDocument.id == EmailDelivery.document_id)
                           .where(EmailDelivery.status == "sent")).all()
    docs = invoice_documents.documents_of(session, [invoice for _d, invoice, _s in rows])
    return [invoice_mail.invoice_message(invoice_mail.Envelope.of(d, mail_settings.smtp(session).sender), docs[invoice.id], stored.content,
                                         stored.filename).as_bytes() for d, invoice, stored in rows]


def _per_message_costs(session_factory, sample: int = 200) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """What one invoice costs to render, and its message to build, on one core."""
    from sqlalchemy import select

    from vrm_dashboard.db.models import EmailDelivery, Invoice
    from vrm_dashboard.rendering.invoice_file import render_file
    from vrm_dashboard.services.distribution import invoice_documents, invoice_mail
    from vrm_dashboard.services.mail import settings as mail_settings

    with session_factory() as session:
        rows = session.execute(select(EmailDelivery, Invoice).join(Invoice, Invoice.id == EmailDelivery.invoice_id)
                               .limit(sample)).all()
        docs = invoice_documents.documents_of(session, [invoice for _d, invoice in rows])
        sender = mail_settings.smtp(session).sender
        envelopes = [invoice_mail.Envelope.of(d, sender) for d, _i in rows]
    started = time.perf_counter()
    pdfs = [render_file(docs[invoice.id]) for _d, invoice in rows]
    render = time.perf_counter() - started
    started = time.perf_counter()
    for envelope, (_d, invoice), pdf in zip(envelopes, rows, pdfs):
        invoice_mail.invoice_message(envelope, docs[invoice.id], pdf, "invoice.pdf").as_bytes()
    build = time.perf_counter() - started
    return 1000 * render / len(rows), 1000 * build / len(rows)


def _floor(messages: list[bytes], port: int) -> float:
    import asyncio

    import aiosmtplib

    async def send_all() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        for raw in messages:
            await client.sendmail("billing@vrm.example", ["floor@bench.example"], raw)
        await client.quit()

    started = time.perf_counter()
    asyncio.run(send_all())
    return time.perf_counter() - started
