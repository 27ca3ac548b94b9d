"""Stored original documents and who may open them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from vrm_dashboard.db.models import Intake, Invoice, StoredDocument, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.parsing.xml_safety import XmlRefused, parse_xml
from vrm_dashboard.services.platform import settings as cfg
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotFound, PermissionDenied


def store(session: Session, content: bytes, filename: str, content_type: str) -> StoredDocument:
    """The stored document with these bytes: kept once, found again by its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    existing = session.execute(select(StoredDocument).where(col(StoredDocument.sha256) == digest)).scalar_one_or_none()
    if existing is not None:
        return existing
    document = StoredDocument(sha256=digest, filename=(filename or "document")[:255], content_type=content_type,
                              size_bytes=len(content), content=content)
    session.add(document)
    session.flush()
    return document


def store_many(session: Session, files: list[tuple[bytes, str, str]]) -> list[int]:
    """store() for many files at once: (content, filename, content type) -> stored document ids."""
    digests = [hashlib.sha256(content).hexdigest() for content, _n, _t in files]
    ids: dict[str, int] = dict(session.execute(select(col(StoredDocument.sha256), col(StoredDocument.id))
                                               .where(col(StoredDocument.sha256).in_(set(digests)))).all())
    new = {}
    for digest, (content, filename, content_type) in zip(digests, files):
        if digest not in ids and digest not in new:
            new[digest] = {"sha256": digest, "filename": (filename or "document")[:255], "content_type": content_type,
                           "size_bytes": len(content), "content": content, "created_at": utcnow()}
    if new:
        session.execute(insert(StoredDocument), list(new.values()))
        ids.update(session.execute(select(col(StoredDocument.sha256), col(StoredDocument.id))
                                   .where(col(StoredDocument.sha256).in_(list(new)))).all())
    return [ids[d] for d in digests]


def discard_if_unused(session: Session, document_id: int) -> bool:
    """Delete a stored document nothing refers to any more (its last link was just removed),
    so files a user took back do not pile up; one still in use is kept. Whether it was
    deleted. Stored documents are never changed (the database refuses updates), but an unused
    one may go.

    The same bytes are stored once for every use (another vendor's document, an invoice's
    original, a sent PDF), so "unused" is the foreign keys' answer: the database checks every
    table that refers to stored documents, including any added later, and refuses the delete
    if one row does (SQLite is told to check them on every connection, db.engine). Only the
    branding logo names its document in a setting, outside any key."""
    installation, own = cfg.by_organization(session, cfg.BRAND_LOGO)
    if document_id == installation or document_id in own.values():
        return False  # any organization's logo: identical bytes are one document for all
    try:
        with session.begin_nested():
            session.execute(delete(StoredDocument).where(col(StoredDocument.id) == document_id))
    except IntegrityError:
        return False
    return True


def invoice_original(session: Session, actor: Actor, invoice_id: int) -> StoredDocument:
    """The invoice's original file, for staff who see invoices or for the vendor it belongs to.
    Another vendor's invoice answers as a missing one: a vendor learns nothing of its payer's
    other vendors."""
    staff = actor.can(Action.INVOICE_VIEW)
    if not staff and not (actor.can(Action.PORTAL_USE) and actor.vendor_id is not None):
        raise PermissionDenied("You may not open invoice documents")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.document_id is None or not (staff or invoice.vendor_id == actor.vendor_id):
        raise NotFound("This invoice has no original document")
    document = session.get(StoredDocument, invoice.document_id)
    if document is None:
        raise NotFound("This invoice has no original document")
    return document


_SUFFIXES = {"application/pdf": ".pdf", "application/xml": ".xml", "text/xml": ".xml", "text/plain": ".txt"}


def original_filename(session: Session, invoice: Invoice, document: StoredDocument) -> str:
    """The name the invoice's organization received its original under. Identical bytes are
    stored once, under the name they first came with, which may be another organization's:
    the name comes from this invoice's own intake, or from its number."""
    received = session.execute(select(col(Intake.filename)).where(col(Intake.invoice_id) == invoice.id)
                               .order_by(col(Intake.id)).limit(1)).scalar()
    return received or f"{invoice.number}{_SUFFIXES.get(document.content_type, '')}"


def invoice_original_named(session: Session, actor: Actor, invoice_id: int) -> tuple[StoredDocument, str]:
    """The invoice's original (as `invoice_original`) and the name it is served under."""
    document = invoice_original(session, actor, invoice_id)
    invoice = session.get(Invoice, invoice_id)
    assert invoice is not None, "invoice_original found it"
    return document, original_filename(session, invoice, document)


# Shown on the invoice page; the whole file is a download away. Larger files are not re-indented.
TEXT_VIEW_CHARS = 100_000
_INDENT_AT_MOST_BYTES = 5 * 1024 * 1024
TEXT_TYPES = frozenset({"application/xml", "text/xml", "text/plain"})


@dataclass(frozen=True)
class OriginalText:
    """An original that is text (an XML e-invoice), as a person reads it: indented, and cut at
    `TEXT_VIEW_CHARS` (`shortened` says so)."""

    text: str
    shortened: bool


def is_text(content_type: str) -> bool:
    return content_type in TEXT_TYPES or content_type.endswith("+xml")


def readable_text(content: bytes, limit: int = TEXT_VIEW_CHARS) -> OriginalText:
    """The text of an XML or text file, indented when it is well-formed XML. Only ever text to
    show escaped: the XML is read by the safe parser (no entity, DTD or network) and nothing in
    it is acted on."""
    text = None
    if len(content) <= _INDENT_AT_MOST_BYTES:
        try:
            root = parse_xml(content, "The original")
            etree.indent(root, space="  ")
            text = etree.tostring(root, encoding="unicode")
        except XmlRefused:
            text = None
    if text is None:
        text = content[: limit * 4].decode("utf-8-sig", "replace")
    return OriginalText(text[:limit], shortened=len(text) > limit)


def invoice_original_text(session: Session, actor: Actor, invoice_id: int) -> OriginalText | None:
    """The invoice's original as readable text when it is an XML or text file (None for a PDF
    and any other kind), for whoever may open the original (`invoice_original`)."""
    document = invoice_original(session, actor, invoice_id)
    if not is_text(document.content_type):
        return None
    return readable_text(document.content)
